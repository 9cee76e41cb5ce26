"""What every engine shares: the interface, ordered results, and the rerun after a worker dies."""

from __future__ import annotations

import ctypes
import os
import sys
from collections import deque
from concurrent.futures import BrokenExecutor
from typing import Callable, Iterable, Iterator

from pipeline.run.inputs import CHUNK_SIZE, Item
from pipeline.run.tasks import Row, Task

# After texture, which sets OpenCV's decoder caps before cv2 loads (texture.io).
import cv2  # noqa: E402

__all__ = ["Engine", "prepare_worker", "restore_allocator", "in_order", "WorkerDied", "OneByOne", "RerunOnCrash"]


class Engine:
    """Maps chunks of items to rows; subclasses decide where the work runs."""

    #: Inputs per chunk when the caller does not choose: an engine whose
    #: chunks cost more to dispatch asks for larger ones.
    chunk_size: int = CHUNK_SIZE

    def map_chunks(self, task: Task, chunks: Iterable[list[Item]]) -> Iterator[list[Row]]:
        """Yield ``task.rows(chunk)`` for each chunk, in the order of `chunks`."""
        raise NotImplementedError


# glibc's mallopt(3) parameters, and the largest mmap threshold its own
# dynamic rule reaches on 64-bit systems.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 << 20
_GLIBC_DEFAULT_THRESHOLD = 128 << 10


def _mallopt(parameter: int, value: int) -> None:
    if sys.platform.startswith("linux"):
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # absent outside glibc-compatible libcs
        if mallopt is not None:
            mallopt(parameter, value)


def prepare_worker(task: Task) -> None:
    """Set `task` up in a worker process whose parallelism comes from running several workers.

    OpenCV runs single-threaded, and the C allocator keeps the memory of an
    image's arrays (up to 32 MiB each) for the next image instead of
    returning it to the system and faulting it in again, page by page: a
    Dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``,
    which makes glibc do so for every array above 128 KiB, about 1,700 page
    faults and 3 ms of system time per 200 x 200 image (about 30 faults and
    0.2 ms so).  The thresholds are those glibc's own dynamic rule reaches
    (trim at twice the mmap threshold); :func:`restore_allocator` undoes them.
    """
    cv2.setNumThreads(1)
    _mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    _mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD_MAX)
    task.setup()


def restore_allocator() -> None:
    """Undo the allocator settings of :func:`prepare_worker` in a process that outlives the run (a Dask worker).

    A process started with ``MALLOC_TRIM_THRESHOLD_`` gets that trim
    threshold and glibc's default mmap threshold back, as it started.
    Without it, the settings stay: they are where glibc's dynamic rule
    takes the thresholds anyway, and setting any threshold would switch
    that rule off.
    """
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if trim is not None:
        _mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT_THRESHOLD)
        _mallopt(_M_TRIM_THRESHOLD, int(trim))


def in_order(submit, chunks: Iterable[list[Item]], limit: int) -> Iterator:
    """Submit chunks and yield their results in submission order, at most `limit` ahead.

    Parameters
    ----------
    submit : callable
        Takes a chunk, returns a future (``.result()``, ``.cancel()``).
    chunks : iterable of list of Item
        Pulled lazily: memory stays flat however long the input list is.
    limit : int
        Futures in flight; enough to keep every worker busy while the
        oldest result is written.
    """
    pending = deque()
    try:
        for chunk in chunks:
            pending.append(submit(chunk))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


class WorkerDied(BrokenExecutor):
    """The worker running one item died; the message says how (``"killed by signal SIGSEGV"``)."""


class OneByOne:
    """Re-runs the chunks a worker's death broke one item at a time, so that a crash names its file.

    A worker that dies takes every chunk in flight with it, not only the
    culprit's; each of those chunks is re-run here one file per task: a file
    whose worker dies again gets an error row naming how it died, the others
    their normal rows, in input order.

    Parameters
    ----------
    task : Task
    run_one : callable
        ``run_one(item)`` -> the item's rows, computed in a worker; raises
        :class:`WorkerDied` when that worker died.
    max_crashes : int, default 10
        Stop the run (:class:`WorkerDied`) when this many files in a row
        each kill their worker: the environment is broken, not the files.
        The run can then be resumed like an interrupted one.
    """

    def __init__(self, task: Task, run_one: Callable[[Item], list[Row]], max_crashes: int = 10):
        self.task, self.run_one, self.max_crashes = task, run_one, max_crashes
        self.crashes_in_a_row = 0

    def __call__(self, chunk: list[Item]) -> list[Row]:
        rows = []
        for item in chunk:
            try:
                rows.extend(self.run_one(item))
                self.crashes_in_a_row = 0
                continue
            except WorkerDied as exc:
                how = str(exc)
            self.crashes_in_a_row += 1
            if self.crashes_in_a_row >= self.max_crashes:
                raise WorkerDied(
                    f"worker processes died on {self.crashes_in_a_row} files in a row "
                    f"(the last, {item.path}: {how}); stopping rather than retrying. "
                    "Run the same command again to resume")
            rows.append(self.task.error_row(item, f"WorkerCrash: worker process died while processing this file "
                                                  f"({how})"))
        return rows


class RerunOnCrash:
    """A future of a chunk's rows, re-run by :class:`OneByOne` if the worker running it died.

    Parameters
    ----------
    future
        Has ``.result()`` and ``.cancel()``.
    chunk : list of Item
    died : exception type
        What ``future.result()`` raises when the worker died.
    rerun : OneByOne
    """

    def __init__(self, future, chunk: list[Item], died: type[BaseException], rerun: OneByOne):
        self.future, self.chunk, self.died, self.rerun = future, chunk, died, rerun

    def result(self) -> list[Row]:
        try:
            return self.future.result()
        except self.died:
            return self.rerun(self.chunk)

    def cancel(self) -> bool:
        return self.future.cancel()
