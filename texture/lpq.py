"""Local phase quantization (LPQ): blur-insensitive codes of the local Fourier phase, and their histogram.

Every pixel gets an 8-bit code from the signs of the real and imaginary
parts of four short-term Fourier coefficients of its ``window x window``
neighbourhood [1]_: at the lowest non-zero frequency ``a = 1 / window``,
along the rows, the columns and both diagonals.  A centrally symmetric blur
(out of focus, motion along a line, atmospheric turbulence) multiplies the
spectrum by a real, non-negative factor at low frequencies, which leaves
these phases, and so the codes, unchanged; the histogram of the codes is
the descriptor.

Definition (the authors' ``lpq.m`` with its default options: uniform window,
decorrelation with ``rho = 0.9``)
-------------------------------------------------------------------------
With ``r = (window - 1) // 2`` and the 1-D filters over ``x = -r .. r``::

    w0(x) = 1,   w1(x) = exp(-2j pi a x),   w2(x) = conj(w1(x)),

the four coefficients of the pixel ``(i, j)`` are the convolutions of the
image with the separable filters (vertical, horizontal) ``(w0, w1)``,
``(w1, w0)``, ``(w1, w1)`` and ``(w1, w2)``::

    F_k(i, j) = sum_{y, x = -r .. r} f(i - y, j - x) v_k(y) h_k(x),

i.e. the frequencies ``(0, a)``, ``(a, 0)``, ``(a, a)`` and ``(a, -a)`` in
(row, column) order, in the paper's convolution form ``sum_y f(x - y)
exp(-2j pi u.y)`` (the conjugates of the correlation form).  The eight
values ``Re F1, Im F1, ..., Re F4, Im F4`` are decorrelated by the
orthogonal matrix ``V`` of :func:`decorrelation_matrix` (whitening under a
model in which pixels correlate as ``rho ** distance``), and bit ``k`` of
the code is ``1`` when value ``k`` is positive.

Decisions of this implementation
--------------------------------
* **Every pixel has a code** ("same"-size filtering), computed with zeros
  outside the image, as :mod:`texture.lbp` reads zeros outside the image;
  the authors' ``lpq.m`` keeps only the pixels whose window lies in the
  image ("valid").  So a whole-image vector counts every pixel, a mask
  counts the codes of its pixels, and a band of rows with :func:`lpq_reach`
  rows of context on each side has exactly the whole image's codes (what
  :func:`texture.feature_map` relies on).
* **Ties give bit 0**, as ``> 0`` does: a value within rounding of zero,
  ``|value| <= 2**-46 S`` (1.4e-14 S) with ``S`` the sum of ``|f|`` over the
  pixel's window (which bounds every coefficient), counts as zero.  A flat window
  (a flat image, a zero chroma channel) has every coefficient exactly 0,
  which float64 sums leave within some ``1e-16 S`` of 0 with either sign:
  its code is 0, not the signs of rounding noise, whatever the order of
  the sums.  Values that are not exactly 0 lie far above the threshold on
  real images (on scikit-image's 8-bit test images the smallest, at
  ``8.6e-13 S``, comes from the decorrelation's entries of some ``1e-6``;
  exact zeros come out below ``1e-16 S``), so the codes are those of exact
  arithmetic under this rule.
* **Signs of the decorrelation matrix**: each row of ``V`` (a singular
  vector, defined up to its sign) has its first non-zero entry positive,
  so that the codes do not depend on the LAPACK library that computed the
  SVD.
  (MATLAB's signs, those of ``lpq.m``, may differ on some rows, which
  complements those bits: a relabelling of the 256 codes.)

The filtering is separable, in float64 (OpenCV, constant-0 border): three
passes down the columns (``w0``, ``Re w1``, ``Im w1``), three along the rows
over those three channels, then one 9 x 8 matrix product gives the eight
values, decorrelated.  It runs over slabs of :data:`_SLAB_PIXELS` with their
rows of context, whose temporaries (2 MiB) stay in cache: a large image
costs one byte per pixel beyond itself for its codes (:func:`lpq_codes`),
nothing for its histogram.

References
----------
.. [1] V. Ojansivu and J. Heikkila, "Blur insensitive texture classification
       using local phase quantization", Image and Signal Processing (ICISP
       2008), LNCS 5099, 236-243. :DOI:`10.1007/978-3-540-69905-7_27`
"""

from __future__ import annotations

import functools
import numbers

import cv2
import numpy as np

from texture.errors import ConfigError
from texture.masks import check_square_inside, read_image_and_mask

__all__ = [
    "LPQ_BINS",
    "LPQR_BINS",
    "check_lpq_params",
    "decorrelation_matrix",
    "lpq_codes",
    "lpq_reach",
    "lpq_feature_names",
    "lpq_feature_vector",
    "lpq_features",
    "lpqr_codes",
    "lpqr_feature_names",
    "lpqr_feature_vector",
    "lpqr_features",
    "quarter_turn",
    "rotation_orbits",
    "check_mask",
]

#: Number of LPQ codes, the length of a histogram.
LPQ_BINS = 256
#: Number of orbits of the codes under the right-angle rotations, the length of an ``lpqr`` histogram.
LPQR_BINS = 64
#: A value within this fraction of the sum of ``|f|`` over its window is a tie (bit 0): 100 times the
#: rounding of exact zeros, 60 times below the least value not zero seen on 8-bit images.
TIE = 2.0**-46
# Pixels per slab of rows filtered at once: some thirty float64 values per
# pixel (2 MiB), which stay in cache; no whole-image plane is ever made.
_SLAB_PIXELS = 1 << 13


def check_lpq_params(window, rho=0.9, field="lpq_window"):
    """Raise ConfigError unless ``window`` is an odd integer >= 3 and ``0 < rho < 1``.

    Errors name ``window`` as the :class:`texture.FeatureConfig` field ``field``.

    Examples
    --------
    >>> check_lpq_params(7)
    >>> check_lpq_params(8)
    Traceback (most recent call last):
    ...
    texture.errors.ConfigError: lpq_window must be an odd integer >= 3, got 8
    """
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 3 or window % 2 == 0:
        raise ConfigError(f"{field} must be an odd integer >= 3, got {window!r}")
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not 0 < rho < 1:
        raise ConfigError(f"lpq rho must be a number in (0, 1), got {rho!r}")


def lpq_reach(window=7):
    """Rows and columns around a pixel that its code reads: ``window // 2``.

    Examples
    --------
    >>> lpq_reach(7)
    3
    """
    return int(window) // 2


@functools.lru_cache(maxsize=16)
def _filters(window):
    """The 1-D filters ``w0``, and ``w1``'s real and imaginary parts, over ``x = -r .. r`` (float64)."""
    x = np.arange(window, dtype=np.float64) - window // 2
    angle = 2 * np.pi * x / window
    return np.ones(window), np.cos(angle), -np.sin(angle)


@functools.lru_cache(maxsize=16)
def decorrelation_matrix(window=7, rho=0.9):
    """The 8 x 8 orthogonal matrix ``V`` that decorrelates the LPQ coefficients, as the authors' ``lpq.m`` builds it.

    The pixels of the window are modelled as correlated by ``rho ** d``,
    ``d`` their Euclidean distance (covariance ``C``); the rows of ``M`` are
    the eight real filters ``Re q1, Im q1, ..., Re q4, Im q4`` (``q_k`` the
    outer product of the vertical and horizontal filter of coefficient
    ``k``, raveled); ``D = M C M^T`` is the coefficients' covariance.  ``A =
    diag(1.000007, 1.000006, ..., 1.000001, 1)`` separates equal singular
    values, and ``V`` is ``Vt`` of ``svd(A D A)``, each row's sign chosen so
    that its first non-zero entry is positive (see the module's decisions;
    the real and imaginary parts are uncorrelated, so half of each row is
    zero, to rounding).
    Cached; read-only.

    Parameters
    ----------
    window : int, optional
        Odd window side, at least 3.
    rho : float, optional
        Correlation of adjacent pixels in the model, in (0, 1).

    Returns
    -------
    V : (8, 8) ndarray of float64
        ``V @ D @ V.T`` is diagonal (to rounding).

    Examples
    --------
    >>> V = decorrelation_matrix(7)
    >>> bool(np.allclose(V @ V.T, np.eye(8)))
    True
    """
    check_lpq_params(window, rho, field="window")
    w0, c, s = _filters(window)
    w1 = c + 1j * s
    filters = [(w0, w1), (w1, w0), (w1, w1), (w1, np.conj(w1))]  # (vertical, horizontal)
    rows = []
    for vertical, horizontal in filters:
        q = np.outer(vertical, horizontal).ravel()
        rows += [q.real, q.imag]
    M = np.array(rows)
    y, x = np.divmod(np.arange(window * window), window)
    C = rho ** np.hypot(y[:, None] - y[None, :], x[:, None] - x[None, :])
    D = M @ C @ M.T
    A = np.diag(1.0 + 1e-6 * np.arange(7, -1, -1))
    _, _, V = np.linalg.svd(A @ D @ A)
    # Each row's first entry that is not zero made positive: the exact zeros (the real and imaginary parts are
    # uncorrelated) come out below 1e-14, the other entries above 1e-6.  Not the largest entry: rows 3 and 4
    # hold two entries of nearly equal magnitude.
    first = (np.abs(V) > 1e-8).argmax(axis=1)
    V *= np.sign(V[np.arange(8), first])[:, None]
    V.flags.writeable = False
    return V


# The eight values from the nine channels of :func:`_slab_codes`' horizontal pass: ``H @ W9``.
@functools.lru_cache(maxsize=16)
def _combination(window, rho, decorrelate):
    """``(9, 8)``: the (decorrelated) values of a pixel from its nine horizontally filtered channels.

    The vertical pass makes three channels ``(v0, vc, vs)``: the image
    convolved down the columns with ``w0``, ``Re w1`` and ``Im w1``; the
    horizontal pass convolves them along the rows with ``c = Re w1``, ``s =
    Im w1`` and ``w0``, giving the channels ``c v0, c vc, c vs, s v0, s vc,
    s vs, w0 v0, w0 vc, w0 vs``.  Then ``F1 = c v0 + i s v0``, ``F2 = w0 vc
    + i w0 vs``, and the complex products ``F3 = (c vc - s vs) + i (s vc +
    c vs)``, ``F4 = (c vc + s vs) + i (c vs - s vc)``; ``w0 v0`` (the window's
    sum) takes no part.
    """
    L = np.zeros((8, 9))  # rows: Re F1, Im F1, ..., Im F4; columns: the channels above
    L[0, 0] = L[1, 3] = L[2, 7] = L[3, 8] = 1.0
    L[4, 1], L[4, 5] = 1.0, -1.0
    L[5, 4], L[5, 2] = 1.0, 1.0
    L[6, 1], L[6, 5] = 1.0, 1.0
    L[7, 2], L[7, 4] = 1.0, -1.0
    W = decorrelation_matrix(window, rho) @ L if decorrelate else L
    W = np.ascontiguousarray(W.T)
    W.flags.writeable = False
    return W


@functools.lru_cache(maxsize=16)
def _kernels(window):
    """Flipped (OpenCV correlates) 1-D kernels ``w0``, ``Re w1``, ``Im w1``, and the 1-tap identity."""
    return tuple(np.ascontiguousarray(k[::-1]) for k in _filters(window)) + (np.ones(1),)


# Bytes 0/1 of a little-endian uint64 times this: the byte k's bit at bit 56 + k, no carries (a bit gather).
_GATHER = np.uint64(0x0102040810204080)
# Pixels per matrix product: small enough that OpenBLAS keeps it on one thread (quicker at this size).
_PRODUCT_PIXELS = 1 << 11


def _slab_codes(block, first, last, window, W):
    """Codes (uint8) of rows [first, last) of ``block``, whose other rows are their context (zeros beyond ``block``).

    ``block`` must hold the ``window // 2`` rows around rows [first, last)
    that the image has there; the codes are then the image's: the
    arithmetic of a pixel does not depend on its row.
    """
    w0, c, s, one = _kernels(window)
    r = window // 2
    low, high = max(first - r, 0), min(last + r, len(block))
    part = block[low:high]
    border = cv2.BORDER_CONSTANT

    def down(image, kernel):  # convolution down the columns; the rows [first, last)
        return cv2.sepFilter2D(image, cv2.CV_64F, one, kernel, borderType=border)[first - low : last - low]

    vertical = cv2.merge([down(part, kernel) for kernel in (w0, c, s)])
    channels = cv2.merge([cv2.sepFilter2D(vertical, cv2.CV_64F, kernel, one, borderType=border)
                          for kernel in (c, s, w0)]).reshape(-1, 9)
    # Ties: |value| <= TIE * S, S the window's sum of |f| (of f itself, the same bits, when f >= 0).
    if part.min(initial=0.0) < 0:
        tie = cv2.sepFilter2D(down(np.abs(part), w0), cv2.CV_64F, w0, one, borderType=border).reshape(-1, 1)
    else:
        tie = channels[:, 6:7].copy()
    tie *= TIE
    values = np.empty((len(channels), 8))
    for start in range(0, len(channels), _PRODUCT_PIXELS):
        np.matmul(channels[start : start + _PRODUCT_PIXELS], W, out=values[start : start + _PRODUCT_PIXELS])
    bits = np.greater(values, tie)  # (pixels, 8) bytes 0/1
    codes = bits.view(np.uint64)[:, 0] * _GATHER
    codes >>= np.uint64(56)
    return codes.astype(np.uint8).reshape(last - first, block.shape[1])


def _slabs(image):
    """Row ranges [top, bottom) of the slabs of :data:`_SLAB_PIXELS`."""
    rows, cols = image.shape
    slab = max(1, _SLAB_PIXELS // max(cols, 1))
    return [(top, min(top + slab, rows)) for top in range(0, rows, slab)]


def _checked_image(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"lpq expects a 2-D image, got shape {image.shape}")
    return image


def _slab_iter(image, window, rho, decorrelate):
    """Yield ``(top, bottom, codes)`` of every slab of rows of the image."""
    W = _combination(window, rho, decorrelate)
    r = window // 2
    rows = image.shape[0]
    for top, bottom in _slabs(image):
        low = max(top - r, 0)
        block = image[low : min(bottom + r, rows)]
        yield top, bottom, _slab_codes(block, top - low, bottom - low, window, W)


def lpq_codes(image, window=7, decorrelate=True, rho=0.9):
    """LPQ code (0 .. 255) of every pixel, from its ``window x window`` neighbourhood, zeros outside the image.

    Parameters
    ----------
    image : (M, N) array_like
        Grey image, finite; used as float64 values (no rescaling).  The
        codes are invariant to multiplying it by a positive number.
    window : int, optional
        Odd side of the neighbourhood, at least 3; the frequency is ``1 /
        window``.
    decorrelate : bool, optional
        Decorrelate the eight values with :func:`decorrelation_matrix`
        before their signs are taken (the authors' default); False takes
        the signs of ``Re F1, Im F1, ..., Im F4`` themselves.
    rho : float, optional
        Correlation of adjacent pixels in the decorrelation's model.

    Returns
    -------
    codes : (M, N) ndarray of uint8
        Bit ``k`` is value ``k`` (module documentation) ``> 0``, a value
        within ``2**-46`` of the window's sum of ``|f|`` counting as 0.

    Examples
    --------
    >>> lpq_codes(np.full((9, 9), 0.5))[4, 4]  # a flat window: every coefficient is 0
    np.uint8(0)
    >>> image = np.random.default_rng(0).random((20, 30))
    >>> codes = lpq_codes(image)
    >>> bool(np.array_equal(lpq_codes(image[5:15], 7)[3:-3], codes[8:12]))  # rows 8..11, 3 rows of context
    True
    """
    check_lpq_params(window, rho, field="window")
    image = _checked_image(image)
    codes = np.empty(image.shape, dtype=np.uint8)
    for top, bottom, slab in _slab_iter(image, window, rho, bool(decorrelate)):
        codes[top:bottom] = slab
    return codes


def lpq_feature_names(window=7):
    """Names of :func:`lpq_feature_vector`'s values: ``lpq_w7_bin000`` .. ``lpq_w7_bin255``."""
    return [f"lpq_w{window}_bin{b:03d}" for b in range(LPQ_BINS)]


def lpq_feature_vector(image, window=7, inside=None, decorrelate=True, rho=0.9):
    """Normalized histogram (256 bins) of :func:`lpq_codes`, over every pixel or the ``inside`` ones.

    The extractor's path: ``window`` is checked here, ``inside`` (a region
    that passed :func:`check_mask`) is not.  The codes are counted slab by
    slab and dropped: no whole-image code array.

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image (see :func:`texture.read_image`).
    window, decorrelate, rho
        As in :func:`lpq_codes`.
    inside : (M, N) ndarray of bool, optional
        Count only the codes of these pixels (each computed from its
        whole-image neighbourhood).

    Returns
    -------
    values : (256,) ndarray of float64
        Sums to 1, in the order of :func:`lpq_feature_names`.

    Examples
    --------
    >>> values = lpq_feature_vector(np.zeros((10, 10)))
    >>> float(values[0]), float(values.sum())  # flat: every code 0
    (1.0, 1.0)
    """
    check_lpq_params(window, rho, field="window")
    return _histogram(_checked_image(image), window, inside, rho, bool(decorrelate), None)


def _histogram(image, window, inside, rho, decorrelate, bin_of_code):
    """Normalized counts of the codes (or of ``bin_of_code[code]``), slab by slab, of every or the inside pixels."""
    n_bins = LPQ_BINS if bin_of_code is None else int(bin_of_code.max()) + 1
    counts = np.zeros(n_bins, dtype=np.intp)
    for top, bottom, codes in _slab_iter(image, window, rho, decorrelate):
        counted = codes if inside is None else codes[inside[top:bottom]]
        per_code = np.bincount(counted.ravel(), minlength=LPQ_BINS)
        counts += per_code if bin_of_code is None else np.bincount(bin_of_code, per_code, n_bins).astype(np.intp)
    return counts / max(counts.sum(), 1)


def quarter_turn(codes):
    """The code of each pixel after the image turns a quarter (``np.rot90``), from the undecorrelated codes.

    A quarter turn counter-clockwise swaps the row and column frequencies
    and reverses one of them: ``F1`` becomes ``F2``, ``F2`` becomes
    ``conj(F1)``, ``F3`` becomes ``F4`` and ``F4`` becomes ``conj(F3)``
    (``F3``'s ``(a, a)`` turns into ``(-a, a)``, the conjugate of ``F4``'s
    ``(a, -a)``, and back).  So bits 0, 1 swap with bits 2, 3 and bits 4, 5
    with 6, 7, and the imaginary bits taken from a conjugate (3 and 7)
    are complemented.  That is the sign of the negated value except where
    the value is exactly 0 (a tie, bit 0 either way); such a code and its
    turn fall in one orbit all the same when the window is flat.  The
    decorrelated codes have no such rule: the decorrelation mixes the
    values of equal variance in a direction the rotation does not keep.

    Parameters
    ----------
    codes : array_like of int
        Codes of :func:`lpq_codes` with ``decorrelate=False``.

    Returns
    -------
    turned : ndarray of int
        Same shape.

    Examples
    --------
    >>> format(int(quarter_turn(0b00000001)), "08b")  # Re F1 > 0 -> Re F2 > 0; Im F1, Im F3 < 0 -> Im F2, Im F4 > 0
    '10001100'
    """
    codes = np.asarray(codes).astype(np.intp)
    bits = (codes[..., None] >> np.arange(8)) & 1
    turned = bits[..., [2, 3, 0, 1, 6, 7, 4, 5]] ^ np.array([0, 0, 0, 1, 0, 0, 0, 1])
    return (turned << np.arange(8)).sum(axis=-1)


@functools.lru_cache(maxsize=1)
def rotation_orbits():
    """The orbit (0 .. 63) of each of the 256 undecorrelated codes under the right-angle rotations.

    Each orbit is a code and its three :func:`quarter_turn` turns (four
    distinct codes, since every turn moves some bit); orbits are numbered
    in the order of their smallest code.  Counting the orbits instead of
    the codes makes a histogram that a right-angle rotation of the image
    leaves unchanged, and one that changes less under other rotations.
    Cached; read-only.

    Returns
    -------
    orbit : (256,) ndarray of intp

    Examples
    --------
    >>> orbit = rotation_orbits()
    >>> int(orbit.max()) + 1, bool((np.bincount(orbit) == 4).all())
    (64, True)
    """
    codes = np.arange(LPQ_BINS)
    least = codes.copy()
    turned = codes
    for _ in range(3):
        turned = quarter_turn(turned)
        least = np.minimum(least, turned)
    orbit = np.unique(least, return_inverse=True)[1].astype(np.intp)
    orbit.flags.writeable = False
    return orbit


def lpqr_codes(image, window=7):
    """Rotation orbit (0 .. 63, :func:`rotation_orbits`) of every pixel's undecorrelated LPQ code.

    Parameters
    ----------
    image : (M, N) array_like
        As in :func:`lpq_codes`.
    window : int, optional
        As in :func:`lpq_codes`.

    Returns
    -------
    orbits : (M, N) ndarray of uint8

    Examples
    --------
    >>> image = np.random.default_rng(0).random((12, 12))
    >>> bool(np.array_equal(np.rot90(lpqr_codes(image)), lpqr_codes(np.rot90(image))))
    True
    """
    return rotation_orbits().astype(np.uint8)[lpq_codes(image, window, decorrelate=False)]


def lpqr_feature_names(window=7):
    """Names of :func:`lpqr_feature_vector`'s values: ``lpqr_w7_orbit00`` .. ``lpqr_w7_orbit63``."""
    return [f"lpqr_w{window}_orbit{b:02d}" for b in range(LPQR_BINS)]


def lpqr_feature_vector(image, window=7, inside=None):
    """Normalized histogram of the rotation orbits (64 bins) of the undecorrelated codes.

    The ``"lpqr"`` family: LPQ pooled over the right-angle rotations.
    Rotating the image by a multiple of 90 degrees leaves it unchanged
    (to ties); it also changes less than :func:`lpq_feature_vector` under
    other rotations, the viewpoint changes of textures photographed from
    any side.  Without the decorrelation, since its mixing does not turn
    with the image (:func:`quarter_turn`).

    Parameters
    ----------
    image, window, inside
        As in :func:`lpq_feature_vector`.

    Returns
    -------
    values : (64,) ndarray of float64
        Sums to 1, in the order of :func:`lpqr_feature_names`.

    Examples
    --------
    >>> image = np.random.default_rng(1).random((20, 30))
    >>> bool(np.array_equal(lpqr_feature_vector(image), lpqr_feature_vector(np.rot90(image))))
    True
    """
    check_lpq_params(window, field="window")
    # rho only shapes the decorrelation, which these codes skip: any valid value gives the same codes.
    return _histogram(_checked_image(image), window, inside, 0.9, False, rotation_orbits())


def check_mask(inside, window=7, path=None):
    """Refuse a region of interest with no pixel whose whole ``window x window`` neighbourhood is inside.

    The masked histogram counts the codes of the inside pixels, whose
    windows may reach outside the region; as the smallest image size
    (``window``) does of an image, this asks for at least one inside pixel
    whose window is all inside, so that some codes describe the region alone.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        Output of :func:`texture.masks.read_mask`.
    window : int
        As in :func:`lpq_codes`.
    path : str, optional
        File named in the error (the mask's, else the image's).

    Raises
    ------
    MaskError
        Saying the window and how many pixels the mask has.
    """
    check_square_inside(inside, window, f"the LPQ window {window}", path)


def lpq_features(image, window=7, mask=None):
    """The LPQ histogram of an image, or of a region of interest in it [1]_.

    Parameters
    ----------
    image : (M, N) array or path
        Grey image (see :func:`texture.read_image`).
    window : int, optional
        Odd side of the neighbourhood, at least 3.
    mask : array_like or path, optional
        Region of interest (see :func:`texture.masks.read_mask`): the
        histogram counts the codes of its pixels, each computed from its
        whole-image neighbourhood.

    Returns
    -------
    features : pandas.Series
        Fraction of the pixels with each code, named like ``lpq_w7_bin000``.

    Raises
    ------
    ConfigError
        For a bad window.
    MaskError
        As :func:`texture.lbp.lbp_features`, and for a region too thin for
        the window (:func:`check_mask`).

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = lpq_features(brick())
    >>> len(features), round(float(features.sum()), 6)
    (256, 1.0)
    """
    return _named_histogram(image, window, mask, lpq_feature_vector, lpq_feature_names)


def _named_histogram(image, window, mask, vector, names):
    """``vector`` of the image (or of its region inside ``mask``) as a Series indexed by ``names(window)``."""
    check_lpq_params(window, field="window")
    image, inside, named = read_image_and_mask(image, mask)
    if inside is not None:
        check_mask(inside, window, named)
    import pandas as pd  # see texture.features.extract_features

    return pd.Series(vector(image, window, inside), index=names(window))


def lpqr_features(image, window=7, mask=None):
    """The rotation-pooled LPQ histogram (:func:`lpqr_feature_vector`) of an image, or of a region in it.

    Parameters
    ----------
    image, window, mask
        As in :func:`lpq_features`.

    Returns
    -------
    features : pandas.Series
        Fraction of the pixels in each orbit, named like ``lpqr_w7_orbit00``.

    Raises
    ------
    ConfigError, MaskError
        As :func:`lpq_features`.

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = lpqr_features(brick())
    >>> len(features), round(float(features.sum()), 6)
    (64, 1.0)
    """
    return _named_histogram(image, window, mask, lpqr_feature_vector, lpqr_feature_names)
