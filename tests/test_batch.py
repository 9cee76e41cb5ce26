"""Tests for pipeline/batch.py and pipeline/run/: listing, engines, journal/resume, cache."""

import csv
import hashlib
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline import batch
from pipeline.batch import (
    ExtractTask,
    Item,
    Task,
    TrainingCopiesTask,
    list_inputs,
    make_engine,
    run_batch,
)
from pipeline.run.cache import FeatureCache
from pipeline.run.engines.processes import ProcessEngine
from pipeline.run.engines.serial import SerialEngine
from pipeline.augment import copy_features, training_copies
from pipeline.sample import sample_root
from texture import FeatureConfig, FeatureExtractor, read_image
from texture.errors import ConfigError, DatasetError, ImageReadError


class ByteStats(Task):
    """Stand-in task: a few numbers per file from its raw bytes; no image decoding.

    Files whose content starts with b"bad" raise, like an undecodable image.
    """

    columns = ["size", "mean", "first"]

    def signature(self):
        return "bytestats-1"

    def compute(self, items):
        out = []
        for item in items:
            try:
                data = Path(item.path).read_bytes()
            except OSError as exc:
                out.append(ImageReadError(str(exc.strerror), path=item.path))
                continue
            if data.startswith(b"bad"):
                out.append(ImageReadError("not an image", path=item.path))
            else:
                arr = np.frombuffer(data, dtype=np.uint8)
                out.append([len(data), arr.mean() / 7 if len(data) else 0.0, int(arr[0]) if len(data) else 0])
        return out


def make_tree(root: Path, n=30, bad=()):
    for i in range(n):
        cls = f"class{i % 3}"
        (root / cls).mkdir(parents=True, exist_ok=True)
        data = b"bad" if i in bad else bytes(np.random.default_rng(i).integers(0, 256, 50 + i, dtype=np.uint8))
        (root / cls / f"img{i:03d}.png").write_bytes(data)
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.png").write_bytes(b"x")
    return root


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_list_folder_is_sorted_recursive_and_labels_by_top_folder(tmp_path):
    root = make_tree(tmp_path / "src", n=6)
    (root / "class0" / "deeper").mkdir()
    (root / "class0" / "deeper" / "x.TIF").write_bytes(b"1")
    (root / "loose.jpg").write_bytes(b"1")
    items, skipped = list_inputs(root)
    paths = [item.path for item in items]
    assert paths == sorted(paths) and len(items) == 8
    labels = {Path(item.path).name: item.label for item in items}
    assert labels["x.TIF"] == "class0" and labels["loose.jpg"] == "" and labels["img001.png"] == "class1"
    assert skipped == [str(root / ".hidden.png"), str(root / "notes.txt")]  # named, sorted


def test_list_labelled_folder_needs_class_folders(tmp_path):
    root = make_tree(tmp_path / "src", n=6)
    items, _ = list_inputs(root, labelled=True)
    assert {item.label for item in items} == {"class0", "class1", "class2"} and len(items) == 6
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"1")
    with pytest.raises(DatasetError, match="class sub-folders"):
        list_inputs(tmp_path / "flat", labelled=True)


def test_list_csv_resolves_relative_paths(tmp_path):
    (tmp_path / "a.png").write_bytes(b"1")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(b"1")
    (tmp_path / "list.csv").write_text(f"path,label,group\na.png,rough,g1\n{tmp_path / 'sub' / 'b.png'},2,\n")
    items, skipped = list_inputs(tmp_path / "list.csv")
    assert items == [Item(str(tmp_path / "a.png"), "rough", "g1"), Item(str(tmp_path / "sub" / "b.png"), "2", "")]
    assert skipped == []
    (tmp_path / "paths.csv").write_text("path\na.png\n")
    assert list_inputs(tmp_path / "paths.csv")[0] == [Item(str(tmp_path / "a.png"))]
    with pytest.raises(DatasetError, match="label"):
        list_inputs(tmp_path / "paths.csv", labelled=True)
    with pytest.raises(ConfigError, match="no such"):
        list_inputs(tmp_path / "missing")


class ThreadEnvironment(Task):
    """Stand-in task: the numeric libraries' thread-count variables in the worker."""

    columns = ["threads"]

    def signature(self):
        return "threads-1"

    def compute(self, items):
        return [[os.environ.get("OPENBLAS_NUM_THREADS")] for _ in items]


@pytest.mark.parametrize("start_methods", [["fork", "spawn", "forkserver"], ["spawn"]], ids=["posix", "windows"])
def test_workers_run_single_threaded_numeric_libraries(tmp_path, monkeypatch, start_methods):
    # Without a fork server (Windows) the workers are spawned: they must get the variables too.
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: start_methods)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    root = make_tree(tmp_path / "src", n=4)
    run_batch(ThreadEnvironment(), root, tmp_path / "out.csv", engine=ProcessEngine(2), chunk_size=1, quiet=True)
    assert [row[5] for row in read_rows(tmp_path / "out.csv")[1:]] == ["1"] * 4
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # only the workers' environment


def test_make_engine_runs_one_job_in_process():
    assert isinstance(make_engine(1), SerialEngine) and isinstance(make_engine(2), ProcessEngine)
    with pytest.raises(ConfigError):
        make_engine(0)


def test_every_input_accounted_for(tmp_path):
    root = make_tree(tmp_path / "src", n=20, bad=(3, 7))
    (root / "class2" / "empty.png").write_bytes(b"")
    unreadable = root / "class1" / "locked.png"
    unreadable.write_bytes(b"abc")
    unreadable.chmod(0)
    try:
        summary = run_batch(ByteStats(), root, tmp_path / "out.csv", jobs=1, quiet=True)
    finally:
        unreadable.chmod(0o644)
    rows = read_rows(tmp_path / "out.csv")
    header, body = rows[0], rows[1:]
    assert header == ["path", "label", "group", "status", "error", "size", "mean", "first"]
    assert len(body) == 22 == summary.processed + summary.failed
    failed = {Path(r[0]).name for r in body if r[3] == "error"}
    expected = {"img003.png", "img007.png"} | (set() if os.geteuid() == 0 else {"locked.png"})
    assert failed == expected and summary.failed == len(expected)
    assert all("ImageReadError" in r[4] for r in body if r[3] == "error")
    assert len(summary.skipped) == 2 and str(summary).startswith(
        f"24 files: {summary.processed} processed, {summary.failed} failed, 2 skipped")
    assert not list(tmp_path.glob("out.csv.partial*"))


def test_floats_round_trip_exactly(tmp_path):
    root = make_tree(tmp_path / "src", n=5)
    run_batch(ByteStats(), root, tmp_path / "out.csv", jobs=1, quiet=True)
    for row in read_rows(tmp_path / "out.csv")[1:]:
        data = np.frombuffer(Path(row[0]).read_bytes(), dtype=np.uint8)
        assert float(row[6]) == data.mean() / 7


class StopAfter(ByteStats):
    """Raises KeyboardInterrupt in the middle of the run (a test hook for Ctrl-C)."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def compute(self, items):
        self.seen += len(items)
        if self.seen > self.n:
            raise KeyboardInterrupt
        return super().compute(items)


def test_interrupted_run_resumes_to_identical_output(tmp_path):
    root = make_tree(tmp_path / "src", n=30, bad=(4,))
    run_batch(ByteStats(), root, tmp_path / "full.csv", jobs=1, quiet=True, chunk_size=4)
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(StopAfter(12), root, out, jobs=1, quiet=True, chunk_size=4)
    assert not out.exists()
    journal = tmp_path / "out.csv.partial.csv"
    assert len(read_rows(journal)) == 1 + 12
    # Simulate a kill in the middle of a write: half a row at the end.
    with open(journal, "ab") as f:
        f.write(b"/half/a/row,cla")
    summary = run_batch(ByteStats(), root, out, jobs=1, quiet=True, chunk_size=4)
    assert summary.resumed == 12 and summary.processed + summary.failed == 30 and summary.failed == 1
    assert out.read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert not journal.exists()


def test_journal_of_another_task_is_not_reused(tmp_path):
    root = make_tree(tmp_path / "src", n=10)
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(StopAfter(4), root, out, jobs=1, quiet=True, chunk_size=2)

    class Other(ByteStats):
        def signature(self):
            return "other"

    summary = run_batch(Other(), root, out, jobs=1, quiet=True)
    assert summary.resumed == 0 and summary.processed == 10


def test_killed_process_resumes(tmp_path):
    """Kill -9 a real run mid-way; the rerun completes to the same bytes."""
    root = make_tree(tmp_path / "src", n=60)
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_batch import ByteStats
        from pipeline.batch import run_batch

        class Slow(ByteStats):
            def compute(self, items):
                time.sleep(0.05)
                return super().compute(items)

        run_batch(Slow(), {str(root)!r}, {str(tmp_path / 'out.csv')!r}, jobs=1, quiet=True, chunk_size=2)
    """))
    proc = subprocess.Popen([sys.executable, str(script)])
    journal = tmp_path / "out.csv.partial.csv"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if journal.exists() and len(journal.read_bytes().splitlines()) > 10:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "out.csv").exists()
    summary = run_batch(ByteStats(), root, tmp_path / "out.csv", jobs=1, quiet=True)
    assert summary.resumed >= 10
    run_batch(ByteStats(), root, tmp_path / "ref.csv", jobs=1, quiet=True)
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()


def test_failing_run_leaves_no_output(tmp_path):
    class Broken(ByteStats):
        def compute(self, items):
            raise MemoryError  # not a per-file error: the run stops

    root = make_tree(tmp_path / "src", n=5)
    with pytest.raises(MemoryError):
        run_batch(Broken(), root, tmp_path / "out.csv", jobs=1, quiet=True)
    assert not (tmp_path / "out.csv").exists()


def test_output_format_checks(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "src", n=3)
    with pytest.raises(ConfigError, match=".csv or .parquet"):
        run_batch(ByteStats(), root, tmp_path / "out.xlsx", jobs=1)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ConfigError, match=r"needs pyarrow: .*pip install .*\[parquet\]"):
        run_batch(ByteStats(), root, tmp_path / "out.parquet", jobs=1)


def test_parquet_output_matches_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    root = make_tree(tmp_path / "src", n=12, bad=(2,))
    run_batch(ByteStats(), root, tmp_path / "out.csv", jobs=1, quiet=True)
    run_batch(ByteStats(), root, tmp_path / "out.parquet", jobs=1, quiet=True)
    a = pd.read_csv(tmp_path / "out.csv", keep_default_na=False, dtype={"error": str, "label": str, "group": str})
    b = pd.read_parquet(tmp_path / "out.parquet")
    assert list(a.columns) == list(b.columns) and len(b) == 12
    assert b["size"].dtype == np.float64 and b["size"].isna().sum() == 1
    np.testing.assert_array_equal(a["mean"].replace("", np.nan).astype(float), b["mean"])
    assert list(a["path"]) == list(b["path"])


def test_progress_plain_log_when_not_a_tty(tmp_path, capsys):
    root = make_tree(tmp_path / "src", n=6, bad=(1,))
    run_batch(ByteStats(), root, tmp_path / "out.csv", jobs=1, desc="extract")
    err = capsys.readouterr().err
    assert "extract: 6/6 files" in err and "failed: " in err and "img001.png" in err
    run_batch(ByteStats(), root, tmp_path / "out2.csv", jobs=1, quiet=True)
    assert capsys.readouterr().err == ""


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "src", n=6, bad=(1,))
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run_batch(ByteStats(), root, tmp_path / "out.csv", jobs=1, desc="extract")
    shown = terminal.getvalue()
    assert "extract: 100%" in shown and "6/6" in shown  # tqdm's bar, not the plain log
    assert "extract: 6/6 files" not in shown
    assert "failed: " in shown and "img001.png" in shown  # errors are written above the bar
    terminal.seek(0), terminal.truncate()
    run_batch(ByteStats(), root, tmp_path / "quiet.csv", jobs=1, quiet=True)
    assert terminal.getvalue() == ""


def test_feature_cache_keys_on_content_and_config(tmp_path):
    calls = []
    cache = FeatureCache(tmp_path / "cache", "a" * 64, 3)
    image = tmp_path / "img.png"
    image.write_bytes(b"pixels")

    def compute():
        calls.append(1)
        return np.arange(3.0)

    np.testing.assert_array_equal(cache.get_or_compute(str(image), compute), np.arange(3.0))
    np.testing.assert_array_equal(cache.get_or_compute(str(image), compute), np.arange(3.0))
    assert len(calls) == 1
    copy = tmp_path / "copy.png"
    copy.write_bytes(b"pixels")  # same content, other name: a hit
    cache.get_or_compute(str(copy), compute)
    assert len(calls) == 1
    image.write_bytes(b"other pixels")
    cache.get_or_compute(str(image), compute)
    assert len(calls) == 2
    FeatureCache(tmp_path / "cache", "b" * 64, 3).get_or_compute(str(copy), compute)
    assert len(calls) == 3
    entry = tmp_path / "cache" / ("a" * 16) / hashlib.sha256(b"pixels").hexdigest()[:2]
    assert entry.is_dir()


@pytest.mark.parametrize("engine", [SerialEngine(), ProcessEngine(2)])
def test_engines_stream_in_order_with_bounded_chunks_in_flight(tmp_path, engine):
    """Memory stays flat: chunks are pulled lazily, at most 2 * jobs ahead of the output."""
    root = make_tree(tmp_path / "src", n=24, bad=(5,))
    items, _ = list_inputs(root)
    pulled = []

    def chunks():
        for i in range(0, len(items), 2):
            pulled.append(i)
            yield items[i:i + 2]

    results = engine.map_chunks(ByteStats(), chunks())
    first = next(results)
    assert len(pulled) <= 2 * getattr(engine, "jobs", 0) + 1 < 12
    rows = [row for rows in [first, *results] for row in rows]
    # Same rows, in input order, wherever they were computed.
    assert rows == ByteStats().rows(items)


def test_csv_listing_a_missing_file_gives_an_error_row(tmp_path):
    root = make_tree(tmp_path / "src", n=2)
    (tmp_path / "list.csv").write_text("path\nsrc/class0/img000.png\nsrc/gone.png\n")
    summary = run_batch(ByteStats(), tmp_path / "list.csv", tmp_path / "out.csv", jobs=1, quiet=True)
    rows = read_rows(tmp_path / "out.csv")[1:]
    assert [Path(r[0]).name for r in rows] == ["img000.png", "gone.png"]
    assert [r[3] for r in rows] == ["ok", "error"] and summary.failed == 1 and root.is_dir()


def test_extract_task_copies_gives_the_training_copies_features_side_by_side(tmp_path):
    path = str(sample_root() / "textures" / "brick" / "brick_00.png")
    config = FeatureConfig(families=("lbp",))
    plain, copies = ExtractTask(config), TrainingCopiesTask(config, cache_dir=tmp_path)
    n_copies = len(training_copies(np.zeros((8, 8))))
    assert copies.columns == [f"copy{k}:{name}" for k in range(n_copies) for name in plain.columns]
    assert copies.cache_key() != plain.cache_key() and copies.signature() != plain.signature()  # apart
    copies.setup()
    row = copies.features(path)
    expected = copy_features(FeatureExtractor(config), read_image(path))
    np.testing.assert_array_equal(row, expected.ravel())
    np.testing.assert_array_equal(copies.features(path), row)  # from the cache
    assert len(list(tmp_path.rglob("*.npy"))) == 1


# --------------------------------------------------------------------------
# Masks: regions of interest of the inputs


def masked_tree(root: Path):
    """Two bundled textures per class, masks mirrored under root/masks (one missing) and beside as *_mask."""
    import cv2

    images, masks = root / "in", root / "masks"
    for label in ("brick", "grass"):
        for path in sorted((sample_root() / "textures" / label).glob("*.png"))[:2]:
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            (images / label).mkdir(parents=True, exist_ok=True)
            (masks / label).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(images / label / path.name), image)
            region = np.zeros_like(image)
            region[8:-8, 12:-20] = 255
            if path.name != "grass_00.png":
                cv2.imwrite(str(masks / label / f"{path.stem}.bmp"), region)  # another extension
                cv2.imwrite(str(images / label / f"{path.stem}_mask.png"), region)
    return images, masks


def test_list_inputs_finds_masks_in_a_mirrored_folder_or_beside_the_images(tmp_path):
    images, masks = masked_tree(tmp_path)
    mirrored, skipped = list_inputs(images, labelled=True, masks=masks)
    assert len(mirrored) == 7 and not skipped  # the *_mask.png files are inputs here
    by_name = {Path(item.path).name: item.mask for item in mirrored}
    assert by_name["brick_01.png"] == str(masks.resolve() / "brick" / "brick_01.bmp")
    assert by_name["grass_00.png"] == str(masks.resolve() / "grass" / "grass_00.*")  # missing: what was looked for
    beside, skipped = list_inputs(images, mask_suffix="_mask")
    assert [Path(item.path).name for item in beside] == ["brick_00.png", "brick_01.png", "grass_00.png",
                                                          "grass_01.png"]
    assert not skipped  # the masks are neither inputs nor skipped files
    assert beside[0].mask == str(images / "brick" / "brick_00_mask.png")
    # A mask folder inside the input folder is not listed as inputs either.
    inside, _ = list_inputs(tmp_path, masks=masks)
    assert all("masks" not in Path(item.path).parts for item in inside) and len(inside) == 7


def test_list_inputs_takes_the_mask_column_of_a_csv(tmp_path):
    images, masks = masked_tree(tmp_path)
    (tmp_path / "list.csv").write_text("path,label,mask\nin/brick/brick_00.png,brick,masks/brick/brick_00.bmp\n"
                                       "in/grass/grass_01.png,grass,\n")
    items, _ = list_inputs(tmp_path / "list.csv")
    assert [item.mask for item in items] == [str(masks / "brick" / "brick_00.bmp"), ""]
    with pytest.raises(ConfigError, match="mask column: give the masks one way"):
        list_inputs(tmp_path / "list.csv", masks=masks)
    (images / "plain.csv").write_text("path\nbrick/brick_01.png\n")
    items, _ = list_inputs(images / "plain.csv", masks=masks)  # the tree mirrored is the CSV's folder's
    assert items[0].mask == str(masks / "brick" / "brick_01.bmp")


def test_masked_run_accounts_for_every_input_and_names_a_missing_mask(tmp_path):
    images, masks = masked_tree(tmp_path)
    items, _ = list_inputs(images, labelled=True, masks=masks)
    items = [item for item in items if not item.path.endswith("_mask.png")]
    (masks / "brick" / "brick_01.bmp").write_bytes(b"not an image")
    config = FeatureConfig(families=("glcm", "lbp"))
    summary = run_batch(ExtractTask(config), items, tmp_path / "out.csv", jobs=1, quiet=True)
    rows = read_rows(tmp_path / "out.csv")[1:]
    assert summary.processed == 2 and summary.failed == 2 and [row[0] for row in rows] == [i.path for i in items]
    extractor = FeatureExtractor(config)
    for item, row in zip(items, rows):
        if item.path.endswith("grass_00.png"):
            assert row[3] == "error" and f"MaskError: {masks.resolve() / 'grass' / 'grass_00.*'}" in row[4]
            assert "cannot read the mask: no such file" in row[4]
        elif item.path.endswith("brick_01.png"):
            assert row[3] == "error" and f"MaskError: {masks.resolve() / 'brick' / 'brick_01.bmp'}" in row[4]
            assert "cannot read the mask: not a recognised image" in row[4]
        else:
            expected = extractor.transform(read_image(item.path), mask=item.mask)
            np.testing.assert_array_equal(np.array(row[5:], dtype=float), expected)
            assert not np.allclose(expected, extractor.transform(read_image(item.path)))


def test_feature_cache_keys_include_the_mask_content(tmp_path):
    images, masks = masked_tree(tmp_path)
    image = images / "brick" / "brick_00.png"
    mask = masks / "brick" / "brick_00.bmp"
    config = FeatureConfig(families=("lbp",))
    task = ExtractTask(config, cache_dir=tmp_path / "cache")
    task.setup()
    masked, whole = task.features(str(image), str(mask)), task.features(str(image))
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2 and not np.array_equal(masked, whole)
    np.testing.assert_array_equal(task.features(str(image), str(mask)), masked)  # a hit
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2
    import cv2

    region = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE)
    region[:, :40] = 0  # the same file name, another region: a new entry with the new features
    cv2.imwrite(str(mask), region)
    changed = task.features(str(image), str(mask))
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 3
    np.testing.assert_array_equal(changed, FeatureExtractor(config).transform(read_image(image), mask=region))


def test_training_copies_of_a_masked_image(tmp_path):
    from pipeline.augment import mask_copies

    images, masks = masked_tree(tmp_path)
    image, mask = images / "brick" / "brick_01.png", masks / "brick" / "brick_01.bmp"
    config = FeatureConfig(families=("lbp",))
    task = TrainingCopiesTask(config)
    task.setup()
    extractor, grey = FeatureExtractor(config), read_image(image)
    expected = [extractor.transform(copy, mask=inside)
                for copy, inside in zip(training_copies(grey), mask_copies(read_image(mask) > 0))]
    np.testing.assert_array_equal(task.features(str(image), str(mask)), np.ravel(expected))


def test_a_resume_with_other_masks_starts_afresh(tmp_path):
    images, masks = masked_tree(tmp_path)
    items, _ = list_inputs(images, mask_suffix="_mask")
    task = ExtractTask(FeatureConfig(families=("lbp",)))
    run_batch(task, items, tmp_path / "out.csv", jobs=1, quiet=True)
    with batch.Journal(tmp_path / "again.csv", task) as journal:
        assert journal.start(items) == 0
    # Interrupted after its first rows: the journal is there.
    rows = read_rows(tmp_path / "out.csv")
    with open(tmp_path / "again.csv.partial.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows[:3])
    with batch.Journal(tmp_path / "again.csv", task) as journal:
        assert journal.start(items) == 2  # the same masks: resumed
    with open(tmp_path / "again.csv.partial.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows[:3])
    whole = [Item(item.path, item.label, item.group) for item in items]
    with batch.Journal(tmp_path / "again.csv", task) as journal:
        assert journal.start(whole) == 0 and "masks" in journal.discarded
