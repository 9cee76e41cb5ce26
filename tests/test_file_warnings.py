"""Warnings about files (a grey image read in colour mode): raised per file, said once per run.

The command-line tests run ``texture`` in a child process and count the
warning lines of its whole stderr, where the workers of the process pool and
of the Dask cluster it starts would print theirs too.
"""

import os
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest

from pipeline import TextureModel
from pipeline.batch import ExtractTask, Item, feature_matrix, list_inputs, run_batch
from pipeline.run.engines.serial import SerialEngine
from pipeline.run.file_warnings import FileWarnings
from texture import FeatureConfig, FlatChromaWarning

OPPONENT = FeatureConfig(colour="opponent")
N_GREY = 20  # more than one chunk (8 inputs) of the process engine, per class too: both workers get some
LINE = "grey images read in colour mode"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two classes of 64 x 64 images: 10 grey PNGs and a colour one each."""
    root = tmp_path_factory.mktemp("greycolour") / "data"
    rng = np.random.default_rng(0)
    for label, contrast in (("light", 255), ("dark", 120)):
        (root / label).mkdir(parents=True)
        for k in range(N_GREY // 2):
            grey = (rng.random((64, 64)) * contrast).astype(np.uint8)
            cv2.imwrite(str(root / label / f"grey{k:02d}.png"), grey)
        cv2.imwrite(str(root / label / "colour.png"), (rng.random((64, 64, 3)) * contrast).astype(np.uint8))
    return root


def _grey(root):
    return sorted(str(p) for p in root.rglob("grey*.png"))


class TestInABatch:
    def test_rows_carry_the_warnings_of_their_files_and_none_escapes(self, data, tmp_path):
        items = [Item(path) for path in sorted(map(str, data.rglob("*.png")))] + [Item(str(tmp_path / "gone.png"))]
        task = ExtractTask(OPPONENT)
        task.setup()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning shown by the worker would fail here
            rows = task.rows(items)
        assert [row.path for row in rows if row.warnings] == _grey(data)
        assert all(row.warnings == (FlatChromaWarning,) for row in rows if os.path.basename(row.path).startswith("grey"))
        assert rows[-1].status == "error" and rows[-1].warnings == ()

    def test_run_batch_warns_once_counting_the_grey_images(self, data, tmp_path):
        with pytest.warns(FlatChromaWarning) as record:
            run_batch(ExtractTask(OPPONENT), data, tmp_path / "out.csv", engine=SerialEngine(), quiet=True,
                      chunk_size=3)
        assert len(record) == 1
        assert sorted(record[0].message.paths) == _grey(data)
        assert str(record[0].message).startswith(f"{N_GREY} {LINE} (first: ")

    def test_feature_matrix_warns_once_and_a_grey_run_in_grey_mode_never(self, data):
        items, _ = list_inputs(data)
        with pytest.warns(FlatChromaWarning) as record:
            feature_matrix(ExtractTask(OPPONENT), items, engine=SerialEngine(), chunk_size=5)
        assert len(record) == 1 and len(record[0].message.paths) == N_GREY
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            feature_matrix(ExtractTask(), items, engine=SerialEngine())

    def test_a_model_featurizing_many_images_warns_once(self, data):
        model = TextureModel(OPPONENT)
        with pytest.warns(FlatChromaWarning) as record:
            model.featurize(_grey(data)[:5])
        assert len(record) == 1 and record[0].message.paths == tuple(_grey(data)[:5])

    def test_a_model_trained_on_windows_names_each_grey_file_once(self, data):
        files = _grey(data)[:2] + _grey(data)[-2:]
        from pipeline.nn import BPClassifier

        model = TextureModel(OPPONENT, window=32, n_networks=1, estimator=BPClassifier((4,), epochs=2))
        with pytest.warns(FlatChromaWarning) as record:  # each image and its training copies: one file
            model.fit(files, ["light", "light", "dark", "dark"])
        assert len(record) == 1 and record[0].message.paths == tuple(files)


def test_collect_lets_other_warnings_through():
    warned = FileWarnings()
    with pytest.warns(RuntimeWarning, match="other"), warned.collect():
        warnings.warn(FlatChromaWarning("a.png"))
        warnings.warn("other", RuntimeWarning)
        warnings.warn(FlatChromaWarning("a.png", "b.png"))
    assert warned.paths(FlatChromaWarning) == ["a.png", "b.png"]


def _texture(*argv, cwd):
    """Run the command line in a child process; its exit status and stderr."""
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", *map(str, argv)], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    return result.returncode, result.stderr


NET = ["--hidden", "4", "--epochs", "2", "--networks", "1"]


def _said_once(err, verb, count=N_GREY):
    lines = [line for line in err.splitlines() if "grey image" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"texture {verb}: warning: {count} {LINE} (first: "), lines[0]


@pytest.mark.slow
def test_every_verb_says_it_once_with_two_workers(data, tmp_path):
    common = ["-j", "2", "-q"]
    code, err = _texture("extract", data, "-o", tmp_path / "f.csv", "--colour", "opponent", *common, cwd=tmp_path)
    assert code == 0
    _said_once(err, "extract")
    # The verbs of feature maps on one class (the maps cost more): still two chunks of the process engine.
    code, err = _texture("extract", data / "dark", "-o", tmp_path / "w.csv", "--colour", "opponent", "--window", "32",
                         *common, cwd=tmp_path)
    assert code == 0
    _said_once(err, "extract", N_GREY // 2)
    # Two passes over the training images (the images, then their training copies): still once.
    code, err = _texture("train", data, "-o", tmp_path / "m.npz", "--colour", "opponent", *common, *NET, cwd=tmp_path)
    assert code == 0
    _said_once(err, "train")
    code, err = _texture("predict", data, "--model", tmp_path / "m.npz", "-o", tmp_path / "p.csv", *common,
                         cwd=tmp_path)
    assert code == 0
    _said_once(err, "predict")
    code, err = _texture("map", data / "dark", "--model", tmp_path / "m.npz", "-o", tmp_path / "maps", "--window", "32",
                         *common, cwd=tmp_path)
    assert code == 0
    _said_once(err, "map", N_GREY // 2)
    grey = _grey(data)[0]
    code, err = _texture("score", grey, "--model", tmp_path / "m.npz", cwd=tmp_path)
    assert code == 0 and err == (f"texture score: warning: {grey}: grey image in colour mode (FeatureConfig(colour="
                                 "'opponent')): chroma features are constant (those of flat chroma, the same for "
                                 "every grey image)\n")


@pytest.mark.slow
def test_the_dask_engine_says_it_once(data, tmp_path):
    pytest.importorskip("distributed")
    # Both passes of training on the workers of the cluster the command starts.
    code, err = _texture("train", data, "-o", tmp_path / "m.npz", "--colour", "opponent", "--engine", "dask",
                         "-j", "2", "-q", *NET, cwd=tmp_path)
    assert code == 0, err
    _said_once(err, "train")


def test_a_grey_image_served_from_the_cache_is_said_as_when_computed(data, tmp_path):
    from pipeline.batch import TrainingCopiesTask

    for task in (ExtractTask(OPPONENT, cache_dir=tmp_path / "cache"),
                 TrainingCopiesTask(OPPONENT, cache_dir=tmp_path / "cache")):
        outputs = []
        for run in ("computed", "cached"):
            with pytest.warns(FlatChromaWarning) as record:
                run_batch(task, data / "dark", tmp_path / f"{run}.csv", engine=SerialEngine(), quiet=True)
            assert len(record) == 1 and len(record[0].message.paths) == N_GREY // 2, run
            outputs.append((tmp_path / f"{run}.csv").read_bytes())
        assert outputs[0] == outputs[1]
    assert any((tmp_path / "cache").rglob("*.npy"))


def test_has_flat_chroma_tells_grey_from_colour(data):
    from texture import FeatureExtractor, read_image

    extractor = FeatureExtractor(OPPONENT)
    with pytest.warns(FlatChromaWarning):
        grey = extractor.transform(read_image(data / "dark" / "grey00.png", colour=True))
    colour = extractor.transform(read_image(data / "dark" / "colour.png", colour=True))
    assert extractor.has_flat_chroma(grey) and not extractor.has_flat_chroma(colour)
    assert not FeatureExtractor().has_flat_chroma(grey[:len(FeatureExtractor().names)])
