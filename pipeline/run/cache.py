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

    The vector of a masked region is keyed by the contents of both the image
    and the mask file: a changed mask is a new entry.

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

    def get_or_compute(self, path: str, compute, mask: str | None = None) -> np.ndarray:
        """The cached vector of the file at `path` (and its `mask` file), or ``compute()``, stored for next time."""
        files = [path] if mask is None else [path, mask]
        # Reading a FIFO or a device here would block or never end.
        if not all(os.path.isfile(name) for name in files):
            return compute()  # let the reader raise its own, clearer, error
        try:
            contents = [Path(name).read_bytes() for name in files]
        except OSError:
            return compute()
        # The image's bytes alone without a mask (the keys of earlier versions);
        # with one, both contents' digests, so that no two pairs share a key.
        data = contents[0] if mask is None else b"".join(hashlib.sha256(c).digest() for c in contents) + b"mask"
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
