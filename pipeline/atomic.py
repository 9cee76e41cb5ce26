"""Atomic file writes: readers see the old file or the complete new one, never a part.

Every file ``texture`` writes for a user (batch outputs, model files, report
tables and pictures, feature-cache entries) goes through :func:`atomic_write`.
Within :func:`tracking_created`, the files a run creates (rather than
replaces) are noted by name, so that a failed run can remove what it added
and nothing else (:func:`note_created` for writers that do not go through
:func:`atomic_write`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "tracking_created", "note_created"]

# The files created within the innermost tracking_created(), or None outside it.
_created = contextvars.ContextVar("texture_created_files", default=None)


@contextlib.contextmanager
def tracking_created():
    """Note, by name, the files this run creates within the block; yields the list they are added to.

    Files created by :func:`atomic_write` or passed to :func:`note_created`,
    in the order they were created; a file that existed before it was
    written is not one of them.  Files other processes write meanwhile are
    never noted: a failed run can remove exactly what it added.
    """
    created = []
    token = _created.set(created)
    try:
        yield created
    finally:
        _created.reset(token)


def note_created(path) -> None:
    """Note `path` as created by this run (see :func:`tracking_created`); nothing outside it."""
    created = _created.get()
    if created is not None:
        created.append(Path(path))


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
        new = not os.path.lexists(path)
        os.replace(tmp, path)
        if new:
            note_created(path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
