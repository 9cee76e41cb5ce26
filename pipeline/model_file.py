"""Model files: named arrays and JSON metadata in one ``.npz``, versioned and checksummed, without pickle.

Both files ``texture`` saves, a :class:`~pipeline.TextureModel` (format
``"texture-model"``) and a bare network (``"texture-bp-network"``, from
``BPClassifier.save``), are written and read here.  A file is a zip of
``.npy`` members:

* the caller's arrays, under the caller's names;
* ``metadata``: a JSON text holding the format name and version, the
  version of ``texture`` that wrote it, and the caller's metadata;
* ``sha256``: the SHA-256 over every other member's name, dtype, shape and
  bytes (metadata included), in name order.

Reading refuses, with :class:`~texture.errors.ModelFileError` naming the
file, anything that is not such a file of the expected format and version,
or whose content does not match its checksum (truncated, edited, swapped).
It reads the zip's directory and each member's array header before any
data: a member that declares more bytes than a model can hold, or an array
larger than its member, is refused before anything is decompressed or
allocated, and object arrays (pickles) are never read.  The checksum
detects corruption and careless edits; it is not a signature against a
deliberate forger, so the callers still validate the content they rebuild.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile

import numpy as np

import texture
from pipeline.atomic import atomic_write
from texture.errors import ModelFileError

__all__ = ["VERSIONS", "READABLE", "save", "load", "digest"]

#: Format name -> the version this ``texture`` writes; bump on any incompatible change.
#: The network's format is 2 since its metadata is covered by the checksum; its version 1 (a
#: ``__header__`` member holding the metadata and one checksum per array) is still read.
#: The texture model's format is 2 since it holds a calibration temperature, which a
#: reader of version 1 would ignore (its probabilities would silently differ), and 3 since
#: its estimator may be a NetworkEnsemble, which a reader of version 2 does not know.
VERSIONS = {"texture-model": 3, "texture-bp-network": 2}
#: Format name -> the versions of the ``metadata`` layout this ``texture`` reads: a texture
#: model of version 1 is version 2 without calibration (its reader takes it as uncalibrated),
#: one of version 2 is version 3 with one network.
#: (A network of version 1 has a layout of its own, read apart.)
READABLE = {"texture-model": (1, 2, 3), "texture-bp-network": (2,)}

_METADATA, _CHECKSUM = "metadata", "sha256"
_NETWORK_V1_HEADER = "__header__"
_NOT_A_MODEL = "not a texture model file (a model is the .npz file that texture train writes)"
_ENVELOPE = ("format", "format_version", "texture_version")
#: Bounds on what a member may declare: far above any real model (the default
#: model holds about 60 kB of arrays and 10 kB of metadata), far below what
#: would exhaust a machine's memory.
MAX_METADATA_BYTES = 16 * 2**20
MAX_TOTAL_BYTES = 256 * 2**20
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _packed(kind: str, meta: dict, arrays: dict) -> dict[str, np.ndarray]:
    """The members of a file, without the checksum."""
    if kind not in VERSIONS:
        raise ValueError(f"unknown model file format {kind!r}")
    clash = set(meta) & set(_ENVELOPE)
    if clash or {_METADATA, _CHECKSUM} & set(arrays):
        raise ValueError(f"reserved names in a model file's content: {sorted(clash)}")
    header = {"format": kind, "format_version": VERSIONS[kind], "texture_version": texture.__version__, **meta}
    return {**{name: np.asarray(a) for name, a in arrays.items()},
            _METADATA: np.array(json.dumps(header, sort_keys=True))}


def _checksum(members: dict[str, np.ndarray]) -> str:
    """SHA-256 over every member's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(members):
        a = np.ascontiguousarray(members[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def digest(kind: str, meta: dict, arrays: dict) -> str:
    """SHA-256 of the content :func:`save` would write (what its ``sha256`` member records).

    Parameters
    ----------
    kind : str
        A format of :data:`VERSIONS`.
    meta : dict
        JSON-serialisable metadata (without the format keys, which are added).
    arrays : dict of str to ndarray

    Returns
    -------
    str
        64 hexadecimal digits; equal for equal content, whenever it was saved.
    """
    return _checksum(_packed(kind, meta, arrays))


def save(path, kind: str, meta: dict, arrays: dict) -> None:
    """Write `arrays` and `meta` to `path` atomically, as a file of format `kind`.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; written under exactly this name (no suffix added).
        Readers see the old file or the complete new one (see
        :func:`pipeline.atomic.atomic_write`).
    kind : str
        A format of :data:`VERSIONS`.
    meta : dict
        JSON-serialisable metadata.
    arrays : dict of str to ndarray
        Numeric or fixed-width string arrays (no object dtype).
    """
    members = _packed(kind, meta, arrays)
    members[_CHECKSUM] = np.array(_checksum(members))
    with atomic_write(path, "wb") as f:
        np.savez(f, **members)


def load(path, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a file written by :func:`save` as format `kind`.

    Parameters
    ----------
    path : str or os.PathLike
    kind : str
        The format expected, one of :data:`VERSIONS`.

    Returns
    -------
    meta : dict
        The metadata saved, with ``format``, ``format_version`` and
        ``texture_version`` (the version that wrote the file).
    arrays : dict of str to ndarray

    Raises
    ------
    ModelFileError
        The file is missing, not a readable zip of arrays, too large, of
        another format or version, or does not match its checksum.
    """
    try:
        # Our own file object: closed however the zip turns out to be damaged.
        with open(path, "rb") as file:
            # An .npz is a zip.  Anything else (a CSV, an image, an .npy given by mistake) is
            # named as what it is not, never read further.
            if file.read(2) != b"PK":
                raise ModelFileError(_NOT_A_MODEL)
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                members = _check_directory(archive)
                if _NETWORK_V1_HEADER in members:
                    if kind != "texture-bp-network":
                        raise ModelFileError(f"a texture-bp-network file, not a {kind} file")
                    return _read_network_format_1(archive, members)
                arrays = {_METADATA: _read_array(archive, members.pop(_METADATA))}
                meta = _parse_metadata(arrays[_METADATA], kind)
                arrays.update({name: _read_array(archive, info) for name, info in members.items()})
    except FileNotFoundError:
        raise ModelFileError("no such model file", path=path) from None
    except ModelFileError as exc:
        raise ModelFileError(exc.message, path=path) from None
    except Exception as exc:  # zipfile and numpy raise many types for a damaged file
        raise ModelFileError(f"not a readable model file ({type(exc).__name__}: {exc})", path=path) from None
    if _CHECKSUM not in arrays:
        raise ModelFileError("not a texture model file (no checksum of its metadata and arrays)", path=path)
    recorded = str(arrays.pop(_CHECKSUM))
    if _checksum(arrays) != recorded:
        raise ModelFileError("checksum mismatch: the file was modified or damaged after saving", path=path)
    del arrays[_METADATA]
    return meta, arrays


def _check_directory(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members by array name, once their declared sizes are known to be sane."""
    infos = archive.infolist()
    names = [info.filename.removesuffix(".npy") for info in infos]
    if len(set(names)) != len(names) or any(not info.filename.endswith(".npy") for info in infos):
        raise ModelFileError("not a texture model file (members other than arrays, or repeated)")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise ModelFileError(f"its arrays declare {total} bytes, more than a model holds "
                             f"(at most {MAX_TOTAL_BYTES})")
    members = dict(zip(names, infos))
    metadata = _NETWORK_V1_HEADER if _NETWORK_V1_HEADER in members else _METADATA
    if metadata not in members:
        raise ModelFileError("not a texture model file (no metadata)")
    if members[metadata].file_size > MAX_METADATA_BYTES:
        raise ModelFileError(f"its metadata declares {members[metadata].file_size} bytes "
                             f"(at most {MAX_METADATA_BYTES})")
    return members


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One member's array, its header checked against the member's size before any data is read."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in _NPY_HEADERS:
            raise ModelFileError(f"array {info.filename} has an unsupported .npy version {version}")
        shape, _, dtype = _NPY_HEADERS[version](member)
        if dtype.hasobject:
            raise ModelFileError(f"{_NOT_A_MODEL}: array {info.filename} holds Python objects, never loaded")
        if math.prod(shape) * dtype.itemsize > info.file_size:
            raise ModelFileError(f"array {info.filename} declares shape {shape} of {dtype}, "
                                 f"larger than its {info.file_size} bytes")
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _parse_metadata(array: np.ndarray, kind: str) -> dict:
    """The metadata, checked (format, version) before any other member is read."""
    try:
        meta = json.loads(str(array))
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), str) or meta["format"] not in VERSIONS:
        raise ModelFileError("not a texture model file")
    if meta["format"] != kind:
        raise ModelFileError(f"a {meta['format']} file, not a {kind} file")
    if meta.get("format_version") not in READABLE[kind]:
        raise ModelFileError(
            f"{kind} file format version {meta.get('format_version')!r} (saved by texture "
            f"{meta.get('texture_version')}) is not supported; this texture reads version "
            f"{' or '.join(map(str, READABLE[kind]))}")
    return meta


def _read_network_format_1(archive: zipfile.ZipFile, members: dict) -> tuple[dict, dict[str, np.ndarray]]:
    """A texture-bp-network file of version 1: a JSON ``__header__`` (format, version, metadata) and
    one SHA-256 per array, over its dtype, shape and bytes."""
    header = json.loads(_read_array(archive, members.pop(_NETWORK_V1_HEADER)).tobytes().decode())
    if not isinstance(header, dict) or header.get("format") != "texture-bp-network" \
            or header.get("format_version") != 1 or not isinstance(header.get("meta"), dict):
        raise ModelFileError("not a texture model file")
    arrays = {name: _read_array(archive, info) for name, info in members.items()}
    checksums = header.get("sha256")
    if not isinstance(checksums, dict) or set(checksums) != set(arrays):
        raise ModelFileError("arrays are missing or were added since the file was saved")
    for name, a in arrays.items():
        h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
        if h.hexdigest() != checksums[name]:
            raise ModelFileError(f"checksum mismatch: array {name!r} was modified or damaged after saving")
    return {"format": "texture-bp-network", "format_version": 1, "texture_version": None, **header["meta"]}, arrays
