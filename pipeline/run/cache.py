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
    """Feature vectors on disk keyed by (file content sha256, task signature).

    Parameters
    ----------
    directory : str or os.PathLike
        The cache's root; each task signature gets a sub-folder of its own.
    signature : str
        The task's :meth:`~pipeline.run.tasks.Task.signature`.
    """

    def __init__(self, directory, signature: str):
        self.directory = Path(directory, signature[:16])

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
        with contextlib.suppress(OSError, ValueError):
            return np.load(entry, allow_pickle=False)
        features = compute()
        entry.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(entry, "wb") as f:
            np.save(f, features, allow_pickle=False)
        return features
