"""TEMPORARY stand-in for texture.io (read_image, check_min_size) until it lands on main.

Delete this module and import from texture.io once main has it.
"""

import numpy as np

from texture.errors import ImageTooSmallError, InvalidImageError


def read_image(source, *, max_pixels=None):
    if not isinstance(source, np.ndarray):
        import cv2

        pixels = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
        if pixels is None:
            raise InvalidImageError("cannot read", path=source)
        if pixels.ndim == 3:
            pixels = pixels[..., 2::-1]
    else:
        pixels = source
    if pixels.ndim == 3:
        weights = np.array([0.2125, 0.7154, 0.0721])
        scale = np.iinfo(pixels.dtype).max if pixels.dtype.kind in "ui" else 1.0
        return np.ascontiguousarray(pixels[..., :3] @ weights / scale)
    if pixels.dtype.kind in "ui":
        return np.ascontiguousarray(pixels / np.iinfo(pixels.dtype).max)
    if pixels.dtype == bool:
        return pixels.astype(np.float64)
    image = np.ascontiguousarray(pixels, dtype=np.float64)
    if image.ndim != 2 or not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise InvalidImageError("bad image")
    return image


def check_min_size(image, min_size, path=None):
    if min(image.shape) < min_size:
        raise ImageTooSmallError(f"image {image.shape} smaller than {min_size}", path=path)
