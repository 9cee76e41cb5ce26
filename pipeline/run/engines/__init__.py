"""Engines: where the chunks of a batch run are computed, chosen by name from one registry.

============  =====================================================  ==========================
name          where                                                  module
============  =====================================================  ==========================
serial        this process                                           :mod:`.serial`
processes     a pool of worker processes on this machine             :mod:`.processes`
dask          the workers of a Dask cluster (the ``[dask]`` extra)   :mod:`.dask`
============  =====================================================  ==========================

``local``, the command line's default, is ``serial`` for one job and
``processes`` otherwise.  Each engine module is imported only when chosen
(Dask is optional), and imports :mod:`.base`, never this registry: there is
no import cycle.  This module imports only the standard library, so that the
command line can check its options (:func:`option_error`) before it imports
the numeric libraries.
"""

from __future__ import annotations

from pipeline.workers import pool_size

__all__ = ["ENGINES", "option_error", "make_engine"]


def _serial(jobs, scheduler):
    from pipeline.run.engines.serial import SerialEngine

    return SerialEngine()


def _processes(jobs, scheduler):
    from pipeline.run.engines.processes import ProcessEngine

    return ProcessEngine(pool_size(jobs))


def _dask(jobs, scheduler):
    from pipeline.run.engines.dask import DaskEngine

    return DaskEngine(scheduler, jobs=jobs)


#: Engine name -> factory ``(jobs, scheduler) -> Engine``.
ENGINES = {"serial": _serial, "processes": _processes, "dask": _dask}


def option_error(jobs: int | None, engine: str, scheduler: str | None) -> str | None:
    """What is wrong with a run's engine options (as the command line spells them), or None.

    The one place where the rules of ``--jobs``, ``--engine`` and
    ``--scheduler`` are checked: the command line turns a message into a
    usage error, :func:`make_engine` into a :class:`~texture.errors.ConfigError`.
    """
    if engine != "local" and engine not in ENGINES:
        return f"engine must be one of {['local', *ENGINES]}, got {engine!r}"
    if jobs is not None and jobs < 1:
        return f"--jobs must be >= 1, got {jobs}"
    if scheduler is not None and engine != "dask":
        return "--scheduler needs --engine dask"
    if scheduler is not None and jobs is not None:
        return "--jobs sizes a cluster started here; the one at --scheduler has its own workers"
    return None


def make_engine(jobs: int | None = None, *, engine: str = "local", scheduler: str | None = None):
    """The engine of a run.

    Parameters
    ----------
    jobs : int, optional
        Number of worker processes; all usable CPUs when None.  With Dask,
        the workers of the local cluster (not allowed with `scheduler`).
    engine : {"local", "serial", "processes", "dask"}
        ``"local"``: serial for 1 job, a process pool otherwise.  ``"dask"``
        needs the ``[dask]`` extra.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); without
        it, the Dask engine starts a cluster on this machine.

    Returns
    -------
    pipeline.run.engines.base.Engine

    Raises
    ------
    texture.errors.ConfigError
        The options contradict each other (see :func:`option_error`), or
        Dask is asked for and not installed.
    """
    message = option_error(jobs, engine, scheduler)
    if message is not None:
        from texture.errors import ConfigError  # here: this module imports only the standard library

        raise ConfigError(message)
    if engine == "local":
        engine = "serial" if pool_size(jobs) == 1 else "processes"
    return ENGINES[engine](jobs, scheduler)
