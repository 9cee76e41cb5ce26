"""End-to-end tests of the ``texture`` command line on the bundled sample data."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import TextureModel
from pipeline.cli import main
from pipeline.sample import sample_root

# A small, fast network for every training command in these tests.
NET = ["--hidden", "8", "--epochs", "30", "--seed", "1"]


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    """A CSV listing 3 classes x 8 bundled images (paths relative to the CSV)."""
    root = sample_root() / "textures"
    out = tmp_path_factory.mktemp("subset")
    rows = []
    for label in ("brick", "grass", "waves"):
        for path in sorted((root / label).glob("*.png"))[:8]:
            rows.append((os.path.relpath(path, out), label))
    with open(out / "list.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label"])
        writer.writerows(rows)
    return out / "list.csv"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_extract_train_predict_evaluate_score(tmp_path, capsys, subset):
    code, out, _ = run(capsys, "extract", subset, "-o", tmp_path / "features.csv", "--jobs", "1", "-q")
    assert code == 0 and "24 processed, 0 failed" in out
    with open(tmp_path / "features.csv", newline="") as f:
        header = next(csv.reader(f))
    from texture import FeatureExtractor, FeatureConfig

    assert header[5:] == list(FeatureExtractor(FeatureConfig()).names)

    model = tmp_path / "model.npz"
    code, out, _ = run(capsys, "train", subset, "-o", model, "-j", "1", "-q", *NET)
    assert code == 0 and model.is_file() and "held-out accuracy" in out
    accuracy = float(out.split("held-out accuracy ")[1].split()[0])
    assert 0.0 <= accuracy <= 1.0

    code, out, _ = run(capsys, "predict", subset, "--model", model, "-o", tmp_path / "pred.csv", "-j", "2", "-q")
    assert code == 0
    with open(tmp_path / "pred.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 24
    classes = ["brick", "grass", "waves"]
    assert {r["predicted"] for r in rows} <= set(classes)
    for r in rows:
        probs = [float(r[f"proba_{c}"]) for c in classes]
        assert abs(sum(probs) - 1) < 1e-5 and float(r["confidence"]) == pytest.approx(max(probs))

    report = tmp_path / "report"
    code, out, _ = run(capsys, "evaluate", subset, "--model", model, "-o", report, "-j", "1", "-q")
    assert code == 0 and "accuracy" in out
    # evaluate predicts in-process (-j 1): the same rows as the worker processes gave.
    assert (report / "predictions.csv").read_bytes() == (tmp_path / "pred.csv").read_bytes()
    for name in ("predictions.csv", "metrics.csv", "confusion_matrix.csv", "confusion_matrix.png",
                 "training_curves.png", "calibration.csv", "reliability_diagram.png"):
        assert (report / name).is_file(), name
    import pandas as pd

    from pipeline.evaluation import brier_score, expected_calibration_error

    proba = np.array([[float(r[f"proba_{c}"]) for c in classes] for r in rows])
    truth = np.array([classes.index(r["label"]) for r in rows])
    assert (f"expected calibration error {expected_calibration_error(truth, proba):.4f} (15 bins), "
            f"Brier score {brier_score(truth, proba):.4f} on 24 images") in out
    assert pd.read_csv(report / "calibration.csv")["count"].sum() == 24

    cm = pd.read_csv(report / "confusion_matrix.csv", index_col=0)
    assert cm.to_numpy().sum() == 24 and list(cm.columns) == classes
    metrics = pd.read_csv(report / "metrics.csv", index_col=0)
    assert metrics.loc["accuracy", "f1"] == pytest.approx(
        sum(r["predicted"] == r["label"] for r in rows) / 24, abs=1e-6)

    pytest.importorskip("pyarrow")
    code, _, _ = run(capsys, "predict", subset, "--model", model, "-o", tmp_path / "pred.parquet", "-j", "1", "-q")
    table = pd.read_parquet(tmp_path / "pred.parquet")
    assert code == 0 and list(table.columns) == list(rows[0])
    assert table["confidence"].dtype == np.float64 and list(table["predicted"]) == [r["predicted"] for r in rows]

    image = rows[0]["path"]
    code, out, _ = run(capsys, "score", image, "--model", model, "--json")
    assert code == 0
    score = json.loads(out)
    assert score["label"] == rows[0]["predicted"]
    assert score["confidence"] == pytest.approx(float(rows[0]["confidence"]))
    assert set(score["probabilities"]) == set(classes) and score["value"] is None
    code, out, _ = run(capsys, "score", image, "--model", model)
    assert code == 0 and score["label"] in out


def test_bad_files_are_reported_and_counted(tmp_path, capsys):
    src = tmp_path / "src"
    (src / "good").mkdir(parents=True)
    for path in sorted((sample_root() / "textures" / "brick").glob("*.png"))[:3]:
        (src / "good" / path.name).write_bytes(path.read_bytes())
    data = (src / "good" / path.name).read_bytes()
    (src / "bad").mkdir()
    (src / "bad" / "truncated.png").write_bytes(data[: len(data) // 3])
    (src / "bad" / "empty.png").write_bytes(b"")
    (src / "bad" / "text.png").write_text("this is not an image")
    (src / "bad" / "readme.txt").write_text("not listed: not an image extension")
    locked = src / "bad" / "locked.png"
    locked.write_bytes(data)
    locked.chmod(0)
    try:
        code, out, err = run(capsys, "extract", src, "-o", tmp_path / "f.csv", "-j", "1")
    finally:
        locked.chmod(0o644)
    root = os.geteuid() == 0  # root reads the locked file anyway
    bad = {"truncated.png", "empty.png", "text.png"} | (set() if root else {"locked.png"})
    assert code == 1
    assert f"{3 + root} processed, {len(bad)} failed, 1 skipped" in out  # readme.txt
    for name in bad:
        assert name in err
    with open(tmp_path / "f.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 + 3
    assert {Path(r["path"]).name for r in rows if r["status"] == "error"} == bad
    assert all(r["error"] for r in rows if r["status"] == "error")


def test_max_pixels_refuses_larger_images_and_goes_on(tmp_path, capsys):
    import cv2

    from texture.io import DEFAULT_MAX_PIXELS

    src = tmp_path / "src"
    src.mkdir()
    brick = sorted((sample_root() / "textures" / "brick").glob("*.png"))[0]
    small = cv2.imread(str(brick), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(src / "small.png"), small)
    cv2.imwrite(str(src / "large.png"), np.tile(small, (2, 2)))
    limit = small.size * 2
    code, out, err = run(capsys, "extract", src, "-o", tmp_path / "f.csv", "-j", "1", "--max-pixels", limit)
    assert code == 1 and "1 processed, 1 failed" in out
    assert "large.png" in err and f"more than the limit of {limit}" in err
    code, out, _ = run(capsys, "extract", src, "-o", tmp_path / "g.csv", "-j", "1")
    assert code == 0 and "2 processed, 0 failed" in out
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    assert f"{DEFAULT_MAX_PIXELS:,}" in capsys.readouterr().out  # the help states the real default


@pytest.mark.slow
def test_same_command_twice_gives_identical_outputs(tmp_path, capsys, subset):
    for name in ("a", "b"):
        d = tmp_path / name
        assert run(capsys, "extract", subset, "-o", d / "f.csv", "-q", "-j", "1")[0] == 0
        assert run(capsys, "train", subset, "-o", d / "m.npz", "-q", "-j", "1", *NET)[0] == 0
        assert run(capsys, "predict", subset, "--model", d / "m.npz", "-o", d / "p.csv", "-q", "-j", "1")[0] == 0
    for name in ("f.csv", "m.npz", "p.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("argv, message", [
    (["extract", "."], "required: -o"),
    (["extract", "nowhere/", "-o", "x.csv"], "no such file or folder"),
    (["extract", ".", "-o", "x.csv", "--jobs", "0"], "positive integer"),
    (["extract", ".", "-o", "x.csv", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler needs --engine dask"),
    (["predict", ".", "--model", __file__, "-o", "x.csv", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:8786",
      "-j", "2"], "--jobs sizes a cluster started here"),
    (["score", __file__, "--model", __file__, "--max-pixels", "-5"], "positive integer"),
    (["train", ".", "-o", "m.npz", "--test-size", "2"], "fraction"),
    (["fly"], "invalid choice"),
    (["train", ".", "-o", "m.npz", "--colour", "rgb"], "argument --colour: invalid choice: 'rgb'"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_runtime_error_is_one_line_unless_debug(tmp_path, capsys):
    bad_model = tmp_path / "model.npz"
    bad_model.write_text("not a model")
    image = next((sample_root() / "textures" / "brick").glob("*.png"))
    code, out, err = run(capsys, "score", image, "--model", bad_model)
    assert code == 1 and "model.npz" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    from texture.errors import ModelFileError

    with pytest.raises(ModelFileError):
        main(["score", str(image), "--model", str(bad_model), "--debug"])


@pytest.mark.parametrize("verb", ["extract", "train", "predict", "evaluate", "score", "demo"])
def test_every_verb_help_shows_an_example(capsys, verb):
    with pytest.raises(SystemExit) as exc:
        main([verb, "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "example:" in out and f"texture {verb} " in out


def test_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout


# Libraries `texture extract` does not use, each a tenth of a second or more
# to import: start-up is a target of issue 9 (under 1 s), and a module-level
# import creeping back would go unnoticed but for this test.
_MODULES_AFTER = """
import json, sys
from pipeline import TextureModel
from pipeline.cli import main
status = main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
sys.exit(status)
"""


@pytest.fixture(scope="module")
def extract_modules(tmp_path_factory):
    """Modules imported by one ``texture extract`` run, in a fresh interpreter."""
    tmp = tmp_path_factory.mktemp("modules")
    image = sorted((sample_root() / "textures" / "brick").glob("*.png"))[0]
    # One worker: the extraction runs in this process, so its imports are seen too.
    argv = ["extract", image.parent, "-o", tmp / "out.csv", "--jobs", "1", "-q"]
    result = subprocess.run([sys.executable, "-c", _MODULES_AFTER, *map(str, argv)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", [
    "scipy.special",
    "matplotlib",
    "dask",
    "distributed",
    "tqdm",
    "sklearn",
    "skimage",
    "pandas",
])
def test_extract_does_not_import_what_it_does_not_use(extract_modules, module):
    assert "texture.features" in extract_modules  # the run did extract features
    assert module not in extract_modules


def test_the_command_line_module_imports_no_numeric_library():
    # main() starts the worker server before it imports the verbs (numpy,
    # OpenCV, ...), so that the server and this process import at the same time.
    code = "import sys, pipeline.cli; print(*sys.modules)"
    modules = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy = {"numpy", "cv2", "texture", "pipeline.batch", "pipeline.run.tasks", "pipeline.commands"}
    assert not heavy & set(modules.split())


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "-o", tmp_path / "demo", "-q", "--epochs", "60", "-j", "1")
    assert code == 0
    assert "held-out accuracy" in out and "confusion matrix" in out and "score of" in out
    assert "expected calibration error" in out and "Brier score" in out
    for name in ("model.npz", "metrics.csv", "confusion_matrix.csv", "confusion_matrix.png", "report.html",
                 "training_curves.png", "calibration.csv", "reliability_diagram.png"):
        assert (tmp_path / "demo" / name).is_file(), name
        assert str(tmp_path / "demo" / name) in out  # tells where everything went
    if (sample_root() / "roughness.csv").is_file():
        assert "roughness score" in out and (tmp_path / "demo" / "roughness_model.npz").is_file()


def _interrupt_third_chunk(monkeypatch, chunk_size):
    """Make the next extract run stop with Ctrl-C at its third chunk of `chunk_size` images."""
    from pipeline import batch, commands

    compute = batch.ExtractTask.compute
    calls = []

    def interrupt_third_chunk(self, items):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return compute(self, items)

    monkeypatch.setattr(batch.ExtractTask, "compute", interrupt_third_chunk)
    monkeypatch.setattr(commands, "run_batch", lambda *a, **k: batch.run_batch(*a, chunk_size=chunk_size, **k))


def test_interrupt_exits_130_and_the_rerun_resumes(tmp_path, capsys, subset, monkeypatch):
    _interrupt_third_chunk(monkeypatch, chunk_size=4)
    code, _, err = run(capsys, "extract", subset, "-o", tmp_path / "f.csv", "-j", "1", "-q")
    assert code == 130 and "resume" in err and not (tmp_path / "f.csv").exists()
    code, out, _ = run(capsys, "extract", subset, "-o", tmp_path / "f.csv", "-j", "1", "-q")
    assert code == 0 and "rows reused" in out
    monkeypatch.undo()
    run(capsys, "extract", subset, "-o", tmp_path / "ref.csv", "-j", "1", "-q")
    assert (tmp_path / "f.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()


def test_feature_cache_gives_the_same_output(tmp_path, capsys, subset):
    cache = tmp_path / "cache"
    for name in ("a.csv", "b.csv"):
        code, _, _ = run(capsys, "extract", subset, "-o", tmp_path / name, "-j", "1", "-q", "--cache", cache)
        assert code == 0
    assert len(list(cache.rglob("*.npy"))) == 24
    run(capsys, "extract", subset, "-o", tmp_path / "plain.csv", "-j", "1", "-q")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes() \
        == (tmp_path / "plain.csv").read_bytes()


def test_feature_config_option(tmp_path, capsys, subset):
    from texture import FeatureConfig, FeatureExtractor

    config = FeatureConfig(families=("glcm",))
    (tmp_path / "glcm.json").write_text(json.dumps(config.to_dict()))
    code, _, _ = run(capsys, "extract", subset, "-o", tmp_path / "f.csv", "-j", "1", "-q",
                     "--config", tmp_path / "glcm.json")
    with open(tmp_path / "f.csv", newline="") as f:
        assert code == 0 and next(csv.reader(f))[5:] == FeatureExtractor(config).names
    code, _, _ = run(capsys, "train", subset, "-o", tmp_path / "m.npz", "-j", "1", "-q",
                     "--config", tmp_path / "glcm.json", *NET)
    from pipeline import TextureModel

    assert code == 0 and TextureModel.load(tmp_path / "m.npz").feature_config_ == config
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = run(capsys, "extract", subset, "-o", tmp_path / "g.csv", "--config", tmp_path / "bad.json")
    assert code == 1 and "bad.json" in err and "JSON" in err


def test_numeric_grades_train_as_numbers(tmp_path, capsys):
    """Grades from a CSV give numeric classes: sorted 1..5, a JSON label that is a number, a value."""
    table = sample_root() / "roughness.csv"
    rows = list(csv.DictReader(table.read_text().splitlines()))
    subset = tmp_path / "grades.csv"
    with open(subset, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label"])
        writer.writerows((str(table.parent / r["path"]), r["label"]) for r in rows[::2])
    model = tmp_path / "m.npz"
    code, out, _ = run(capsys, "train", subset, "-o", model, "-j", "1", "-q", *NET)
    assert code == 0 and float(out.split("held-out accuracy ")[1].split()[0]) > 0.5  # 5 distinct grades
    from pipeline import TextureModel

    assert list(TextureModel.load(model).classes_) == [1, 2, 3, 4, 5]
    code, out, _ = run(capsys, "score", str(table.parent / rows[0]["path"]), "--model", model, "--json")
    score = json.loads(out)
    assert code == 0 and isinstance(score["label"], int) and 1 <= score["value"] <= 5
    assert score["value"] == pytest.approx(sum(int(k) * p for k, p in score["probabilities"].items()))


def test_train_adds_training_copies_unless_told_not_to(tmp_path, capsys, subset):
    from pipeline import TextureModel
    from pipeline.augment import copy_features
    from pipeline.evaluation import holdout_split
    from texture import FeatureConfig, FeatureExtractor, read_image

    config = FeatureConfig(families=("lbp",))  # fast; the copies do not depend on the families
    (tmp_path / "lbp.json").write_text(json.dumps(config.to_dict()))
    models = {}
    for name, flags in (("default", []), ("plain", ["--no-augment"])):
        code, _, _ = run(capsys, "train", subset, "-o", tmp_path / f"{name}.npz", "-j", "1", "-q",
                         "--config", tmp_path / "lbp.json", *NET, *flags)
        assert code == 0
        models[name] = TextureModel.load(tmp_path / f"{name}.npz")
    with open(subset, newline="") as f:
        rows = list(csv.DictReader(f))
    images = [read_image(subset.parent / row["path"]) for row in rows]
    train, _ = holdout_split([row["label"] for row in rows], None, 0.25, seed=1)
    extractor = FeatureExtractor(config)
    X = np.array([extractor.transform(images[i]) for i in train])
    kept = list(models["default"].copies_kept_)  # the copies that help (pipeline.augment.choose_copies)
    copies = np.vstack([copy_features(extractor, images[i])[kept] for i in train])
    np.testing.assert_allclose(models["plain"].scaler_.mean_, X.mean(axis=0))
    np.testing.assert_allclose(models["default"].scaler_.mean_, np.vstack([X, copies]).mean(axis=0))


def _class_tree(root, n=4, classes=("brick", "grass")):
    """Copy the first `n` bundled images of each class into a class-per-folder tree at `root`."""
    for label in classes:
        (root / label).mkdir(parents=True)
        for path in sorted((sample_root() / "textures" / label).glob("*.png"))[:n]:
            (root / label / path.name).write_bytes(path.read_bytes())
    return root


@pytest.fixture
def lbp_config(tmp_path):
    """--config of LBP features only: fast, and the training copies do not depend on the families."""
    from texture import FeatureConfig

    path = tmp_path / "lbp.json"
    path.write_text(json.dumps(FeatureConfig(families=("lbp",)).to_dict()))
    return path


def test_train_names_the_images_trained_on_without_their_copies(tmp_path, capsys, monkeypatch, lbp_config):
    """Copies can fail where the image did not: the image is trained on and stderr names it."""
    import cv2

    from pipeline import batch, commands
    from pipeline.evaluation import holdout_split

    src = _class_tree(tmp_path / "src")
    # 8 x 8 is enough for the features (7 x 7) but not for its copy shrunk by half an octave (6 x 6).
    brick = cv2.imread(str(next((src / "brick").iterdir())), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(src / "brick" / "tiny.png"), brick[:8, :8])
    items, _ = batch.list_inputs(src, labelled=True)
    train, test = holdout_split([item.label for item in items], None, 0.25, seed=2)
    trained = [Path(items[i].path) for i in train]
    tiny, gone = src / "brick" / "tiny.png", trained[-1]  # a grass image
    assert tiny in trained and gone.parent.name == "grass"

    def delete_before_the_copies(task, items, **kwargs):
        if isinstance(task, batch.TrainingCopiesTask):  # the file changes between the two passes
            gone.unlink()
        return batch.feature_matrix(task, items, **kwargs)

    monkeypatch.setattr(commands, "feature_matrix", delete_before_the_copies)
    code, out, err = run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "--config", lbp_config,
                         *NET, "--seed", "2")
    assert code == 0  # every image was trained on or held out
    copies = [line for line in err.splitlines() if "training copies" in line]
    assert len(copies) == 2
    assert str(tiny) in copies[0] and "ImageTooSmallError" in copies[0]
    assert str(gone) in copies[1] and "ImageNotFoundError" in copies[1]
    assert all("the image itself is trained on" in line for line in copies)
    assert f"training on {len(train)} images, holding out {len(test)}" in err
    assert f"9 files: {len(train)} trained on (2 without their training copies), {len(test)} held out, " \
           "0 failed, 0 skipped (not images)" in out


def test_train_counts_and_names_the_images_it_leaves_out(tmp_path, capsys, lbp_config):
    src = _class_tree(tmp_path / "src")
    (src / "grass" / "broken.png").write_bytes(b"not an image")
    (src / "grass" / "notes.txt").write_text("not listed: not an image extension")
    code, out, err = run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "--config", lbp_config,
                         "--no-augment", *NET)
    # The model is written, but an input could not be processed: exit status 1, as `extract`.
    assert code == 1 and (tmp_path / "m.npz").is_file()
    assert [line for line in err.splitlines() if "left out" in line and str(src / "grass" / "broken.png") in line]
    assert "10 files: 6 trained on, 2 held out, 1 failed, 1 skipped (not images)" in out
    assert f"skipped (not an image): {src / 'grass' / 'notes.txt'}" in err
    # --quiet silences the per-file lines, not the counts.
    code, out, err = run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "--config", lbp_config,
                         "--no-augment", "-q", *NET)
    assert code == 1 and err == "" and "1 failed, 1 skipped (not images)" in out  # and notes.txt unnamed


def _refuse_to_list(monkeypatch, folder):
    """Make os.scandir refuse `folder`, as chmod 000 would for anyone but root (the suite may run as root)."""
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("window", [[], ["--window", "48"]])  # whole images, or a map model's windows
@pytest.mark.parametrize("locked", ["grass/more", "grass"])
def test_train_and_evaluate_count_a_folder_they_cannot_list_as_failed(tmp_path, capsys, monkeypatch,
                                                                       lbp_config, locked, window):
    src = _class_tree(tmp_path / "src")
    model = tmp_path / "m.npz"
    run(capsys, "train", src, "-o", model, "-j", "1", "-q", "--config", lbp_config, "--no-augment", *NET)
    _class_tree(src / "grass" / "more", n=1, classes=(".",))  # one more grass image, a level down
    _refuse_to_list(monkeypatch, src / locked)
    code, out, err = run(capsys, "train", src, "-o", tmp_path / "m2.npz", "-j", "1", "--config", lbp_config,
                         "--no-augment", *NET, *window)
    assert code == 1
    if locked == "grass/more":  # a whole class unreadable leaves nothing to train it on: no model
        assert (tmp_path / "m2.npz").is_file()
        left_out = [line for line in err.splitlines() if "left out" in line]
        assert len(left_out) == 1 and str(src / locked) in left_out[0]
        assert "PermissionError: cannot list the folder" in left_out[0] and "Permission denied" in left_out[0]
        assert "1 failed" in out
    else:  # one class left: refused, the unreadable class folder named first with the system's error
        assert not (tmp_path / "m2.npz").exists()
        assert str(src / locked) in err and "cannot list the folder" in err and "Permission denied" in err
        assert "found one class, brick" in err
    code, out, err = run(capsys, "evaluate", src, "--model", model, "-o", tmp_path / "r", "-j", "1")
    processed = 8 if locked == "grass/more" else 4
    assert code == 1 and f"{processed} processed, 1 failed" in out
    assert str(src / locked) in err and "cannot list the folder" in err


def test_evaluate_counts_the_files_that_are_not_images(tmp_path, capsys, lbp_config):
    src = _class_tree(tmp_path / "src")
    run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "-q", "--config", lbp_config, *NET)
    (src / "grass" / "notes.txt").write_text("not an image")
    code, out, err = run(capsys, "evaluate", src, "--model", tmp_path / "m.npz", "-o", tmp_path / "r", "-j", "1")
    assert code == 0 and "9 files: 8 processed, 0 failed, 1 skipped (not images)" in out
    assert f"skipped (not an image): {src / 'grass' / 'notes.txt'}" in err
    # The page a person opens: the images evaluated, the command, the model's digest.
    page = (tmp_path / "r" / "report.html").read_text()
    assert str(tmp_path / "r" / "report.html") in out
    assert re.search(r"Wilson; \d of 8\)", page)
    assert "texture evaluate " in page and TextureModel.load(tmp_path / "m.npz").digest() in page


def test_train_averages_the_networks_asked_for_and_the_report_says_so(tmp_path, capsys, lbp_config):
    from pipeline.nn.ensemble import member_seeds

    src = _class_tree(tmp_path / "src")
    code, _, _ = run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "-q", "--config", lbp_config, *NET,
                     "--networks", "2", "--no-augment")
    model = TextureModel.load(tmp_path / "m.npz")
    assert code == 0 and model.n_networks == 2
    assert [net.random_state for net in model.estimator_.estimators_] == member_seeds(1, 2)  # from --seed 1
    run(capsys, "evaluate", src, "--model", tmp_path / "m.npz", "-o", tmp_path / "r", "-j", "1", "-q")
    assert "2 x BPClassifier [" in (tmp_path / "r" / "report.html").read_text()


def _write_labels(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label"])
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("unit", [1, 0.5], ids=["whole grades", "fractional grades"])
def test_evaluate_compares_grades_as_numbers(tmp_path, capsys, lbp_config, unit):
    """A grade is the same grade however the CSV spells it: 1, 1.00, 01."""
    table = sample_root() / "roughness.csv"
    rows = list(csv.DictReader(table.read_text().splitlines()))[::3]
    grades = [int(row["label"]) * unit for row in rows]
    paths = [str(table.parent / row["path"]) for row in rows]
    plain = _write_labels(tmp_path / "plain.csv", zip(paths, (f"{g:g}" for g in grades)))
    spelled = _write_labels(tmp_path / "spelled.csv",
                            zip(paths, (f"{g:.2f}" if k % 2 else f"0{g:g}" for k, g in enumerate(grades))))
    model = tmp_path / "m.npz"
    assert run(capsys, "train", plain, "-o", model, "-j", "1", "-q", "--config", lbp_config, *NET)[0] == 0
    reports = {}
    for name, labels in (("plain", plain), ("spelled", spelled)):
        code, out, _ = run(capsys, "evaluate", labels, "--model", model, "-o", tmp_path / name, "-j", "1", "-q")
        reports[name] = out.splitlines()[0]
        assert code == 0
    assert reports["spelled"] == reports["plain"]
    for name in ("metrics.csv", "confusion_matrix.csv"):
        assert (tmp_path / "spelled" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name
    with open(tmp_path / "plain" / "predictions.csv", newline="") as f:
        predicted = [float(row["predicted"]) for row in csv.DictReader(f)]
    expected = np.mean(np.array(predicted) == grades)
    assert expected > 0 and reports["plain"] == f"accuracy {expected:.4f} on {len(rows)} images"


def test_evaluate_keeps_text_classes_as_written(tmp_path, capsys, lbp_config):
    """Classes "1" and "one" are names: "01" is not the class "1"."""
    src = _class_tree(tmp_path / "src")
    (src / "brick").rename(src / "1")
    (src / "grass").rename(src / "one")
    model = tmp_path / "m.npz"
    assert run(capsys, "train", src, "-o", model, "-j", "1", "-q", "--config", lbp_config, *NET)[0] == 0
    from pipeline import TextureModel

    assert TextureModel.load(model).classes_.tolist() == ["1", "one"]
    images = sorted(src.rglob("*.png"))
    labels = _write_labels(tmp_path / "labels.csv", [(p, "01" if p.parent.name == "1" else "one") for p in images])
    code, out, _ = run(capsys, "evaluate", labels, "--model", model, "-o", tmp_path / "r", "-j", "1", "-q")
    import pandas as pd

    cm = pd.read_csv(tmp_path / "r" / "confusion_matrix.csv", index_col=0, dtype=str)
    assert code == 0 and list(cm.index) == ["1", "one", "01"]  # "01": a class the model never saw
    assert cm.loc["01"].astype(int).sum() == 4 and cm.loc["1"].astype(int).sum() == 0


def test_train_and_evaluate_say_when_no_image_could_be_used(tmp_path, capsys, lbp_config):
    """Not a consequence ("cannot fit a scaler on 0 samples") but the cause, even with --quiet."""
    src = tmp_path / "src"
    for label in ("a", "b"):
        (src / label).mkdir(parents=True)
        for k in range(2):
            (src / label / f"{k}.png").write_text("not an image")
    code, _, err = run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "-q", *NET)
    assert code == 1 and not (tmp_path / "m.npz").exists()
    assert "none of its 4 images could be used" in err and str(src / "a" / "0.png") in err
    model = tmp_path / "good.npz"
    run(capsys, "train", _class_tree(tmp_path / "good"), "-o", model, "-j", "1", "-q", "--config", lbp_config, *NET)
    code, _, err = run(capsys, "evaluate", src, "--model", model, "-o", tmp_path / "r", "-j", "1", "-q")
    assert code == 1 and "no image could be evaluated: 4 files: 0 processed, 4 failed" in err
    assert f"the first error: ImageReadError: {src / 'a' / '0.png'}" in err
    assert not (tmp_path / "r").exists()  # a failed run leaves nothing new


# --------------------------------------------------------------------------
# A new user's first hour: what the command says, and when it stops


def test_version_prints_the_library_version(capsys):
    import texture

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == f"texture {texture.__version__}\n"


def _help(capsys, verb):
    with pytest.raises(SystemExit):
        main([verb, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere


def test_train_help_states_the_real_defaults_and_score_describes_its_image(capsys):
    from pipeline.model import DEFAULT_N_NETWORKS, default_network
    from pipeline.nn import BPClassifier

    hidden = default_network(2)["hidden_layer_sizes"][0]
    for verb in ("train", "demo"):
        text = _help(capsys, verb)
        assert "(default: zscore)" in text and f"(default: {hidden}, or one per class when more)" in text
        assert f"training epochs (default: {BPClassifier().epochs})" in text
        assert f"probabilities averaged (default: {DEFAULT_N_NETWORKS})" in text
    assert "IMAGE image file to score" in _help(capsys, "score")


@pytest.fixture
def paths(tmp_path):
    """A file and a folder that exist, for the usage checks."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.csv").write_text("path\n")
    return {"file": str(tmp_path / "file.csv"), "folder": str(tmp_path / "folder")}


@pytest.mark.parametrize("argv, message", [
    (["extract", "{folder}", "-o", "feat.xlsx"], "output must end in .csv or .parquet"),
    (["predict", "{folder}", "--model", "{file}", "-o", "p.xlsx"], "output must end in .csv or .parquet"),
    (["extract", "{folder}", "-o", "{folder}"], "is a folder; give the name of the file"),
    (["train", "{folder}", "-o", "{folder}"], "is a folder; give the name of the file"),
    (["score", "{folder}", "--model", "{file}"], "is a folder, not a file"),
    (["score", "{file}", "--model", "{folder}"], "is a folder, not a file"),
    (["predict", "{folder}", "--model", "{folder}", "-o", "p.csv"], "is a folder, not a file"),
    (["evaluate", "{folder}", "--model", "{folder}", "-o", "r"], "is a folder, not a file"),
    (["evaluate", "{folder}", "--model", "{file}", "-o", "{file}"], "is a file, not a folder"),
    (["demo", "-o", "{file}"], "is a file, not a folder"),
    (["train", "{folder}", "-o", "m.npz", "--config", "{folder}"], "is a folder, not a file"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_usage_mistakes_exit_2_at_parse_time(capsys, monkeypatch, paths, argv, message):
    from pipeline import commands

    monkeypatch.setattr(commands, "VERBS", {})  # parse time: no verb may run
    with pytest.raises(SystemExit) as exc:
        main([arg.format(**paths) for arg in argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def small_model(tmp_path, capsys, lbp_config):
    """A model of brick and grass, LBP features only."""
    model = tmp_path / "small.npz"
    assert run(capsys, "train", _class_tree(tmp_path / "classes"), "-o", model, "-j", "1", "-q",
               "--config", lbp_config, *NET)[0] == 0
    return model


@pytest.mark.parametrize("verb", ["extract", "predict"])
def test_a_folder_without_images_is_an_error(tmp_path, capsys, small_model, verb):
    empty = tmp_path / "empty"
    empty.mkdir()
    model = ["--model", small_model] if verb == "predict" else []
    code, out, err = run(capsys, verb, empty, *model, "-o", tmp_path / "out.csv", "-j", "1")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert f"{empty}: no image in the folder: it is empty" in err
    (empty / "notes.txt").write_text("not an image")
    code, _, err = run(capsys, verb, empty, *model, "-o", tmp_path / "out.csv", "-j", "1")
    assert code == 1 and "its 1 files are not images" in err
    assert not (tmp_path / "out.csv").exists()


def test_summary_counts_add_up_and_name_what_was_skipped(tmp_path, capsys):
    src = _class_tree(tmp_path / "src", n=2)
    (src / "brick" / "broken.png").write_bytes(b"not an image")
    (src / "grass" / "notes.txt").write_text("not an image")
    code, out, err = run(capsys, "extract", src, "-o", tmp_path / "f.csv", "-j", "1")
    assert code == 1 and "6 files: 4 processed, 1 failed, 1 skipped (not images)" in out
    assert f"skipped (not an image): {src / 'grass' / 'notes.txt'}" in err
    code, out, err = run(capsys, "extract", src, "-o", tmp_path / "g.csv", "-j", "1", "-q")
    assert "1 skipped (not images)" in out and "notes.txt" not in err + out  # --quiet: the count only


def test_train_shows_the_progress_of_its_extraction(tmp_path, capsys, lbp_config):
    src = _class_tree(tmp_path / "src")
    code, _, err = run(capsys, "train", src, "-o", tmp_path / "m.npz", "-j", "1", "--config", lbp_config, *NET)
    # Off a terminal, progress is a line every few seconds and one at the end, as extract's.
    assert code == 0 and "train: 8/8 files" in err
    assert "train copies: 6/6 files" in err  # the training part's copies


def test_train_checks_the_labels_before_extracting(tmp_path, capsys, monkeypatch):
    from pipeline import commands

    def no_extraction(*args, **kwargs):
        raise AssertionError("features extracted before the labels were checked")

    monkeypatch.setattr(commands, "feature_matrix", no_extraction)
    one_class = _class_tree(tmp_path / "one", classes=("brick",))
    (one_class / "brick").rename(one_class / "cotton")
    code, _, err = run(capsys, "train", one_class, "-o", tmp_path / "m.npz", "-j", "1", *NET)
    assert code == 1 and "found one class, cotton; a classifier needs at least two" in err
    assert "np.str_" not in err and len(err.strip().splitlines()) == 1
    lone = _class_tree(tmp_path / "lone")
    for path in sorted((lone / "grass").iterdir())[1:]:
        path.unlink()
    code, _, err = run(capsys, "train", lone, "-o", tmp_path / "m.npz", "-j", "1", *NET)
    assert code == 1 and "class 'grass' has 1 image; need at least 2" in err and "np.str_" not in err
    assert not (tmp_path / "m.npz").exists()


def test_a_failed_evaluation_leaves_nothing_new(tmp_path, capsys, small_model):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "evaluate", empty, "--model", small_model, "-o", tmp_path / "rep2", "-j", "1")
    assert code == 1 and "no class sub-folders" in err and not (tmp_path / "rep2").exists()
    code, _, _ = run(capsys, "evaluate", empty, "--model", small_model, "-o", tmp_path / "a" / "b", "-j", "1")
    assert code == 1 and not (tmp_path / "a").exists()  # nor the parents it would have made
    # A folder that was there stays, with what it held, and only that.
    unreadable = _class_tree(tmp_path / "unreadable", n=1)
    for path in unreadable.rglob("*.png"):
        path.write_bytes(b"not an image")
    report = tmp_path / "report"
    report.mkdir()
    (report / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "evaluate", unreadable, "--model", small_model, "-o", report, "-j", "1", "-q")
    assert code == 1 and "no image could be evaluated" in err
    assert [p.name for p in report.iterdir()] == ["notes.txt"]


def test_a_run_refused_by_the_lock_removes_nothing_that_appeared_meanwhile(tmp_path, capsys, small_model, monkeypatch):
    """Another run's files, written between this run's start and its refusal, stay: a refused run adds nothing."""
    from pipeline.run.journal import Journal

    src, report = _class_tree(tmp_path / "src", n=1), tmp_path / "report"
    enter = Journal.__enter__

    def refused(journal):
        # The other run, which holds the lock, writes its files just before this run asks for the lock.
        for name in ("predictions.csv.partial.csv", "metrics.csv", "model.npz"):
            (report / name).write_text("the other run's")
        return enter(journal)

    report.mkdir()
    with Journal(report / "predictions.csv", None):  # the other run holds the output's lock
        monkeypatch.setattr(Journal, "__enter__", refused)
        code, _, err = run(capsys, "evaluate", src, "--model", small_model, "-o", report, "-j", "1", "-q")
    assert code == 1 and "another run is writing this output" in err
    assert sorted(p.name for p in report.iterdir()) == ["metrics.csv", "model.npz", "predictions.csv.partial.csv"]
    # A run that fails after writing removes its own files, and only those.
    monkeypatch.setattr(Journal, "__enter__", enter)
    unreadable = _class_tree(tmp_path / "unreadable", n=1)
    for path in unreadable.rglob("*.png"):
        path.write_bytes(b"not an image")
    (report / "predictions.csv.partial.csv").unlink()  # the other run's journal: this run would resume it
    code, _, err = run(capsys, "evaluate", unreadable, "--model", small_model, "-o", report, "-j", "1", "-q")
    assert code == 1 and "no image could be evaluated" in err
    assert sorted(p.name for p in report.iterdir()) == ["metrics.csv", "model.npz"]


def test_terminal_messages_escape_the_control_characters_of_names_and_files_keep_them(tmp_path, capsys, small_model):
    """A name holding a carriage return, a newline or an escape sequence must not overwrite or split a line."""
    import shutil

    brick = sorted((sample_root() / "textures" / "brick").glob("*.png"))
    src = tmp_path / "src"
    odd = src / "we\rave\x1b[2J"  # a class the model does not know
    odd.mkdir(parents=True)
    for k, path in enumerate(brick[:2]):
        shutil.copy(path, odd / f"{k}\r.png")
    (odd / "bad\nname.png").write_text("not an image")
    code, out, err = run(capsys, "evaluate", src, "--model", small_model, "-o", tmp_path / "r", "-j", "1")
    assert code == 1
    for text in (out, err):
        assert not {"\r", "\x1b"} & set(text)
    assert "failed: ImageReadError: " + str(odd).replace("\r", "\\r").replace("\x1b", "\\x1b") + "/bad\\nname.png" in err
    assert "counted as errors: we\\rave\\x1b[2J (2)" in err
    # The output files keep the exact names.
    with open(tmp_path / "r" / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(row["path"] for row in rows) == sorted(str(p) for p in odd.iterdir())
    assert {row["label"] for row in rows} == {"we\rave\x1b[2J"}
    # Errors, and warnings (a grey image in colour mode names its file), through the command itself.
    grey = tmp_path / "grey" / "g\r\x1b[31m.png"
    grey.parent.mkdir()
    shutil.copy(brick[0], grey)
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", str(tmp_path / "grey"), "-o", str(tmp_path / "g.csv"),
                           "--colour", "opponent", "-j", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "grey image in colour mode" in done.stderr
    assert not {"\r", "\x1b"} & set(done.stdout + done.stderr)
    assert "g\\r\\x1b[31m.png" in done.stderr
    with pytest.raises(SystemExit, match="2"):  # a usage error
        run(capsys, "score", tmp_path / "no\rsuch\n.png", "--model", small_model)
    err = capsys.readouterr().err
    assert "no\\rsuch\\n.png: no such file" in err and len(err.splitlines()) == 1 and "\r" not in err
    (tmp_path / "m\r\x1b[31m.npz").write_text("not a model")
    code, _, err = run(capsys, "score", grey, "--model", tmp_path / "m\r\x1b[31m.npz")  # an error of the run
    assert code == 1 and "m\\r\\x1b[31m.npz: not a texture model" in err and not {"\r", "\x1b"} & set(err)


def test_evaluate_warns_about_labels_the_model_does_not_know(tmp_path, capsys, small_model):
    src = _class_tree(tmp_path / "src", n=2, classes=("brick", "waves", "weave"))
    code, out, err = run(capsys, "evaluate", src, "--model", small_model, "-o", tmp_path / "r", "-j", "1", "-q")
    assert code == 0 and "on 6 images" in out
    assert ("warning: 4 of 6 images have labels the model was not trained on, counted as errors: "
            "waves (2), weave (2); its classes are brick, grass") in err


def test_a_file_that_is_not_a_model_is_named_so_without_mentioning_pickles(tmp_path, capsys, subset):
    image = next((sample_root() / "textures" / "brick").glob("*.png"))
    for name, verb in [("list.csv", ["score", image]), ("image.png", ["predict", subset, "-o", tmp_path / "p.csv"]),
                       ("array.npy", ["evaluate", subset, "-o", tmp_path / "r"])]:
        not_a_model = tmp_path / name
        if name == "array.npy":
            np.save(not_a_model, np.arange(3))
        else:
            not_a_model.write_bytes(subset.read_bytes() if name == "list.csv" else image.read_bytes())
        code, _, err = run(capsys, *verb, "--model", not_a_model, "-j" if verb[0] != "score" else "-q",
                           *(["1"] if verb[0] != "score" else []))
        assert code == 1 and f"{not_a_model}: not a texture model file" in err, name
        assert "pickle" not in err.lower(), name


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that stores names as raw bytes")
def test_names_that_are_not_utf8_are_written_escaped_and_read_back(tmp_path, capsys, monkeypatch):
    import pandas as pd

    src = tmp_path / "src"
    image = next((sample_root() / "textures" / "brick").glob("*.png")).read_bytes()
    for name in (b"a.png", b"bad_\xff.png", b"caf\xe9/b.png"):
        path = os.path.join(os.fsencode(src), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(image)
    code, out, _ = run(capsys, "extract", src, "-o", tmp_path / "out.csv", "-j", "1", "-q")
    assert code == 0 and "3 processed, 0 failed" in out
    table = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)  # was: UnicodeDecodeError
    assert table["path"].tolist() == [f"{src}/a.png", f"{src}/bad_\\xff.png", f"{src}/caf\\xe9/b.png"]
    assert table["label"].tolist() == ["", "", "caf\\xe9"]
    # The output, given as a list of inputs, names the same files.
    code, out, _ = run(capsys, "extract", tmp_path / "out.csv", "-o", tmp_path / "again.csv", "-j", "1", "-q")
    assert code == 0 and "3 processed, 0 failed" in out
    again = pd.read_csv(tmp_path / "again.csv", keep_default_na=False)
    assert again["path"].tolist() == table["path"].tolist()
    assert again.iloc[:, 5:].equals(table.iloc[:, 5:])
    # An interrupted run resumes past those names, to the same bytes.
    _interrupt_third_chunk(monkeypatch, chunk_size=1)
    assert run(capsys, "extract", src, "-o", tmp_path / "resumed.csv", "-j", "1", "-q")[0] == 130
    code, out, _ = run(capsys, "extract", src, "-o", tmp_path / "resumed.csv", "-j", "1", "-q")
    assert code == 0 and "2 rows reused" in out
    assert (tmp_path / "resumed.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that stores names as raw bytes")
def test_evaluate_reports_names_that_are_not_utf8_and_shows_their_images(tmp_path, capsys, small_model):
    src = tmp_path / "src"
    brick, grass = (next((sample_root() / "textures" / label).glob("*.png")).read_bytes()
                    for label in ("brick", "grass"))
    for name, data in ((b"caf\xe9/bad_\xff.png", brick), (b"grass/g.png", grass)):
        path = os.path.join(os.fsencode(src), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    code, _, err = run(capsys, "evaluate", src, "--model", small_model, "-o", tmp_path / "r", "-j", "1", "-q")
    assert code == 0 and "caf\\xe9 (1)" in err  # a label the model does not know: a mistake, shown
    for name in ("predictions.csv", "metrics.csv", "confusion_matrix.csv", "report.html"):
        text = (tmp_path / "r" / name).read_text(encoding="utf-8")  # strict
        assert "caf\\xe9" in text, name
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "bad_\\xff.png" in page and "image not readable now" not in page


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_every_output_honours_the_umask(tmp_path, capsys, subset, umask_022):
    """Reports on shared storage must be readable by colleagues: -rw-r--r-- under umask 022."""
    pytest.importorskip("pyarrow")
    out = tmp_path / "out"
    common = ["-j", "1", "-q", "--cache", out / "cache"]
    assert run(capsys, "extract", subset, "-o", out / "features.csv", *common)[0] == 0
    assert run(capsys, "extract", subset, "-o", out / "features.parquet", *common)[0] == 0
    assert run(capsys, "train", subset, "-o", out / "model.npz", *common, *NET)[0] == 0
    model = ["--model", out / "model.npz"]
    assert run(capsys, "predict", subset, *model, "-o", out / "predictions.csv", *common)[0] == 0
    assert run(capsys, "predict", subset, *model, "-o", out / "predictions.parquet", *common)[0] == 0
    assert run(capsys, "evaluate", subset, *model, "-o", out / "report", *common)[0] == 0
    files = [path for path in out.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"features.csv", "features.parquet", "model.npz", "predictions.csv", "predictions.parquet",
            "metrics.csv", "confusion_matrix.csv", "confusion_matrix.png", "training_curves.png",
            "report.html"} <= names and any(path.suffix == ".npy" for path in files)  # the cache
    modes = {str(path.relative_to(out)): oct(path.stat().st_mode & 0o777) for path in files}
    assert set(modes.values()) == {"0o644"}, modes
    folders = {str(path.relative_to(out)): oct(path.stat().st_mode & 0o777) for path in out.rglob("*") if path.is_dir()}
    assert set(folders.values()) == {"0o755"}, folders


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that stores names as raw bytes")
def test_score_and_the_skipped_lines_name_files_as_the_outputs_do(tmp_path, capsys, small_model):
    image = os.path.join(os.fsencode(tmp_path), b"bark_\xff.png")
    with open(image, "wb") as f:
        f.write(next((sample_root() / "textures" / "brick").glob("*.png")).read_bytes())
    with open(os.path.join(os.fsencode(tmp_path), b"notes_\xfe.txt"), "w") as f:
        f.write("not an image")
    code, out, _ = run(capsys, "score", os.fsdecode(image), "--model", small_model, "--json")
    assert code == 0 and json.loads(out)["path"] == f"{tmp_path}/bark_\\xff.png"
    code, out, _ = run(capsys, "score", os.fsdecode(image), "--model", small_model)
    assert code == 0 and out.startswith(f"{tmp_path}/bark_\\xff.png: ")
    code, _, err = run(capsys, "extract", tmp_path, "-o", tmp_path / "out" / "f.csv", "-j", "1")
    assert f"skipped (not an image): {tmp_path}/notes_\\xfe.txt" in err


def test_colour_option_extracts_trains_and_records_opponent_features(tmp_path, capsys, lbp_config):
    import cv2

    from pipeline import TextureModel
    from texture import FeatureConfig, FeatureExtractor

    rng = np.random.default_rng(0)
    for label, plane in (("red", 2), ("blue", 0)):  # OpenCV writes BGR
        (tmp_path / "tree" / label).mkdir(parents=True)
        for k in range(4):
            image = (rng.random((40, 40, 3)) * 120).astype(np.uint8)
            image[..., plane] += 120
            cv2.imwrite(str(tmp_path / "tree" / label / f"{k}.png"), image)
    code, _, _ = run(capsys, "extract", tmp_path / "tree", "-o", tmp_path / "f.csv", "-j", "1", "-q",
                     "--colour", "opponent")
    with open(tmp_path / "f.csv", newline="") as f:
        header = next(csv.reader(f))
    assert code == 0 and header[-len(FeatureExtractor(FeatureConfig(colour="opponent")).names):] \
        == FeatureExtractor(FeatureConfig(colour="opponent")).names
    # --colour overrides the mode of --config and keeps its other settings.
    code, _, _ = run(capsys, "train", tmp_path / "tree", "-o", tmp_path / "m.npz", "-j", "1", "-q",
                     "--config", lbp_config, "--colour", "opponent", "--no-augment", *NET)
    assert code == 0
    assert TextureModel.load(tmp_path / "m.npz").feature_config_ == FeatureConfig(families=("lbp",), colour="opponent")


@pytest.fixture(scope="module")
def masked_scene(tmp_path_factory):
    """A two-texture scene (brick | grass), a mask over its brick half, and a small LBP model file."""
    import cv2

    from pipeline import BPClassifier
    from texture import FeatureConfig

    tmp = tmp_path_factory.mktemp("masked")
    root = sample_root() / "textures"
    brick, grass = (cv2.imread(str(sorted((root / label).glob("*.png"))[0]), cv2.IMREAD_GRAYSCALE)
                    for label in ("brick", "grass"))
    cv2.imwrite(str(tmp / "scene.png"), np.hstack([brick, grass]))
    mask = np.zeros((brick.shape[0], 2 * brick.shape[1]), np.uint8)
    mask[10:-10, 10 : brick.shape[1] - 10] = 255
    cv2.imwrite(str(tmp / "scene_mask.png"), mask)
    images = [p for label in ("brick", "grass") for p in sorted((root / label).glob("*.png"))[:6]]
    model = TextureModel(FeatureConfig(families=("lbp",)), augment=False,
                         estimator=BPClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=0))
    model.fit(images, ["brick"] * 6 + ["grass"] * 6)
    model.save(tmp / "model.npz")
    return tmp, model


def test_score_a_masked_region(capsys, masked_scene):
    tmp, model = masked_scene
    code, out, _ = run(capsys, "score", tmp / "scene.png", "--model", tmp / "model.npz",
                       "--mask", tmp / "scene_mask.png", "--json")
    score = json.loads(out)
    expected = model.score_image(tmp / "scene.png", mask=tmp / "scene_mask.png")
    assert code == 0 and score["mask"] == str(tmp / "scene_mask.png") and score["label"] == expected.label
    assert score["probabilities"] == pytest.approx(expected.probabilities)
    whole = model.score_image(tmp / "scene.png")
    assert whole.probabilities != pytest.approx(expected.probabilities)

    code, _, err = run(capsys, "score", tmp / "scene.png", "--model", tmp / "model.npz", "--mask", tmp / "none.png")
    assert code == 1 and f"{tmp / 'none.png'}: cannot read the mask: no such file" in err


@pytest.fixture(scope="module")
def masked_tree(tmp_path_factory):
    """brick and grass images (6 each) in a class tree, their masks mirrored in another tree and beside them."""
    import cv2

    tmp = tmp_path_factory.mktemp("masked_tree")
    for label in ("brick", "grass"):
        for k, path in enumerate(sorted((sample_root() / "textures" / label).glob("*.png"))[:6]):
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            region = np.zeros_like(image)
            region[6 + k : -6, 10:-10 - k] = 255
            for folder in (tmp / "src" / label, tmp / "masks" / label):
                folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(tmp / "src" / label / path.name), image)
            cv2.imwrite(str(tmp / "masks" / label / f"{path.stem}.bmp"), region)
            cv2.imwrite(str(tmp / "src" / label / f"{path.stem}_roi.png"), region)
    return tmp


def test_train_predict_and_evaluate_with_masks(tmp_path, capsys, masked_tree, lbp_config):
    from texture import FeatureConfig, FeatureExtractor, read_image

    src, masks = masked_tree / "src", masked_tree / "masks"
    model = tmp_path / "masked.npz"
    code, out, _ = run(capsys, "train", src, "--mask-suffix", "_roi", "-o", model, "-j", "1", "-q",
                       "--config", lbp_config, *NET)
    assert code == 0 and "12 files: 8 trained on, 4 held out, 0 failed, 0 skipped" in out
    assert TextureModel.load(model).trained_with_masks_

    # With the mirrored masks, the *_roi.png files are inputs too: each gets an error row naming its missing mask.
    code, _, err = run(capsys, "predict", src, "--masks", masks, "--model", model, "-o", tmp_path / "p.csv",
                       "-j", "1", "-q")
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert code == 1 and len(rows) == 24 and "warning" not in err
    failed = [row for row in rows if row["status"] == "error"]
    assert [Path(row["path"]).stem.endswith("_roi") for row in rows].count(True) == len(failed) == 12
    assert all(f"{masks}/" in row["error"] and "_roi.*: cannot read the mask: no such file" in row["error"]
               for row in failed)
    loaded, first = TextureModel.load(model), Path(rows[0]["path"])
    mask = masks / first.parent.name / f"{first.stem}.bmp"
    expected = loaded.score_features(FeatureExtractor(FeatureConfig(families=("lbp",))).transform(
        read_image(first), mask=mask)[None])[0]
    assert rows[0]["predicted"] == expected.label and float(rows[0]["confidence"]) == pytest.approx(expected.confidence)

    # Without masks: it still predicts, and says once that the model was trained on regions.
    code, _, err = run(capsys, "predict", src, "--model", model, "-o", tmp_path / "whole.csv", "-j", "1", "-q")
    assert code == 0 and err.count("trained on masked regions") == 1 and "24 of 24 images have no mask" in err

    code, _, err = run(capsys, "evaluate", src, "--mask-suffix", "_roi", "--model", model,
                       "-o", tmp_path / "report", "-j", "1", "-q")
    predictions = list(csv.DictReader(open(tmp_path / "report" / "predictions.csv")))
    assert code == 0 and len(predictions) == 12 and "warning" not in err


def test_mask_options_are_one_way_and_need_a_folder(tmp_path, capsys, masked_tree):
    with pytest.raises(SystemExit) as exit_:
        main(["extract", str(masked_tree / "src"), "--masks", str(masked_tree / "masks"), "--mask-suffix", "_roi",
              "-o", str(tmp_path / "o.csv")])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["extract", str(masked_tree / "src"), "--masks", str(tmp_path / "nowhere"), "-o", str(tmp_path / "o.csv")])
    assert "no such file or folder" in capsys.readouterr().err


def test_demo_with_colour_records_the_mode_and_says_grey_images_once(tmp_path, capsys, monkeypatch):
    """``demo --colour opponent`` on a small grey stand-in for the bundled sample (two trainings, in this process)."""
    import cv2

    import pipeline.commands
    from pipeline import TextureModel
    from texture import FeatureConfig

    root, rng = tmp_path / "sample", np.random.default_rng(0)
    rows = ["path,label"]
    for label, contrast in (("light", 250), ("dark", 100)):
        (root / "textures" / label).mkdir(parents=True)
        for k in range(4):
            cv2.imwrite(str(root / "textures" / label / f"{k}.png"), (rng.random((40, 40)) * contrast).astype(np.uint8))
    (root / "grades").mkdir()
    for k in range(8):
        cv2.imwrite(str(root / "grades" / f"{k}.png"), (rng.random((40, 40)) * 30 * (k + 1)).astype(np.uint8))
        rows.append(f"grades/{k}.png,{k % 4 + 1}")
    (root / "roughness.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(pipeline.commands, "sample_root", lambda: root)
    code, _, err = run(capsys, "demo", "-o", tmp_path / "demo", "-q", "-j", "1", "--colour", "opponent", *NET)
    assert code == 0, err
    for name in ("model.npz", "roughness_model.npz"):
        assert TextureModel.load(tmp_path / "demo" / name).feature_config_ == FeatureConfig(colour="opponent")
    # Both trainings (each over the images and their copies) and the example scored: one line for 16 images.
    assert [line for line in err.splitlines() if "grey image" in line] == [
        f"texture demo: warning: 16 grey images read in colour mode (first: {root / 'textures' / 'dark' / '0.png'}): "
        "chroma features are constant (those of flat chroma, the same for every grey image)"]
