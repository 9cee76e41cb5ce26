"""Atomic file writes: readers see the old file or the complete new one, never a part.

Every file ``texture`` writes for a user (batch outputs, model files, report
tables and pictures, feature-cache entries) goes through :func:`atomic_write`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **kwargs):
    """Open a temporary file next to `path`; on success fsync it and rename it onto `path`.

    Readers see either the old file or the complete new one, never a partial
    file; on an exception the temporary file is removed.  The new file gets
    the permissions of a plain ``open(path, "w")``: read-write for whoever
    the umask allows (a temporary file alone would be private to its owner).

    Parameters
    ----------
    path : str or os.PathLike
    mode : {"w", "wb"}
    **kwargs
        Passed to :func:`open` (``newline``, ``encoding``).

    Examples
    --------
    >>> with atomic_write("table.csv", "w", newline="") as f:   # doctest: +SKIP
    ...     f.write("a,b\\n")
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with open(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
