"""The feature cache of batch runs: vectors on disk, keyed by file content and task settings."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_write

__all__ = ["FeatureCache"]


class FeatureCache:
    """Feature vectors on disk keyed by (file content sha256, task settings).

    An entry is written atomically, and checked when read: one that is not a
    finite float64 vector of the expected length (damaged, truncated, edited)
    is recomputed and rewritten, never served.

    Parameters
    ----------
    directory : str or os.PathLike
        The cache's root; each key gets a sub-folder of its own.
    key : str
        The task's :meth:`~pipeline.run.tasks.ExtractTask.cache_key`.
    size : int
        Length of every vector.
    """

    def __init__(self, directory, key: str, size: int):
        self.directory = Path(directory, key[:16])
        self.size = size

    def _path(self, data: bytes) -> Path:
        digest = hashlib.sha256(data).hexdigest()
        return self.directory / digest[:2] / f"{digest}.npy"

    def get_or_compute(self, path: str, compute) -> np.ndarray:
        """The cached vector of the file at `path`, or ``compute()``, stored for next time."""
        if not os.path.isfile(path):  # reading a FIFO or a device here would block or never end
            return compute()  # let the reader raise its own, clearer, error
        try:
            data = Path(path).read_bytes()
        except OSError:
            return compute()
        entry = self._path(data)
        with contextlib.suppress(Exception):  # numpy raises many types for a damaged file
            cached = np.load(entry, allow_pickle=False)
            if cached.dtype == np.float64 and cached.shape == (self.size,) and np.isfinite(cached).all():
                return cached
        features = compute()
        entry.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(entry, "wb") as f:
            np.save(f, features, allow_pickle=False)
        return features
