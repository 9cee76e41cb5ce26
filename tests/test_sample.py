"""pipeline.sample: the bundled data matches its manifest, its recipe and its packaging."""

import hashlib
import json
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from pipeline.sample import build_sample, sample_root
from texture import read_image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def manifest():
    return json.loads((sample_root() / "MANIFEST.json").read_text())


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return out, build_sample(out)


def _data_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.name != "MANIFEST.json")


def test_committed_files_match_the_manifest_digests(manifest):
    root = sample_root()
    assert _data_files(root) == sorted(manifest["files"])  # nothing missing, nothing extra
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name


def test_sample_is_small_and_large_enough_to_split(manifest):
    root = sample_root()
    assert sum((root / name).stat().st_size for name in manifest["files"]) < 3 * 2**20
    classes = manifest["sets"]["textures"]["classes"]
    assert len(classes) >= 5
    for entry in classes:
        files = list((root / "textures" / entry["name"]).glob("*.png"))
        assert len(files) == entry["count"] >= 20
        assert entry["licence"] == "CC0-1.0" and entry["source"]


def test_images_are_grey_8bit_and_not_constant():
    for path in sorted(sample_root().rglob("*.png"))[::7]:
        image = read_image(path)
        assert image.shape == (96, 96) and image.std() > 0.02, path


def test_roughness_csv_lists_every_grade_equally(manifest):
    root = sample_root()
    lines = (root / "roughness.csv").read_text().splitlines()
    assert lines[0] == "path,label"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == manifest["sets"]["roughness"]["count"]
    assert all((root / path).is_file() for path, _ in rows)
    labels = np.array([int(label) for _, label in rows])
    np.testing.assert_array_equal(np.bincount(labels)[1:], [12] * 5)


def test_recipe_reproduces_the_committed_pixels(rebuilt, manifest):
    # Pixels, not bytes: another zlib may compress the same pixels differently.
    out, new_manifest = rebuilt
    root = sample_root()
    assert sorted(new_manifest["files"]) == sorted(manifest["files"])
    assert new_manifest["sets"] == manifest["sets"]
    for name in manifest["files"]:
        if name.endswith(".png"):
            np.testing.assert_array_equal(read_image(out / name), read_image(root / name), name)
        else:
            assert (out / name).read_bytes() == (root / name).read_bytes()


def test_recipe_is_byte_for_byte_deterministic_and_leaves_no_stale_file(rebuilt, tmp_path):
    stale = tmp_path / "textures" / "brick" / "old.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    assert build_sample(tmp_path)["files"] == rebuilt[1]["files"]
    assert not stale.exists()


def test_packaging_ships_every_package_and_every_data_file(manifest):
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("texture", "pipeline") for init in (REPO / top).rglob("__init__.py")
    }
    assert set(config["packages"]) == on_disk | {"pipeline.sample_data"}, (
        "list every package in [tool.setuptools] packages of pyproject.toml"
    )
    assert config["package-dir"] == {"pipeline.sample_data": "datasets"}
    patterns = config["package-data"]["pipeline.sample_data"]
    shipped = [*manifest["files"], "MANIFEST.json"]
    unshipped = [f for f in shipped if not any(PurePosixPath(f).match(p) for p in patterns)]
    assert not unshipped
