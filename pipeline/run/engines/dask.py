"""The Dask engine: chunks on the workers of a Dask cluster (``--engine dask``).

:func:`pipeline.batch.run_batch` does the listing, the journal, the resume
and the atomic output; this engine only decides where chunks run.  The task
(feature configuration, and the model for predictions) travels once to each
worker as a worker plugin, which the scheduler also hands to workers that
join or restart later; then only chunks of paths travel, a bounded number at
a time, and their rows come back in input order.  The workers open the files
themselves, so the paths must be visible to them (shared storage, mounted at
the same place); a worker that cannot see a file reports it in that file's
error row.

This module needs the ``[dask]`` extra (``dask.distributed``); importing it
without Dask raises :class:`~texture.errors.ConfigError` saying what to install.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from dataclasses import replace

from pipeline.run.engines.base import (
    Engine, OneByOne, RerunOnCrash, WorkerDied, in_order, prepare_worker, restore_allocator,
)
from pipeline.workers import usable_cpu_count
from texture.errors import ConfigError

try:
    import dask
    from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, get_worker
except ImportError:
    from pipeline.extras import install_hint
    raise ConfigError(f"--engine dask needs Dask: {install_hint('dask')}") from None

__all__ = ["DaskEngine", "local_cluster", "DASK_CHUNK_SIZE"]

#: Inputs per Dask task.  Each task costs messages (and CPU) on the
#: scheduler, the worker's event loop and the client: measured on a running
#: 2-worker cluster, chunks of 32 took 1 to 3 ms less CPU per image than
#: chunks of 8 (64 no less than 32), and two chunks queued per worker hide
#: the round trip.
DASK_CHUNK_SIZE = 32


#: Recent messages a Dask connection of a run keeps for debugging.
_MESSAGES_KEPT = 10

#: Runs whose task is set up in this worker process (several runs may share a cluster).
_RUNS_HERE = 0


class _TaskPlugin(WorkerPlugin):
    """Carries the task to each worker and sets it up there, once per worker process."""

    def __init__(self, task, cwd: str):
        self.task = task
        self.cwd = cwd

    def setup(self, worker):
        global _RUNS_HERE
        _RUNS_HERE += 1
        prepare_worker(self.task)

    def teardown(self, worker):
        # The worker outlives the run: its allocator goes back to how the
        # cluster started it once no run of ours is left on it.
        global _RUNS_HERE
        _RUNS_HERE -= 1
        if _RUNS_HERE == 0:
            restore_allocator()


def _run_chunk(plugin_name: str, chunk):
    """Rows of one chunk, computed on a worker by the task its plugin carries."""
    plugin = get_worker().plugins[plugin_name]
    # Relative paths are relative to the submitting process, whose working
    # directory a worker does not share; the rows keep the paths as listed.
    absolute = [replace(item, path=os.path.join(plugin.cwd, item.path)) for item in chunk]
    return [row._replace(path=item.path) for row, item in zip(plugin.task.rows(absolute), chunk)]


def local_cluster(n_workers: int | None = None) -> LocalCluster:
    """The cluster ``--engine dask`` starts when no scheduler is given.

    Parameters
    ----------
    n_workers : int, optional
        Single-threaded worker processes; all usable CPUs when None.

    Returns
    -------
    distributed.LocalCluster
        Listening on 127.0.0.1 only, without a dashboard; use it as a
        context manager to stop it.
    """
    return LocalCluster(
        n_workers=usable_cpu_count() if n_workers is None else n_workers,
        threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        # The scheduler's HTTP endpoints (health, metrics) on a free port:
        # the default, 8787, may belong to another cluster.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR)


class DaskEngine(Engine):
    """Run chunks on the workers of a Dask cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.  When
        None, each run starts a cluster of single-threaded worker processes
        on this machine, reachable only from it (127.0.0.1), and stops it at
        the end.
    jobs : int, optional
        Workers of that local cluster; all usable CPUs when None.  Not
        allowed with `scheduler`: the cluster has its own workers (see
        :func:`pipeline.run.engines.make_engine`, which checks the options).
    timeout : float, default 60
        Seconds to wait for the scheduler and for its first worker.
    chunk_size : int, default DASK_CHUNK_SIZE (32)
        Inputs per task when the run does not choose (see :func:`pipeline.batch.run_batch`).

    Notes
    -----
    Memory is the cluster's to manage: the client cannot see the workers'
    memory, nor always their files, so it does not hold large images back
    as :class:`~pipeline.run.engines.processes.ProcessEngine` does.  A
    single-threaded worker holds one image at a time; Dask pauses a worker
    near its memory limit (``dask worker --memory-limit``; a local cluster's
    workers share this machine's memory equally) and restarts one past it,
    which then counts as a worker death (below).

    At most twice as many chunks as the cluster has worker threads (counted
    when the run starts) are in flight.  A chunk whose worker dies is
    recomputed by another worker.  A chunk that kills more workers than Dask
    allows (``distributed.scheduler.allowed-failures``, a
    ``KilledWorker``) is re-run one file per task
    (:class:`~pipeline.run.engines.base.OneByOne`): the file that kills its
    workers again gets an error row, the others their normal rows.

    Examples
    --------
    >>> from pipeline.batch import ExtractTask, run_batch
    >>> from pipeline.run.engines.dask import DaskEngine
    >>> run_batch(ExtractTask(), "photos/", "features.csv",
    ...           engine=DaskEngine("tcp://10.0.0.5:8786"))  # doctest: +SKIP
    """

    def __init__(self, scheduler: str | None = None, *, jobs: int | None = None, timeout: float = 60,
                 chunk_size: int = DASK_CHUNK_SIZE):
        self.scheduler = scheduler
        self.jobs = jobs
        self.timeout = timeout
        self.chunk_size = chunk_size

    @contextlib.contextmanager
    def _client(self):
        with contextlib.ExitStack() as stack:
            # Dask keeps each connection's last messages for its developers
            # (1,000 by default): a client's hold a chunk of paths each, some
            # megabytes that grew with the run.  Read as connections open.
            stack.enter_context(dask.config.set({"distributed.admin.low-level-log-length": _MESSAGES_KEPT}))
            address = self.scheduler
            if address is None:
                address = stack.enter_context(local_cluster(self.jobs))
            client = stack.enter_context(Client(address, timeout=self.timeout, set_as_default=False))
            try:
                client.wait_for_workers(1, timeout=self.timeout)
            except TimeoutError:
                raise ConfigError(f"no Dask worker joined the scheduler {address} "
                                  f"within {self.timeout:g} s") from None
            yield client

    def map_chunks(self, task, chunks):
        with self._client() as client:
            # A name of its own: other runs may share the cluster.
            name = f"texture-task-{uuid.uuid4().hex}"
            client.register_plugin(_TaskPlugin(task, os.getcwd()), name=name)
            try:
                limit = 2 * max(1, sum(client.nthreads().values()))

                def submit(chunk):
                    return client.submit(_run_chunk, name, chunk, pure=False)

                def run_alone(item):
                    # Dask retries each task on other workers and gives up on
                    # its own.  One file at a time: a worker's death also
                    # counts against the tasks queued on it, not only the culprit.
                    try:
                        return submit([item]).result()
                    except KilledWorker:
                        raise WorkerDied("its Dask workers died on every allowed attempt") from None

                rerun = OneByOne(task, run_alone)
                yield from in_order(lambda chunk: RerunOnCrash(submit(chunk), chunk, KilledWorker, rerun),
                                    chunks, limit)
            finally:
                # Frees the task (and its model) on the workers of a shared
                # cluster.  Best effort: if the scheduler is gone, the error
                # that ended the run is the one to report.
                with contextlib.suppress(Exception):
                    client.unregister_worker_plugin(name)
