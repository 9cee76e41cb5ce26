"""Regions of interest: the mask that says which pixels of an image the features describe.

A mask is a boolean image of the image's shape; ``True`` (any non-zero
value of a mask file or array) is *inside*.  :func:`read_mask` turns what a
user passes into that boolean array, refusing what cannot be one.  Each
feature family defines its own masked statistic over the per-pixel
quantities it already computes on the whole image (see
:func:`texture.glcm_features`, :func:`texture.lbp_features` and
:func:`texture.gabor_features`), and refuses a mask too small or too thin
for its offsets or radii.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from texture.errors import MaskError, TextureError
from texture.io import read_image

__all__ = ["read_mask", "named_file", "read_image_and_mask", "check_square_inside"]


def read_mask(mask, shape, path=None):
    """The boolean region of interest of an image of ``shape``.

    Parameters
    ----------
    mask : str, os.PathLike, array_like or PIL.Image.Image
        A 2-D boolean or numeric array (non-zero is inside), or anything
        :func:`texture.read_image` reads (an image file, a colour array...),
        inside where its working grey value is above 0.  Use a lossless
        format (PNG, TIFF, BMP): JPEG noise makes near-black pixels inside.
    shape : (int, int)
        Shape of the image the mask belongs to.
    path : str or os.PathLike, optional
        The image's file, named in errors when the mask is not a file itself.

    Returns
    -------
    inside : (M, N) ndarray of bool
        C-contiguous, with at least one ``True``.

    Raises
    ------
    MaskError
        Naming the mask file (else the image file): the mask cannot be read,
        is not 2-D, holds NaN or infinite values, has another shape than the
        image, or is empty.

    Examples
    --------
    >>> inside = read_mask(np.array([[0, 3], [0, 1]]), (2, 2))
    >>> inside.tolist()
    [[False, True], [False, True]]
    """
    named = named_file(mask, path)
    if isinstance(mask, np.ndarray) and mask.ndim == 2 and mask.dtype.kind in "biuf":
        if mask.dtype.kind == "f" and not np.isfinite(mask).all():
            raise MaskError("mask contains NaN or infinite values", named)
        inside = np.ascontiguousarray(mask, dtype=bool) if mask.dtype == np.bool_ else mask != 0
    else:
        try:
            inside = read_image(mask) > 0
        except TextureError as error:
            # The reader names the mask file itself; say that it is the mask.
            raise MaskError(f"cannot read the mask: {error.message}", named) from error
    if inside.shape != tuple(shape):
        raise MaskError(
            f"mask is {inside.shape[0]} x {inside.shape[1]} pixels but its image is {shape[0]} x {shape[1]}",
            named,
        )
    if not inside.any():
        raise MaskError("mask is empty: no pixel is inside (non-zero)", named)
    return inside


def named_file(mask, path=None):
    """The file an error about ``mask`` names: the mask's own file, else the image's ``path``."""
    if isinstance(mask, (str, os.PathLike)):
        return os.fspath(mask)
    return None if path is None else os.fspath(path)


def read_image_and_mask(image, mask=None):
    """The working grey image of ``image`` and the region of ``mask`` in it: the family functions' boundary.

    Returns
    -------
    grey : (M, N) ndarray of float64
        :func:`texture.read_image`'s output.
    inside : (M, N) ndarray of bool or None
        :func:`read_mask`'s output; None without a mask.
    named : str or None
        The file that errors about the mask name (:func:`named_file`).
    """
    path = image if isinstance(image, (str, os.PathLike)) else None
    grey = read_image(image)
    inside = None if mask is None else read_mask(mask, grey.shape, path)
    return grey, inside, named_file(mask, path)


def check_square_inside(inside, side, what, path=None):
    """Refuse a region of interest with no pixel whose whole ``side x side`` square around it is inside.

    The families whose codes read a square neighbourhood (LBP's circles,
    LPQ's windows) count the codes of the inside pixels, whose neighbours
    may lie outside; as the smallest image size does of an image, this asks
    for at least one inside pixel whose square is all inside, so that some
    codes describe the region alone.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        Output of :func:`read_mask`.
    side : int
        Odd side of the square, in pixels.
    what : str
        The neighbourhood, as the error names it (``"LBP radius 3"``).
    path : str, optional
        File named in the error (the mask's, else the image's).

    Raises
    ------
    MaskError
        Saying `what`, the square and how many pixels the mask has.
    """
    # Outside the image is outside the mask (OpenCV's erosion border would count it inside).
    core = cv2.erode(inside.view(np.uint8), np.ones((side, side), np.uint8),
                     borderType=cv2.BORDER_CONSTANT, borderValue=0)
    if not cv2.countNonZero(core):
        raise MaskError(
            f"mask too small or thin for {what}: 0 of its {np.count_nonzero(inside)} pixels have "
            f"the {side} x {side} square around them inside",
            path,
        )
