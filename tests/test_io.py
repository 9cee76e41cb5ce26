"""texture.io.read_image: every supported input, and every refusal."""

import doctest
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2gray
from skimage.util import img_as_float

import texture.io
from texture import (
    ConfigError,
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    ImageNotFoundError,
    ImageReadError,
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
    TextureError,
    check_min_size,
    read_image,
)

RNG = np.random.default_rng(12345)
SHAPE = (37, 53)  # odd, non-square: catches transposes and stride mistakes


def _random(dtype, channels=None):
    shape = SHAPE if channels is None else (*SHAPE, channels)
    return RNG.integers(0, np.iinfo(dtype).max, shape, endpoint=True, dtype=dtype)


def _luminance(rgb):
    """Reference conversion: scikit-image's, independent of ours."""
    return rgb2gray(img_as_float(rgb))


# Each writer saves one image and returns the grey image it should read back as.
def _pil_grey(path):
    grey = _random(np.uint8)
    Image.fromarray(grey).save(path)
    return img_as_float(grey)


def _pil_grey_alpha(path):
    grey, alpha = _random(np.uint8), _random(np.uint8)
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(path)
    return img_as_float(grey)


def _pil_rgb(path):
    rgb = _random(np.uint8, 3)
    Image.fromarray(rgb).save(path, lossless=True)  # `lossless` is read by WebP only
    return _luminance(rgb)


def _pil_rgba(path):
    rgba = _random(np.uint8, 4)
    Image.fromarray(rgba).save(path)
    return _luminance(rgba[..., :3])


def _pil_palette(path):
    image = Image.fromarray(_random(np.uint8, 3)).quantize(colors=23)
    image.save(path)
    return _luminance(np.asarray(image.convert("RGB")))


def _pil_palette_transparent(path):
    image = Image.fromarray(_random(np.uint8, 3)).quantize(colors=23)
    image.save(path, transparency=5)
    return _luminance(np.asarray(image.convert("RGB")))


def _pil_bilevel(path):
    bits = _random(np.uint8) > 127
    Image.fromarray(bits).save(path)
    return bits.astype(float)


def _cv_grey16(path):
    grey = _random(np.uint16)
    assert cv2.imwrite(str(path), grey)
    return img_as_float(grey)


def _cv_rgb16(path):
    rgb = _random(np.uint16, 3)
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))  # cv2 writes BGR
    return _luminance(rgb)


def _cv_rgba16(path):
    rgba = _random(np.uint16, 4)
    bgra = np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])
    assert cv2.imwrite(str(path), bgra)
    return _luminance(rgba[..., :3])


LOSSLESS = [
    ("png", _pil_grey), ("png", _pil_grey_alpha), ("png", _pil_rgb), ("png", _pil_rgba),
    ("png", _pil_palette), ("png", _pil_palette_transparent), ("png", _pil_bilevel),
    ("png", _cv_grey16), ("png", _cv_rgb16), ("png", _cv_rgba16),
    ("tif", _pil_grey), ("tif", _pil_grey_alpha), ("tif", _pil_rgb), ("tif", _pil_rgba),
    ("tif", _pil_palette), ("tif", _pil_bilevel),
    ("tif", _cv_grey16), ("tif", _cv_rgb16), ("tif", _cv_rgba16),
    ("bmp", _pil_grey), ("bmp", _pil_rgb), ("bmp", _pil_palette), ("bmp", _pil_bilevel),
    ("pgm", _pil_grey), ("pgm", _cv_grey16), ("ppm", _pil_rgb), ("webp", _pil_rgb),
]


@pytest.mark.parametrize(
    "ext, writer", LOSSLESS, ids=[f"{ext}-{w.__name__[1:]}" for ext, w in LOSSLESS]
)
def test_lossless_files_read_back_as_their_luminance(tmp_path, ext, writer):
    path = tmp_path / f"image.{ext}"
    expected = writer(path)
    grey = read_image(path)
    assert grey.dtype == np.float64 and grey.flags.c_contiguous
    assert grey.shape == SHAPE
    np.testing.assert_allclose(grey, expected, rtol=0, atol=1e-6)
    assert grey.min() >= 0 and grey.max() <= 1


GREY_WRITERS = {_pil_grey, _pil_grey_alpha, _pil_bilevel, _cv_grey16}


@pytest.mark.parametrize(
    "ext, writer", LOSSLESS, ids=[f"{ext}-{w.__name__[1:]}" for ext, w in LOSSLESS]
)
def test_colour_mode_keeps_the_planes_whose_luminance_is_the_grey_image(tmp_path, ext, writer):
    path = tmp_path / f"image.{ext}"
    writer(path)
    grey, image = read_image(path), read_image(path, colour=True)
    assert image.dtype == np.float64 and image.flags.c_contiguous
    if writer in GREY_WRITERS:  # a grey source has no planes to keep
        np.testing.assert_array_equal(image, grey)
        return
    assert image.shape == (*SHAPE, 3) and image.min() >= 0 and image.max() <= 1
    np.testing.assert_array_equal(texture.io.luminance(image), grey)
    if writer in (_cv_rgb16, _cv_rgba16):  # 16 bits kept (Pillow would truncate them to 8)
        expected = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., 2::-1] / 65535
    else:  # palettes expanded, alpha dropped
        with Image.open(path) as source:
            expected = np.asarray(source.convert("RGB")) / 255
    np.testing.assert_allclose(image, expected, rtol=0, atol=1e-15)


def test_colour_mode_arrays():
    rgba = _random(np.uint8, 4)
    np.testing.assert_allclose(read_image(rgba, colour=True), rgba[..., :3] / 255, rtol=0, atol=1e-15)
    working = read_image(rgba, colour=True)
    assert read_image(working, colour=True) is working  # a working colour image is not copied
    assert read_image(_random(np.uint8, 2), colour=True).shape == SHAPE  # grey + alpha stays grey
    with pytest.raises(ConfigError, match="colour must be True or False"):
        read_image(rgba, colour="opponent")


def test_every_discovered_extension_is_tested():
    assert {f".{ext}" for ext, _ in LOSSLESS} | {".jpg", ".jpeg", ".tiff"} == IMAGE_EXTENSIONS


@pytest.mark.parametrize("channels", [None, 3])
def test_jpeg_reads_close_to_its_source(tmp_path, channels):
    # A smooth image so that JPEG's loss stays small and comparable.
    y, x = np.mgrid[0:64, 0:96]
    grey = (127 + 100 * np.sin(x / 9.0) * np.cos(y / 7.0)).astype(np.uint8)
    pixels = grey if channels is None else np.dstack([grey, grey // 2, 255 - grey])
    path = tmp_path / "image.jpg"
    Image.fromarray(pixels).save(path, quality=95)
    expected = img_as_float(grey) if channels is None else _luminance(pixels)
    assert np.abs(read_image(path) - expected).mean() < 0.01


def test_cmyk_jpeg_reads_as_the_luminance_of_its_colours(tmp_path):
    path = tmp_path / "print.jpg"
    Image.fromarray(_random(np.uint8, 3)).convert("CMYK").save(path, quality=95)
    with Image.open(path) as decoded:
        expected = _luminance(np.asarray(decoded.convert("RGB")))
    np.testing.assert_allclose(read_image(path), expected, atol=1e-12)


def test_str_and_pathlike_give_the_same_image(tmp_path):
    path = tmp_path / "a.png"
    _pil_rgb(path)
    np.testing.assert_array_equal(read_image(str(path)), read_image(path))


# In-memory arrays.

@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_unsigned_arrays_are_divided_by_their_dtype_max(dtype):
    grey = _random(dtype)
    np.testing.assert_allclose(read_image(grey), grey / np.iinfo(dtype).max, atol=1e-12)


def test_rgb_and_rgba_arrays_use_rgb2gray_weights():
    rgba = _random(np.uint8, 4)
    expected = _luminance(rgba[..., :3])
    np.testing.assert_allclose(read_image(rgba[..., :3]), expected, atol=1e-12)
    np.testing.assert_allclose(read_image(rgba), expected, atol=1e-12)


def test_white_rgb_stays_within_one():
    white = np.full((4, 4, 3), 65535, dtype=np.uint16)
    assert read_image(white).max() <= 1.0


def test_single_channel_and_grey_alpha_arrays_keep_the_grey_channel():
    grey = _random(np.uint8)
    np.testing.assert_array_equal(read_image(grey[..., None]), read_image(grey))
    with_alpha = np.dstack([grey, _random(np.uint8)])
    np.testing.assert_array_equal(read_image(with_alpha), read_image(grey))


def test_bool_array_becomes_zero_and_one():
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(read_image(mask), mask.astype(float))


def test_float_array_is_used_as_is():
    grey = RNG.random(SHAPE)
    assert read_image(grey) is grey  # no needless copy on the hot path
    np.testing.assert_array_equal(read_image(grey.astype(np.float32)), grey.astype(np.float32))


def test_non_contiguous_input_gives_a_contiguous_output():
    grey = RNG.random(SHAPE).T
    out = read_image(grey)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, grey)


def test_nested_lists_are_accepted():
    np.testing.assert_array_equal(read_image([[0.0, 0.5], [1.0, 0.25]]),
                                  [[0.0, 0.5], [1.0, 0.25]])


@pytest.mark.parametrize("mode", ["P", "CMYK", "YCbCr"])
def test_pillow_images_are_read_by_their_colours_not_their_codes(mode):
    rgb = Image.fromarray(_random(np.uint8, 3))
    image = rgb.quantize(colors=17) if mode == "P" else rgb.convert(mode)
    expected = _luminance(np.asarray(image.convert("RGB")))
    np.testing.assert_allclose(read_image(image), expected, atol=1e-12)


def test_pillow_16bit_grey_image_keeps_its_precision():
    grey = _random(np.uint16)
    np.testing.assert_allclose(read_image(Image.fromarray(grey)), img_as_float(grey), atol=1e-12)


def test_pillow_int32_image_is_refused_not_clipped():
    with pytest.raises(InvalidImageError, match="unsupported pixel dtype int32"):
        read_image(Image.fromarray(np.full(SHAPE, 1000, dtype=np.int32)))


def test_docstring_examples_run():
    assert doctest.testmod(texture.io).failed == 0


# Refusals: type, and the file named in the message.

def _assert_refused(error, source, match, **kwargs):
    with pytest.raises(error, match=match) as info:
        read_image(source, **kwargs)
    assert isinstance(info.value, TextureError)
    if not isinstance(source, np.ndarray):
        assert str(source) in str(info.value)
        assert info.value.path == str(source)
    return info.value


def test_missing_file(tmp_path):
    err = _assert_refused(ImageNotFoundError, tmp_path / "nope.png", "no such file")
    assert isinstance(err, FileNotFoundError)


def test_directory(tmp_path):
    _assert_refused(ImageReadError, tmp_path, "directory")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    _assert_refused(ImageReadError, path, "empty file")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n" * 20)
    _assert_refused(ImageReadError, path, "not a recognised image")


@pytest.mark.parametrize("ext, channels", [("png", 3), ("jpg", 3), ("tif", 3), ("tif", 4)])
def test_truncated_file(tmp_path, ext, channels):
    path = tmp_path / f"cut.{ext}"
    Image.fromarray(_random(np.uint8, channels)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_refused(ImageReadError, path, "truncated or corrupt")


def test_corrupt_pixel_data(tmp_path):
    path = tmp_path / "corrupt.png"
    Image.fromarray(_random(np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start:start + 200] = bytes(200)  # zeroed compressed stream, CRC now wrong
    path.write_bytes(bytes(data))
    _assert_refused(ImageReadError, path, "truncated or corrupt")


def _png_header_only(path, width, height):
    """A PNG that declares width x height but carries no pixel data."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_zero_size_image_file(tmp_path):
    path = tmp_path / "zero.png"
    _png_header_only(path, 0, 5)
    _assert_refused(ImageReadError, path, "not a recognised image")


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0, 3)])
def test_empty_array(shape):
    _assert_refused(InvalidImageError, np.zeros(shape, np.uint8), "empty image")


def test_too_many_pixels_is_refused_from_the_header_before_decoding(tmp_path):
    # 20000 x 5000 declared, no pixel data: decoding would fail with a read
    # error, so a size error proves the limit is checked from the header.
    path = tmp_path / "bomb.png"
    _png_header_only(path, 20000, 5000)
    err = _assert_refused(ImageTooLargeError, path, "limit", max_pixels=10**6)
    assert "5000 x 20000" in str(err) and "1000000" in str(err)


@pytest.mark.parametrize("side", [30_000, 100_000])
def test_default_limit_refuses_a_decompression_bomb_with_our_message(tmp_path, side):
    # Both are past Pillow's own cap (2 * 89478485 pixels), which used to speak first.
    path = tmp_path / "bomb.png"
    _png_header_only(path, side, side)  # a few bytes on disk
    err = _assert_refused(ImageTooLargeError, path, "raise max_pixels to read it")
    assert f"{side} x {side} = {side * side} pixels" in str(err)
    assert f"limit of {DEFAULT_MAX_PIXELS}" in str(err)


def test_raised_limit_lets_a_huge_image_past_pillows_and_opencvs_caps(tmp_path):
    # 900 million pixels declared, no pixel data: with the limit raised, the
    # only refusal left is the decoder finding no data (neither library
    # allocates the pixels it never reads: this takes well under 100 MB).
    path = tmp_path / "huge.png"
    _png_header_only(path, 30_000, 30_000)
    _assert_refused(ImageReadError, path, "truncated or corrupt", max_pixels=100_000_000_000)


@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_pillows_cap_gives_way_to_ours_and_is_restored(tmp_path, monkeypatch, ext):
    # A caller's low Pillow cap stands in for a huge image: JPEG is decoded by
    # Pillow, PNG by OpenCV after Pillow reads its header.
    path = tmp_path / f"grey.{ext}"
    Image.fromarray(_random(np.uint8)).save(path)
    expected = read_image(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # refuses past 200 pixels
    np.testing.assert_array_equal(read_image(path), expected)
    assert Image.MAX_IMAGE_PIXELS == 100
    err = _assert_refused(ImageTooLargeError, path, "raise max_pixels", max_pixels=1000)
    assert f"{SHAPE[0] * SHAPE[1]} pixels" in str(err)


_READ_IN_FRESH_PROCESS = """
import os, sys
import texture
caps = [os.environ.get(name) for name in
        ("OPENCV_IO_MAX_IMAGE_PIXELS", "OPENCV_IO_MAX_IMAGE_WIDTH", "OPENCV_IO_MAX_IMAGE_HEIGHT")]
print(caps)
try:
    print(texture.read_image(sys.argv[1]).shape)
except texture.ImageTooLargeError as err:
    print(err)
"""


def _read_in_fresh_process(path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_IO_MAX_IMAGE")}
    result = subprocess.run([sys.executable, "-c", _READ_IN_FRESH_PROCESS, str(path)],
                            capture_output=True, text=True, env={**clean, **env}, check=True)
    return result.stdout.splitlines()


def test_importing_texture_lifts_opencvs_caps_unless_the_caller_set_them(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(_random(np.uint8)).save(path)
    caps, shape = _read_in_fresh_process(path)
    assert caps == str([str(2**40), str(2**31), str(2**31)]) and shape == str(SHAPE)
    caps, refusal = _read_in_fresh_process(path, OPENCV_IO_MAX_IMAGE_PIXELS="1000")
    assert caps.startswith("['1000', ")
    assert str(path) in refusal and "more than OpenCV's decoder accepts (1000 pixels" in refusal
    assert "OPENCV_IO_MAX_IMAGE_PIXELS" in refusal


def test_limit_applies_to_arrays_and_allows_the_exact_count():
    grey = np.zeros((10, 10))
    assert read_image(grey, max_pixels=100) is grey
    _assert_refused(ImageTooLargeError, grey, "more than the limit of 99", max_pixels=99)


@pytest.mark.parametrize("limit", [0, -5, 2.5, "many"])
def test_invalid_limit_is_a_config_error(limit):
    with pytest.raises(ConfigError, match="max_pixels must be a positive integer"):
        read_image(np.zeros((2, 2)), max_pixels=limit)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_floats(bad):
    grey = np.zeros(SHAPE)
    grey[3, 4] = bad
    _assert_refused(InvalidImageError, grey, "NaN or infinite")


@pytest.mark.parametrize("value", [-0.01, 1.01, 255.0])
def test_floats_outside_unit_range(value):
    grey = np.full(SHAPE, 0.5, dtype=np.float32)
    grey[0, 0] = value
    _assert_refused(InvalidImageError, grey, r"expected \[0, 1\]")


def test_float_file_outside_unit_range_names_the_file(tmp_path):
    path = tmp_path / "float.tif"
    assert cv2.imwrite(str(path), np.full(SHAPE, 2.0, dtype=np.float32))
    _assert_refused(InvalidImageError, path, r"expected \[0, 1\]")


@pytest.mark.parametrize("shape", [(7,), (2, 3, 4, 5), (4, 4, 5), (4, 4, 0)])
def test_wrong_dimensions_or_channels(shape):
    _assert_refused(InvalidImageError, np.zeros(shape), "expected")


@pytest.mark.parametrize("dtype", [np.complex128, object, np.int16, np.int64, "U1"])
def test_unsupported_dtype(dtype):
    _assert_refused(InvalidImageError, np.zeros(SHAPE, dtype=dtype), "unsupported pixel dtype")


def test_check_min_size():
    check_min_size(np.zeros((16, 40)), 16)
    with pytest.raises(ImageTooSmallError, match="15 x 40 pixels.*16 x 16") as info:
        check_min_size(np.zeros((15, 40)), 16, path="small.png")
    assert str(info.value).startswith("small.png: ")


def _modules_importing_cv2():
    root = Path(texture.io.__file__).parent.parent
    for package in ("texture", "pipeline"):
        for source in sorted((root / package).rglob("*.py")):
            if "import cv2" in source.read_text():
                parts = source.relative_to(root).with_suffix("").parts
                yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("module", list(_modules_importing_cv2()))
def test_no_module_loads_cv2_before_texture_lifts_its_caps(module):
    # OpenCV reads its caps once, when it loads: whichever of our modules a
    # process imports first, cv2 must not be loaded before texture.io set them.
    check = (f"import os, sys, {module}\n"
             "assert 'cv2' not in sys.modules or os.environ.get('OPENCV_IO_MAX_IMAGE_PIXELS')")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_IO_MAX_IMAGE")}
    subprocess.run([sys.executable, "-c", check], env=clean, check=True)
