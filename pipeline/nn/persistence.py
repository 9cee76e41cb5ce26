"""Save arrays and JSON metadata to one ``.npz`` file, without pickle.

The file holds the arrays plus a ``__header__`` entry: UTF-8 JSON with the
format name and version, the caller's metadata, and the SHA-256 of every
array (over its dtype, shape and bytes).  Loading refuses, with
:class:`~texture.errors.ModelFileError`, a file that is not a readable zip,
holds object arrays (``allow_pickle=False``), has another format version, or
whose arrays do not match their checksums (truncated, edited or swapped).
The checksums detect corruption and careless edits; they are not a
signature against a deliberate forger.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

import numpy as np

from texture.errors import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "save_npz", "load_npz", "read_npz"]

FORMAT = "texture-bp-network"
#: Bump when the layout of saved files changes; older readers then refuse newer files.
FORMAT_VERSION = 1
_HEADER = "__header__"


def _digest(array):
    """SHA-256 of an array's dtype, shape and C-ordered bytes."""
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def save_npz(path, meta, arrays):
    """Write ``arrays`` and JSON-serialisable ``meta`` to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; written under exactly this name (no suffix added).
    meta : dict
        JSON-serialisable metadata.
    arrays : dict of str to ndarray
        Numeric or fixed-width string arrays (no object dtype).
    """
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "meta": meta,
        "sha256": {name: _digest(a) for name, a in arrays.items()},
    }
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    # Write next to the target then rename, so a crash never leaves half a model.
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as f:
        np.savez(f, **{_HEADER: encoded}, **arrays)
    os.replace(f.name, path)


def read_npz(path) -> dict:
    """The arrays of an ``.npz`` file, read without pickle (any model file's first step).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    arrays : dict of str to ndarray

    Raises
    ------
    ModelFileError
        The file is missing, not an ``.npz`` file (such as a CSV or an image
        given by mistake), damaged, or holds Python objects.
    """
    not_a_model = "not a texture model file (a model is the .npz file that texture train writes)"
    try:
        # Our own file object: np.load leaks the one it opens when the zip is damaged.
        with open(path, "rb") as file:
            # An .npz is a zip.  np.load would take anything else for a
            # pickle and suggest allow_pickle=True: never do that for a model.
            if file.read(2) != b"PK":
                raise ModelFileError(not_a_model, path=path)
            file.seek(0)
            with np.load(file, allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise ModelFileError("no such model file", path=path) from None
    except ModelFileError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # object arrays: Python objects, never loaded
            raise ModelFileError(f"{not_a_model}: it holds Python objects", path=path) from None
        raise ModelFileError(f"not a readable model file (ValueError: {exc})", path=path) from None
    except Exception as exc:  # noqa: BLE001 - zipfile and numpy raise many types for a damaged file
        # MemoryError among them: an array header claiming a huge shape.
        raise ModelFileError(f"not a readable model file ({type(exc).__name__}: {exc})", path=path) from None


def load_npz(path):
    """Read a file written by :func:`save_npz` and verify it.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    meta : dict
    arrays : dict of str to ndarray

    Raises
    ------
    ModelFileError
        If the file is missing, unreadable, of another format or version,
        or an array does not match its checksum.
    """
    arrays = read_npz(path)
    try:
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except (KeyError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ModelFileError(f"not a {FORMAT} file (no readable header: {type(exc).__name__})", path=path) from None

    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"not a {FORMAT} file", path=path)
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"format version {header.get('format_version')!r} cannot be read by this version "
            f"of texture, which reads version {FORMAT_VERSION}", path=path,
        )
    checksums = header.get("sha256", {})
    if set(checksums) != set(arrays):
        raise ModelFileError("arrays are missing or were added since the file was saved", path=path)
    for name, array in arrays.items():
        if _digest(array) != checksums[name]:
            raise ModelFileError(f"array {name!r} does not match its checksum (corrupted or edited)", path=path)
    return header["meta"], arrays
