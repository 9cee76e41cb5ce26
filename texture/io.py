"""Read any supported image into the one *working image* every feature uses.

The working image
-----------------
:func:`read_image` is the only way images enter `texture`; it returns a
C-contiguous ``float64`` array with values in ``[0, 1]``: the 2-D *working
grey image*, or with ``colour=True`` the *working colour image*, built as
follows.

* **Integers** are divided by their dtype's maximum: ``uint8`` by 255,
  ``uint16`` (16-bit PNG/TIFF) by 65535, so 16-bit files keep their full
  precision.  ``bool`` becomes 0.0 / 1.0.  Signed integers are refused: their
  range is ambiguous (is ``int64`` 255 white or almost black?).
* **Floats** (``float16/32/64``) are used as they are and must be finite and
  within ``[0, 1]``; anything else is refused rather than silently clipped.
* **Colour** is reduced to luminance with the ITU-R BT.709 weights that
  :func:`skimage.color.rgb2gray` uses: ``Y = 0.2125 R + 0.7154 G + 0.0721 B``
  (:func:`luminance`).  With ``colour=True`` it is kept instead: the result
  is ``(H, W, 3)`` in RGB order, whose :func:`luminance` is bit for bit the
  working grey image of the same source.  Grey sources stay 2-D in either
  mode: a grey image has no colour planes to keep.
* **Alpha** is dropped (not composited): texture is measured on the stored
  colour, whatever its transparency.  Grey + alpha keeps the grey channel.
* **Palette** images are expanded to their colours before the luminance step.
* Pixels are used in stored order; EXIF orientation tags are not applied.

Arrays are accepted as ``(H, W)`` grey, ``(H, W, 1)`` grey, ``(H, W, 2)``
grey + alpha, ``(H, W, 3)`` RGB and ``(H, W, 4)`` RGBA, in RGB order.

Files (PNG, JPEG, TIFF, BMP, and also PGM/PPM and WebP: the formats both
Pillow and OpenCV read) are identified with Pillow, which reads only the
header, so the pixel limit is enforced *before* any pixel is decoded.  OpenCV
then decodes them, because it keeps 16-bit colour that Pillow truncates to
8 bits, except where Pillow is the more faithful decoder (JPEG, 8-bit RGBA
TIFF; see ``_pillow_decodes``).

One pixel limit applies: ``max_pixels``.  Both decoders carry their own
decompression-bomb caps, which would otherwise speak first or refuse an image
the caller allowed:

* Pillow's (``PIL.Image.MAX_IMAGE_PIXELS``, refused past twice it) is lifted
  only while a header is read again after Pillow refused it, and raised to
  ``max_pixels`` only while an image past it is decoded; each time under a
  lock and restored afterwards (``_pillow_allows``).  Images within Pillow's
  cap never touch it.
* OpenCV's (``OPENCV_IO_MAX_IMAGE_PIXELS``, ``..._WIDTH``, ``..._HEIGHT``)
  is read once, when ``cv2`` is loaded; importing :mod:`texture` sets those
  environment variables that are unset (to 2**40 pixels, 2**31 per side)
  before it imports ``cv2``.  A value set by the caller, or a ``cv2``
  imported before :mod:`texture`, keeps OpenCV's own cap; an image past it
  is then refused with a message naming the variable.
"""

from __future__ import annotations

import contextlib
import io
import numbers
import os
import stat
import sys
import threading
import warnings
from pathlib import Path

# OpenCV reads its decoders' caps once, when cv2 loads: unless the caller chose
# them, lift them first, so that max_pixels is the one limit (module notes).
_OPENCV_CAPS = {"OPENCV_IO_MAX_IMAGE_PIXELS": 2**40,
                "OPENCV_IO_MAX_IMAGE_WIDTH": 2**31, "OPENCV_IO_MAX_IMAGE_HEIGHT": 2**31}
if "cv2" not in sys.modules:
    for _name, _cap in _OPENCV_CAPS.items():
        os.environ.setdefault(_name, str(_cap))
# What OpenCV applies (its own defaults where unset: cv2 loaded before texture).
_OPENCV_MAX_PIXELS = int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 2**30))
_OPENCV_MAX_SIDE = min(int(os.environ.get(f"OPENCV_IO_MAX_IMAGE_{side}", 2**20))
                       for side in ("WIDTH", "HEIGHT"))

import cv2  # noqa: E402  (after the caps above)
import numpy as np  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402

from texture.errors import (  # noqa: E402
    ConfigError,
    ImageNotFoundError,
    ImageReadError,
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
)

__all__ = ["DEFAULT_MAX_PIXELS", "IMAGE_EXTENSIONS", "read_image", "open_image", "StoredImage", "check_min_size",
           "luminance"]

#: Largest image :func:`read_image` accepts unless told otherwise: 2**27
#: (about 134 million pixels, e.g. 11585 x 11585), whose working grey image
#: alone takes 1 GiB.  It guards against decompression bombs: small files
#: that declare huge images.  Raise it as far as memory allows: neither
#: Pillow's nor OpenCV's own cap then refuses the image (see the module notes).
DEFAULT_MAX_PIXELS = 2**27

#: File name extensions (lower case) that folder discovery treats as images.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".pgm", ".ppm", ".webp"}
)

_LUMA_RGB = (0.2125, 0.7154, 0.0721)
_BAND_PIXELS = 1 << 16  # pixels of a colour image turned into grey at once (small float64 temporaries)


def read_image(source, *, max_pixels=None, colour=False):
    """Read an image file or array as the working grey or colour image.

    Parameters
    ----------
    source : str, os.PathLike, array_like or PIL.Image.Image
        Path of a PNG, JPEG, TIFF or BMP file (8 or 16 bit; grey, grey +
        alpha, RGB, RGBA or palette), an in-memory image of shape
        ``(H, W)``, ``(H, W, 1)``, ``(H, W, 2)``, ``(H, W, 3)`` or
        ``(H, W, 4)`` in RGB order, or a Pillow image.
    max_pixels : int, optional
        Refuse images with more than this many pixels, checked from the file
        header before decoding.  Defaults to :data:`DEFAULT_MAX_PIXELS`.
    colour : bool, optional
        Keep the colour planes of a colour source (RGB, RGBA, palette)
        instead of reducing them to luminance.

    Returns
    -------
    image : ndarray of float64, shape (H, W), or (H, W, 3) with `colour`
        C-contiguous image in ``[0, 1]``: grey, or RGB when `colour` is set
        and the source has colour; see the module documentation for the
        conversion.  A C-contiguous ``float64`` input array that already is
        such an image is returned as is, not copied.

    Raises
    ------
    ConfigError
        `max_pixels` is not a positive integer.
    ImageNotFoundError
        The file does not exist.
    ImageReadError
        The path is a directory, FIFO or device, an empty file, cannot be
        opened, is not an image, or is a truncated or corrupt image.
    ImageTooLargeError
        The image has more than `max_pixels` pixels.
    InvalidImageError
        The image is empty, has the wrong number of dimensions or channels,
        an unsupported dtype, or float values that are NaN, infinite or
        outside ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from texture import read_image
    >>> rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> rgb[..., 1] = 255                          # pure green
    >>> float(read_image(rgb)[0, 0])               # its luminance weight
    0.7154
    >>> read_image(np.array([[0, 65535]], dtype=np.uint16))
    array([[0., 1.]])
    >>> read_image(rgb, colour=True)[0, 0]           # the colour kept
    array([0., 1., 0.])
    """
    if not isinstance(colour, (bool, np.bool_)):
        raise ConfigError(f"colour must be True or False, got {colour!r}")
    return _to_working(*_decode(source, max_pixels), colour=colour)


def _decode(source, max_pixels):
    """:func:`read_image` up to its last step: ``(pixels, bgr, limit, path)``.

    ``pixels`` are as decoded or given (any dtype, colour or grey), not yet
    made the working image by ``_to_working(pixels, bgr, limit, path)``;
    ``bgr`` says whether their colour planes are in OpenCV's BGR order.  A
    band of rows of them gives the same rows of the working image
    (:func:`open_image`).
    """
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    if not isinstance(limit, numbers.Integral) or limit < 1:
        raise ConfigError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        pixels, bgr = _decode_file(path, limit)
    else:
        pixels = _pillow_pixels(source, None) if isinstance(source, Image.Image) else source
        path, pixels, bgr = None, np.asarray(pixels), False
    return pixels, bgr, limit, path


def luminance(rgb):
    """BT.709 luminance of a working colour image: its working grey image.

    ``Y = 0.2125 R + 0.7154 G + 0.0721 B``, the weights of
    :func:`skimage.color.rgb2gray`, evaluated pixel by pixel in that order
    (so that :func:`read_image` gives the same bits whether it reduces a
    colour source itself or is asked to keep the colour), and capped at 1:
    the weights sum to 1 but rounding can put white a hair above it.

    Parameters
    ----------
    rgb : (..., 3) ndarray of float64
        RGB values in [0, 1], e.g. ``read_image(path, colour=True)``.

    Returns
    -------
    grey : (...) ndarray of float64

    Examples
    --------
    >>> luminance(np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]]))
    array([[1.    , 0.0721]])
    """
    grey = rgb[..., 0] * _LUMA_RGB[0]
    grey += rgb[..., 1] * _LUMA_RGB[1]
    grey += rgb[..., 2] * _LUMA_RGB[2]
    return np.minimum(grey, 1.0, out=grey)


def check_min_size(image, min_size, path=None):
    """Refuse an image whose smaller side is below `min_size` pixels.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        The image, usually the output of :func:`read_image`.
    min_size : int
        Smallest side the feature radii need (``FeatureConfig.min_image_size``).
    path : str or os.PathLike, optional
        File the image came from, named in the error.

    Raises
    ------
    ImageTooSmallError
        ``min(H, W) < min_size``.

    Examples
    --------
    >>> import numpy as np
    >>> check_min_size(np.zeros((32, 48)), 16)   # passes silently
    >>> check_min_size(np.zeros((8, 48)), 16)
    Traceback (most recent call last):
    ...
    texture.errors.ImageTooSmallError: image is 8 x 48 pixels; the feature radii need at least 16 x 16
    """
    height, width = image.shape[:2]
    if min(height, width) < min_size:
        raise ImageTooSmallError(
            f"image is {height} x {width} pixels; the feature radii need at "
            f"least {min_size} x {min_size}",
            path,
        )


def header_pixels(path):
    """Number of pixels the header of the image file `path` declares; no pixel is decoded.

    Cheap (the header's few hundred bytes), whatever the size: what a batch
    run schedules large images by (:mod:`pipeline.run.memory`).

    Raises
    ------
    ImageNotFoundError, ImageReadError
        As :func:`read_image` for a file that is missing, not a regular
        file, or not an image.

    Examples
    --------
    >>> header_pixels("photo.png")  # doctest: +SKIP
    12000000
    """
    path = Path(path)
    with _open_regular_file(path) as file, _open_header(file, path) as header:
        width, height = header.size
    return width * height


def _decode_file(path, limit):
    """Check the header of `path` against `limit`, then decode its pixels.

    Returns the pixels and whether their colour planes are in BGR order (OpenCV's).
    """
    with _open_regular_file(path) as file, _open_header(file, path) as header:
        width, height = header.size
        _check_pixel_count(height, width, limit, path)
        if _pillow_decodes(header):
            with _pillow_allows(height * width):
                return _pillow_pixels(header, path), False
        grey_source = header.mode in _GREY_MODES
        file.seek(0)
        data = file.read()
    if height * width > _OPENCV_MAX_PIXELS or max(height, width) > _OPENCV_MAX_SIDE:
        raise ImageTooLargeError(
            f"image is {height} x {width} pixels, more than OpenCV's decoder accepts "
            f"({_OPENCV_MAX_PIXELS} pixels, {_OPENCV_MAX_SIDE} per side): raise "
            "OPENCV_IO_MAX_IMAGE_PIXELS (or _WIDTH, _HEIGHT) in the environment "
            "before cv2 is first imported",
            path,
        )
    try:
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # e.g. no bytes left: the file shrank since its header was read
        pixels = None
    if pixels is None:
        with _pillow_allows(height * width):
            raise ImageReadError(_why_undecodable(data), path)
    if grey_source and pixels.ndim == 3:
        # OpenCV expands grey + alpha to BGRA: its first plane is the grey one.
        pixels = pixels[:, :, 0]
    return pixels, True


def _open_regular_file(path):
    """Open `path` for binary reading, refusing anything but a regular file."""
    try:
        # Non-blocking, because opening a FIFO for reading would otherwise wait
        # for a writer forever; it changes nothing for regular files.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ImageNotFoundError("no such file", path) from None
    except OSError as err:
        raise ImageReadError(f"cannot open the file ({err.strerror})", path) from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return os.fdopen(fd, "rb")
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise ImageReadError("is a directory, not an image file", path)
    raise ImageReadError("not a regular file (a FIFO, socket or device), not an image", path)


def _open_header(file, path):
    """Open `file` lazily with Pillow: format, mode and size, no pixels yet."""
    if os.fstat(file.fileno()).st_size == 0:
        raise ImageReadError("empty file (0 bytes), not an image", path)
    try:
        try:
            with _pillow_allows(0):  # the caller's cap, its warnings silenced
                return Image.open(file)
        except Image.DecompressionBombError:
            # Past Pillow's cap: read the header again without it (open()
            # reads no pixels); our own limit, checked next, is the one that applies.
            file.seek(0)
            with _pillow_allows(None):
                return Image.open(file)
    except UnidentifiedImageError:
        raise ImageReadError(
            "not a recognised image file (expected PNG, JPEG, TIFF or BMP)", path
        ) from None
    except Exception as err:  # corrupt headers raise OSError, SyntaxError, struct.error...
        raise ImageReadError(f"truncated or corrupt image header ({err})", path) from None


_PILLOW_CAP_LOCK = threading.Lock()


@contextlib.contextmanager
def _pillow_allows(pixels):
    """Let Pillow open and decode images of `pixels` pixels (None: any) in this block.

    Pillow warns past ``PIL.Image.MAX_IMAGE_PIXELS`` and refuses past twice
    it, in ``open()`` and in some decoders (TIFF tiles, WebP), a global cap
    that would override ``max_pixels``.  The warnings are silenced here; the
    cap is raised only if `pixels` is past it, under a lock, and restored on
    leaving, so that it leaks into the caller's process only for the time of
    one read, and only as far as ``max_pixels`` allowed.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with _PILLOW_CAP_LOCK:  # the cap seen here is the caller's own
            cap = Image.MAX_IMAGE_PIXELS
        if cap is None or (pixels is not None and pixels <= 2 * cap):
            yield
            return
        with _PILLOW_CAP_LOCK:
            Image.MAX_IMAGE_PIXELS = None if pixels is None else -(-pixels // 2)
            try:
                yield
            finally:
                Image.MAX_IMAGE_PIXELS = cap


# Pillow modes whose numpy view already is grey, grey + alpha, RGB or RGBA.
# "I" (int32) is kept as is, to be refused as signed rather than clipped to 8 bits.
_ARRAY_READY_MODES = frozenset(
    {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F", "RGB", "RGBA"}
)


# Pillow modes of grey images, with or without alpha.
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F"})


def _pillow_decodes(header):
    """Whether Pillow, not OpenCV, must decode this image to get it right.

    JPEG: OpenCV before 5 pads a truncated JPEG with grey and only warns;
    Pillow raises, and decodes JPEG as fast.
    8-bit RGBA TIFF: OpenCV reads it through libtiff's RGBA interface, which
    premultiplies the colour by the alpha; Pillow keeps the stored colour.
    """
    if header.format == "JPEG":
        return True
    bits_per_sample = header.tag_v2.get(258) if header.format == "TIFF" else None
    return header.mode == "RGBA" and bits_per_sample is not None and max(bits_per_sample) == 8


def _pillow_pixels(image, path):
    """Pixels of a Pillow image in RGB order; palette and other colour modes expanded."""
    try:
        if image.mode not in _ARRAY_READY_MODES:
            image = image.convert("RGB")  # palette, CMYK, YCbCr...: alpha is dropped anyway
        return np.asarray(image)
    except Exception as err:  # corrupt TIFFs also raise TypeError, ValueError...
        raise ImageReadError(f"truncated or corrupt image ({err})", path) from None


def _why_undecodable(data):
    """Return Pillow's explanation of why OpenCV could not decode `data`."""
    try:
        # BytesIO shares the bytes object until written to, so no copy here.
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception as err:  # whatever the decoder says is the reason we report
        return f"truncated or corrupt image ({err})"
    return f"{image.format} {image.mode} image not supported by the OpenCV decoder"


def _check_pixel_count(height, width, limit, path):
    if height * width > limit:
        raise ImageTooLargeError(
            f"image is {height} x {width} = {height * width} pixels, more than "
            f"the limit of {limit} (raise max_pixels to read it)",
            path,
        )


def _to_working(pixels, bgr, limit, path, colour=False):
    """Validate decoded or user `pixels` and make them the working grey (or colour) image."""
    pixels, scale = _validated(pixels, limit, path)
    return _converted(pixels, bgr, scale, colour)


def _validated(pixels, limit, path):
    """Refuse `pixels` that are no image within `limit` pixels; the pixels (alpha or grey plane dropped) and their scale to [0, 1]."""
    if pixels.ndim == 3 and pixels.shape[2] in (1, 2):
        pixels = pixels[:, :, 0]  # grey, or grey + alpha: drop the alpha
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)):
        raise InvalidImageError(
            f"image array has shape {pixels.shape}; expected (H, W) grey or "
            "(H, W, C) with C = 1, 2, 3 or 4 channels",
            path,
        )
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        raise InvalidImageError(f"empty image ({height} x {width} pixels)", path)
    _check_pixel_count(height, width, limit, path)
    return pixels, _scale_to_unit(pixels, path)


def _converted(pixels, bgr, scale, colour=False):
    """The working grey (or colour) image of validated `pixels` (2-D grey, or 3 or 4 colour planes)."""
    if pixels.ndim == 2:
        grey = np.multiply(pixels, scale, dtype=np.float64) if scale != 1.0 else pixels
        return np.ascontiguousarray(grey, dtype=np.float64)
    if bgr:
        rgb = pixels[:, :, 2::-1]  # alpha dropped
    else:  # RGB(A): a working colour image passes through as the same object
        rgb = pixels if pixels.shape[2] == 3 else pixels[:, :, :3]
    if colour:
        rgb = np.multiply(rgb, scale, dtype=np.float64) if scale != 1.0 else rgb
        return np.ascontiguousarray(rgb, dtype=np.float64)
    # Band by band: the float64 colour temporaries stay small on large images.
    height, width = pixels.shape[:2]
    grey = np.empty((height, width))
    band = max(1, _BAND_PIXELS // width)
    for start in range(0, height, band):
        rows = slice(start, start + band)
        grey[rows] = luminance(np.multiply(rgb[rows], scale, dtype=np.float64))
    return grey


class StoredImage:
    """A decoded and checked image kept in its stored pixel type, made the working image rows at a time.

    :func:`read_image` returns the whole working image, 8 bytes per pixel
    and channel; an 8-bit grey file takes 1 byte per pixel as stored.  What
    processes an image band of rows by band of rows (feature maps, previews)
    opens it with :func:`open_image` and asks for the working image of each
    band: the same values as the rows of :func:`read_image`'s.

    Attributes
    ----------
    shape : (int, int)
        Height and width in pixels.
    path : pathlib.Path or None
        The file the image came from, named in errors.
    has_colour : bool
        Whether the image has colour planes (RGB, RGBA, palette): whether
        :meth:`colour` gives 3 planes rather than the grey image.
    """

    def __init__(self, pixels, bgr, scale, path):
        self._pixels, self._bgr, self._scale = pixels, bgr, scale
        self.shape = tuple(pixels.shape[:2])
        self.path = path
        self.has_colour = pixels.ndim == 3

    def grey(self, rows=slice(None)):
        """The working grey image (as :func:`read_image`) of ``rows``: a slice, or row indices.

        Returns
        -------
        (n_rows, width) ndarray of float64
        """
        return _converted(self._pixels[rows], self._bgr, self._scale)

    def colour(self, rows=slice(None)):
        """The working colour image (as ``read_image(..., colour=True)``) of ``rows``; a grey image's stays 2-D.

        Returns
        -------
        (n_rows, width, 3) or (n_rows, width) ndarray of float64
        """
        return _converted(self._pixels[rows], self._bgr, self._scale, colour=True)


def open_image(source, *, max_pixels=None):
    """Decode and check an image as :func:`read_image` does, keeping its stored pixels.

    Parameters
    ----------
    source, max_pixels
        As in :func:`read_image`.

    Returns
    -------
    StoredImage

    Raises
    ------
    TextureError
        As :func:`read_image`, for the whole image (float values outside
        ``[0, 1]`` anywhere, too many pixels...), before any band is made.

    Examples
    --------
    >>> stored = open_image(np.array([[0, 255], [51, 102]], dtype=np.uint8))
    >>> stored.shape, stored.grey(slice(1, 2)).tolist()
    ((2, 2), [[0.2, 0.4]])
    """
    pixels, bgr, limit, path = _decode(source, max_pixels)
    pixels, scale = _validated(pixels, limit, path)
    return StoredImage(pixels, bgr, scale, path)


def _scale_to_unit(pixels, path):
    """Return the factor that maps `pixels` into [0, 1], or refuse its dtype/values."""
    dtype = pixels.dtype
    if dtype == np.bool_:
        return 1.0
    if np.issubdtype(dtype, np.unsignedinteger):
        return 1.0 / np.iinfo(dtype).max
    if np.issubdtype(dtype, np.floating):
        low, high = pixels.min(), pixels.max()  # NaN propagates, inf shows as inf
        if not (np.isfinite(low) and np.isfinite(high)):
            raise InvalidImageError("float image contains NaN or infinite values", path)
        if low < 0 or high > 1:
            raise InvalidImageError(
                f"float image values span [{low:g}, {high:g}]; expected [0, 1]", path
            )
        return 1.0
    raise InvalidImageError(
        f"unsupported pixel dtype {dtype}; expected bool, unsigned integer or "
        "float in [0, 1]",
        path,
    )
