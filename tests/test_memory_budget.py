"""The process engine starts large images only as memory allows (pipeline/run/memory.py).

Fake budgets and images whose headers declare megapixels without holding
them: nothing here allocates more than a few kilobytes per image.
"""

import csv
import struct
import threading
import time
import zlib

import pytest

from pipeline.batch import Task, run_batch
from pipeline.run.engines.processes import ProcessEngine
from pipeline.run.memory import PEAK_BYTES_PER_PIXEL, MemoryBudget, available_memory, peak_estimate
from texture.io import header_pixels

LARGE = (4000, 3000)  # declared: 12 megapixels, about 190 MB of estimated peak
SMALL = (8, 8)


def _png_header(path, width, height):
    """A PNG declaring width x height (8-bit grey) with no pixel data: tiny on disk."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


class Interval(Task):
    """Stand-in task: when each input ran (wall-clock start and end), without reading its pixels."""

    columns = ["start", "end"]

    def signature(self):
        return "interval-1"

    def compute(self, items):
        out = []
        for _ in items:
            start = time.time()
            time.sleep(0.8)  # long enough to overlap with the other worker under load
            out.append([start, time.time()])
        return out


def test_header_pixels_and_the_estimate_read_only_the_header(tmp_path):
    path = _png_header(tmp_path / "big.png", *LARGE)
    assert header_pixels(path) == LARGE[0] * LARGE[1]
    assert peak_estimate(str(path)) == LARGE[0] * LARGE[1] * PEAK_BYTES_PER_PIXEL
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert peak_estimate(str(tmp_path / "bad.png")) == 0  # the worker says why
    assert peak_estimate(str(tmp_path)) == 0  # a folder that could not be listed


def test_available_memory_is_a_positive_number_of_bytes():
    available = available_memory()
    assert available is None or available > 2**20


def test_budget_admits_what_fits_and_a_lone_chunk_whatever_its_size():
    budget = MemoryBudget(100)
    budget.acquire(60)
    budget.acquire(40)  # 100: fits exactly
    started = threading.Event()
    waiter = threading.Thread(target=lambda: (budget.acquire(50), started.set()))
    waiter.start()
    assert not started.wait(0.2)  # 150 > 100: waits
    budget.release(40)
    assert not started.wait(0.2)  # 110 > 100: still waits
    budget.release(60)
    assert started.wait(5)  # 50 alone
    waiter.join()
    budget.release(50)
    budget.acquire(10**12)  # nothing running: a chunk larger than the budget runs alone
    assert budget.in_use == 10**12


def _intervals(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {row["path"]: (float(row["start"]), float(row["end"])) for row in rows}


def _overlap(a, b):
    return a[0] < b[1] and b[0] < a[1]


class HungryInterval(Interval):
    """As Interval, for a task that takes three times the grey extraction's memory per pixel (colour, copies)."""

    peak_bytes_per_pixel = 3 * PEAK_BYTES_PER_PIXEL


def test_the_estimate_is_the_tasks_colour_and_training_copies_take_more(tmp_path):
    from pipeline.batch import ExtractTask
    from pipeline.run.tasks import TrainingCopiesTask
    from texture import FeatureConfig

    path = str(_png_header(tmp_path / "big.png", *LARGE))
    colour = FeatureConfig(colour="opponent")
    per_pixel = [task.peak_bytes_per_pixel for task in (ExtractTask(), ExtractTask(colour), TrainingCopiesTask(),
                                                        TrainingCopiesTask(colour))]
    assert per_pixel[0] == PEAK_BYTES_PER_PIXEL
    assert per_pixel[1] > per_pixel[0] and per_pixel[2] > per_pixel[0] and per_pixel[3] > per_pixel[1]
    assert peak_estimate(path, per_pixel[1]) == LARGE[0] * LARGE[1] * per_pixel[1]


@pytest.mark.parametrize("task, large_at_once", [(Interval, 1), (Interval, 2), (HungryInterval, 1)])
def test_process_engine_runs_no_more_large_images_at_once_than_the_budget_holds(tmp_path, task, large_at_once):
    src = tmp_path / "src"
    src.mkdir()
    # The large ones first: the budget alone keeps them apart (a small one never waits for memory).
    for i in range(4):
        _png_header(src / f"a{i}_large.png", *LARGE)
        _png_header(src / f"b{i}_small.png", *SMALL)
    one_large = LARGE[0] * LARGE[1] * PEAK_BYTES_PER_PIXEL
    if task is HungryInterval:  # room for 4 at the grey estimate, for 1 at the task's own
        budget = one_large * 4 + one_large // 2
    else:
        budget = one_large * large_at_once + one_large // 2
    run_batch(task(), src, tmp_path / "out.csv", engine=ProcessEngine(2, memory_budget=budget),
              chunk_size=1, quiet=True)
    ran = _intervals(tmp_path / "out.csv")
    large = [ran[str(src / f"a{i}_large.png")] for i in range(4)]
    small = [ran[str(src / f"b{i}_small.png")] for i in range(4)]
    large_pairs = [_overlap(a, b) for k, a in enumerate(large) for b in large[k + 1:]]
    if large_at_once == 1:
        assert not any(large_pairs)
        assert any(_overlap(large[-1], b) for b in small)  # the other worker took the small ones
    else:
        assert any(large_pairs)
