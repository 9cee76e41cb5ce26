"""Worker processes of local batch runs: how many, and how they start.

A worker is forked from a *worker server* (multiprocessing's "forkserver"),
a process that imported the batch code once: a worker then starts in
milliseconds instead of importing numpy, OpenCV and pandas again, as a
"spawn" worker does (about a second each, every run).  The server is a fresh
single-threaded interpreter, so forking it is safe where forking the main
process is not ("fork": a pool's manager thread or a progress bar's monitor
could hold a lock that the child would inherit held).

This module imports only the standard library, so that the command line can
start the server before it imports the numeric libraries itself: the two
processes then import them at the same time, on two cores.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import multiprocessing.forkserver
import os
from pathlib import Path

__all__ = ["usable_cpu_count", "pool_size", "single_threaded_environment", "start_worker_server"]

# Thread-count variables of the numeric libraries.  Each worker is one process
# on one core; nested thread pools would oversubscribe the machine.
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

# What the server imports before forking workers: the main script (which
# workers re-import otherwise) and the module of the workers' functions.
_PRELOAD = ["__main__", "pipeline.run.engines.processes"]


def usable_cpu_count() -> int:
    """Number of CPUs this process may use: affinity mask and cgroup quota.

    Returns
    -------
    int
        At least 1.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    # A container limited by a CPU quota (cgroup v2 "cpu.max": "quota period")
    # still sees every host CPU in its affinity mask.
    with contextlib.suppress(OSError, ValueError):
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, math.ceil(int(quota) / int(period)))
    return max(1, count)


def pool_size(jobs: int | None) -> int:
    """Worker processes of a local run asked for `jobs`: all usable CPUs when None."""
    return usable_cpu_count() if jobs is None else jobs


@contextlib.contextmanager
def single_threaded_environment():
    """Processes started inside this block get single-threaded numeric libraries.

    The libraries read their thread-count variables when they load, so the
    variables must be in a worker's environment when it starts.
    """
    saved = {name: os.environ.get(name) for name in _THREAD_ENV}
    os.environ.update({name: "1" for name in _THREAD_ENV})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_worker_server() -> multiprocessing.context.BaseContext:
    """Start the worker server in the background, once per process; return the workers' context.

    Returns immediately: the server imports its preload while the caller
    goes on.  Its environment, which its workers inherit, sets the numeric
    libraries' thread counts to 1.

    Returns
    -------
    multiprocessing.context.BaseContext
        The "forkserver" context, for ``ProcessPoolExecutor(mp_context=...)``;
        "spawn" where there is no fork (Windows), whose workers must then be
        started inside :func:`single_threaded_environment`.

    Notes
    -----
    A process has one fork server, shared by everything in it that uses the
    "forkserver" start method; whoever starts it first sets its preload and
    environment.  Workers forked from a server started elsewhere still work:
    they import the batch code themselves, and :func:`pipeline.run.engines.base.prepare_worker`
    still makes OpenCV single-threaded.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        # Windows has no fork: each worker is a new interpreter, which
        # imports everything itself and inherits the environment of its start.
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)  # no effect once the server runs
    with single_threaded_environment():
        multiprocessing.forkserver.ensure_running()
    return context
