"""``texture extract --window``: one output row per window, with the batch guarantees of one row per input."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from skimage import data, io

import texture
from interrupt import InterruptedAt
from pipeline.batch import WindowFeaturesTask, run_batch
from pipeline.cli import main
from pipeline.run.engines.serial import SerialEngine
from texture import FeatureConfig
from texture.errors import ConfigError

# Small and fast, all three families.
CONFIG = FeatureConfig(glcm_levels=16, glcm_distances=(1, 2), lbp_scales=((8, 1),), gabor_frequencies=(0.25,),
                       gabor_orientations=4)
GEOMETRY = ["row", "col", "y0", "x0", "y1", "x1"]


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    """Three images of different sizes (so different window counts) and one file that is not an image."""
    root = tmp_path_factory.mktemp("windows")
    io.imsave(root / "a_brick.png", data.brick()[:96, :128], check_contrast=False)
    io.imsave(root / "b_grass.png", data.grass()[:80, :80], check_contrast=False)
    (root / "c_broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    io.imsave(root / "d_gravel.png", data.gravel()[:128, :64], check_contrast=False)
    (root / "config.json").write_text(json.dumps(CONFIG.to_dict()))
    return root


def extract(src, out):
    return main([str(a) for a in ["extract", src, "--config", src / "config.json", "--window", "32", "--step", "16",
                                  "-o", out, "-j", "1", "-q"]])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_are_the_feature_maps_windows_and_a_bad_file_is_one_error_row(src, tmp_path, capsys, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"windows{suffix}"
    assert extract(src, out) == 1  # an input failed: exit 1, as for the other batch verbs
    assert "5 files: 3 processed, 1 failed, 1 skipped" in capsys.readouterr().out  # config.json is skipped
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(table.columns[5:]) == GEOMETRY + list(texture.FeatureExtractor(CONFIG).names)
    errors = table[table["status"] == "error"]
    assert len(errors) == 1 and errors["path"].iloc[0].endswith("c_broken.png")
    assert "c_broken.png" in errors["error"].iloc[0] and errors[GEOMETRY].isna().all(axis=None)
    for name, windows in (("a_brick", 5 * 7), ("b_grass", 4 * 4), ("d_gravel", 7 * 3)):
        rows = table[table["path"].str.endswith(f"{name}.png")]
        assert len(rows) == windows and set(rows["status"]) == {"ok"}
        expected = texture.feature_map(str(src / f"{name}.png"), 32, 16, CONFIG).to_frame()
        # Exactly the feature map's numbers: floats are written as their shortest round-trip repr.
        pd.testing.assert_frame_equal(rows.iloc[:, 5:].reset_index(drop=True), expected, check_dtype=False,
                                      rtol=0, atol=0)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(out)
        assert all(str(schema.field(c).type) == "int64" for c in GEOMETRY)


def test_an_interrupted_run_resumes_to_the_same_bytes(src, tmp_path, capsys):
    task = WindowFeaturesTask(CONFIG, window=32, step=16)
    run_batch(task, src, tmp_path / "whole.csv", engine=SerialEngine(), chunk_size=1, quiet=True)
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(task, src, out, engine=InterruptedAt(3), chunk_size=1, quiet=True)
    journal = tmp_path / "out.csv.partial.csv"
    lines = journal.read_text().splitlines()
    assert len(lines) == 1 + 35 + 16 + 1  # header, a_brick's windows, b_grass's, c_broken's error row
    summary = run_batch(task, src, out, engine=SerialEngine(), chunk_size=1, quiet=True)
    # The last input of the journal is computed again: its lines cannot tell whether it was cut short.
    assert (summary.resumed, summary.processed, summary.failed) == (2, 3, 1)
    assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()

    # A kill in the middle of an input's lines: its windows so far are dropped and it is computed again.
    with pytest.raises(KeyboardInterrupt):
        run_batch(task, src, out, engine=InterruptedAt(2), chunk_size=1, quiet=True)
    journal.write_text("\n".join(journal.read_text().splitlines()[:1 + 35 + 7]) + "\n/cut,sh")
    summary = run_batch(task, src, out, engine=SerialEngine(), chunk_size=1, quiet=True)
    assert summary.resumed == 1 and (summary.processed, summary.failed) == (3, 1)
    assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_a_resume_with_another_window_or_step_starts_afresh_and_says_so(src, tmp_path, capsys):
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(WindowFeaturesTask(CONFIG, window=32, step=16), src, out, engine=InterruptedAt(2), chunk_size=1,
                  quiet=True)
    capsys.readouterr()
    summary = run_batch(WindowFeaturesTask(CONFIG, window=32, step=8), src, out, engine=SerialEngine(),
                        chunk_size=1)
    err = capsys.readouterr().err
    assert summary.resumed == 0 and "starting afresh" in err and "step: 16 -> 8" in err
    table = pd.read_csv(out)
    assert len(table[table["path"].str.endswith("a_brick.png")]) == 9 * 13  # all at step 8


def test_window_options_that_do_not_fit_are_refused(src, tmp_path, capsys):
    for options, message in ((["--step", "8"], "--step needs --window"),
                             (["--window", "32", "--cache", tmp_path / "c"], "--cache"),
                             (["--window", "32", "--mask-suffix", "_mask"], "--mask-suffix")):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in ["extract", src, "-o", tmp_path / "w.csv", "-q", *options]])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(ConfigError, match="even window and step.*window 32, step 15"):
        WindowFeaturesTask(FeatureConfig(colour="opponent"), window=32, step=15)
    with pytest.raises(ConfigError, match="step must be a positive integer"):
        WindowFeaturesTask(CONFIG, window=1)  # step window // 2 = 0
    assert not list(tmp_path.glob("w.csv*"))


def test_colour_windows_are_the_colour_feature_maps_windows(tmp_path, capsys):
    io.imsave(tmp_path / "coffee.png", data.coffee()[:96, :128], check_contrast=False)
    io.imsave(tmp_path / "grey.png", data.brick()[:64, :64], check_contrast=False)
    out = tmp_path / "colour.csv"
    config = FeatureConfig(**{**CONFIG.to_dict(), "colour": "opponent"})
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    argv = ["extract", tmp_path, "--config", tmp_path / "config.json", "--window", "32", "--step", "16", "-o", out,
            "-j", "1", "-q"]
    assert main([str(a) for a in argv]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "grey image" in line]
    assert said == [f"texture extract: warning: {tmp_path / 'grey.png'}: grey image in colour mode (FeatureConfig("
                    "colour='opponent')): chroma features are constant (those of flat chroma, the same for every "
                    "grey image)"]
    table = pd.read_csv(out)
    names = list(texture.FeatureExtractor(config).names)
    assert list(table.columns[5:]) == GEOMETRY + names and any(name.startswith("o1_") for name in names)
    for name, windows in (("coffee", 5 * 7), ("grey", 3 * 3)):
        rows = table[table["path"].str.endswith(f"{name}.png")]
        assert len(rows) == windows and set(rows["status"]) == {"ok"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", texture.FlatChromaWarning)  # grey.png: the map's own warning
            expected = texture.feature_map(str(tmp_path / f"{name}.png"), 32, 16, config).to_frame()
        pd.testing.assert_frame_equal(rows.iloc[:, 5:].reset_index(drop=True), expected, check_dtype=False,
                                      rtol=0, atol=0)
    coffee = table[table["path"].str.endswith("coffee.png")]
    assert coffee[[n for n in names if n.startswith("o1_")]].abs().to_numpy().max() > 0  # real chroma features
