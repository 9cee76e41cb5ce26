"""Batch runs: map every input file to a result row or an error row, in parallel.

A run lists its inputs (a folder tree or a CSV ``path,label[,group]``), cuts
them into chunks, maps each chunk to rows with an :class:`Engine` and streams
the rows, in input order, into a *journal*: the output CSV being written,
named ``OUT.partial.csv`` next to the output.  When every input is accounted
for the journal is fsynced and renamed onto the output (Parquet outputs are
converted first), so a finished output is always complete.  An interrupted
run leaves the journal behind and the same command resumes from it; because
rows are written in input order and floats as their shortest round-trip
``repr``, the resumed output is byte-identical to an uninterrupted one.

The engine is the only parallel part: :class:`SerialEngine` runs in-process,
:class:`ProcessEngine` over a process pool whose workers receive the task
(feature configuration or model) once, at start-up, and
:class:`pipeline.dask_engine.DaskEngine` on a Dask cluster.  An engine only
has to implement :meth:`Engine.map_chunks`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np

import texture
from pipeline.augment import N_TRAINING_COPIES, copy_features
from pipeline.data import find_images, load_csv, load_folder
from pipeline.names import escape_path, printable
from pipeline.workers import pool_size, single_threaded_environment, start_worker_server
from texture import FeatureConfig, FeatureExtractor, read_image
from texture.errors import ConfigError, DatasetError
from texture.io import IMAGE_EXTENSIONS

__all__ = [
    "Item",
    "list_inputs",
    "Task",
    "ExtractTask",
    "PredictTask",
    "Engine",
    "SerialEngine",
    "ProcessEngine",
    "make_engine",
    "prepare_worker",
    "in_order",
    "Recovering",
    "crash_row",
    "RunSummary",
    "run_batch",
    "feature_matrix",
    "atomic_write",
]

# --------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Item:
    """One input of a batch run: an image path and what the source says about it."""

    path: str
    label: str = ""
    group: str = ""


def list_inputs(source, *, labelled: bool = False) -> tuple[list[Item], list[str]]:
    """List the inputs of a batch run.

    Parameters
    ----------
    source : str or os.PathLike
        A folder, searched recursively for images (see
        :func:`pipeline.data.find_images`), or a CSV file with a ``path``
        column and optional ``label`` and ``group`` columns (see
        :func:`pipeline.data.load_csv`).
    labelled : bool, default False
        Whether every input needs a label: a folder must then have one
        sub-folder per class (:func:`pipeline.data.load_folder`) and a CSV a
        ``label`` column.  Unlabelled, an image in a sub-folder still takes
        that top-level sub-folder's name as its label.

    Returns
    -------
    items : list of Item
        In a deterministic order (sorted paths for a folder, file order for a CSV).
    skipped : list of str
        Files of the folder that are not listed as images (other extensions,
        hidden), sorted; none for a CSV.

    Raises
    ------
    texture.DatasetError
        No image at all, and from the loaders: no class sub-folders or CSV
        columns missing.  Files a CSV lists but that do not exist are kept:
        each becomes an error row.
    """
    source = Path(source)
    if source.is_file():
        # A listed file that is missing gets an error row, like any unreadable one.
        return _items(load_csv(source, labelled=labelled, check_files=False)), []
    if not source.is_dir():
        raise ConfigError(f"{source}: no such folder or CSV file")
    if labelled:
        items = _items(load_folder(source))
    else:
        items = [Item(str(path), printable(path.relative_to(source).parts[0]) if path.parent != source else "")
                 for path in find_images(source)]
    # Anything but a folder is a file here: FIFOs and broken links are listed too.
    listed = {item.path for item in items}
    base = source.resolve() if labelled else source  # as load_folder names its images
    skipped = sorted(str(path) for path in base.rglob("*") if not path.is_dir() and str(path) not in listed)
    if not items:
        found = f"its {len(skipped)} files are not images" if skipped else "it is empty"
        raise DatasetError(f"no image in the folder: {found} (images end in "
                           f"{', '.join(sorted(IMAGE_EXTENSIONS))}, any case)", source)
    return items, skipped


def _items(table) -> list[Item]:
    """Items of a loader table (a DataFrame: path, label, group; missing values become "")."""
    import pandas as pd  # loaded already: the table is a DataFrame

    # Cell by cell: Arrow-backed text would refuse a path that is not UTF-8 (pipeline.data).
    return [Item(*("" if pd.isna(cell) else str(cell) for cell in row))
            for row in table[["path", "label", "group"]].itertuples(index=False)]


# --------------------------------------------------------------------------
# Tasks: what one worker does to one chunk of items


def _format(value) -> str:
    """Serialise one cell: floats as their shortest round-trip repr, None as empty, text as valid UTF-8."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return printable(str(value))


def _head(item: Item) -> list[str]:
    """The first cells of an item's row: its path in the escaped form of pipeline.names, label, group."""
    return [escape_path(item.path), printable(item.label), printable(item.group)]


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Task:
    """What to compute for each input; shipped once to each worker.

    Subclasses set :attr:`columns` (the result columns after ``path``,
    ``label``, ``group``, ``status``, ``error``) and implement
    :meth:`compute`, which turns one chunk of items into one result per item:
    a sequence of values for :attr:`columns`, or the exception that item
    raised.
    """

    columns: list[str]
    #: Result columns holding text; the others are numbers (for typed Parquet output).
    text_columns: frozenset[str] = frozenset()

    def signature(self) -> str:
        """A digest of everything that changes the results (to validate a resume)."""
        raise NotImplementedError

    def setup(self) -> None:
        """Prepare per-process state; called once in each worker."""

    def compute(self, items: Sequence[Item]) -> list:
        """One result per item: values for :attr:`columns`, or the exception it raised."""
        raise NotImplementedError

    def rows(self, items: Sequence[Item]) -> list[list[str]]:
        """Map a chunk of items to formatted output rows, one per item."""
        rows = []
        for item, result in zip(items, self.compute(items)):
            head = _head(item)
            if isinstance(result, BaseException):
                rows.append(head + ["error", printable(_error_text(result))] + [""] * len(self.columns))
            else:
                rows.append(head + ["ok", ""] + [_format(v) for v in result])
        return rows


class _FeatureCache:
    """Feature vectors on disk keyed by (file content sha256, extractor digest)."""

    def __init__(self, directory, config_digest: str):
        self.directory = Path(directory, config_digest[:16])

    def _path(self, data: bytes) -> Path:
        digest = hashlib.sha256(data).hexdigest()
        return self.directory / digest[:2] / f"{digest}.npy"

    def get_or_compute(self, path: str, compute) -> np.ndarray:
        if not os.path.isfile(path):  # reading a FIFO or a device here would block or never end
            return compute()  # let the reader raise its own, clearer, error
        try:
            data = Path(path).read_bytes()
        except OSError:
            return compute()
        entry = self._path(data)
        with contextlib.suppress(OSError, ValueError):
            return np.load(entry, allow_pickle=False)
        features = compute()
        entry.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(entry, "wb") as f:
            np.save(f, features, allow_pickle=False)
        return features


def _config_digest(config, **extra) -> str:
    text = json.dumps({"config": config.to_dict(), "texture": texture.__version__, **extra}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ExtractTask(Task):
    """Compute the named feature vector of each image.

    Parameters
    ----------
    config : texture.FeatureConfig, optional
        Extractor settings; the default configuration when None.
    cache_dir : str or os.PathLike, optional
        Cache feature vectors here, keyed by file content and configuration.
    copies : bool, default False
        Instead of the image's vector, the vectors of its training copies
        (:func:`pipeline.augment.training_copies`) side by side, columns
        ``copy0:<name>``, ``copy1:<name>``, ...; ``texture train`` uses it on
        the training images.  An image whose shrunk copy is too small for the
        extractor gets an error row.
    max_pixels : int, optional
        Largest image read, in pixels (see :func:`texture.read_image`); a
        larger one gets an error row.
    """

    def __init__(self, config=None, cache_dir=None, copies=False, max_pixels=None):
        self.config = FeatureConfig() if config is None else config
        # Absolute: workers elsewhere (a cluster) do not share our working directory.
        self.cache_dir = None if cache_dir is None else os.path.abspath(cache_dir)
        self.copies = copies
        self.max_pixels = max_pixels
        names = FeatureExtractor(self.config).names
        if copies:
            names = [f"copy{k}:{name}" for k in range(N_TRAINING_COPIES) for name in names]
        self.columns = list(names)
        self._extractor = None

    def signature(self) -> str:
        # Copies get cache entries of their own; plain vectors keep their digest.
        return _config_digest(self.config, copies=True) if self.copies else _config_digest(self.config)

    def setup(self) -> None:
        self._extractor = FeatureExtractor(self.config)
        self._cache = None if self.cache_dir is None else _FeatureCache(self.cache_dir, self.signature())

    def __getstate__(self):
        # Workers rebuild the extractor in setup(); ship only the settings.
        return {**self.__dict__, "_extractor": None, "_cache": None}

    def features(self, path: str) -> np.ndarray:
        """Feature vector of one image file (through the cache when there is one)."""
        def compute():
            image = read_image(path, max_pixels=self.max_pixels)
            if self.copies:
                return copy_features(self._extractor, image, path=path).ravel()
            return self._extractor.transform(image, path=path)

        return compute() if self._cache is None else self._cache.get_or_compute(path, compute)

    def compute(self, items):
        results = []
        for item in items:
            try:
                results.append(self.features(item.path))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                # Every input gets a row; the error row names the exception type.
                results.append(exc)
        return results


class PredictTask(ExtractTask):
    """Score each image with a fitted :class:`pipeline.TextureModel`.

    Parameters
    ----------
    model : pipeline.TextureModel
        A fitted model; its feature configuration drives the extraction.
    cache_dir : str or os.PathLike, optional
        Feature cache, as in :class:`ExtractTask`.
    max_pixels : int, optional
        Largest image read, as in :class:`ExtractTask`.
    """

    def __init__(self, model, cache_dir=None, max_pixels=None):
        super().__init__(model.feature_config_, cache_dir, max_pixels=max_pixels)
        self.model = model
        self.columns = model.score_columns()
        self.text_columns = frozenset({"predicted"} & set(self.columns))

    def signature(self) -> str:
        return hashlib.sha256((super().signature() + self.model.digest()).encode()).hexdigest()

    def compute(self, items):
        vectors = super().compute(items)
        good = [i for i, v in enumerate(vectors) if not isinstance(v, BaseException)]
        if good:
            # One forward pass for the whole chunk.
            scores = self.model.score_features(np.stack([vectors[i] for i in good]))
            for i, score in zip(good, scores):
                vectors[i] = self.model.score_row(score)
        return vectors


# --------------------------------------------------------------------------
# Engines: map chunks of items to rows, in order


class Engine:
    """Maps chunks of items to rows; subclasses decide where the work runs."""

    def map_chunks(self, task: Task, chunks: Iterable[list[Item]]) -> Iterator[list[list[str]]]:
        """Yield ``task.rows(chunk)`` for each chunk, in the order of `chunks`."""
        raise NotImplementedError


class SerialEngine(Engine):
    """Run every chunk in this process (no start-up cost; easiest to debug)."""

    def map_chunks(self, task, chunks):
        task.setup()
        for chunk in chunks:
            yield task.rows(chunk)


_WORKER_TASK: Task | None = None


def prepare_worker(task: Task) -> None:
    """Set `task` up in a worker process whose parallelism comes from running several workers."""
    cv2.setNumThreads(1)
    task.setup()


def _init_worker(task: Task) -> None:
    global _WORKER_TASK
    prepare_worker(task)
    _WORKER_TASK = task


def _run_chunk(chunk: list[Item]) -> list[list[str]]:
    return _WORKER_TASK.rows(chunk)


class ProcessEngine(Engine):
    """Run chunks over a pool of worker processes.

    Workers fork from the worker server of :mod:`pipeline.workers`, which
    has imported this module once: they start in milliseconds, with
    single-threaded numeric libraries.  The task is sent to each worker once,
    by the pool initializer; then only chunks of paths travel.  At most
    ``2 * jobs`` chunks are in flight, so memory stays flat however long the
    input list is.

    A worker that dies outright (a decoder's segfault, an out-of-memory kill)
    breaks the pool and fails every chunk in flight, not only its own.  The
    pool is then restarted for the chunks to come, and each chunk that was in
    flight is re-run one file at a time in a one-worker pool: a file that
    kills that worker gets an error row naming the exit status, the others
    their normal rows, in input order.

    Parameters
    ----------
    jobs : int
        Number of worker processes.
    max_crashes : int, default 10
        Stop the run (``BrokenProcessPool``) when this many files in a row
        each kill their worker: the environment is broken, not the files.
        The run can then be resumed like an interrupted one.
    """

    def __init__(self, jobs: int, *, max_crashes: int = 10):
        if jobs < 1:
            raise ConfigError(f"jobs must be >= 1, got {jobs}")
        if max_crashes < 1:
            raise ConfigError(f"max_crashes must be >= 1, got {max_crashes}")
        self.jobs = jobs
        self.max_crashes = max_crashes

    def map_chunks(self, task, chunks):
        # The environment matters to "spawn" workers (no fork server on Windows), started on demand.
        with single_threaded_environment(), contextlib.closing(_Pools(task, self.jobs, self.max_crashes)) as pools:
            yield from in_order(pools.submit, chunks, 2 * self.jobs)


def _new_pool(task: Task, jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=start_worker_server(), initializer=_init_worker, initargs=(task,))


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
    """The worker pool of a :class:`ProcessEngine` run, and the recovery from worker deaths."""

    def __init__(self, task: Task, jobs: int, max_crashes: int):
        self.task, self.jobs, self.max_crashes = task, jobs, max_crashes
        self.pool = _new_pool(task, jobs)
        self.solo = None  # one-worker pool re-running the chunks a crash broke
        self.crashes_in_a_row = 0

    def submit(self, chunk: list[Item]) -> Recovering:
        try:
            future = self.pool.submit(_run_chunk, chunk)
        except BrokenProcessPool:  # a worker died since the last submission
            self.pool.shutdown(wait=True)
            self.pool = _new_pool(self.task, self.jobs)
            future = self.pool.submit(_run_chunk, chunk)
        return Recovering(future, chunk, BrokenProcessPool, self.one_by_one)

    def one_by_one(self, chunk: list[Item]) -> list[list[str]]:
        """Rows of a chunk whose pool broke, one file per task, so a crash names its file."""
        rows = []
        for item in chunk:
            if self.solo is None:
                self.solo = _new_pool(self.task, 1)
            try:
                rows.extend(self.solo.submit(_run_chunk, [item]).result())
                self.crashes_in_a_row = 0
                continue
            except BrokenProcessPool:
                process = next(iter((getattr(self.solo, "_processes", None) or {}).values()), None)
                self.solo.shutdown(wait=True)  # joins the dead worker: its exit code is known
                self.solo = None
            status = _exit_status(process)
            self.crashes_in_a_row += 1
            if self.crashes_in_a_row >= self.max_crashes:
                raise BrokenProcessPool(
                    f"worker processes died on {self.crashes_in_a_row} files in a row "
                    f"(the last, {item.path}: {status}); stopping rather than retrying. "
                    "Run the same command again to resume")
            rows.append(crash_row(self.task, item, status))
        return rows

    def close(self) -> None:
        for pool in (self.pool, self.solo):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


class Recovering:
    """A future whose chunk is recomputed by `recover` if the worker running it died.

    Parameters
    ----------
    future
        Has ``.result()`` and ``.cancel()``.
    chunk : list of Item
    died : exception type
        What ``future.result()`` raises when the worker died.
    recover : callable
        ``recover(chunk)`` -> the chunk's rows, computed so that a file that
        kills its worker gets a :func:`crash_row`.
    """

    def __init__(self, future, chunk: list[Item], died: type[BaseException], recover):
        self.future, self.chunk, self.died, self.recover = future, chunk, died, recover

    def result(self) -> list[list[str]]:
        try:
            return self.future.result()
        except self.died:
            return self.recover(self.chunk)

    def cancel(self) -> bool:
        return self.future.cancel()


def crash_row(task: Task, item: Item, status: str) -> list[str]:
    """The error row of a file whose worker process died while processing it."""
    message = f"WorkerCrash: worker process died while processing this file ({status})"
    return _head(item) + ["error", message] + [""] * len(task.columns)


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


def make_engine(jobs: int | None = None, *, engine: str = "local", scheduler: str | None = None) -> Engine:
    """The engine of a run: local (serial for 1 job, a process pool otherwise) or Dask.

    Parameters
    ----------
    jobs : int, optional
        Number of worker processes; all usable CPUs when None.  With Dask,
        the workers of the local cluster (not allowed with `scheduler`).
    engine : {"local", "dask"}
        ``"dask"`` needs the ``[dask]`` extra.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); without
        it, the Dask engine starts a cluster on this machine.
    """
    if engine not in ("local", "dask"):
        raise ConfigError(f"engine must be 'local' or 'dask', got {engine!r}")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    if engine == "dask":
        from pipeline.dask_engine import DaskEngine

        return DaskEngine(scheduler, jobs=jobs)
    if scheduler is not None:
        raise ConfigError("--scheduler needs --engine dask")
    jobs = pool_size(jobs)
    return SerialEngine() if jobs == 1 else ProcessEngine(jobs)


# --------------------------------------------------------------------------
# Output: atomic writes, journal, resume


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **kwargs):
    """Open a temporary file next to `path`; on success fsync it and rename it onto `path`.

    Readers see either the old file or the complete new one, never a partial
    file; on an exception the temporary file is removed.

    Parameters
    ----------
    path : str or os.PathLike
    mode : {"w", "wb"}
    **kwargs
        Passed to :func:`open` (``newline``, ``encoding``).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_ITEM_COLUMNS = ["path", "label", "group", "status", "error"]
# Strict UTF-8: rows hold names in the escaped form of pipeline.names, so
# that every output is readable by any UTF-8 reader.
_JOURNAL_TEXT = {"newline": "", "encoding": "utf-8"}


def _journal_paths(output: Path) -> tuple[Path, Path]:
    return output.with_name(output.name + ".partial.csv"), output.with_name(output.name + ".partial.json")


def _drop_incomplete_tail(journal: Path) -> None:
    """Truncate the journal after its last newline: a killed writer may leave half a row."""
    with open(journal, "rb+") as f:
        end = f.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                f.truncate(start + newline + 1)
                return
            end = start
        f.truncate(0)


def _resume(journal: Path, header: list[str], items: Sequence[Item]) -> int:
    """Keep the valid prefix of an interrupted run's journal; return its row count.

    A row is kept while it has the right number of fields and belongs to the
    input at its position; the journal is rewritten to just the kept rows.
    """
    _drop_incomplete_tail(journal)
    kept = 0
    tmp = journal.with_name(journal.name + ".tmp")
    with open(journal, **_JOURNAL_TEXT) as src, \
            open(tmp, "w", **_JOURNAL_TEXT) as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        if next(reader, None) == header:
            writer.writerow(header)
            for row in reader:
                if kept >= len(items) or len(row) != len(header) or row[0] != escape_path(items[kept].path):
                    break
                writer.writerow(row)
                kept += 1
    os.replace(tmp, journal)
    return kept


@dataclass
class RunSummary:
    """What a batch run did with its inputs.

    Attributes
    ----------
    output : pathlib.Path
    processed : int
        Inputs with a result row (including rows reused from an interrupted run).
    failed : int
        Inputs with an error row.
    skipped : list of str
        Files of the source folder that are not images, left out.
    resumed : int
        Rows reused from an interrupted run.
    errors : list of str
        ``"path: error"`` of the first failed inputs (at most 100).
    """

    output: Path
    processed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    resumed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        # Every file is counted once: the parts add up to the total.
        text = (f"{self.processed + self.failed + len(self.skipped)} files: {self.processed} processed, "
                f"{self.failed} failed, {len(self.skipped)} skipped (not images)")
        if self.resumed:
            text += f"; {self.resumed} rows reused from the interrupted run"
        return text


class _Progress:
    """A tqdm bar on a terminal, a log line every few seconds otherwise, or nothing."""

    def __init__(self, total: int, initial: int, desc: str, quiet: bool, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.desc, self.quiet = total, initial, desc, quiet
        self.bar = None
        self.last = time.monotonic()
        if not quiet and self.stream.isatty():
            from tqdm import tqdm  # here: only a terminal shows a bar, and the import takes time

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="file", file=self.stream)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif not self.quiet and (time.monotonic() - self.last > 5 or self.done == self.total):
            self.last = time.monotonic()
            print(f"{self.desc}: {self.done}/{self.total} files", file=self.stream, flush=True)

    def write(self, message: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


#: Inputs per chunk sent to a worker: enough that the messages cost nothing
#: next to the images (~0.1 ms against ~20 ms per image), few enough that the
#: first rows arrive early and that at the end of a run a worker waits for
#: the others' last chunks briefly (8 images: 0.15 s at most).
CHUNK_SIZE = 8


def _chunked(items: Sequence[Item], size: int) -> Iterator[list[Item]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def run_batch(task: Task, source, output, *, jobs: int | None = None, engine: Engine | None = None,
              chunk_size: int = CHUNK_SIZE, quiet: bool = False, desc: str = "texture",
              skipped: Sequence[str] = ()) -> RunSummary:
    """Run `task` over every input of `source` and write one row per input to `output`.

    Parameters
    ----------
    task : Task
        :class:`ExtractTask` or :class:`PredictTask`.
    source : str or os.PathLike or list of Item
        Folder tree or CSV file (see :func:`list_inputs`), or items already
        listed (at least one).
    output : str or os.PathLike
        ``.csv`` or ``.parquet`` (needs the ``[parquet]`` extra).  Written
        atomically once every input is accounted for.
    jobs : int, optional
        Worker processes; all usable CPUs when None.  Ignored when `engine` is given.
    engine : Engine, optional
        Where the chunks run; ``make_engine(jobs)`` by default.
    chunk_size : int, default CHUNK_SIZE (8)
        Inputs per task sent to a worker.
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

    Notes
    -----
    If the run is interrupted, ``OUTPUT.partial.csv`` keeps the rows written
    so far; the same call resumes from it and produces the same output as an
    uninterrupted run.
    """
    output = Path(output)
    if output.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"{output}: output must end in .csv or .parquet")
    if output.suffix.lower() == ".parquet":
        _require_pyarrow()
    if isinstance(source, (str, os.PathLike)):
        items, skipped = list_inputs(source)
    else:
        items, skipped = list(source), list(skipped)
        if not items:
            raise DatasetError("no input to run")
    engine = make_engine(jobs) if engine is None else engine
    output.parent.mkdir(parents=True, exist_ok=True)
    header = _ITEM_COLUMNS + list(task.columns)
    journal, journal_meta = _journal_paths(output)
    signature = task.signature()

    done = 0
    if journal.exists() and journal_meta.exists():
        with contextlib.suppress(ValueError, OSError):
            if json.loads(journal_meta.read_text()).get("signature") == signature:
                done = _resume(journal, header, items)
    if done == 0:
        journal_meta.write_text(json.dumps({"signature": signature}))
        with open(journal, "w", **_JOURNAL_TEXT) as f:
            csv.writer(f, lineterminator="\n").writerow(header)

    summary = RunSummary(output, skipped=skipped, resumed=done)
    # Count what the resumed prefix holds, so the summary covers every input.
    if done:
        with open(journal, **_JOURNAL_TEXT) as f:
            reader = csv.reader(f)
            next(reader)
            for row in reader:
                _account(summary, row, None)

    progress = _Progress(len(items), done, desc, quiet)
    for path in skipped:
        progress.write(f"skipped (not an image): {escape_path(path)}")
    try:
        with open(journal, "a", **_JOURNAL_TEXT) as f:
            writer = csv.writer(f, lineterminator="\n")
            for rows in engine.map_chunks(task, _chunked(items[done:], chunk_size)):
                writer.writerows(rows)
                f.flush()
                for row in rows:
                    _account(summary, row, progress)
                progress.update(len(rows))
            os.fsync(f.fileno())
    finally:
        progress.close()

    if output.suffix.lower() == ".parquet":
        with atomic_write(output, "wb") as f:
            _csv_to_parquet(journal, f, task)
        journal.unlink()
    else:
        os.replace(journal, output)
    journal_meta.unlink()
    return summary


def feature_matrix(task: ExtractTask, items: Sequence[Item], *, engine: Engine | None = None,
                   chunk_size: int = CHUNK_SIZE, quiet: bool = True,
                   desc: str = "features") -> tuple[np.ndarray, list[Item], list[str]]:
    """Feature vectors of `items` in memory (for training), bad files left out.

    Parameters
    ----------
    task : ExtractTask
    items : sequence of Item
    engine : Engine, optional
        ``make_engine()`` (all usable CPUs) by default.
    chunk_size : int, default CHUNK_SIZE (8)
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
    """
    engine = make_engine() if engine is None else engine
    X, kept, errors = [], [], []
    progress = _Progress(len(items), 0, desc, quiet)
    try:
        for chunk, rows in zip(_chunked(items, chunk_size), engine.map_chunks(task, _chunked(items, chunk_size))):
            for item, row in zip(chunk, rows):
                if row[3] == "ok":
                    X.append(np.array(row[len(_ITEM_COLUMNS):], dtype=np.float64))
                    kept.append(item)
                else:
                    errors.append(_error_line(row))
            progress.update(len(rows))
    finally:
        progress.close()
    return np.array(X, dtype=np.float64).reshape(len(X), len(task.columns)), kept, errors


def _error_line(row: list[str]) -> str:
    """The error of an error row, naming its file."""
    return row[4] if row[0] in row[4] else f"{row[0]}: {row[4]}"


def _account(summary: RunSummary, row: list[str], progress: _Progress | None) -> None:
    if row[3] == "ok":
        summary.processed += 1
        return
    summary.failed += 1
    message = _error_line(row)
    if len(summary.errors) < 100:
        summary.errors.append(message)
    if progress is not None:
        progress.write(f"failed: {message}")


def _require_pyarrow():
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        from pipeline.extras import install_hint
        raise ConfigError(f"Parquet output needs pyarrow: {install_hint('parquet')}") from None


def _csv_to_parquet(journal: Path, f, task: Task) -> None:
    """Stream the finished journal into Parquet, a few thousand rows at a time."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = _ITEM_COLUMNS + [c for c in task.columns if c in task.text_columns]
    numeric = [c for c in task.columns if c not in task.text_columns]
    schema = pa.schema([(c, pa.string() if c in text else pa.float64()) for c in _ITEM_COLUMNS + task.columns])
    with pq.ParquetWriter(f, schema) as writer:
        for chunk in pd.read_csv(journal, dtype=dict.fromkeys(text, "string"), keep_default_na=False,
                                 chunksize=4096):
            # Error rows hold empty strings where the numbers would be.
            chunk[numeric] = chunk[numeric].apply(pd.to_numeric, errors="coerce")
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
