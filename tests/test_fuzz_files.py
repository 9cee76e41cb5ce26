"""read_image on files nobody curated: corrupt bytes and odd file-system entries.

Every case must end, quickly, either in a valid working grey image (a flipped
bit in uncompressed pixel data is still an image) or in a
:class:`~texture.TextureError` that names the file, never in a raw Pillow /
OpenCV / OS exception, a crash or a hang.
"""

import io
import os
import sys

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from texture import ImageNotFoundError, ImageReadError, TextureError, read_image
from timeouts import time_limit

# Pillow warns about the corrupt metadata it skips; the outcome is what counts.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SEED = 20261123
ROUNDS = 12  # corrupted variants per (format, corruption); ~0.4 s per case group
TIME_LIMIT = 10  # seconds a single read may take before it counts as a hang


def _encode(pixels, fmt, **options):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _sources():
    """Real, valid files in every format and layout worth corrupting."""
    grey = skdata.camera()[100:164, 200:264]  # 64 x 64, textured
    rgb = skdata.astronaut()[:48, :64]
    rgba = np.dstack([rgb, rgb[..., 0]])
    grey16 = grey.astype(np.uint16) * 257
    return {
        "png-grey": _encode(grey, "PNG"),
        "png-rgba": _encode(rgba, "PNG"),
        "png-grey16": _encode(grey16, "PNG"),
        "jpeg-grey": _encode(grey, "JPEG", quality=90),
        "jpeg-rgb": _encode(rgb, "JPEG", quality=90),
        "jpeg-progressive": _encode(rgb, "JPEG", progressive=True),
        "tiff-raw": _encode(rgb, "TIFF"),
        "tiff-rgba": _encode(rgba, "TIFF"),
        "tiff-lzw": _encode(grey, "TIFF", compression="tiff_lzw"),
        "tiff-deflate": _encode(rgb, "TIFF", compression="tiff_adobe_deflate"),
        "bmp-rgb": _encode(rgb, "BMP"),
    }


SOURCES = _sources()
HEADER = 300  # bytes: corruptions aimed here hit the parsers, not just pixels


def _truncate(blob, rng, header):
    end = min(len(blob), HEADER) if header else len(blob)
    return blob[: rng.integers(1, end)]


def _flip_bits(blob, rng, header):
    out = bytearray(blob)
    end = min(len(out), HEADER) if header else len(out)
    for pos in rng.integers(0, end, size=rng.integers(1, 9)):
        out[pos] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def _random_run(blob, rng, header):
    out = bytearray(blob)
    end = min(len(out), HEADER) if header else len(out)
    start = int(rng.integers(0, end))
    stop = min(len(out), start + int(rng.integers(1, 65)))
    out[start:stop] = rng.bytes(stop - start)
    return bytes(out)


def _magic_then_noise(blob, rng, header):
    # The right signature, then garbage: passes the format sniffing.
    return blob[:16] + rng.bytes(int(rng.integers(0, 4000)))


CORRUPTIONS = [_truncate, _flip_bits, _random_run, _magic_then_noise]


def _read_or_refuse(path):
    """Read `path`; return the image or the TextureError, asserting the contract."""
    try:
        with time_limit(TIME_LIMIT):
            image = read_image(path)
    except TextureError as err:
        assert err.path == os.fspath(path)
        assert os.fspath(path) in str(err)
        return err
    assert image.ndim == 2 and image.dtype == np.float64 and image.flags.c_contiguous
    assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
    return image


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_corrupted_files_are_read_or_refused_with_a_texture_error(tmp_path, source, corrupt):
    rng = np.random.default_rng([SEED, sorted(SOURCES).index(source), CORRUPTIONS.index(corrupt)])
    blob = SOURCES[source]
    outcomes = []
    for round_ in range(ROUNDS):
        path = tmp_path / f"{round_:02d}.{source.split('-')[0]}"
        path.write_bytes(corrupt(blob, rng, header=round_ % 2 == 0))
        outcomes.append(_read_or_refuse(path))
    # A flipped bit may leave a valid image, but a file cut short or noise
    # behind a valid signature never is one: the error path is exercised.
    if corrupt in (_truncate, _magic_then_noise):
        assert all(isinstance(o, ImageReadError) for o in outcomes)


def test_the_uncorrupted_sources_read(tmp_path):
    # Guards the test above: its sources are valid to begin with.
    for name, blob in SOURCES.items():
        path = tmp_path / f"{name}.img"
        path.write_bytes(blob)
        assert isinstance(_read_or_refuse(path), np.ndarray), name


@pytest.mark.parametrize("size", [0, 1, 7, 100, 5000])
def test_random_bytes_are_refused(tmp_path, size):
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng([SEED, size]).bytes(size))
    assert isinstance(_read_or_refuse(path), ImageReadError)


def test_a_file_that_shrinks_while_being_read_is_refused(tmp_path, monkeypatch):
    # Folders being written to while a batch reads them: the header is read,
    # then a writer truncates the file before its pixels are.
    import texture.io as texture_io

    # A JPEG whose header (a long comment) outgrows the read buffer, so that
    # the pixel read really goes back to the now empty file.
    path = tmp_path / "growing.jpg"
    path.write_bytes(_encode(skdata.camera()[:64, :64], "JPEG", comment=b"c" * 60_000))
    open_header = texture_io._open_header

    def open_header_then_truncate(file, path_):
        header = open_header(file, path_)
        os.truncate(path, 0)
        return header

    monkeypatch.setattr(texture_io, "_open_header", open_header_then_truncate)
    err = _read_or_refuse(path)
    assert isinstance(err, ImageReadError) and "truncated or corrupt" in str(err)


# File-system entries that are not (readable) image files.

def _refused(path, error=ImageReadError, match=""):
    err = _read_or_refuse(path)
    assert isinstance(err, error), err
    assert match in str(err)
    return err


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.touch()
    _refused(path, match="empty file")


@pytest.mark.parametrize("name", ["photo.png", "scan.tif", "x.jpeg"])
def test_directory_named_like_an_image(tmp_path, name):
    (tmp_path / name).mkdir()
    _refused(tmp_path / name, match="directory")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    _refused(path, match="not a regular file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_device_is_refused_without_reading_it_forever():
    _refused("/dev/zero", match="not a regular file")


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.png"
    path.write_bytes(SOURCES["png-grey"])
    real_open = os.open

    def refusing_open(file, flags, *args, **kwargs):
        # As chmod 000 would, for anyone but root (the suite may run as root).
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    err = _refused(path, match="cannot open the file")
    assert "Permission denied" in str(err)


def test_path_through_a_file_cannot_be_opened(tmp_path):
    # Fails in open() for every user, root included (ENOTDIR).
    parent = tmp_path / "image.png"
    parent.write_bytes(SOURCES["png-grey"])
    _refused(parent / "inner.png", match="cannot open the file")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_broken_symlink(tmp_path):
    link = tmp_path / "gone.png"
    link.symlink_to(tmp_path / "deleted.png")
    _refused(link, ImageNotFoundError, "no such file")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loop(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.symlink_to(b)
    b.symlink_to(a)
    _refused(a, match="cannot open the file")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_to_a_valid_image_reads(tmp_path):
    target = tmp_path / "real.png"
    target.write_bytes(SOURCES["png-grey"])
    (tmp_path / "link.png").symlink_to(target)
    np.testing.assert_array_equal(read_image(tmp_path / "link.png"), read_image(target))


@pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                    reason="needs a file system that stores names as raw bytes")
def test_non_utf8_file_names(tmp_path):
    # Python hands undecodable bytes over as surrogate escapes; they must
    # survive into the path and message of the error, and valid files read.
    good = os.path.join(os.fsencode(tmp_path), b"caf\xe9-\xff.png")
    bad = os.path.join(os.fsencode(tmp_path), b"\xfe\xfd-broken.png")
    with open(good, "wb") as file:
        file.write(SOURCES["png-grey"])
    with open(bad, "wb") as file:
        file.write(SOURCES["png-grey"][:50])
    assert isinstance(_read_or_refuse(os.fsdecode(good)), np.ndarray)
    err = _refused(os.fsdecode(bad), match="truncated or corrupt")
    assert os.fsencode(err.path) == bad


def test_longest_legal_file_name_reads(tmp_path):
    path = tmp_path / ("t" * 251 + ".png")  # 255 bytes: the usual NAME_MAX
    path.write_bytes(SOURCES["png-grey"])
    assert isinstance(_read_or_refuse(path), np.ndarray)


@pytest.mark.parametrize("length", [300, 5000])
def test_too_long_file_name(tmp_path, length):
    path = tmp_path / ("t" * length + ".png")
    err = _read_or_refuse(path)
    # Some file systems report ENAMETOOLONG, others simply find nothing.
    assert isinstance(err, ImageReadError)
