"""The install that `make` runs: quiet unless it fails, and a package that declares its data."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_package_builds_without_warnings_and_ships_the_sample_data(tmp_path):
    # A copy of what the build reads: the clone's build/ folder is left alone.
    src = tmp_path / "src"
    for name in ("pyproject.toml", "README.md"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, src / name)
    for name in ("texture", "pipeline", "datasets"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path / "dist"),
                            str(src)], capture_output=True, text=True, timeout=600)
    log = build.stdout + build.stderr
    assert build.returncode == 0, log[-3000:]
    warnings = [line for line in log.splitlines() if "Warning" in line or "is absent from the" in line]
    assert not warnings, "\n".join(warnings)
    (wheel,) = (tmp_path / "dist").glob("texture-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data = {f"pipeline/sample_data/{path.relative_to(REPO / 'datasets').as_posix()}"
            for path in (REPO / "datasets").rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert data and data <= shipped


def _fake_project(tmp_path, status):
    """The Makefile beside a fake .venv whose pip prints a lot and exits with `status`."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    bin_ = tmp_path / ".venv" / "bin"
    bin_.mkdir(parents=True, exist_ok=True)
    for name, script in {
        "python": f"for i in $(seq 350); do echo 'BuildBackendWarning: line '$i; done >&2; exit {status}",
        "texture": 'echo "texture $* ran"',
    }.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{script}\n")
        (bin_ / name).chmod(0o755)


def test_make_installs_quietly_and_shows_the_log_when_the_install_fails(tmp_path):
    make = shutil.which("make")
    assert make is not None  # the README's two commands are make commands
    _fake_project(tmp_path, status=0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    ok = subprocess.run([make, "demo"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "texture demo ran" in ok.stdout
    assert "BuildBackendWarning" not in ok.stdout + ok.stderr
    assert len((ok.stdout + ok.stderr).splitlines()) <= 3
    _fake_project(tmp_path, status=1)
    (tmp_path / ".venv" / ".core").unlink()
    failed = subprocess.run([make, "demo"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert failed.returncode != 0 and "BuildBackendWarning: line 350" in failed.stdout + failed.stderr
    assert "texture demo ran" not in failed.stdout
