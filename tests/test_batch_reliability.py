"""Batch runs over folders nobody curated, and over images that are too big.

A folder full of broken, odd and hostile entries goes through the batch
engine and the ``texture extract`` command: every listed input gets exactly
one row, each bad one an error row naming its file and the TextureError
subclass, the good ones finite features; the summary adds up; nothing hangs.
Images over the pixel limit are refused from their header; a large image
within it is processed holding a few copies of itself.
"""

import csv
import os
import sys
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from pipeline import batch, cli
from pipeline.batch import ExtractTask, list_inputs, run_batch
from pipeline.run.engines.serial import SerialEngine
from pipeline.names import unescape_path
from texture import FeatureConfig, FeatureExtractor, read_image
from test_io import _png_header_only
from timeouts import time_limit

CONFIG = FeatureConfig(glcm_distances=(1,), lbp_scales=((8, 1),), gabor_frequencies=(0.1,), gabor_orientations=2)
TIME_LIMIT = 60  # seconds for a whole batch before it counts as hung

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on corrupt metadata


def _fuzz_folder(root):
    """Fill `root` with good and bad inputs; return ({good names}, {bad name: error class})."""
    rng = np.random.default_rng(99)
    root.mkdir()

    def image(name, size=(40, 48), fmt=None):
        pixels = (rng.random(size) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / name, format=fmt)
        return (root / name).read_bytes()

    good, bad = set(), {}
    for i in range(6):
        image(f"good{i}.png")
        good.add(f"good{i}.png")
    image("good.tif")
    image("good.jpg")
    good |= {"good.tif", "good.jpg"}
    png, jpeg, tiff = image("src.png"), image("src.jpg"), image("src.tif")
    good.add("src.png"), good.add("src.jpg"), good.add("src.tif")

    (root / "truncated.png").write_bytes(png[: len(png) // 2])
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    (root / "truncated.tif").write_bytes(tiff[:100])
    flipped = bytearray(png)
    flipped[20] ^= 0xFF  # inside IHDR: its CRC no longer matches
    (root / "flipped.png").write_bytes(bytes(flipped))
    (root / "noise.png").write_bytes(rng.bytes(3000))
    (root / "empty.jpg").touch()
    _png_header_only(root / "bomb.png", 100_000, 100_000)
    Image.fromarray(np.zeros((CONFIG.min_image_size - 1, 50), np.uint8)).save(root / "tiny.png")
    bad.update({"truncated.png": "ImageReadError", "truncated.jpg": "ImageReadError",
                "truncated.tif": "ImageReadError", "flipped.png": "ImageReadError",
                "noise.png": "ImageReadError", "empty.jpg": "ImageReadError",
                "bomb.png": "ImageTooLargeError", "tiny.png": "ImageTooSmallError"})
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.png")
        bad["pipe.png"] = "ImageReadError"
    if sys.platform != "win32":
        (root / "gone.png").symlink_to(root / "deleted.png")
        (root / "loop1.png").symlink_to(root / "loop2.png")
        (root / "loop2.png").symlink_to(root / "loop1.png")
        bad.update({"gone.png": "ImageNotFoundError", "loop1.png": "ImageReadError",
                    "loop2.png": "ImageReadError"})
    if sys.platform not in ("win32", "darwin"):
        with open(os.path.join(os.fsencode(root), b"caf\xe9.png"), "wb") as f:
            f.write(png)
        with open(os.path.join(os.fsencode(root), b"\xff-broken.png"), "wb") as f:
            f.write(png[:60])
        good.add(os.fsdecode(b"caf\xe9.png"))
        bad[os.fsdecode(b"\xff-broken.png")] = "ImageReadError"
    long_name = "l" * 240 + ".png"
    (root / long_name).write_bytes(png)
    good.add(long_name)
    # A folder named like an image is searched like any folder.
    (root / "album.png").mkdir()
    image("album.png/inside.png")
    good.add("album.png/inside.png")
    # Not inputs: other extensions and hidden files.
    (root / "notes.txt").write_text("not an image")
    image(".hidden.png")
    return good, bad


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:  # strict: every output is valid UTF-8
        return list(csv.DictReader(f))


def _check_rows(root, rows, good, bad):
    # Names that are not UTF-8 are written escaped; unescaped, they are the exact file names.
    by_name = {os.path.relpath(unescape_path(row["path"]), root): row for row in rows}
    assert len(by_name) == len(rows) == len(good) + len(bad)
    assert set(by_name) == good | set(bad)
    for name, error in bad.items():
        row = by_name[name]
        assert row["status"] == "error", name
        assert row["error"].startswith(error + ":"), (name, row["error"])
        assert row["path"] in row["error"]  # the message names the file
    names = FeatureExtractor(CONFIG).names
    for name in good:
        row = by_name[name]
        assert row["status"] == "ok" and row["error"] == "", (name, row["error"])
        assert np.isfinite([float(row[n]) for n in names]).all()


@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache"])
def test_fuzz_folder_gives_one_row_per_input_and_a_summary_that_adds_up(tmp_path, cache):
    root = tmp_path / "inputs"
    good, bad = _fuzz_folder(root)
    items, skipped = list_inputs(root)
    task = ExtractTask(CONFIG, cache_dir=tmp_path / "cache" if cache else None)
    output = tmp_path / "features.csv"
    with time_limit(TIME_LIMIT):
        summary = run_batch(task, root, output, engine=SerialEngine(), quiet=True)
    rows = _rows(output)
    _check_rows(root, rows, good, bad)
    assert summary.processed == len(good) and summary.failed == len(bad)
    assert summary.processed + summary.failed == len(items) == len(rows)
    assert len(skipped) == 2  # notes.txt and .hidden.png: listed as skipped, not lost
    assert not list(tmp_path.glob("features.csv.partial*"))


def test_fuzz_folder_through_the_command_line(tmp_path, capsys):
    root = tmp_path / "inputs"
    good, bad = _fuzz_folder(root)
    output = tmp_path / "out.csv"
    with time_limit(TIME_LIMIT):
        status = cli.main(["extract", str(root), "-o", str(output), "-q", "--jobs", "2",
                           "--config", str(_config_file(tmp_path))])
    assert status == 1  # some inputs failed, and the exit status says so
    _check_rows(root, _rows(output), good, bad)
    out = capsys.readouterr().out
    total = len(good) + len(bad) + 2  # notes.txt and .hidden.png, skipped
    assert f"{total} files: {len(good)} processed, {len(bad)} failed, 2 skipped" in out


def _config_file(tmp_path):
    import json

    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG.to_dict()))
    return path


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    # A valid 6000 x 6000 PNG: decoding it would take 36 MB (288 MB as
    # floats); the limit is checked from the header, so refusing it
    # allocates almost nothing.
    path = tmp_path / "large.png"
    Image.fromarray(np.zeros((6000, 6000), np.uint8)).save(path)
    monkeypatch.setattr("texture.io.DEFAULT_MAX_PIXELS", 10**7)
    tracemalloc.start()
    try:
        summary = run_batch(ExtractTask(CONFIG), [batch.Item(str(path))], tmp_path / "out.csv",
                            engine=SerialEngine(), quiet=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary.failed == 1 and "ImageTooLargeError" in summary.errors[0]
    assert "36000000" in summary.errors[0]
    assert peak < 4_000_000


@pytest.mark.slow
def test_a_large_image_is_processed_holding_a_few_copies_of_it(tmp_path):
    # 1200 x 1200 stands in for 10,000 x 10,000 (benchmarks/memory.py runs
    # that one): memory per pixel is what is checked, and it does not
    # depend on the size once the Gabor spectra no longer fit their cache.
    side = 1200
    path = tmp_path / "large.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (side, side), np.uint8)).save(path)
    working_image = side * side * 8  # bytes of the float64 working image
    extractor = FeatureExtractor()  # the default configuration: every family, 24 Gabor filters
    tracemalloc.start()
    try:
        vector = extractor.transform(read_image(path), path=str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(vector).all()
    assert peak < 8 * working_image, f"peak {peak / working_image:.1f} working images"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                    reason="needs a file system that stores names as raw bytes")
def test_non_utf8_names_in_parquet_output_are_escaped_not_fatal(tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    root = tmp_path / "inputs"
    root.mkdir()
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(root / "plain.png")
    with open(os.path.join(os.fsencode(root), b"caf\xe9.png"), "wb") as f:
        f.write((root / "plain.png").read_bytes())
    summary = run_batch(ExtractTask(CONFIG), root, tmp_path / "out.parquet", engine=SerialEngine(), quiet=True)
    assert summary.processed == 2
    paths = pd.read_parquet(tmp_path / "out.parquet")["path"].tolist()
    assert paths == [str(root / "caf\\xe9.png"), str(root / "plain.png")]
