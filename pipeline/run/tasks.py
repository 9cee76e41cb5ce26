"""Tasks: what a batch run computes for each input, and the typed rows it gives.

A :class:`Task` is shipped once to each worker; there it turns a chunk of
items into one :class:`Row` per item, built by :meth:`Task.ok_row` from the
item's values or by :meth:`Task.error_row` from the error it raised: the one
place where rows are made.  Values are written as text, floats as their
shortest round-trip ``repr``, so that a resumed output is byte-identical to
an uninterrupted one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

import texture
from pipeline.augment import COPIES, N_TRAINING_COPIES, copy_features
from pipeline.names import escape_path, printable, unescape_path
from pipeline.run.cache import FeatureCache
from pipeline.run.file_warnings import FileWarnings
from pipeline.run.inputs import Item
from pipeline.run.memory import PEAK_BYTES_PER_PIXEL, bytes_per_pixel
from texture import FeatureConfig, FeatureExtractor
from texture.io import open_image
from texture.errors import ConfigError, FlatChromaWarning

__all__ = ["ITEM_COLUMNS", "Row", "Task", "ExtractTask", "TrainingCopiesTask", "PredictTask", "WindowFeaturesTask",
           "MapTask"]

#: The columns every output starts with, before the task's own.
ITEM_COLUMNS = ["path", "label", "group", "status", "error"]


class Row(NamedTuple):
    """One output row: the input, whether it succeeded, and the task's values as text."""

    path: str
    label: str
    group: str
    status: str  # "ok" or "error"
    error: str  # "" on an ok row
    values: tuple  # one str per Task.columns, empty on an error row (WindowFeaturesTask: two arrays)
    #: The kinds of :class:`~texture.errors.TextureWarning` computing the row raised about its file (not
    #: written: the run says them once, see :mod:`pipeline.run.file_warnings`).
    warnings: tuple = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def cells(self) -> list[str]:
        """The row as CSV cells, in the order of ``ITEM_COLUMNS + task.columns``.

        Valid UTF-8 whatever the file names: the path in the escaped form of
        :mod:`pipeline.names`, other text printable.
        """
        return [escape_path(self.path), printable(self.label), printable(self.group), self.status,
                printable(self.error), *self.values]

    @classmethod
    def from_cells(cls, cells: Sequence[str]) -> "Row":
        """The row of CSV cells written by :meth:`cells` (its path the exact file name again)."""
        return cls(unescape_path(cells[0]), *cells[1:len(ITEM_COLUMNS)], tuple(cells[len(ITEM_COLUMNS):]))

    def error_line(self) -> str:
        """The error of an error row, naming its file (printable, as in the output)."""
        line = self.error if self.path in self.error else f"{self.path}: {self.error}"
        return printable(line)


def _format(value) -> str:
    """Serialise one cell: floats as their shortest round-trip repr, None as empty, text as valid UTF-8."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return printable(str(value))


class Task:
    """What to compute for each input; shipped once to each worker.

    Subclasses set :attr:`columns` (the result columns after
    :data:`ITEM_COLUMNS`) and implement :meth:`compute`, which turns one
    chunk of items into one result per item: a sequence of values for
    :attr:`columns`, or the exception that item raised.
    """

    columns: list[str]
    #: Result columns holding text; the others are numbers (for typed Parquet output).
    text_columns: frozenset[str] = frozenset()
    #: Result columns holding whole numbers (integers in Parquet output).
    integer_columns: frozenset[str] = frozenset()
    #: Whether every input has exactly one output line (see :meth:`lines`).
    one_line_per_input: bool = True
    #: Peak bytes per pixel of an input, from which the process engine decides
    #: how many large inputs run at once (:mod:`pipeline.run.memory`).
    peak_bytes_per_pixel: int = PEAK_BYTES_PER_PIXEL

    @property
    def header(self) -> list[str]:
        """The output's columns."""
        return ITEM_COLUMNS + list(self.columns)

    def signature(self) -> str:
        """A digest of everything that changes the rows: a run resumes only a journal of the same signature."""
        raise NotImplementedError

    def settings(self) -> dict:
        """The settings behind :meth:`signature`, as JSON, to say what changed when a resume is refused."""
        return {}

    def setup(self) -> None:
        """Prepare per-process state; called once in each worker."""

    def compute(self, items: Sequence[Item]) -> list:
        """One result per item: values for :attr:`columns`, or the exception it raised."""
        raise NotImplementedError

    def ok_row(self, item: Item, values) -> Row:
        """The row of an item whose values were computed."""
        return Row(item.path, item.label, item.group, "ok", "", tuple(_format(v) for v in values))

    def error_row(self, item: Item, error: str) -> Row:
        """The row of an item that failed; `error` says why (``"Type: message"``)."""
        return Row(item.path, item.label, item.group, "error", error, ("",) * len(self.columns))

    def lines(self, row: Row) -> Iterable[list[str]]:
        """The output lines of one input's row, as CSV cells: the row itself, for most tasks."""
        return [row.cells()]

    def opens_input(self, cells: Sequence[str]) -> bool:
        """Whether an output line is the first of its input's lines (every line, with one line per input)."""
        return True

    def row_of(self, lines: Sequence[Sequence[str]]) -> Row:
        """The row of one input, from its output lines (the inverse of :meth:`lines`)."""
        return Row.from_cells(lines[0])

    def rows(self, items: Sequence[Item]) -> list[Row]:
        """Map a chunk of items to rows, one per item (an item that failed at listing is not computed).

        The :class:`~texture.errors.TextureWarning` raised while computing
        are not shown here: each comes back with the ok row of the file it
        names (:attr:`Row.warnings`), for the run to say once (an error row
        has no features to warn about).  One naming no input of the chunk is
        raised again.
        """
        listed = [item for item in items if not item.error]
        caught = FileWarnings()
        with caught.collect():
            results = iter(self.compute(listed) if listed else ())
        rows = []
        for item in items:
            if item.error:
                rows.append(self.error_row(item, item.error))
                continue
            result, said = next(results), caught.pop(item.path)
            if isinstance(result, BaseException):
                rows.append(self.error_row(item, f"{type(result).__name__}: {result}"))
            else:
                rows.append(self.ok_row(item, result)._replace(warnings=said))
        caught.warn()
        return rows


def _digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


@functools.lru_cache(maxsize=8)
def _values_fingerprint(config, mapped=False) -> str:
    """A digest of the values the installed feature code computes for `config`, on a seeded probe image.

    The version number alone does not tell a cache entry or a journal
    written by other code (a fix between releases, an edited checkout) from
    one this code would write: the values themselves do.  The probe is RGB
    in colour, so that the chroma features count; `mapped` digests the
    probe's :func:`texture.feature_map` (window 32, step 16) instead of its
    :class:`~texture.FeatureExtractor` vector.  Milliseconds, once per
    process and configuration.
    """
    side = max(64, 2 * config.min_image_size)
    shape = (side, side, 3) if config.reads_colour else (side, side)
    probe = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", texture.TextureWarning)
        if mapped:
            window = max(32, config.min_image_size)
            values = texture.feature_map(probe, window, window // 2, config).values
        else:
            values = FeatureExtractor(config).transform(probe)
    # Six significant digits: other code shows, a machine's last-bit rounding (SIMD paths) does not.
    return hashlib.sha256(" ".join(f"{v:.6g}" for v in np.ravel(values).tolist()).encode()).hexdigest()


def _config_digest(config, **extra) -> str:
    return _digest({"config": config.to_dict(), "texture": texture.__version__,
                    "values": _values_fingerprint(config), **extra})


class ExtractTask(Task):
    """Compute the named feature vector of each image.

    Parameters
    ----------
    config : texture.FeatureConfig, optional
        Extractor settings; the default configuration when None.
    cache_dir : str or os.PathLike, optional
        Cache feature vectors here, keyed by file content and configuration
        (see :class:`pipeline.run.cache.FeatureCache`).
    max_pixels : int, optional
        Largest image read, in pixels (see :func:`texture.read_image`); a
        larger one gets an error row.
    """

    def __init__(self, config=None, cache_dir=None, max_pixels=None):
        self.config = FeatureConfig() if config is None else config
        # Absolute: workers elsewhere (a cluster) do not share our working directory.
        self.cache_dir = None if cache_dir is None else os.path.abspath(cache_dir)
        self.max_pixels = max_pixels
        self.columns = list(FeatureExtractor(self.config).names)
        self._extractor = None
        self._cache = None

    def settings(self) -> dict:
        return {"task": type(self).__name__, "config": self.config.to_dict(), "texture": texture.__version__,
                "values": _values_fingerprint(self.config), "max_pixels": self.max_pixels}

    @property
    def peak_bytes_per_pixel(self) -> int:
        return bytes_per_pixel(self.config)

    def signature(self) -> str:
        return _digest(self.settings())

    def cache_key(self) -> str:
        """What the cached vectors depend on: the extractor's settings, its code's values and the pixel limit.

        The limit is part of the key so that it applies before the cache is
        read: an image a lower limit refuses is never served from a run that
        accepted it.  The digest of the values the code computes
        (:func:`_values_fingerprint`) keeps entries of other feature code out.
        """
        extra = {} if self.max_pixels is None else {"max_pixels": self.max_pixels}
        return _config_digest(self.config, **extra)

    def setup(self) -> None:
        self._extractor = FeatureExtractor(self.config)
        self._cache = None if self.cache_dir is None else FeatureCache(self.cache_dir, self.cache_key(),
                                                                        len(self.columns))

    def __getstate__(self):
        # Workers rebuild the extractor in setup(); ship only the settings.
        return {**self.__dict__, "_extractor": None, "_cache": None}

    def _vector(self, path: str, mask) -> np.ndarray:
        """The values of the image file at `path`, or of the region inside its `mask` (a file, or None).

        The extractor reads the file itself: in colour it then holds the stored pixels, not the whole
        working colour image, and drops them before the grey features (``FeatureExtractor.transform``).
        """
        return self._extractor.transform(path, path=path, mask=mask, max_pixels=self.max_pixels)

    def features(self, path: str, mask: str = "") -> np.ndarray:
        """The values of one image file, or of the region of its mask file (through the cache when there is one)."""
        mask = mask or None
        computed = []

        def compute():
            computed.append(path)
            return self._vector(path, mask)

        if self._cache is None:
            return compute()
        values = self._cache.get_or_compute(path, compute, mask)
        # A grey image's vector (or its copies' vectors) served from the cache is warned about as when computed.
        blocks = values.reshape(-1, len(self._extractor.names))
        if not computed and any(map(self._extractor.has_flat_chroma, blocks)):
            warnings.warn(FlatChromaWarning(path), stacklevel=2)
        return values

    def compute(self, items):
        results = []
        for item in items:
            try:
                results.append(self.features(item.path, item.mask))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                # Every input gets a row; the error row names the exception type.
                results.append(exc)
        return results


class TrainingCopiesTask(ExtractTask):
    """The feature vectors of each image's training copies, side by side.

    The copies are those of :func:`pipeline.augment.training_copies`; the
    columns are ``copy0:<name>``, ``copy1:<name>``, ... (one block per copy,
    in copy order), so that a row reshaped to ``(copies, features)`` is the
    image's block of :func:`pipeline.augment.copy_features`.  ``texture
    train`` runs it on the training images.  An image whose shrunk copy is
    too small for the extractor gets an error row.  Parameters as
    :class:`ExtractTask`.
    """

    def __init__(self, config=None, cache_dir=None, max_pixels=None):
        super().__init__(config, cache_dir, max_pixels)
        self.columns = [f"copy{k}:{name}" for k in range(N_TRAINING_COPIES) for name in self.columns]

    @property
    def peak_bytes_per_pixel(self) -> int:
        return bytes_per_pixel(self.config, copies=True)

    def cache_key(self) -> str:
        # Copies get cache entries of their own, renewed when the copies change.
        return hashlib.sha256((super().cache_key() + json.dumps(COPIES)).encode()).hexdigest()

    def _vector(self, path: str, mask) -> np.ndarray:
        # As stored: each copy is made from a working image made for it alone.
        stored = open_image(path, max_pixels=self.max_pixels)
        return copy_features(self._extractor, stored, path=path, mask=mask).ravel()


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

    def settings(self) -> dict:
        return {**super().settings(), "model": self.model.digest()}

    def cache_key(self) -> str:
        return hashlib.sha256((super().cache_key() + self.model.digest()).encode()).hexdigest()

    def compute(self, items):
        vectors = super().compute(items)
        good = [i for i, v in enumerate(vectors) if not isinstance(v, BaseException)]
        if good:
            # One forward pass for the whole chunk.
            scores = self.model.score_features(np.stack([vectors[i] for i in good]))
            for i, score in zip(good, scores):
                vectors[i] = self.model.score_row(score)
        return vectors


class WindowFeaturesTask(Task):
    """The feature vector of every window of each image: one output line per window.

    The run's accounting stays one :class:`Row` per input (progress, summary,
    resume and exit status count inputs): an ok row's :attr:`Row.values` are
    two arrays, each window's ``row, col, y0, x0, y1, x1`` (int) and its
    features (float32, as :func:`texture.feature_map` gives them), and
    :meth:`lines` writes each window on a line of its own, the features with
    exactly the names of :func:`texture.extract_features`; an error row is
    one line.  The numbers become text only as they are written, line by
    line: a window's text takes ten times the memory of its numbers.  An
    input's lines start at its window ``(0, 0)`` or its error line, which is
    how a resumed journal finds them again (:meth:`opens_input`).

    Parameters
    ----------
    config : texture.FeatureConfig, optional
        Extractor settings, grey or colour.
    window, step : int
        As in :func:`texture.feature_map`; ``step`` defaults to ``window // 2``.
        In colour both must be even (the chroma channels have half the
        resolution).
    max_pixels : int, optional
        Largest image read; a larger one gets an error row.

    Raises
    ------
    ConfigError
        A window or step that is not a positive integer, or not even in colour.
    """

    one_line_per_input = False
    #: The window's place in the grid and its pixel box (``y1, x1`` exclusive), as in ``FeatureMap.to_frame()``.
    GEOMETRY = ["row", "col", "y0", "x0", "y1", "x1"]

    def __init__(self, config=None, window=64, step=None, max_pixels=None):
        self.config = FeatureConfig() if config is None else config
        self.window, self.step, self.max_pixels = window, window // 2 if step is None else step, max_pixels
        # A bad window or step is refused here, not once per image.
        texture.WindowGrid((window, window), window, self.step)
        if self.config.reads_colour and (window % 2 or self.step % 2):
            raise ConfigError(f"colour features per window need an even window and step (the chroma channels "
                              f"have half the resolution), got window {window}, step {self.step}")
        self.columns = self.GEOMETRY + list(FeatureExtractor(self.config).names)
        self.integer_columns = frozenset(self.GEOMETRY)

    def settings(self) -> dict:
        return {"task": type(self).__name__, "config": self.config.to_dict(), "texture": texture.__version__,
                "values": _values_fingerprint(self.config, mapped=True),
                "max_pixels": self.max_pixels, "window": self.window, "step": self.step}

    def signature(self) -> str:
        return _digest(self.settings())

    def compute(self, items):
        results = []
        for item in items:
            try:
                fmap = texture.feature_map(item.path, self.window, self.step, self.config,
                                           max_pixels=self.max_pixels)
                rows, cols = fmap.values.shape[:2]
                where = np.concatenate([np.indices((rows, cols)).transpose(1, 2, 0), fmap.boxes], axis=2)
                results.append((where.reshape(rows * cols, -1), fmap.values.reshape(rows * cols, -1)))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                results.append(exc)
        return results

    def ok_row(self, item: Item, values) -> Row:
        return Row(item.path, item.label, item.group, "ok", "", tuple(values))

    def lines(self, row: Row) -> Iterator[list[str]]:
        if not row.ok:
            yield row.cells()
            return
        first = row._replace(values=()).cells()  # the input's cells, repeated on each of its lines
        geometry, features = row.values
        for where, vector in zip(geometry.tolist(), features):
            yield [*first, *map(str, where), *map(repr, vector.astype(np.float64).tolist())]  # as _format does

    def opens_input(self, cells) -> bool:
        at = len(ITEM_COLUMNS)
        return cells[ITEM_COLUMNS.index("status")] != "ok" or (cells[at], cells[at + 1]) == ("0", "0")

    def row_of(self, lines) -> Row:
        first = Row.from_cells(lines[0])
        if not first.ok:
            return first
        at, n = len(ITEM_COLUMNS), len(self.GEOMETRY)
        geometry = np.array([cells[at:at + n] for cells in lines], dtype=np.intp)
        features = np.array([cells[at + n:] for cells in lines], dtype=np.float64).astype(np.float32)
        return first._replace(values=(geometry, features))


class MapTask(Task):
    """Map each image with a fitted model: picture files per image, one summary row.

    Per image ``<name>``, written atomically into `out_dir`: ``<name>_labels.png``
    (the overlay with its legend), ``<name>_confidence.png`` (heat map of the
    confidence with its colour bar, for a classifier), ``<name>_score.png``
    (heat map of the texture score with its colour bar, where the model has
    one: numeric classes or regression) and ``<name>_map.npz``
    (``label_index``, ``probabilities``, ``confidence``, ``value`` when the
    model has one, ``window``, ``step``, ``shape`` and the class names as
    JSON; no pickle).  ``<name>`` is the
    image's path relative to the run's folder with ``/`` as ``__`` (unique
    within a run).  The row holds the map's size, mean confidence, mean
    value and the area fraction of each class.

    Parameters
    ----------
    model : pipeline.TextureModel
    out_dir : str or os.PathLike
    window, step : int, optional
        As in :meth:`pipeline.TextureModel.score_map`.
    root : str or os.PathLike, optional
        Folder the input paths are named relative to.
    max_pixels : int, optional
    """

    def __init__(self, model, out_dir, window=None, step=None, root=None, max_pixels=None):
        self.model, self.out_dir, self.window, self.step = model, str(out_dir), window, step
        self.root, self.max_pixels = None if root is None else str(root), max_pixels
        classes = list(model.classes_) if model.is_classifier else []
        self.columns = ["rows", "cols", "window", "step", "mean_confidence", "mean_value",
                        *(f"area_{c}" for c in classes)]

    def settings(self) -> dict:
        window, step = self.model.map_geometry(self.window, self.step)
        return {"model": self.model.digest(), "texture": texture.__version__,
                "values": _values_fingerprint(self.model.feature_config_, mapped=True),
                "window": window, "step": step, "max_pixels": self.max_pixels, "out_dir": self.out_dir}

    def signature(self) -> str:
        return _digest(self.settings())

    def name(self, path: str) -> str:
        """The file-name stem of an input's outputs."""
        relative = os.path.relpath(path, self.root) if self.root else os.path.basename(path)
        return os.path.splitext(relative)[0].replace(os.sep, "__").replace("/", "__")

    def compute(self, items):
        from pipeline.atomic import atomic_write
        import cv2

        results = []
        for item in items:
            try:
                tmap = self.model.score_map(item.path, self.window, self.step, max_pixels=self.max_pixels)
                stem = os.path.join(self.out_dir, self.name(item.path))
                arrays = {"window": tmap.grid.window, "step": tmap.grid.step, "shape": np.array(tmap.grid.shape),
                          "classes": json.dumps([str(c) for c in tmap.classes])}
                if tmap.probabilities is not None:
                    arrays.update(label_index=tmap.label_index, probabilities=tmap.probabilities,
                                  confidence=tmap.confidence)
                if tmap.value is not None:
                    arrays["value"] = tmap.value
                with atomic_write(stem + "_map.npz", "wb") as f:
                    np.savez(f, **arrays)
                pictures = {"_labels.png": tmap.overlay()}
                for quantity, suffix in (("confidence", "_confidence.png"), ("value", "_score.png")):
                    if getattr(tmap, quantity) is not None:
                        pictures[suffix] = tmap.heat_map(quantity)
                for suffix, picture in pictures.items():
                    ok, data = cv2.imencode(".png", picture[..., ::-1])  # RGB -> OpenCV's BGR
                    with atomic_write(stem + suffix, "wb") as f:
                        f.write(data.tobytes())
                areas = tmap.area_fractions()
                results.append([tmap.grid.rows, tmap.grid.cols, tmap.grid.window, tmap.grid.step,
                                None if tmap.confidence is None else float(tmap.confidence.mean()),
                                None if tmap.value is None else float(tmap.value.mean()),
                                *(areas[c] for c in areas)])
            except Exception as exc:  # noqa: BLE001 - one input's failure is its error row
                results.append(exc)
        return results

