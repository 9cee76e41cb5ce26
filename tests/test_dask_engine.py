"""Tests for pipeline/run/engines/dask.py: batch runs on a Dask cluster match the local engine."""

import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from pipeline.batch import (  # noqa: E402
    ExtractTask, PredictTask, feature_matrix, list_inputs, make_engine, run_batch,
)
from pipeline.run.engines.serial import SerialEngine  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.run.engines.dask import DaskEngine, local_cluster  # noqa: E402
from pipeline.model import TextureModel  # noqa: E402
from pipeline.nn import BPClassifier  # noqa: E402
from pipeline.sample import sample_root  # noqa: E402
from texture.errors import ConfigError  # noqa: E402
from interrupt import interrupting  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the module: 2 single-threaded worker processes on 127.0.0.1."""
    with local_cluster(2) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield cluster, client


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A CSV of 3 classes x 4 bundled images, one missing file and one corrupt file."""
    root = sample_root() / "textures"
    out = tmp_path_factory.mktemp("images")
    (out / "corrupt.png").write_bytes(b"not a png")
    rows = [(str(path), label) for label in ("brick", "grass", "waves")
            for path in sorted((root / label).glob("*.png"))[:4]]
    rows[4:4] = [(str(out / "missing.png"), "brick"), (str(out / "corrupt.png"), "grass")]
    with open(out / "list.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label"])
        writer.writerows(rows)
    return out / "list.csv"


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_extract_gives_the_local_engines_rows(tmp_path, cluster, images):
    task = ExtractTask()
    local = run_batch(task, images, tmp_path / "local.csv", engine=SerialEngine(), quiet=True, chunk_size=3)
    remote = run_batch(task, images, tmp_path / "dask.csv", engine=DaskEngine(cluster[0].scheduler_address),
                       quiet=True, chunk_size=3)
    header, *rows = read_rows(tmp_path / "dask.csv")
    assert sorted(rows) == sorted(read_rows(tmp_path / "local.csv")[1:])
    # Streamed in input order, so even the bytes agree.
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert [row[0] for row in rows] == [item.path for item in list_inputs(images)[0]]
    errors = {Path(row[0]).name: row[4] for row in rows if row[3] == "error"}
    assert set(errors) == {"missing.png", "corrupt.png"} and "NotFound" in errors["missing.png"]
    assert (remote.processed, remote.failed) == (local.processed, local.failed) == (12, 2)
    assert not list(tmp_path.glob("dask.csv.partial*"))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, images):
    X, kept, _ = feature_matrix(ExtractTask(), list_inputs(images)[0], engine=SerialEngine())
    estimator = BPClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=0)
    model = TextureModel(estimator=estimator).fit_features(X, [item.label for item in kept])
    path = tmp_path_factory.mktemp("model") / "model.npz"
    model.save(path)
    return path


@pytest.mark.slow
def test_predict_through_the_cli_with_a_scheduler(tmp_path, capsys, cluster, images, model_file):
    common = ["predict", str(images), "--model", str(model_file), "-q"]
    assert main([*common, "-o", str(tmp_path / "local.csv"), "-j", "1"]) == 1  # 2 bad files
    code = main([*common, "-o", str(tmp_path / "dask.csv"), "--engine", "dask",
                 "--scheduler", cluster[0].scheduler_address])
    assert code == 1 and "12 processed, 2 failed" in capsys.readouterr().out
    rows = read_rows(tmp_path / "dask.csv")
    assert "predicted" in rows[0] and len(rows) == 1 + 14
    assert sorted(rows[1:]) == sorted(read_rows(tmp_path / "local.csv")[1:])


@pytest.mark.slow
def test_train_extracts_through_the_cluster(tmp_path, capsys, cluster, images):
    common = ["train", str(images), "-q", "--hidden", "8", "--epochs", "20", "--test-size", "0.3"]
    # Exit status 1: the missing and the corrupt file are left out; the model is written.
    assert main([*common, "-o", str(tmp_path / "local.npz"), "-j", "1"]) == 1
    assert main([*common, "-o", str(tmp_path / "dask.npz"), "--engine", "dask",
                 "--scheduler", cluster[0].scheduler_address]) == 1
    local, remote = (TextureModel.load(tmp_path / name) for name in ("local.npz", "dask.npz"))
    assert remote.digest() == local.digest()


@pytest.mark.slow
def test_the_task_reaches_each_worker_once_and_leaves(tmp_path, cluster, images, model_file):
    client = cluster[1]
    task = PredictTask(TextureModel.load(model_file))
    engine = DaskEngine(cluster[0].scheduler_address)
    results = engine.map_chunks(task, ([item] for item in list_inputs(images)[0]))
    next(results)
    # Only chunks of paths are submitted; the model sits in one plugin per worker.
    plugins = client.run(lambda dask_worker: [n for n in dask_worker.plugins if n.startswith("texture-task-")])
    assert sorted(map(len, plugins.values())) == [1, 1]
    assert len(list(results)) == 13
    plugins = client.run(lambda dask_worker: [n for n in dask_worker.plugins if n.startswith("texture-task-")])
    assert all(names == [] for names in plugins.values())


@pytest.mark.slow
def test_a_bounded_number_of_chunks_in_flight(cluster, images):
    """The scheduler never holds more than 2 chunks per worker thread of one run."""
    items, _ = list_inputs(images)
    pulled = []

    def chunks():
        for i, item in enumerate(items):
            pulled.append(i)
            yield [item]

    results = DaskEngine(cluster[0].scheduler_address).map_chunks(ExtractTask(), chunks())
    first = next(results)
    assert len(pulled) <= 2 * 2 + 1 < len(items)
    rest = list(results)
    assert [rows[0][0] for rows in [first, *rest]] == [item.path for item in items]


@pytest.mark.slow
def test_relative_paths_are_read_from_the_submitting_directory(tmp_path, monkeypatch, cluster):
    # The workers started in another working directory.
    image = sorted((sample_root() / "textures" / "brick").glob("*.png"))[0]
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(image.read_bytes())
    (tmp_path / "imgs" / "b.png").write_bytes(b"not a png")
    monkeypatch.chdir(tmp_path)
    run_batch(ExtractTask(), "imgs", "local.csv", engine=SerialEngine(), quiet=True)
    run_batch(ExtractTask(), "imgs", "dask.csv", engine=DaskEngine(cluster[0].scheduler_address), quiet=True)
    rows = read_rows("dask.csv")
    assert [row[:4] for row in rows[1:]] == [["imgs/a.png", "", "", "ok"], ["imgs/b.png", "", "", "error"]]
    assert "NotFound" not in rows[2][4]  # found, then refused as not an image
    assert [row[5:] for row in rows] == [row[5:] for row in read_rows("local.csv")]


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_output(tmp_path, cluster, images):
    address = cluster[0].scheduler_address
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run_batch(ExtractTask(), images, out, engine=interrupting(DaskEngine)(2, address), quiet=True, chunk_size=3)
    assert not out.exists() and len(read_rows(tmp_path / "out.csv.partial.csv")) == 1 + 6
    summary = run_batch(ExtractTask(), images, out, engine=DaskEngine(address), quiet=True, chunk_size=3)
    assert summary.resumed == 6 and summary.processed + summary.failed == 14
    run_batch(ExtractTask(), images, tmp_path / "ref.csv", engine=SerialEngine(), quiet=True)
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()


class KillBusyWorker(DaskEngine):
    """SIGKILLs a worker process while it computes a chunk, once the first rows are in."""

    def __init__(self, client):
        super().__init__(client.scheduler.address)
        self.client = client
        self.killed = None

    def _kill_when_busy(self, started, done):
        pids = self.client.run(os.getpid)
        started.wait()
        while not done.is_set():
            busy = [worker for worker, keys in self.client.processing().items() if keys]
            if busy:
                self.killed = pids[busy[0]]
                os.kill(self.killed, signal.SIGKILL)
                return
            time.sleep(0.005)

    def map_chunks(self, task, chunks):
        started, done = threading.Event(), threading.Event()
        killer = threading.Thread(target=self._kill_when_busy, args=(started, done))
        killer.start()
        try:
            for rows in super().map_chunks(task, chunks):
                started.set()
                yield rows
        finally:
            started.set()
            done.set()
            killer.join()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_worker_does_not_lose_inputs(tmp_path, cluster, images):
    client = cluster[1]
    engine = KillBusyWorker(client)
    summary = run_batch(ExtractTask(), images, tmp_path / "dask.csv", engine=engine, quiet=True, chunk_size=1)
    assert engine.killed is not None and engine.killed not in client.run(os.getpid).values()
    run_batch(ExtractTask(), images, tmp_path / "local.csv", engine=SerialEngine(), quiet=True)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert summary.processed + summary.failed == 14
    client.wait_for_workers(2, timeout=120)  # the nanny restarts it; leave the cluster whole


@pytest.mark.slow
def test_local_cluster_without_a_scheduler(tmp_path, capsys):
    # Started (on 127.0.0.1) and stopped by the run itself.
    image = sorted((sample_root() / "textures" / "grass").glob("*.png"))[0]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.png").write_bytes(image.read_bytes())
    (tmp_path / "src" / "b.png").write_bytes(b"not a png")
    common = ["extract", str(tmp_path / "src"), "-q"]
    assert main([*common, "-o", str(tmp_path / "dask.csv"), "--engine", "dask", "-j", "1"]) == 1
    assert main([*common, "-o", str(tmp_path / "local.csv"), "-j", "1"]) == 1
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_without_dask_the_cli_says_what_to_install(tmp_path, capsys, monkeypatch, images):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.delitem(sys.modules, "pipeline.run.engines.dask")
    code = main(["extract", str(images), "-o", str(tmp_path / "out.csv"), "--engine", "dask"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "needs Dask: " in err and "install -e" in err and "[dask]" in err
    assert not list(tmp_path.iterdir())


def test_engine_options_are_checked(tmp_path, capsys, images):
    with pytest.raises(ConfigError, match="--engine dask"):  # the command line exits 2 (tests/test_cli.py)
        make_engine(scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="--jobs"):
        make_engine(2, engine="dask", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="jobs must be >= 1"):
        make_engine(0, engine="dask")


def test_a_scheduler_without_workers_is_reported(tmp_path, images):
    with local_cluster(0) as empty:
        engine = DaskEngine(empty.scheduler_address, timeout=1)
        with pytest.raises(ConfigError, match="no Dask worker joined"):
            run_batch(ExtractTask(), images, tmp_path / "o.csv", engine=engine, quiet=True)


def test_unreachable_scheduler_is_named(tmp_path, images):
    engine = DaskEngine("tcp://127.0.0.1:9", timeout=1)
    with pytest.raises(OSError, match="127.0.0.1:9"):
        run_batch(ExtractTask(), images, tmp_path / "o.csv", engine=engine, quiet=True)
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="os._exit in a worker")
def test_a_file_that_kills_every_worker_gets_an_error_row(tmp_path, cluster):
    from test_batch_crash import CrashOn, make_files

    root = make_files(tmp_path / "src", 8)
    scheduler = cluster[0].scheduler
    # Dask gives up on a task after its first worker death (the default allows 3).
    saved, scheduler.allowed_failures = scheduler.allowed_failures, 0
    try:
        summary = run_batch(CrashOn({"img005.png"}), root, tmp_path / "dask.csv",
                            engine=DaskEngine(scheduler.address), chunk_size=4, quiet=True)
    finally:
        scheduler.allowed_failures = saved
        cluster[1].wait_for_workers(2, timeout=120)  # the nanny restarts them; leave the cluster whole
    run_batch(CrashOn(), root, tmp_path / "ref.csv", engine=SerialEngine(), quiet=True)
    rows, ref = read_rows(tmp_path / "dask.csv"), read_rows(tmp_path / "ref.csv")
    assert [row[0] for row in rows] == [row[0] for row in ref]
    (bad,) = [row for row in rows if row[3] == "error"]
    assert Path(bad[0]).name == "img005.png" and "worker process died while processing this file" in bad[4]
    assert [row for row in rows if row is not bad] == [row for row in ref if row[0] != bad[0]]
    assert (summary.processed, summary.failed) == (7, 1)


_FAULTS = """
import resource
import numpy as np
from pipeline.batch import ExtractTask
from pipeline.run.engines.base import prepare_worker, restore_allocator

def faults():  # page faults of allocating and freeing a 1.3 MB array 50 times
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        np.ones((400, 400))
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

trimmed = faults()
prepare_worker(ExtractTask())
kept = faults()
restore_allocator()
print(trimmed, kept, faults())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_workers_keep_their_arrays_memory_between_images():
    # A Dask nanny starts its workers with this setting: every array freed is
    # returned to the system, and faulted in again page by page.
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    result = subprocess.run([sys.executable, "-c", _FAULTS], env=env, capture_output=True, text=True, check=True)
    trimmed, kept, restored = map(int, result.stdout.split())
    assert trimmed > 20 * max(kept, 100)
    assert restored > 20 * max(kept, 100)  # as the worker was, once the run's task leaves it


@pytest.mark.slow
def test_the_client_holds_nothing_per_input(tmp_path):
    # Futures, keys and the messages Dask keeps for debugging go with their
    # chunk: in the client, and in the scheduler of the cluster a run starts
    # in its own process (the fixture's keeps its last 1,000 messages, about
    # 400 bytes per input here).  The listing takes about 50 bytes per input;
    # the cluster's own bounded logs (its system monitor's samples, the last
    # computations) add some tens while they fill; an Item held per input
    # would add about 200.
    from test_client_memory import bytes_per_extra_input

    assert bytes_per_extra_input(tmp_path, DaskEngine(jobs=1), (1_000, 6_000)) < 150
