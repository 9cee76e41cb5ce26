"""Tests for pipeline/run/engines: a worker process that dies outright does not stop a batch."""

import csv
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.batch import Task, list_inputs, run_batch
from pipeline.run.engines.base import WorkerDied
from pipeline.run.engines.processes import ProcessEngine
from pipeline.run.engines.serial import SerialEngine

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class CrashOn(Task):
    """Byte statistics of each file; the worker dies outright on files named in `crash`.

    It calls ``os._exit(3)`` (like a library calling exit), or for the names
    in `kill` SIGKILLs itself (like the out-of-memory killer).  With `crash`
    empty it is safe to run in the test process: the reference run.
    """

    columns = ["size", "mean"]

    def __init__(self, crash=(), kill=()):
        self.crash, self.kill = frozenset(crash), frozenset(kill)

    def signature(self):
        return "crash-on-1"

    def compute(self, items):
        out = []
        for item in items:
            if Path(item.path).name in self.crash:
                if Path(item.path).name in self.kill:
                    os.kill(os.getpid(), signal.SIGKILL)
                os._exit(3)
            data = np.frombuffer(Path(item.path).read_bytes(), dtype=np.uint8)
            out.append([data.size, data.mean()])
        return out


def make_files(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        data = np.random.default_rng(i).integers(0, 256, 40 + i, dtype=np.uint8).tobytes()
        (root / f"img{i:03d}.png").write_bytes(data)
    return root


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_each_file_that_kills_its_worker_gets_an_error_row_and_the_others_their_rows(tmp_path):
    root = make_files(tmp_path / "src", 30)
    # Two in a row: one exits, one is SIGKILLed (both kinds of death).
    crash = {"img006.png": "exit code 3", "img007.png": "signal SIGKILL"}
    summary = run_batch(CrashOn(crash, kill={"img007.png"}), root, tmp_path / "out.csv",
                        engine=ProcessEngine(2, max_crashes=3), chunk_size=4, quiet=True)
    run_batch(CrashOn(), root, tmp_path / "ref.csv", engine=SerialEngine(), chunk_size=5, quiet=True)
    header, *rows = read_rows(tmp_path / "out.csv")
    ref_header, *ref = read_rows(tmp_path / "ref.csv")
    # Every input accounted for, in input order.
    assert header == ref_header and [r[0] for r in rows] == [item.path for item in list_inputs(root)[0]]
    errors = {Path(r[0]).name: r for r in rows if r[3] == "error"}
    assert set(errors) == set(crash)
    for name, status in crash.items():
        assert "worker process died while processing this file" in errors[name][4]
        assert status in errors[name][4] and errors[name][5:] == ["", ""]
    # Every other file, including those whose chunks were in flight when the pool broke, as without crashes.
    assert [r for r in rows if r[3] == "ok"] == [r for r in ref if Path(r[0]).name not in crash]
    assert (summary.processed, summary.failed) == (28, 2)
    assert not list(tmp_path.glob("out.csv.partial*"))


def test_a_systematically_crashing_worker_stops_the_run_with_a_clear_error(tmp_path):
    root = make_files(tmp_path / "src", 6)
    everything = {f"img{i:03d}.png" for i in range(6)}
    with pytest.raises(WorkerDied, match="died on 2 files in a row"):
        run_batch(CrashOn(everything), root, tmp_path / "out.csv", engine=ProcessEngine(2, max_crashes=2),
                  chunk_size=2, quiet=True)
    # Stopped, not looping, and resumable: the journal holds the rows written so far.
    assert not (tmp_path / "out.csv").exists() and (tmp_path / "out.csv.partial.csv").exists()
