"""Opponent colour: the chroma channels that colour features are computed on.

A working colour image (RGB in [0, 1], ``texture.read_image(source,
colour=True)``) is split into the channels below.  The grey features are
computed on its luminance, exactly as for ``colour="grey"``; each family
then also runs on the two opponent-colour (chroma) channels [1]_ [2]_:

======  ==========================  =====================  ============
name    definition                  range                  opposes
======  ==========================  =====================  ============
(grey)  0.2125 R + 0.7154 G +       [0, 1]                 light, dark
        0.0721 B (BT.709)
``o1``  (R - G) / sqrt(2)           [-0.707, 0.707]        red, green
``o2``  (R + G - 2 B) / sqrt(6)     [-0.816, 0.816]        yellow, blue
======  ==========================  =====================  ============

``o1`` and ``o2`` are unit-length projections of RGB, orthogonal to each
other and to grey (R = G = B): both are 0 on every grey pixel, whatever its
brightness, so they carry the colour and nothing of the shading.

The chroma channels are computed at **half resolution**: the RGB image is
averaged over 2 x 2 blocks (:func:`half_resolution`; an odd last row or
column is left out) before the opponent transform.  Photographs carry
colour at a coarser resolution than brightness (JPEG and most cameras store
chroma subsampled 2 x 2; the eye resolves it less), so the full-resolution
chroma of most images is interpolated, and the half-resolution channels
cost a quarter as much: a colour vector of a 128 x 128 USPTex image costs
2.2 times the grey one instead of 3.4 times (``benchmarks/features.py``).  Distances on the chroma
channels (LBP radii, GLCM offsets, Gabor wavelengths) are therefore twice
as long in the image.

How each family sees a chroma channel
-------------------------------------
The families are the grey ones, unchanged; only what they are given is
defined here, once:

* **LBP** compares each pixel with its neighbours, so it is invariant to
  any increasing map of the values: it gets the channel as it is.  Its
  zero border is the neutral chroma.
* **Gabor** is linear, so the scale matters: it gets the channel as it is,
  not stretched, in the same units as the luminance.  A chroma edge and a
  luminance edge of the same RGB amplitude give responses of comparable
  size, and a faintly coloured image gives faint chroma responses.
* **GLCM** needs integer levels: the channel is quantized over the fixed
  range ``[-h, h]``, ``h =`` :data:`GLCM_CHROMA_RANGE` (the same for both
  channels): mapped onto [0, 1] by ``(c + h) / (2 h)``, values beyond the
  range clipped to the end levels, then quantized like a grey image
  (:func:`chroma_to_unit`).  A fixed range, not one per image, so that a
  level means the same colour in every image; narrower than the channels'
  full range because natural colours are far from saturated (on USPTex,
  99.9 % of the chroma values lie within it), so that the co-occurrence
  matrices see more than the two or three middle levels.  The half-scale
  GLCM (``"glcmhalf"``) gets the same view, then averages its 2 x 2 blocks.
* **VAR** (``"lbpvar"``) gets the channel as it is, like LBP: its variance
  bins are in the same units as the luminance's.
* **LPQ** (``"lpq"``, and ``"lpqr"``) gets the channel as it is: its codes are signs of
  linear filters, invariant to a positive scale, and read zeros (neutral
  chroma) outside the image; values below zero are what it is made for
  (its ties are relative to the window's sum of ``|c|``).  A flat chroma
  channel has code 0 at every pixel.
* **Colour statistics**: the mean and standard deviation of each
  (half-resolution) chroma channel, ``o1_mean, o1_std, o2_mean, o2_std``
  (:func:`colour_statistics`).

Flat chroma
-----------
A grey image (2-D, or with R = G = B) has ``o1 = o2 = 0`` everywhere.  Its
chroma features are those of a zero channel, finite and the same for every
grey image, whatever its size: GLCM of a single level (``levels // 2``:
contrast, dissimilarity and the variances 0, correlation 1, homogeneity,
energy and maximum probability 1, entropies 0); LBP: every neighbour, the
zero border included, equals the centre, so every pixel has the code ``P``
(bin ``P`` is 1, the others 0); Gabor: 0; LPQ: every coefficient is 0,
code 0 (bin 0 is 1; for ``"lpqr"``, orbit 0); statistics: 0.

References
----------
.. [1] T. Maenpaa and M. Pietikainen, "Classification with color and
       texture: jointly or separately?", Pattern Recognition 37(8),
       1629-1640, 2004. :DOI:`10.1016/j.patcog.2003.11.011`
.. [2] J. van de Weijer, T. Gevers and A. D. Bagdanov, "Boosting color
       saliency in image feature detection", IEEE TPAMI 28(1), 150-156,
       2006. :DOI:`10.1109/TPAMI.2006.3`
"""

from __future__ import annotations

import numpy as np


__all__ = [
    "COLOUR_MODES",
    "CHROMA_CHANNELS",
    "GLCM_CHROMA_RANGE",
    "CHROMA_STEP",
    "half_resolution",
    "half_resolution_mask",
    "opponent_channels",
    "stored_chroma_channels",
    "chroma_to_unit",
    "chroma_view",
    "colour_statistics",
    "colour_statistic_names",
]

#: Values of ``FeatureConfig.colour``.
COLOUR_MODES = ("grey", "opponent")
#: Names of the chroma channels, the prefixes of their feature names.
CHROMA_CHANNELS = ("o1", "o2")
#: Half-width ``h`` of the chroma range that GLCM levels span, ``[-h, h]``.
GLCM_CHROMA_RANGE = 0.25
#: Chroma values are rounded to multiples of this (about 6e-8, far finer
#: than the step of a 16-bit image, 1.5e-5).
CHROMA_STEP = 2.0**-24

# Rows of the opponent transform: RGB -> (o1, o2).
_OPPONENT = np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]) / np.sqrt([[2.0], [6.0]])
# Pixels of a stored image made into chroma at once (small float64 temporaries).
_BAND_PIXELS = 1 << 16


def half_resolution(rgb):
    """Average of each 2 x 2 block of pixels: the image the chroma channels are computed from.

    Parameters
    ----------
    rgb : (M, N, 3) ndarray of float64
        Working colour image.

    Returns
    -------
    half : (M // 2, N // 2, 3) ndarray of float64
        An odd last row or column is left out.

    Examples
    --------
    >>> half_resolution(np.arange(12.0).reshape(2, 2, 3))
    array([[[4.5, 5.5, 6.5]]])
    """
    rows, cols = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
    half = rgb[0:rows:2, 0:cols:2] + rgb[1:rows:2, 0:cols:2]
    half += rgb[0:rows:2, 1:cols:2]
    half += rgb[1:rows:2, 1:cols:2]
    half *= 0.25
    return half


def half_resolution_mask(inside):
    """The region of interest at the resolution of :func:`half_resolution`: blocks wholly inside.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        Region of interest of the full-resolution image.

    Returns
    -------
    half : (M // 2, N // 2) ndarray of bool
        True where all four pixels of the 2 x 2 block are inside, so that
        the chroma statistics see no colour from outside the region.
    """
    rows, cols = inside.shape[0] // 2 * 2, inside.shape[1] // 2 * 2
    return (inside[0:rows:2, 0:cols:2] & inside[1:rows:2, 0:cols:2]
            & inside[0:rows:2, 1:cols:2] & inside[1:rows:2, 1:cols:2])


def opponent_channels(rgb):
    """The chroma channels ``o1`` and ``o2`` of a working colour image.

    Parameters
    ----------
    rgb : (M, N, 3) ndarray of float64
        RGB in [0, 1] (``texture.read_image(source, colour=True)``).

    Returns
    -------
    channels : (2, M, N) ndarray of float64
        ``o1 = (R - G) / sqrt(2)`` and ``o2 = (R + G - 2 B) / sqrt(6)``,
        each C-contiguous, rounded to multiples of :data:`CHROMA_STEP`.

    Notes
    -----
    The rounding makes equal colour differences give exactly equal chroma,
    whatever the order of the arithmetic: with ``R = v / 255``, ``R - G``
    of two pixels with the same ``v_R - v_G`` can differ in the last bit.
    A chroma channel has few distinct values, so many exact ties, and LBP
    compares for ``>=``: without the rounding, its codes would depend on
    rounding noise.

    Examples
    --------
    >>> red = np.zeros((1, 1, 3)); red[..., 0] = 1.0
    >>> np.round(opponent_channels(red).ravel(), 4)
    array([0.7071, 0.4082])
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    channels = np.empty((2,) + rgb.shape[:2])
    np.subtract(r, g, out=channels[0])
    channels[0] *= _OPPONENT[0, 0]
    np.add(r, g, out=channels[1])
    channels[1] -= 2.0 * b
    channels[1] *= _OPPONENT[1, 0]
    # Scaling by a power of 2 is exact: only the rounding to the grid acts.
    channels *= 1.0 / CHROMA_STEP
    np.rint(channels, out=channels)
    channels *= CHROMA_STEP
    return channels


def stored_chroma_channels(stored):
    """The chroma channels of a stored colour image, made band by band of rows, in float32.

    The same values as ``opponent_channels(half_resolution(rgb))`` of the
    whole working colour image ``rgb``, without ever holding it (24 bytes
    per pixel): a band of rows gives the same rows of both channels.

    Parameters
    ----------
    stored : texture.StoredImage
        A colour image (``texture.io.open_image``).

    Returns
    -------
    channels : (2, M // 2, N // 2) ndarray of float32
        ``o1`` and ``o2``, exactly: they are multiples of
        :data:`CHROMA_STEP` (2**-24) smaller than 1 in magnitude, which
        float32 holds without rounding, in half the memory of float64.

    Examples
    --------
    >>> from texture.io import open_image
    >>> rgb = np.random.default_rng(0).random((6, 4, 3))
    >>> chroma = stored_chroma_channels(open_image(rgb))
    >>> chroma.dtype, np.array_equal(chroma, opponent_channels(half_resolution(rgb)))
    (dtype('float32'), True)
    """
    height, width = stored.shape[0] // 2, stored.shape[1] // 2
    channels = np.empty((2, height, width), dtype=np.float32)
    band = max(1, _BAND_PIXELS // (4 * max(width, 1)))  # half-resolution rows at a time
    for start in range(0, height, band):
        stop = min(start + band, height)
        channels[:, start:stop] = opponent_channels(half_resolution(stored.colour(slice(2 * start, 2 * stop))))
    return channels


def chroma_to_unit(channel):
    """A chroma channel mapped onto [0, 1] for the GLCM: ``clip((c + h) / (2 h), 0, 1)``.

    ``h =`` :data:`GLCM_CHROMA_RANGE`; the GLCM then quantizes it like a
    grey image (:func:`texture.quantize`), so ``[-h, h]`` is split into
    equal levels, values beyond fall on the end levels and zero (grey) on
    level ``levels // 2`` (a value within rounding of a level's lower edge
    counts as on it, so grey pixels whose chroma rounds to a hair below 0
    still do).

    Parameters
    ----------
    channel : (M, N) ndarray of float64
        ``o1`` or ``o2`` (:func:`opponent_channels`).

    Returns
    -------
    unit : (M, N) ndarray of float64

    Examples
    --------
    >>> chroma_to_unit(np.array([[-1.0, -0.25, 0.0, 0.1, 0.25]]))
    array([[0. , 0. , 0.5, 0.7, 1. ]])
    """
    h = GLCM_CHROMA_RANGE
    unit = channel + h
    unit /= 2.0 * h
    return np.clip(unit, 0.0, 1.0, out=unit)


def chroma_view(family, channel):
    """What feature `family` is given for a chroma channel: the channel itself, or for the GLCM
    :func:`chroma_to_unit` of it (see the module documentation)."""
    return chroma_to_unit(channel) if family in ("glcm", "glcmhalf") else channel


def colour_statistic_names():
    """Names of :func:`colour_statistics`' values: ``o1_mean, o1_std, o2_mean, o2_std``."""
    return [f"{channel}_{stat}" for channel in CHROMA_CHANNELS for stat in ("mean", "std")]


def colour_statistics(channels, inside=None):
    """Mean and standard deviation of each chroma channel (over the `inside` pixels).

    Parameters
    ----------
    channels : (K, M, N) ndarray, or sequence of (M, N) ndarrays
        Chroma channels (:func:`opponent_channels`), e.g. one at a time.
    inside : (M, N) ndarray of bool, optional
        Region of interest (:func:`half_resolution_mask`); every pixel when None.

    Returns
    -------
    values : (2 K,) ndarray of float64
        Each channel's mean and standard deviation, in the order of
        :func:`colour_statistic_names` for ``o1, o2``.
    """
    # One 1-D array per channel either way, so that a mask covering every
    # pixel sums in the same order and gives the same bits as no mask.
    values = [channel.ravel() if inside is None else channel[inside] for channel in channels]
    return np.array([stat for v in values for stat in (v.mean(), v.std())])
