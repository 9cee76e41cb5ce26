"""Batch runs: map every input file to a result row or an error row, in parallel.

The entry points of the run machinery of :mod:`pipeline.run`:
:func:`run_batch` writes one row per input to an output file, resumable and
atomic; :func:`feature_matrix` keeps the feature vectors in memory (for
training).  The names a caller needs are importable from here too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.names import escape_path
from pipeline.run.engines import make_engine
from pipeline.run.engines.base import Engine
from pipeline.run.file_warnings import FileWarnings
from pipeline.run.inputs import Inputs, Item, chunked, list_inputs
from pipeline.run.journal import Journal, check_output
from pipeline.run.summary import Progress, RunSummary
from pipeline.run.tasks import (ExtractTask, MapTask, PredictTask, Row, Task, TrainingCopiesTask,
                                WindowFeaturesTask)
from texture.errors import DatasetError

__all__ = ["Item", "Inputs", "list_inputs", "Task", "Row", "ExtractTask", "TrainingCopiesTask", "PredictTask",
           "WindowFeaturesTask", "MapTask", "Engine", "make_engine", "RunSummary", "run_batch", "feature_matrix"]


def run_batch(task: Task, source, output, *, jobs: int | None = None, engine: Engine | None = None,
              chunk_size: int | None = None, quiet: bool = False, desc: str = "texture",
              skipped: Sequence[str] = ()) -> RunSummary:
    """Run `task` over every input of `source` and write one row per input to `output`.

    Parameters
    ----------
    task : Task
        :class:`ExtractTask`, :class:`PredictTask`, ... (a
        :class:`WindowFeaturesTask` row is one line per window).
    source : str or os.PathLike or sequence of Item
        Folder tree or CSV file (see :func:`list_inputs`), or items already
        listed (at least one): a list, or the :class:`Inputs` of
        :func:`list_inputs`, which is not copied.
    output : str or os.PathLike
        ``.csv`` or ``.parquet`` (needs the ``[parquet]`` extra).  Written
        atomically once every input is accounted for.
    jobs : int, optional
        Worker processes; all usable CPUs when None.  Ignored when `engine` is given.
    engine : Engine, optional
        Where the chunks run; ``make_engine(jobs)`` by default.
    chunk_size : int, optional
        Inputs per task sent to a worker; the engine's ``chunk_size`` when
        None (:data:`~pipeline.run.inputs.CHUNK_SIZE`, 8, for the local
        engines; larger for Dask).
    quiet : bool, default False
        No progress bar or per-file error lines.
    desc : str
        Label of the progress display.
    skipped : sequence of str
        With items already listed, the files :func:`list_inputs` skipped:
        named on stderr and counted in the summary, as when it lists them here.

    Returns
    -------
    RunSummary

    Warns
    -----
    texture.errors.TextureWarning
        Each kind the inputs computed here raised (in whichever worker), once,
        standing for all its files: ``12 grey images read in colour mode
        (first: a.png): ...`` (:mod:`pipeline.run.file_warnings`).

    Notes
    -----
    If the run is interrupted, ``OUTPUT.partial.csv`` keeps the rows written
    so far; the same call resumes from it and produces the same output as an
    uninterrupted run (see :mod:`pipeline.run.journal`).
    """
    output = Path(output)
    check_output(output)
    if isinstance(source, (str, os.PathLike)):
        items, skipped = list_inputs(source)
    else:
        items = source if isinstance(source, Inputs) else list(source)
        skipped = list(skipped)
        if not items:
            raise DatasetError("no input to run")
    engine = make_engine(jobs) if engine is None else engine
    chunk_size = engine.chunk_size if chunk_size is None else chunk_size
    output.parent.mkdir(parents=True, exist_ok=True)
    with Journal(output, task) as journal:
        done = journal.start(items)
        summary = RunSummary(output, skipped=skipped, resumed=done)
        # Count what the resumed prefix holds, so the summary covers every input.
        for row in journal.rows() if done else ():
            summary.record(row)

        progress = Progress(len(items), done, desc, quiet)
        if journal.discarded:
            progress.write(f"starting afresh: the interrupted run's rows were made with other settings "
                           f"({journal.discarded})")
        for path in skipped:
            progress.write(f"skipped (not an image): {escape_path(path)}")
        warned = FileWarnings()
        try:
            with journal.appending() as write:
                for rows in engine.map_chunks(task, chunked(items[done:], chunk_size)):
                    write(rows)
                    for row in rows:
                        summary.record(row, progress)
                    warned.add_rows(rows)
                    progress.update(len(rows))
        finally:
            progress.close()
            warned.warn()  # an interrupted run's too: the rows written so far are kept
        journal.finish()
    return summary


def feature_matrix(task: ExtractTask, items: Sequence[Item], *, engine: Engine | None = None,
                   chunk_size: int | None = None, quiet: bool = True,
                   desc: str = "features") -> tuple[np.ndarray, list[Item], list[str]]:
    """Feature vectors of `items` in memory (for training), bad files left out.

    Parameters
    ----------
    task : ExtractTask
    items : sequence of Item
    engine : Engine, optional
        ``make_engine()`` (all usable CPUs) by default.
    chunk_size : int, optional
        As in :func:`run_batch`: the engine's when None.
    quiet : bool, default True
        No progress display; with False, the one of :func:`run_batch`.
    desc : str
        Label of the progress display.

    Returns
    -------
    X : ndarray of shape (n_kept, n_features)
    kept : list of Item
        The items whose features were computed, in input order.
    errors : list of str
        One message per item left out.

    Warns
    -----
    texture.errors.TextureWarning
        As :func:`run_batch`: each kind once, standing for all its files.
    """
    engine = make_engine() if engine is None else engine
    chunk_size = engine.chunk_size if chunk_size is None else chunk_size
    X, kept, errors = [], [], []
    progress = Progress(len(items), 0, desc, quiet)
    warned = FileWarnings()
    try:
        for chunk, rows in zip(chunked(items, chunk_size), engine.map_chunks(task, chunked(items, chunk_size))):
            for item, row in zip(chunk, rows):
                if row.ok:
                    X.append(np.array(row.values, dtype=np.float64))
                    kept.append(item)
                else:
                    errors.append(row.error_line())
            warned.add_rows(rows)
            progress.update(len(rows))
    finally:
        progress.close()
        warned.warn()
    return np.array(X, dtype=np.float64).reshape(len(X), len(task.columns)), kept, errors
