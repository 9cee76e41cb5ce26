"""Install hints for the optional extras: a command that works where the user is."""

import os
import sys
from pathlib import Path

import pytest

import pipeline
from pipeline import extras
from pipeline.extras import install_hint

ROOT = Path(pipeline.__file__).resolve().parents[1]


def _pip():
    pip = Path(sys.executable).with_name("pip")
    assert pip.is_file()  # a venv, as make creates
    return pip


def test_from_the_clone_the_hint_installs_the_clone_with_the_extra(monkeypatch, tmp_path):
    assert (ROOT / "pyproject.toml").is_file()  # the tests run from a clone
    monkeypatch.chdir(ROOT)
    assert install_hint("parquet") == f"{os.path.relpath(_pip())} install -e '.[parquet]'"
    # From elsewhere: absolute paths, still the environment's pip and this clone.
    monkeypatch.chdir(tmp_path)
    assert install_hint("dask") == f"{_pip().as_posix()} install -e '{ROOT.as_posix()}[dask]'"


def test_outside_a_clone_the_hint_names_the_extra_s_requirements(monkeypatch, tmp_path):
    monkeypatch.setattr(extras, "_ROOT", tmp_path)  # an installed package: no pyproject.toml beside it
    hint = install_hint("parquet")
    assert hint.endswith(" install 'pyarrow>=14'") and "texture[" not in hint
    assert install_hint("dask").endswith(" install 'dask[distributed]>=2024.1'")


@pytest.mark.parametrize("module, extra", [("pyarrow", "parquet"), ("matplotlib", "plot")])
def test_missing_extras_name_the_working_command(monkeypatch, tmp_path, module, extra):
    from pipeline.run.journal import check_output
    from pipeline.report import plot_training_curves
    from texture.errors import ConfigError

    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    monkeypatch.chdir(ROOT)
    with pytest.raises(ConfigError) as exc:
        check_output(Path("out.parquet")) if extra == "parquet" else plot_training_curves({"loss": [1.0]})
    assert str(exc.value).endswith(f"{os.path.relpath(_pip())} install -e '.[{extra}]'")
