"""The process-pool engine: chunks over worker processes of this machine."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pipeline.run.engines.base import Engine, OneByOne, RerunOnCrash, WorkerDied, in_order, prepare_worker
from pipeline.run.inputs import Item
from pipeline.run.memory import MemoryBudget, available_memory, peak_estimate
from pipeline.run.tasks import Row, Task
from pipeline.workers import single_threaded_environment, start_worker_server
from texture.errors import ConfigError

__all__ = ["ProcessEngine"]

_WORKER_TASK: Task | None = None


def _init_worker(task: Task, run_pid: int) -> None:
    global _WORKER_TASK
    prepare_worker(task)
    _WORKER_TASK = task
    if sys.platform != "win32":  # there, os.kill(pid, 0) would send a Ctrl-C, not probe
        threading.Thread(target=_exit_when_gone, args=(run_pid,), name="texture-run-watch", daemon=True).start()


def _exit_when_gone(pid: int) -> None:
    """End this worker as soon as the run's process `pid` has ended, however it ended.

    A worker's parent is the worker server, not the run; and a worker holds
    open the pipes that would tell it, the server and multiprocessing's
    resource tracker that the run is gone.  Killed (SIGKILL, an out-of-memory
    kill), the run would leave all of them waiting forever, holding the
    caller's stdout and stderr.  Once its workers are gone, the server and the
    tracker see their pipes close and end too.
    """
    try:
        fd = os.pidfd_open(pid)  # Linux 5.3+: readable when the process ends
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while True:
            try:
                os.kill(pid, 0)
            except (ProcessLookupError, PermissionError):  # gone (or its pid reused by another user)
                break
            threading.Event().wait(1.0)
    os._exit(1)


def _run_chunk(chunk: list[Item]) -> list[Row]:
    return _WORKER_TASK.rows(chunk)


class ProcessEngine(Engine):
    """Run chunks over a pool of worker processes.

    Workers fork from the worker server of :mod:`pipeline.workers`, which
    has imported this module once: they start in milliseconds, with
    single-threaded numeric libraries.  The task is sent to each worker once,
    by the pool initializer; then only chunks of paths travel.  At most
    ``2 * jobs`` chunks are in flight, so memory stays flat however long the
    input list is.

    Large images start only as memory allows: each chunk's peak is
    estimated from its images' headers and the chunk waits until it fits in
    `memory_budget` next to the chunks running (:mod:`pipeline.run.memory`);
    small images never wait.

    A worker that dies outright (a decoder's segfault, an out-of-memory kill)
    breaks the pool and fails every chunk in flight, not only its own.  The
    pool is then restarted for the chunks to come, and each chunk that was in
    flight is re-run one file at a time in a one-worker pool
    (:class:`~pipeline.run.engines.base.OneByOne`): a file that kills that
    worker gets an error row naming the exit status, the others their normal
    rows, in input order.

    Parameters
    ----------
    jobs : int
        Number of worker processes (see :func:`pipeline.run.engines.make_engine`).
    max_crashes : int, default 10
        Stop the run (:class:`~pipeline.run.engines.base.WorkerDied`) when
        this many files in a row each kill their worker.
    memory_budget : int, optional
        Bytes the estimated peaks of the chunks running at once may add up
        to; by default three quarters of the memory available when a run
        starts (no limit where that is unknown).
    """

    def __init__(self, jobs: int, *, max_crashes: int = 10, memory_budget: int | None = None):
        if max_crashes < 1:
            raise ConfigError(f"max_crashes must be >= 1, got {max_crashes}")
        self.jobs = jobs
        self.max_crashes = max_crashes
        self.memory_budget = memory_budget

    def map_chunks(self, task, chunks):
        budget = self.memory_budget
        if budget is None:
            available = available_memory()
            budget = None if available is None else available * 3 // 4
        memory = None if budget is None else MemoryBudget(budget)
        # The environment matters to "spawn" workers (no fork server on Windows), started on demand.
        with single_threaded_environment(), \
                contextlib.closing(_Pools(task, self.jobs, self.max_crashes, memory)) as pools:
            yield from in_order(pools.submit, chunks, 2 * self.jobs)


def _new_pool(task: Task, jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=start_worker_server(), initializer=_init_worker,
                               initargs=(task, os.getpid()))


def _exit_status(process) -> str:
    code = None if process is None else process.exitcode
    if code is None:
        return "exit status unknown"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


class _Pools:
    """The worker pool of a :class:`ProcessEngine` run, and the one-worker pool that re-runs crashed chunks."""

    def __init__(self, task: Task, jobs: int, max_crashes: int, memory: MemoryBudget | None = None):
        self.task, self.jobs, self.memory = task, jobs, memory
        self.pool = _new_pool(task, jobs)
        self.solo = None  # one-worker pool re-running the chunks a crash broke
        self.rerun = OneByOne(task, self.run_alone, max_crashes)

    def submit(self, chunk: list[Item]) -> RerunOnCrash:
        # A worker runs its chunk's items one after the other: the largest one's peak is the chunk's.
        peak = 0 if self.memory is None else max(peak_estimate(item.path, self.task.peak_bytes_per_pixel)
                                                 for item in chunk)
        if peak:
            self.memory.acquire(peak)  # waits for running chunks to finish while it does not fit
        try:
            try:
                future = self.pool.submit(_run_chunk, chunk)
            except BrokenProcessPool:  # a worker died since the last submission
                self.pool.shutdown(wait=True)
                self.pool = _new_pool(self.task, self.jobs)
                future = self.pool.submit(_run_chunk, chunk)
        except BaseException:
            if peak:
                self.memory.release(peak)
            raise
        if peak:
            future.add_done_callback(lambda _: self.memory.release(peak))
        return RerunOnCrash(future, chunk, BrokenProcessPool, self.rerun)

    def run_alone(self, item: Item) -> list[Row]:
        """The rows of one item, computed in the one-worker pool."""
        if self.solo is None:
            self.solo = _new_pool(self.task, 1)
        try:
            return self.solo.submit(_run_chunk, [item]).result()
        except BrokenProcessPool:
            process = next(iter((getattr(self.solo, "_processes", None) or {}).values()), None)
            self.solo.shutdown(wait=True)  # joins the dead worker: its exit code is known
            self.solo = None
            raise WorkerDied(_exit_status(process)) from None

    def close(self) -> None:
        for pool in (self.pool, self.solo):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
