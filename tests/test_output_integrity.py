"""Faults that would corrupt or lose a batch run's output: odd names, concurrent runs, resumes, caches."""

import csv
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skimage.io import imsave

from interrupt import InterruptedAt
from pipeline.batch import ExtractTask, list_inputs, run_batch
from pipeline.run.engines.serial import SerialEngine
from texture import FeatureConfig

CONFIG = FeatureConfig(families=("glcm",), glcm_distances=(1,), glcm_angles=(0,), glcm_levels=8)
PIXELS = (np.random.default_rng(0).random((16, 16)) * 255).astype(np.uint8)

# Any name a POSIX file system takes: no "/" nor NUL, not hidden (a leading
# "." hides a file from folder discovery), at most 255 bytes.  Surrogates
# (names that are not UTF-8) are not drawn here.
_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=30)
_PATHOLOGICAL = st.sampled_from(["a\rb", "a\nb", "a\r\nb", '"', 'a"b,c', "a,b", " lead", "trail ", "\r", "\t"])
NAMES = st.one_of(_PATHOLOGICAL, _NAME).filter(lambda n: not n.startswith(".") and len(n.encode()) <= 240)


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(folder=NAMES, names=st.lists(NAMES, min_size=1, max_size=3, unique=True), bad=st.booleans())
def test_any_file_name_survives_every_output_format(tmp_path_factory, folder, names, bad):
    root = tmp_path_factory.mktemp("names")
    (root / folder).mkdir()
    for k, name in enumerate(names):
        if bad and k == 0:  # an error row, whose message holds the name too
            (root / folder / f"{name}.png").write_bytes(b"not a png")
        else:
            imsave(root / folder / f"{name}.png", PIXELS, check_contrast=False)
    items, _ = list_inputs(root)
    assert len(items) == len(names)
    expected = [(item.path, folder) for item in items]
    for suffix in (".csv", ".parquet"):
        out = root / f"out{suffix}"
        summary = run_batch(ExtractTask(CONFIG), root, out, engine=SerialEngine(), quiet=True)
        assert summary.processed + summary.failed == len(names)
        if suffix == ".csv":
            header, *rows = _csv_rows(out)
            assert all(len(row) == len(header) for row in rows)
            assert [(row[0], row[1]) for row in rows] == expected
            table = pd.read_csv(out, dtype=str, keep_default_na=False)
        else:
            table = pd.read_parquet(out)
        assert list(zip(table["path"], table["label"])) == expected
        assert set(table["status"]) <= {"ok", "error"}
        errors = table[table["status"] == "error"]
        assert len(errors) == int(bad) and all(path in error for path, error in zip(errors["path"], errors["error"]))


def _images(folder, n=6, side=16):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for k in range(n):
        imsave(folder / f"img{k}.png", (rng.random((side, side)) * 255).astype(np.uint8), check_contrast=False)
    return folder


# Concurrent runs into one output.

def test_a_second_run_into_the_same_output_refuses_and_touches_nothing(tmp_path):
    from pipeline.run.journal import Journal
    from texture.errors import ConfigError

    src, out = _images(tmp_path / "src"), tmp_path / "out.csv"
    out.write_text("the previous output\n")
    before = set(tmp_path.iterdir())
    with Journal(out, ExtractTask(CONFIG)):  # a run is writing `out`
        with pytest.raises(ConfigError, match="another run is writing this output"):
            run_batch(ExtractTask(CONFIG), src, out, engine=SerialEngine(), quiet=True)
        assert set(tmp_path.iterdir()) == before | {tmp_path / "out.csv.lock"}
        assert out.read_text() == "the previous output\n"
    assert set(tmp_path.iterdir()) == before  # the run that held it removed its lock
    run_batch(ExtractTask(CONFIG), src, out, engine=SerialEngine(), quiet=True)
    assert len(_csv_rows(out)) == 7


def test_the_lock_of_a_killed_run_does_not_block_the_next(tmp_path):
    import signal
    import subprocess
    import sys

    from pipeline.cli import main

    src, out = _images(tmp_path / "src"), tmp_path / "out.csv"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib; from pipeline.run.journal import Journal; "
         "from pipeline.batch import ExtractTask; j = Journal(pathlib.Path(sys.argv[1]), ExtractTask()); "
         "j.__enter__(); print('locked', flush=True); sys.stdin.read()", str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        assert main(["extract", str(src), "-o", str(out), "-j", "1", "-q"]) == 1
        assert not out.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / "out.csv.lock").exists()  # left behind by the killed run, but not held
    assert main(["extract", str(src), "-o", str(out), "-j", "1", "-q"]) == 0
    assert len(_csv_rows(out)) == 7


# Resume with other settings.

@pytest.mark.parametrize("before, after, changed", [
    ({"max_pixels": 100}, {}, "max_pixels: 100 -> null"),
    ({}, {"config": FeatureConfig(families=("glcm",), glcm_distances=(2,), glcm_angles=(0,), glcm_levels=8)},
     "config"),
])
def test_a_resume_with_settings_that_change_rows_starts_afresh_and_says_so(tmp_path, capsys, before, after,
                                                                          changed):
    src, out = _images(tmp_path / "src"), tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(ExtractTask(**{"config": CONFIG, **before}), src, out, engine=InterruptedAt(1),
                  chunk_size=2, quiet=True)
    assert (tmp_path / "out.csv.partial.csv").exists()
    capsys.readouterr()
    summary = run_batch(ExtractTask(**{"config": CONFIG, **after}), src, out, engine=SerialEngine(), chunk_size=2)
    err = capsys.readouterr().err
    assert summary.resumed == 0 and "starting afresh" in err and changed in err
    run_batch(ExtractTask(**{"config": CONFIG, **after}), src, tmp_path / "fresh.csv", engine=SerialEngine(),
              quiet=True)
    assert out.read_bytes() == (tmp_path / "fresh.csv").read_bytes()


def _as_other_code(monkeypatch):
    """Make the installed feature code compute other values (as an edited checkout or a fix would)."""
    from pipeline.run import tasks
    from texture import glcm

    properties = glcm.glcm_properties_from_moments  # what the extractor and the maps both call
    monkeypatch.setattr(glcm, "glcm_properties_from_moments", lambda *a, **k: properties(*a, **k) + 1.0)
    tasks._values_fingerprint.cache_clear()
    return tasks._values_fingerprint.cache_clear  # to call before the patch is undone


def test_code_that_computes_other_values_neither_reads_old_cache_entries_nor_resumes_old_journals(
        tmp_path, capsys, monkeypatch):
    src, cache, out = _images(tmp_path / "src"), tmp_path / "cache", tmp_path / "out.csv"
    run_batch(ExtractTask(CONFIG, cache_dir=cache), src, tmp_path / "old.csv", engine=SerialEngine(), quiet=True)
    with pytest.raises(KeyboardInterrupt):
        run_batch(ExtractTask(CONFIG), src, out, engine=InterruptedAt(1), chunk_size=2, quiet=True)
    forget = _as_other_code(monkeypatch)
    try:
        capsys.readouterr()
        summary = run_batch(ExtractTask(CONFIG, cache_dir=cache), src, out, engine=SerialEngine(), chunk_size=2)
        assert summary.resumed == 0 and "starting afresh" in capsys.readouterr().err
        run_batch(ExtractTask(CONFIG), src, tmp_path / "fresh.csv", engine=SerialEngine(), quiet=True)
        # Every row is the new code's: none came from the old journal or the old cache entries.
        assert out.read_bytes() == (tmp_path / "fresh.csv").read_bytes() != (tmp_path / "old.csv").read_bytes()
    finally:
        forget()


def test_a_resume_with_the_same_settings_reuses_the_rows(tmp_path):
    src, out = _images(tmp_path / "src"), tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(ExtractTask(CONFIG, max_pixels=10**6), src, out, engine=InterruptedAt(1),
                  chunk_size=2, quiet=True)
    summary = run_batch(ExtractTask(CONFIG, max_pixels=10**6), src, out, engine=SerialEngine(), quiet=True)
    assert summary.resumed == 2 and summary.processed == 6


# The feature cache.

def test_the_pixel_limit_applies_to_cached_images(tmp_path):
    src, cache = _images(tmp_path / "src", n=3), tmp_path / "cache"
    assert run_batch(ExtractTask(CONFIG, cache_dir=cache), src, tmp_path / "a.csv", engine=SerialEngine(),
                     quiet=True).processed == 3
    summary = run_batch(ExtractTask(CONFIG, cache_dir=cache, max_pixels=100), src, tmp_path / "b.csv",
                        engine=SerialEngine(), quiet=True)
    assert (summary.processed, summary.failed) == (0, 3)
    assert all("ImageTooLargeError" in error for error in summary.errors)


def _damage(kind, entry, size):
    if kind == "short vector":
        np.save(entry, np.arange(3.0))
    elif kind == "NaN vector":
        np.save(entry, np.full(size, np.nan))
    elif kind == "integers":
        np.save(entry, np.arange(size))
    elif kind == "truncated":
        entry.write_bytes(entry.read_bytes()[:60])
    elif kind == "empty":
        entry.write_bytes(b"")
    elif kind == "not an array":
        entry.write_bytes(b"hello")



@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_class_names_survive_the_prediction_header(tmp_path, suffix):
    # A model's classes name its proba_<class> columns: the header holds user text too.
    from pipeline.batch import PredictTask
    from pipeline.model import TextureModel
    from pipeline.nn import BPClassifier

    classes = ["a\rb", 'x,"y', "n\nl"]
    features = np.random.default_rng(0).random((6, len(ExtractTask(CONFIG).columns)))
    model = TextureModel(feature_config=CONFIG, estimator=BPClassifier(hidden_layer_sizes=(4,), epochs=2,
                                                                       random_state=0))
    model.fit_features(features, classes * 2)
    src = _images(tmp_path / "src", n=2)
    out = tmp_path / f"out{suffix}"
    summary = run_batch(PredictTask(model), src, out, engine=SerialEngine(), quiet=True)
    assert summary.processed == 2
    if suffix == ".csv":
        header, *rows = _csv_rows(out)
        assert all(len(row) == len(header) for row in rows) and len(rows) == 2
        table = pd.read_csv(out, dtype=str, keep_default_na=False)
    else:
        table = pd.read_parquet(out)
    assert [f"proba_{name}" for name in sorted(classes)] == [c for c in table.columns if c.startswith("proba_")]
    assert len(table) == 2 and set(table["predicted"]) <= set(classes)

@pytest.mark.parametrize("kind", ["short vector", "NaN vector", "integers", "truncated", "empty", "not an array"])
def test_a_damaged_cache_entry_is_recomputed_never_served(tmp_path, kind):
    src, cache = _images(tmp_path / "src", n=2), tmp_path / "cache"
    task = ExtractTask(CONFIG, cache_dir=cache)
    run_batch(task, src, tmp_path / "reference.csv", engine=SerialEngine(), quiet=True)
    entries = sorted(cache.rglob("*.npy"))
    assert len(entries) == 2
    for entry in entries:
        _damage(kind, entry, len(task.columns))
    summary = run_batch(task, src, tmp_path / "out.csv", engine=SerialEngine(), quiet=True)
    assert summary.processed == 2
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "reference.csv").read_bytes()
    for entry in entries:  # rewritten whole
        assert np.load(entry).shape == (len(task.columns),)


# Signals: a stopped run keeps its rows; a killed one leaves no process behind.

def _session_processes(sid):
    """Processes of session `sid` still running (zombies, already ended, left out)."""
    import os
    from pathlib import Path

    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[3]) == sid:  # state, ..., session
                found.append(int(proc.name))
    return [pid for pid in found if pid != os.getpid()]


@pytest.mark.slow
@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129), ("SIGKILL", -9)])
def test_a_run_stopped_by_a_signal_leaves_no_process_and_keeps_its_rows(tmp_path, signame, status):
    import signal
    import subprocess
    import sys
    import time

    from pipeline.sample import sample_root

    paths = sorted(str(p) for p in (sample_root() / "textures").rglob("*.png"))
    listing = tmp_path / "list.csv"
    listing.write_text("path\n" + "\n".join(paths * 40) + "\n")
    out = tmp_path / "out.csv"
    command = [sys.executable, "-m", "pipeline.cli", "extract", str(listing), "-o", str(out), "-j", "2", "-q"]
    run = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=tmp_path)
    partial = tmp_path / "out.csv.partial.csv"
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.read_bytes().count(b"\n") > 20):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.2)
    run.send_signal(getattr(signal, signame))
    # Returns only once every process holding the caller's pipes (workers, their server) has ended.
    _, err = run.communicate(timeout=30)
    assert run.returncode == status
    deadline = time.monotonic() + 10
    while _session_processes(run.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session_processes(run.pid) == []
    if signame != "SIGKILL":
        assert b"interrupted; run the same command again to resume" in err
    assert partial.exists() and not out.exists()


# Folders that cannot be listed.

def test_a_folder_that_cannot_be_listed_gets_an_error_row(tmp_path, monkeypatch):
    import os

    src = tmp_path / "src"
    _images(src / "open", n=2)
    _images(src / "locked", n=2)
    real_scandir = os.scandir

    def scandir(path="."):
        # As chmod 000 would, for anyone but root (these tests may run as root).
        if os.fspath(path) == str(src / "locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary = run_batch(ExtractTask(CONFIG), src, tmp_path / "out.csv", engine=SerialEngine(), quiet=True)
    header, *rows = _csv_rows(tmp_path / "out.csv")
    assert [(row[0], row[1], row[3]) for row in rows] == [
        (str(src / "locked"), "locked", "error"),
        (str(src / "open" / "img0.png"), "open", "ok"), (str(src / "open" / "img1.png"), "open", "ok")]
    assert "Permission denied" in rows[0][4] and str(src / "locked") in rows[0][4]
    assert (summary.processed, summary.failed) == (2, 1)


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # the picture has no glyph for "\r": not what is tested
def test_labels_with_carriage_returns_survive_the_report_tables(tmp_path):
    from types import SimpleNamespace

    from pipeline.commands import _write_report

    classes = ["a\rb", "plain", "x,\r\ny"]
    y_true = ["a\rb", "plain", "x,\r\ny", "plain"]
    y_pred = ["a\rb", "x,\r\ny", "x,\r\ny", "plain"]
    files = _write_report(classes, {}, y_true, y_pred, tmp_path, SimpleNamespace(quiet=True))
    for name in ("metrics", "confusion matrix"):
        table = pd.read_csv(files[name], index_col=0, keep_default_na=False)
        assert set(classes) <= set(table.index), name
    matrix = pd.read_csv(files["confusion matrix"], index_col=0)
    assert list(matrix.columns) == classes and matrix.loc["plain", "x,\r\ny"] == 1
