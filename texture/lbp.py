"""Local binary patterns (LBP): circular neighbourhood codes and their histograms.

Each pixel is compared with ``P`` neighbours sampled on a circle of radius
``R`` (bilinear interpolation, zero outside the image); the comparison bits
are turned into a code.  The codes are bit-for-bit those of
``skimage.feature.local_binary_pattern``: the same sample positions (rounded
to 5 decimals), the same interpolation arithmetic in the same order and the
same zero border, but vectorized over the whole image one sample point at a
time instead of looping over pixels.

The comparisons take a fast path: each neighbour's difference from the
centre, ``g_p - g_c``, is one single-precision OpenCV ``filter2D`` pass with
the bilinear weights and -1 at the centre as kernel.  Its error is below
``2**-20`` of the image's largest magnitude, so wherever it is at least
``2**-16`` of it (almost every pixel) its sign is the exact one; the few
near-ties left (flat patches, equal neighbours) are recomputed with
scikit-image's float64 arithmetic, in one vectorized pass per group of
samples.  The codes stay bit-identical at a fraction of the cost.  The
default (uniform) histograms never build the codes: running per-pixel
counts of ones and of 0/1 transitions give them directly.

Over 400 lines because the module holds the whole family (with the two
companions of the codes that share its circles and fast differences: the
local variance VAR and the completed LBP's CLBP_M/C): the exact
scikit-image arithmetic, its fast single-precision path with exact
near-ties, the histograms (with masks), parameter checks and the feature
vector; splitting it would scatter one concept.

References
----------
.. [1] T. Ojala, M. Pietikainen and T. Maenpaa, "Multiresolution gray-scale
       and rotation invariant texture classification with local binary
       patterns", IEEE TPAMI 24(7), 971-987, 2002. :DOI:`10.1109/TPAMI.2002.1017623`
.. [2] T. Ahonen, A. Hadid and M. Pietikainen, "Face recognition with local
       binary patterns", ECCV 2004, 469-481. :DOI:`10.1007/978-3-540-24670-1_36`
.. [3] Z. Guo, L. Zhang and D. Zhang, "A completed modeling of local binary
       pattern operator for texture classification", IEEE TIP 19(6),
       1657-1663, 2010. :DOI:`10.1109/TIP.2010.2044957`
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from texture.errors import ConfigError
from texture.masks import check_square_inside, read_image_and_mask

__all__ = [
    "LBP_METHODS",
    "lbp_codes",
    "lbp_responses",
    "lbp_reach",
    "lbp_n_bins",
    "lbp_histogram",
    "check_lbp_params",
    "lbp_feature_names",
    "lbp_feature_vector",
    "lbp_features",
    "VAR_BINS",
    "local_variance",
    "var_bins",
    "lbp_var_responses",
    "lbp_var_feature_names",
    "lbp_var_feature_vector",
    "lbp_var_features",
    "clbp_codes",
    "clbp_feature_names",
    "clbp_feature_vector",
]

LBP_METHODS = ("default", "ror", "uniform", "nri_uniform", "var")
# Histogram-able methods and the tag that names them in feature names:
# riu2 = rotation-invariant uniform, u2 = uniform, ri = rotation-invariant.
_TAGS = {"uniform": "riu2", "nri_uniform": "u2", "ror": "ri", "default": "raw"}
_MAX_P = 31  # codes of the "default" method are int32 sums of 2**i in scikit-image
_MAX_HIST_BITS = 16
_CODE_TYPES = {"uniform": np.uint8, "var": np.float64}  # of _encode's codes; int64 for the others  # "default"/"ror" histograms have 2**P bins
_BAND_PIXELS = 1 << 16  # pixels per band of rows processed at once
_SLAB_PIXELS = 1 << 20  # pixels per slab of rows padded and scaled at once (12 MiB of copies)
_GROUP = 8  # samples whose comparisons the uniform histograms hold at once
_TIE_CHUNK = 1 << 13  # near-ties recomputed at once (64 KiB float64 temporaries)
# Near-tie threshold of the single-precision differences, relative to the
# image's largest magnitude: 16x their worst-case error (float32 rounding of
# the values and weights and of a 5-term sum, < 2**-20).
_TIE = 2.0**-16


def _check_scale(P, R):
    if isinstance(P, bool) or not isinstance(P, (int, np.integer)) or not 1 <= P <= _MAX_P:
        raise ConfigError(f"lbp P must be an integer in [1, {_MAX_P}], got {P!r}")
    if not (isinstance(R, (int, float, np.number)) and math.isfinite(R) and R > 0):
        raise ConfigError(f"lbp R must be a positive number, got {R!r}")


def _check_method(method, allowed=LBP_METHODS):
    if method not in allowed:
        raise ConfigError(f"lbp method must be one of {allowed}, got {method!r}")


def _interpolation_weights(start, stop, offset):
    """Fractions ``t`` of ``i + offset`` for ``i`` in [start, stop), computed like scikit-image, and floor(offset).

    ``t = (i + offset) - floor(i + offset)`` differs from ``offset - floor(offset)``
    in the last bits as ``i`` grows; the codes are exact only with these values.
    """
    return _split(np.arange(start, stop, dtype=np.float64), offset)[1], math.floor(offset)


def _split(index, offset):
    """Integer part (intp) and fraction of ``index + offset``, in scikit-image's arithmetic."""
    position = index + offset
    floor = np.floor(position)
    return floor.astype(np.intp), position - floor


@functools.lru_cache(maxsize=64)
def _circle(P, R):
    """Row and column offsets of the ``P`` samples, scikit-image's: rounded to 5 decimals.

    The rounding puts the neighbours on the axes exactly on pixels.  Cached
    (read-only arrays): the same few circles serve every image.
    """
    angles = 2 * np.pi * np.arange(P, dtype=np.float64) / P
    rp, cp = np.round(-R * np.sin(angles), 5), np.round(R * np.cos(angles), 5)
    rp.flags.writeable = cp.flags.writeable = False
    return rp, cp


def _samples(padded, pad, start, stop, rp, cp, origin=0):
    """Yield ``(p, neighbours)`` of image rows [start, stop) for every sample ``p`` of the circle.

    ``padded`` is the image with ``pad`` zeros around it; ``origin`` is the
    row of its first row in a larger image it is a band of (see
    :func:`_codes`).  The yielded array
    is a work buffer overwritten by the next sample: use it before asking for
    the next one.  Samples come grouped by column position.
    """
    rows, cols = stop - start, padded.shape[1] - 2 * pad
    window = padded[start : stop + 2 * pad]
    blend, blend_tmp = np.empty((2, len(window), cols))
    value, value_tmp = np.empty((2, rows, cols))
    # Samples at the same column position share the horizontal blend of their
    # four corners; they differ only in the rows they blend it at.
    for c_off in np.unique(cp):
        dc, c0 = _interpolation_weights(0, cols, c_off)
        left = pad + c0
        if dc.any():
            # (1 - dc) * left + dc * right: scikit-image's bilinear_interpolation, in its order.
            np.multiply(window[:, left : left + cols], 1.0 - dc, out=blend)
            np.multiply(window[:, left + 1 : left + 1 + cols], dc, out=blend_tmp)
            np.add(blend, blend_tmp, out=blend)
            row_blend = blend
        else:
            row_blend = window[:, left : left + cols]
        for p in np.flatnonzero(cp == c_off).tolist():
            dr, r0 = _interpolation_weights(origin + start, origin + stop, rp[p])
            top = pad + r0
            if dr.any():
                dr = dr[:, None]
                np.multiply(row_blend[top : top + rows], 1.0 - dr, out=value)
                np.multiply(row_blend[top + 1 : top + 1 + rows], dr, out=value_tmp)
                np.add(value, value_tmp, out=value)
                yield p, value
            else:
                yield p, row_blend[top : top + rows]


@functools.lru_cache(maxsize=256)
def _difference_kernel(r_off, c_off):
    """filter2D kernel (float32, read-only) and anchor giving ``g_p - g_c`` for the sample at ``(r_off, c_off)``.

    The kernel spans only the sample's four corners and the centre (OpenCV
    borders the image by the kernel's reach, so a tight kernel copies less).
    Cached: the same few circles are used on every image.
    """
    r0, c0 = math.floor(r_off), math.floor(c_off)
    dr, dc = r_off - r0, c_off - c0
    top, left = min(r0, 0), min(c0, 0)
    kernel = np.zeros((max(r0 + 1, 0) - top + 1, max(c0 + 1, 0) - left + 1), dtype=np.float32)
    kernel[r0 - top : r0 - top + 2, c0 - left : c0 - left + 2] = np.outer([1 - dr, dr], [1 - dc, dc])
    kernel[-top, -left] -= 1  # the centre; may coincide with a corner when R < 2
    kernel.flags.writeable = False
    return kernel, (-left, -top)  # OpenCV anchors are (x, y)


@functools.lru_cache(maxsize=64)
def _sample_plan(P, R):
    """Per sample of the :func:`_circle` of ``(P, R)``, ``(r0, c0, kernel, anchor)``.

    ``(r0, c0)`` is the floor of its offset; ``kernel`` and ``anchor`` are
    its :func:`_difference_kernel`, or None for a sample exactly on a pixel.
    Cached: the per-sample decisions are made once per circle, not per image.
    """
    plan = []
    for r_off, c_off in zip(*(offsets.tolist() for offsets in _circle(P, R))):
        r0, c0 = math.floor(r_off), math.floor(c_off)
        on_pixel = r_off == r0 and c_off == c0
        plan.append((r0, c0, *((None, None) if on_pixel else _difference_kernel(r_off, c_off))))
    return tuple(plan)


def _comparisons(prepared, pad, start, stop, P, R, out, origin=0):
    """Write ``g_p >= g_c`` of image rows [start, stop) into ``out``, group by group, exactly as scikit-image.

    The samples are those of the ``(P, R)`` circle (:func:`_circle`).
    ``out`` holds ``G`` planes: samples ``first .. first + G - 1`` go to
    ``out[0 .. G - 1]``, and ``first`` is yielded once they are all written
    (with ``G >= P``, one group: ``out[p]`` is sample ``p``).  ``prepared``
    is :func:`_prepare`'s output for a ``pad`` that the circle fits in.  On
    its ``scaled`` image (divided by its largest magnitude, in float32) a
    filter2D pass gives ``g_p - g_c`` to within ``2**-20``; only pixels where
    it is below ``_TIE`` are recomputed with scikit-image's arithmetic, a
    whole group's at once (:func:`_exact_comparisons`).
    """
    image, padded, scaled, _ = prepared
    # Rows of the band and up to ``pad`` more on each side; outside the image,
    # OpenCV's constant-0 border is scikit-image's zero border.
    low = max(start - pad, 0)
    window = scaled[low : stop + pad]
    difference = np.empty(window.shape, dtype=np.float32)
    inner = difference[start - low : stop - low]
    magnitude = np.empty(inner.shape, dtype=np.float32)
    near = np.empty(inner.shape, dtype=bool)
    near_flat = near.reshape(-1)
    rp, cp = _circle(P, R)
    plan = _sample_plan(P, R)
    for first in range(0, len(rp), len(out)):
        group_rp, group_cp = rp[first : first + len(out)], cp[first : first + len(out)]
        ties = []
        for k, (r0, c0, kernel, anchor) in enumerate(plan[first : first + len(out)]):
            if kernel is None:
                # On a pixel: scikit-image's interpolation returns it unchanged.
                _on_pixel_comparison(image, start, stop, r0, c0, out[k])
                continue
            cv2.filter2D(window, -1, kernel, dst=difference, anchor=anchor, borderType=cv2.BORDER_CONSTANT)
            np.greater_equal(inner, 0, out=out[k])
            np.less(np.abs(inner, out=magnitude), _TIE, out=near)
            found = near_flat.nonzero()[0]  # most samples have a few
            if found.size:
                ties.append(found + k * near.size)
        if ties:
            _exact_comparisons(padded, pad, start, group_rp, group_cp, np.concatenate(ties), out, origin)
        yield first


def _on_pixel_comparison(image, start, stop, r0, c0, out):
    """Write ``out = image[i + r0, j + c0] >= image[i, j]`` for rows ``i`` in [start, stop), 0 outside the image.

    One comparison of the flattened image with itself shifted by ``r0 * cols
    + c0`` (contiguous, so much quicker than 2-D views), then the pixels
    whose neighbour is outside the image are compared with 0.
    """
    rows, cols = image.shape
    flat, bits = image.reshape(-1), out.reshape(-1)
    shift, low, high = r0 * cols + c0, start * cols, stop * cols
    # [low, first) and [last, high): neighbours above or below the image.
    first = min(max(low, -shift), high)
    last = max(min(high, flat.size - shift), first)
    np.greater_equal(flat[first + shift : last + shift], flat[first:last], out=bits[first - low : last - low])
    np.greater_equal(0.0, flat[low:first], out=bits[: first - low])
    np.greater_equal(0.0, flat[last:high], out=bits[last - low :])
    if c0:  # columns beyond a side: the flat shift wrapped them onto the next or previous row
        edge = slice(cols - c0, cols) if c0 > 0 else slice(0, -c0)
        np.greater_equal(0.0, image[start:stop, edge], out=out[:, edge])


def _exact_comparisons(padded, pad, start, rp, cp, ties, out, origin=0):
    """Recompute ``out.flat[ties]`` (sample-major flat indices) with scikit-image's float64 arithmetic.

    The bilinear interpolation of :func:`_samples` (rows numbered from
    ``origin``), in the same order, on
    the gathered corners of each (sample, pixel) pair: one pass over the
    near-ties of a group, whichever sample they belong to, in chunks that
    keep the temporaries small.
    """
    plane, cols, width = out[0].size, out.shape[2], padded.shape[1]
    flat = padded.reshape(-1)
    for low in range(0, ties.size, _TIE_CHUNK):
        chunk = ties[low : low + _TIE_CHUNK]
        p, pixel = np.divmod(chunk, plane)
        i, j = np.divmod(pixel, cols)
        i += start + origin
        top, row_t = _split(i, rp.take(p))
        i -= origin
        top -= origin
        left, col_t = _split(j, cp.take(p))
        corner = (top + pad) * width + (left + pad)
        col_s = 1.0 - col_t
        upper = flat.take(corner) * col_s + flat.take(corner + 1) * col_t
        corner += width
        lower = flat.take(corner) * col_s + flat.take(corner + 1) * col_t
        out.reshape(-1)[chunk] = upper * (1.0 - row_t) + lower * row_t >= flat.take((i + pad) * width + (j + pad))


def _prepare(image, pad, fast=True, scale=None):
    """Inputs of :func:`_comparisons` for an image: ``(image, padded, scaled, band)``.

    ``padded`` has ``pad`` zeros around the image (``ceil(R) + 1`` or more);
    ``scaled`` is None when the fast path is not wanted or not reliable
    (non-finite image); ``band`` is the number of rows processed at once.
    ``scale`` is :func:`_largest_magnitude` of the image, or of the whole
    image when `image` is a band of rows of it (so that the band's scaled
    values are the whole image's).
    """
    image = np.ascontiguousarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"lbp_codes expects a 2-D image, got shape {image.shape}")
    # Zeros around: scikit-image's constant-0 border (OpenCV pads faster than np.pad).
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    scale = _largest_magnitude(image) if scale is None else scale
    scaled = None
    if fast and math.isfinite(scale):
        scaled = np.empty(image.shape, dtype=np.float32)
        np.divide(image, scale, out=scaled)  # in float64, rounded once
    # Bands of rows keep the per-sample work buffers in cache on large images.
    band = max(1, _BAND_PIXELS // max(image.shape[1], 1))
    return image, padded, scaled, band


def _largest_magnitude(image):
    """The largest ``|value|`` of `image`, 1.0 for an all-zero one (NaN if any, which max and min propagate)."""
    return max(float(image.max(initial=0.0)), -float(image.min(initial=0.0))) or 1.0


def _band_codes(prepared, pad, P, R, method, origin=0, span=None):
    """Yield ``(start, stop, codes)`` for every band of rows of a :func:`_prepare`-d image (rows numbered from ``origin``).

    ``span``: the ``(first, last)`` rows to code, all when None.
    """
    image, padded, scaled, band = prepared
    rp, cp = _circle(P, R)
    rows, cols = image.shape
    first, last = (0, rows) if span is None else span
    nonfinite = None
    if scaled is None:  # the exact path: the image may hold NaN or infinities
        nonfinite = ~np.isfinite(padded)
        nonfinite = nonfinite if nonfinite.any() else None
    for start in range(first, last, band):
        stop = min(start + band, last)
        samples = _samples(padded, pad, start, stop, rp, cp, origin)
        if method == "var":
            neighbours = np.empty((P, stop - start, cols))
            for p, value in samples:
                neighbours[p] = value
                if nonfinite is not None:
                    neighbours[p][_reads_nonfinite(nonfinite, pad, start, stop, rp[p], cp[p])] = np.nan
            # Sums over the first axis add the samples in order, like scikit-image.
            total = neighbours.sum(axis=0)
            squares = (neighbours * neighbours).sum(axis=0)
            yield start, stop, (squares - total * total / P) / P
            continue
        bits = np.empty((P, stop - start, cols), dtype=bool)
        if scaled is not None:
            for _ in _comparisons(prepared, pad, start, stop, P, R, bits, origin):
                pass
        else:
            # scikit-image's s_p = [g_p - g_c >= 0], not g_p >= g_c: they differ
            # only where both are the same infinity (inf - inf is NaN: bit 0).
            difference = np.empty((stop - start, cols))
            for p, value in samples:
                np.subtract(value, image[start:stop], out=difference)
                if nonfinite is not None:
                    difference[_reads_nonfinite(nonfinite, pad, start, stop, rp[p], cp[p])] = np.nan
                np.greater_equal(difference, 0, out=bits[p])
        yield start, stop, _encode(bits, method)


def _reads_nonfinite(nonfinite, pad, start, stop, r_off, c_off):
    """Where scikit-image's sample at ``(r_off, c_off)`` of rows [start, stop) is NaN but :func:`_samples`' is not.

    scikit-image's bilinear interpolation blends the four corners with
    weights ``1 - d`` and ``d`` even when ``d`` is 0 (a sample on a row or
    a column, whose two corners on that axis are one pixel), and ``0 * inf``
    and ``0 * NaN`` are NaN.  So a sample on a row or column that reads a
    non-finite pixel is NaN, and its comparison bit 0; :func:`_samples`
    skips the zero weights and would give that pixel's infinity.  A sample
    off both axes has no zero weight, and the same arithmetic in both.
    """
    rows, cols = stop - start, nonfinite.shape[1] - 2 * pad
    reads = np.zeros((rows, cols), dtype=bool)
    if r_off != math.floor(r_off) and c_off != math.floor(c_off):
        return reads
    for r in {math.floor(r_off), math.ceil(r_off)}:
        for c in {math.floor(c_off), math.ceil(c_off)}:
            reads |= nonfinite[pad + start + r : pad + stop + r, pad + c : pad + c + cols]
    return reads


def lbp_codes(image, P=8, R=1.0, method="uniform"):
    """Local binary pattern code of every pixel, equal to scikit-image's.

    Parameters
    ----------
    image : (M, N) array_like
        Grey image, used as float64 values (no rescaling), like
        ``skimage.feature.local_binary_pattern``.
    P : int, optional
        Number of neighbours, 1 to 31.
    R : float, optional
        Radius of the neighbour circle, in pixels.
    method : {"default", "ror", "uniform", "nri_uniform", "var"}, optional
        ``"default"``: ``sum_p s_p 2^p`` with ``s_p = [g_p >= g_c]``;
        ``"ror"``: its minimum over circular bit rotations [1];
        ``"uniform"``: number of ones of patterns with at most two 0/1
        transitions, ``P + 1`` otherwise (rotation-invariant uniform, riu2)
        [1]; ``"nri_uniform"``: one code per uniform pattern (``P (P - 1) +
        2`` of them) and one for all others [2]; ``"var"``: variance of the
        ``P`` neighbours as scikit-image computes it, ``E[g^2] - E[g]^2``
        (a flat neighbourhood may give a tiny negative number), except
        that an exactly zero variance stays 0 where scikit-image returns NaN.

    Returns
    -------
    codes : (M, N) ndarray of float64
        Same values as ``local_binary_pattern(image, P, R, method)`` (for
        ``"var"`` to rounding, and 0 instead of NaN).

    Notes
    -----
    Images holding NaN or infinities get scikit-image's codes too (unlike
    :func:`lbp_features` and :func:`texture.read_image`, which refuse them):
    its bit is ``g_p - g_c >= 0``, false where the difference is NaN
    (``inf - inf``, or any NaN), and a neighbour sampled on a row or column
    through a non-finite pixel is NaN (its bilinear interpolation multiplies
    that pixel by a zero weight).

    Examples
    --------
    >>> image = np.array([[0, 0, 0], [0, 1, 0], [1, 1, 1]], dtype=float)
    >>> float(lbp_codes(image, 8, 1, "default")[1, 1])  # only the neighbour below (bit 6) is >= 1
    64.0
    """
    _check_scale(P, R)
    _check_method(method)
    return _codes(image, P, R, method).astype(np.float64)


def lbp_responses(image, scales=((8, 1), (16, 2), (24, 3)), method="uniform", origin=0):
    """Yield the LBP code of every pixel at every scale: the LBP features' per-pixel responses.

    Every LBP feature is the share of a region's pixels carrying one code:
    over the whole image, a mask's pixels (:func:`lbp_feature_vector`) or a
    window of a feature map (:func:`texture.feature_map`), always the codes
    of the whole image (a pixel's circle reads its neighbours, zeros outside
    the image).

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image (see :func:`texture.read_image`), or a band of its
        rows; not checked.
    scales, method
        As in :func:`lbp_features` (checked by :func:`check_lbp_params`).
    origin : int, optional
        The row of the whole image at which ``image`` starts, when it is a
        band of rows: scikit-image's interpolation weights depend in their
        last bits on the row number, so a band numbered from its origin
        gets, on every row at least :func:`lbp_reach` rows from its ends,
        the codes of the whole image bit for bit.

    Yields
    ------
    codes : (M, N) ndarray of int
        Per scale, in order, :func:`lbp_codes`' values as integers in
        ``0 .. lbp_n_bins(P, method) - 1``.

    Examples
    --------
    >>> image = np.random.default_rng(0).random((16, 16))
    >>> codes = list(lbp_responses(image, ((8, 1), (16, 2))))
    >>> bool(np.array_equal(codes[1], lbp_codes(image, 16, 2)))
    True
    """
    # One padded and scaled copy for every scale (the widest circle's pad).
    pad = lbp_reach(scales)
    prepared = _prepare(image, pad)
    for P, R in scales:
        yield _prepared_codes(prepared, pad, P, R, method, origin)


def lbp_reach(scales=((8, 1), (16, 2), (24, 3))):
    """Rows and columns around a pixel that its codes at ``scales`` read (bilinear samples included).

    Examples
    --------
    >>> lbp_reach(((8, 1), (16, 2.5)))
    4
    """
    return max(math.ceil(R) + 1 for _, R in scales)


def _codes(image, P, R, method, origin=0):
    """:func:`lbp_codes` of validated arguments, in the integer type of :func:`_encode` (float64 for "var").

    ``origin``: see :func:`lbp_responses`.
    """
    pad = math.ceil(R) + 1
    return _prepared_codes(_prepare(image, pad, fast=method != "var"), pad, P, R, method, origin)


def _prepared_codes(prepared, pad, P, R, method, origin=0):
    """:func:`_codes` of a :func:`_prepare`-d image, padded by ``pad`` (at least ``ceil(R) + 1``)."""
    codes = np.empty(prepared[0].shape, dtype=_CODE_TYPES.get(method, np.int64))
    # Infinities give NaN samples and differences (inf - inf) on purpose, as in scikit-image.
    with np.errstate(invalid="ignore", over="ignore"):
        for start, stop, band_codes in _band_codes(prepared, pad, P, R, method, origin):
            codes[start:stop] = band_codes
    return codes


def _ones_and_transitions(bits):
    """Per pixel, the number of ones and of 0/1 changes between consecutive planes of ``bits`` (uint8).

    Changes along the open chain 0..P-1, scikit-image's count: <= 2 there is
    equivalent to <= 2 around the circle, since the circular count is even.
    Reductions of the planes viewed as uint8 (0/1), which skip bool casts.
    """
    planes = bits.view(np.uint8)
    ones = np.add.reduce(planes, axis=0, dtype=np.uint8)
    return ones, np.add.reduce(planes[1:] ^ planes[:-1], axis=0, dtype=np.uint8)


def _riu2(ones, changes, P):
    """Rotation-invariant uniform codes (uint8): the number of ones, ``P + 1`` if not uniform.

    ``max(ones, (P + 1) [changes > 2])``, as ``ones <= P``: three vectorized
    uint8 passes, some thirty times quicker than ``np.where`` on uint8.
    """
    code = np.greater(changes, 2).view(np.uint8)
    code *= np.uint8(P + 1)
    return np.maximum(ones, code, out=code)


def _encode(bits, method):
    """Turn the ``(P, M, N)`` comparison bits into codes of ``method``."""
    P = bits.shape[0]
    if method in ("default", "ror"):
        code = np.zeros(bits.shape[1:], dtype=np.int64)
        for p in range(P):
            code[bits[p]] += 1 << p
        if method == "ror":
            rotated, mask = code.copy(), (1 << P) - 1
            for _ in range(P - 1):
                rotated = (rotated >> 1) | ((rotated << (P - 1)) & mask)
                np.minimum(code, rotated, out=code)
        return code
    ones, changes = _ones_and_transitions(bits)  # uint8: P <= 31
    if method == "uniform":
        return _riu2(ones, changes, P)
    uniform = changes <= 2
    ones = ones.astype(np.intp)
    # nri_uniform: index a uniform pattern by its number of ones and by how far
    # its block of ones is rotated, as scikit-image does.
    first_one = bits.argmax(axis=0)
    first_zero = (~bits).argmax(axis=0)
    rotation = np.where(first_one == 0, ones - first_zero, P - first_one)
    code = np.where(uniform, 1 + (ones - 1) * P + rotation, P * (P - 1) + 2)
    code[uniform & (ones == 0)] = 0
    code[uniform & (ones == P)] = P * (P - 1) + 1
    return code


def _uniform_histograms(image, scales, inside=None):
    """:func:`lbp_histogram` of the ``"uniform"`` codes of :func:`lbp_codes` at every scale, concatenated.

    With ``inside``, the histograms of the codes of the inside pixels.

    The codes are never stored: running per-pixel counts of ones and of 0/1
    transitions (uint8, as ``P <= 31``) take the comparisons of
    :data:`_GROUP` samples at a time, so that the work buffers stay small
    (cache, and no fresh pages to fault in on every image).  A large image
    is padded and scaled one slab of :data:`_SLAB_PIXELS` rows at a time,
    with the rows its circles reach on either side (numbered from the slab's
    origin, so its codes are the whole image's bit for bit, see
    :func:`_codes`): a few bytes per pixel less than a padded copy of it.
    """
    pad = max(math.ceil(R) + 1 for _, R in scales)
    scale = _largest_magnitude(image)
    if not math.isfinite(scale):  # non-finite values: the exact path throughout
        return np.concatenate([lbp_histogram(lbp_codes(image, P, R), P, mask=inside) for P, R in scales])
    cols = image.shape[1]
    counts = [np.zeros(P + 2, dtype=np.intp) for P, _ in scales]
    for low, top, bottom, prepared in _slabs(image, pad, scale):
        band = prepared[3]
        for (P, R), scale_counts in zip(scales, counts):
            for start in range(top - low, bottom - low, band):
                stop = min(start + band, bottom - low)
                group = np.empty((min(P, _GROUP), stop - start, cols), dtype=bool)
                ones = np.zeros((stop - start, cols), dtype=np.uint8)
                changes = np.zeros_like(ones)
                last = np.empty_like(group[0])  # the previous group's last sample
                for first in _comparisons(prepared, pad, start, stop, P, R, group, origin=low):
                    bits = group[: P - first]
                    group_ones, group_changes = _ones_and_transitions(bits)
                    np.add(ones, group_ones, out=ones)
                    np.add(changes, group_changes, out=changes)
                    if first:
                        np.add(changes, np.not_equal(bits[0], last).view(np.uint8), out=changes)
                    last[...] = bits[-1]
                region = None if inside is None else inside[low + start : low + stop]
                scale_counts += _riu2_counts(ones, changes, P, region)
        del prepared  # before the next slab's copies are made
    return np.concatenate([_normalized(scale_counts) for scale_counts in counts])


def _slabs(image, pad, scale):
    """Yield ``(low, top, bottom, prepared)``: the image's rows [top, bottom) in slabs of :data:`_SLAB_PIXELS`.

    ``prepared`` is :func:`_prepare` of rows [low, ...) of the image, the
    slab with the ``pad`` rows its circles reach on either side, scaled by
    the whole image's `scale`; rows numbered from ``low`` in it give the
    whole image's codes bit for bit (see :func:`lbp_responses`).
    """
    rows, cols = image.shape
    slab = max(1, _SLAB_PIXELS // max(cols, 1))
    for top in range(0, rows, slab):
        bottom = min(top + slab, rows)
        low = max(top - pad, 0)
        yield low, top, bottom, _prepare(image[low : min(bottom + pad, rows)], pad, scale=scale)


def _code_histograms(image, scales, method, inside=None):
    """:func:`lbp_histogram` of the `method` codes at every scale, concatenated, without whole-image code arrays.

    The codes of one band of rows at a time, in the slabs of :func:`_slabs`
    (the exact path of non-finite images included), are counted and dropped:
    a large image costs a few bytes per pixel beyond itself, not the 8 of
    each scale's codes and the 12 of padded and scaled copies.
    """
    pad = max(math.ceil(R) + 1 for _, R in scales)
    counts = [np.zeros(lbp_n_bins(P, method), dtype=np.intp) for P, _ in scales]
    with np.errstate(invalid="ignore", over="ignore"):  # as in _codes
        for low, top, bottom, prepared in _slabs(image, pad, _largest_magnitude(image)):
            for (P, R), scale_counts in zip(scales, counts):
                for start, stop, codes in _band_codes(prepared, pad, P, R, method, low, (top - low, bottom - low)):
                    if inside is not None:
                        codes = codes[inside[low + start : low + stop]]
                    scale_counts += np.bincount(codes.ravel(), minlength=len(scale_counts))
            del prepared
    return np.concatenate([_normalized(scale_counts) for scale_counts in counts])


def _riu2_counts(ones, changes, P, inside=None):
    """Number of pixels (inside ones only, with ``inside``) of each :func:`_riu2` code, from its uint8 inputs.

    A joint histogram of (ones, changes) by ``cv2.calcHist``, much quicker
    than building the codes and counting them; its float32 counts are exact
    up to ``2**24`` pixels.
    """
    mask = None if inside is None else inside.view(np.uint8)
    joint = cv2.calcHist([ones, changes], [0, 1], mask, [P + 1, P], [0, P + 1, 0, P])
    uniform = joint[:, :3].sum(axis=1, dtype=np.float64)
    return np.append(uniform, joint.sum(dtype=np.float64) - uniform.sum()).astype(np.intp)


def _normalized(counts):
    return counts / max(counts.sum(), 1)


def lbp_n_bins(P, method="uniform"):
    """Number of distinct codes of ``method`` with ``P`` neighbours (histogram length)."""
    _check_method(method, tuple(_TAGS))
    if method == "uniform":
        return P + 2
    if method == "nri_uniform":
        return P * (P - 1) + 3
    if P > _MAX_HIST_BITS:
        raise ConfigError(f"lbp method {method!r} has 2**P bins; P must be <= {_MAX_HIST_BITS}, got {P}")
    return 1 << P


def lbp_histogram(codes, P, method="uniform", mask=None):
    """Normalized histogram of LBP codes (sums to 1), one bin per possible code.

    Parameters
    ----------
    codes : array_like
        Output of :func:`lbp_codes` with the same ``P`` and ``method``.
    P : int
        Number of neighbours.
    method : {"uniform", "nri_uniform", "ror", "default"}, optional
        ``"var"`` codes are continuous and have no fixed bins.
    mask : array_like of bool, optional
        ``codes``' shape: count only the codes where it is True.

    Returns
    -------
    hist : (lbp_n_bins(P, method),) ndarray of float64

    Examples
    --------
    >>> codes = np.array([[0, 1], [1, 9]])
    >>> lbp_histogram(codes, 8, mask=np.array([[True, True], [False, False]]))[:3].tolist()
    [0.5, 0.5, 0.0]
    """
    codes = np.asarray(codes, dtype=np.intp)
    if mask is not None:
        codes = codes[np.asarray(mask, dtype=bool)]
    return _normalized(np.bincount(codes.ravel(), minlength=lbp_n_bins(P, method)))


def check_lbp_params(scales, method, field="lbp_scales"):
    """Raise ConfigError naming the first invalid multi-scale LBP parameter.

    Errors name the parameters as :class:`texture.FeatureConfig` fields
    (``lbp_scales``, ``lbp_method``).

    Parameters
    ----------
    scales, method
        As in :func:`lbp_features`; no scale may repeat (it would repeat
        feature names).
    field : str, optional
        The :class:`texture.FeatureConfig` field that holds ``scales``,
        named in the errors (``lbpvar_scales`` for :func:`lbp_var_features`).

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_lbp_params([(8, 1), (16, 2)], "uniform")
    >>> check_lbp_params([(8, 0)], "uniform")
    Traceback (most recent call last):
    ...
    texture.errors.ConfigError: lbp_scales: lbp R must be a positive number, got 0
    """
    if isinstance(scales, str) or not np.iterable(scales) or not all(np.iterable(s) and len(s) == 2 for s in scales):
        raise ConfigError(f"{field} must be a sequence of (P, R) pairs, got {scales!r}")
    if len(scales) == 0:
        raise ConfigError(f"{field} must not be empty")
    try:
        for P, R in scales:
            _check_scale(P, R)
    except ConfigError as error:
        raise ConfigError(f"{field}: {error.message}") from None
    try:
        for P, _ in scales:
            lbp_n_bins(P, method)
    except ConfigError as error:
        raise ConfigError(f"lbp_method: {error.message}") from None
    pairs = [tuple(s) for s in scales]
    if len(set(pairs)) != len(pairs):
        raise ConfigError(f"{field} must not repeat values, got {scales!r}")


def lbp_feature_names(scales=((8, 1), (16, 2), (24, 3)), method="uniform"):
    """Names of :func:`lbp_feature_vector`'s values, e.g. ``lbp_p8_r1_riu2_bin03``."""
    names = []
    for P, R in scales:
        n_bins = lbp_n_bins(P, method)
        width = max(2, len(str(n_bins - 1)))
        names += [f"lbp_p{P}_r{R:g}_{_TAGS[method]}_bin{b:0{width}d}" for b in range(n_bins)]
    return names


def lbp_feature_vector(image, scales=((8, 1), (16, 2), (24, 3)), method="uniform", inside=None):
    """Concatenated normalized histograms of :func:`lbp_codes` at every ``(P, R)`` scale.

    The extractor's path: the parameters are not checked here (see
    :func:`check_lbp_params`) apart from each scale's ``P`` and ``R``.

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image (see :func:`texture.read_image`).
    scales, method
        As in :func:`lbp_features`.
    inside : (M, N) ndarray of bool, optional
        Region of interest that passed :func:`check_mask`: the histograms
        count the codes of its pixels only.

    Returns
    -------
    values : 1-D ndarray of float64
        In the order of :func:`lbp_feature_names`.
    """
    for P, R in scales:
        _check_scale(P, R)
    if method != "uniform":
        return _code_histograms(image, scales, method, inside)
    # The default riu2 histograms skip the code arrays (same values, faster).
    return _uniform_histograms(image, scales, inside)


def check_mask(inside, scales, path=None):
    """Refuse a region of interest with no pixel whose whole neighbourhood of the largest radius is inside.

    The masked histograms count the codes of the inside pixels, whose
    neighbours may lie outside; this asks, as the smallest image size does
    of an image, for at least one inside pixel whose ``(2 ceil(R) + 1)``
    square around it is all inside, so that some codes describe the region
    alone.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        Output of :func:`texture.masks.read_mask`.
    scales
        As in :func:`lbp_features`.
    path : str, optional
        File named in the error (the mask's, else the image's).

    Raises
    ------
    MaskError
        Saying the radius and how many pixels the mask has.
    """
    R = max(R for _, R in scales)
    check_square_inside(inside, 2 * math.ceil(R) + 1, f"LBP radius {R:g}", path)


def lbp_features(image, scales=((8, 1), (16, 2), (24, 3)), method="uniform", mask=None):
    """Multi-scale LBP histograms of an image.

    With a mask, each histogram counts the codes of the inside pixels only;
    a code still compares its centre with neighbours that may lie outside
    the mask (the code of a pixel is that of the whole image), so the
    histogram of a region describes its pixels in their surroundings, and a
    mask covering the whole image gives the unmasked histograms.

    Parameters
    ----------
    image : (M, N) array or path
        Grey image (see :func:`texture.read_image`).
    scales : sequence of (int, float), optional
        ``(P, R)`` pairs: neighbours and radius of each scale.
    method : {"uniform", "nri_uniform", "ror", "default"}, optional
        Code of each pixel (see :func:`lbp_codes`); the default, rotation
        invariant uniform patterns, gives ``P + 2`` bins per scale.
    mask : array_like or path, optional
        Region of interest: a boolean array of the image's shape, or
        anything :func:`texture.read_image` reads, non-zero inside (see
        :func:`texture.masks.read_mask`).  The whole image when omitted.

    Returns
    -------
    features : pandas.Series
        Fraction of the pixels (inside pixels with a mask; border pixels
        included, their outside neighbours read as 0 like scikit-image)
        with each code, named like ``lbp_p8_r1_riu2_bin03``.

    Raises
    ------
    ConfigError
        From :func:`check_lbp_params`.
    MaskError
        The mask cannot be read, has another shape than the image, is
        empty, or is too thin for the largest radius (see
        :func:`check_mask`).

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = lbp_features(brick())
    >>> len(features), round(float(features.sum()), 6)
    (54, 3.0)
    """
    check_lbp_params(scales, method)
    image, inside, named = read_image_and_mask(image, mask)
    if inside is not None:
        check_mask(inside, scales, named)
    values = lbp_feature_vector(image, scales, method, inside)
    import pandas as pd  # see texture.features.extract_features

    return pd.Series(values, index=lbp_feature_names(scales, method))


# -- VAR: the local contrast that LBP discards ----------------------------------------------------

#: Bins of a VAR histogram (:func:`var_bins`).
VAR_BINS = 16
# var_bins counts the edges 2**(k - 2.5) / 255**2 (k = 0 .. VAR_BINS - 2) at or below a
# variance: one frexp exponent of the variance times this factor.
_VAR_FACTOR = 255.0**2 * 2.0**2.5


def local_variance(image, P=8, R=1.0):
    """VAR_{P,R} of every pixel: the variance of its ``P`` neighbours on the circle of radius ``R`` [1].

    The neighbours are :func:`lbp_codes`' (bilinear samples, zero outside
    the image); the values are ``local_binary_pattern(image, P, R, "var")``'s
    to single-precision rounding (relative errors below 1e-4).  Each neighbour's difference from the
    centre is one float32 ``cv2.filter2D`` pass (as for the LBP bits), and the
    variance of the differences, which is the neighbours', is taken from
    their sum and sum of squares: rounding errors scale with the local
    contrast, not with the grey level.  Translation-invariant arithmetic: a
    band of rows with :func:`lbp_reach` rows of context has the whole
    image's values bit for bit.

    Parameters
    ----------
    image : (M, N) array_like
        Grey image; images holding NaN or infinities take the float64 path of
        :func:`lbp_codes` (``method="var"``).
    P : int, optional
        Number of neighbours, 1 to 31.
    R : float, optional
        Radius of the circle, in pixels.

    Returns
    -------
    variance : (M, N) ndarray of float32 (float64 for a non-finite image)
        Non-negative (rounding below zero is clipped); 0 on flat neighbourhoods,
        where scikit-image returns NaN.

    Examples
    --------
    >>> image = np.zeros((5, 5)); image[2, 3] = 1.0  # one bright neighbour of the centre
    >>> round(float(local_variance(image, 4, 1)[2, 2]), 4)  # of (1, 0, 0, 0)
    0.1875
    """
    _check_scale(P, R)
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"local_variance expects a 2-D image, got shape {image.shape}")
    if not math.isfinite(_largest_magnitude(image)):
        with np.errstate(invalid="ignore", over="ignore"):
            return _codes(image, P, R, "var")
    values = image.astype(np.float32)
    difference = np.empty_like(values)
    total, squares = np.zeros_like(values), np.zeros_like(values)
    for r_off, c_off in zip(*(offsets.tolist() for offsets in _circle(P, R))):
        kernel, anchor = _difference_kernel(r_off, c_off)  # also exact for a sample on a pixel
        cv2.filter2D(values, -1, kernel, dst=difference, anchor=anchor, borderType=cv2.BORDER_CONSTANT)
        cv2.add(total, difference, dst=total)
        cv2.accumulateSquare(difference, squares)
    mean = np.multiply(total, 1.0 / P, out=total)
    variance = np.multiply(squares, 1.0 / P, out=squares)
    variance -= mean * mean
    return np.maximum(variance, 0.0, out=variance)


def var_bins(variance):
    """The bin, 0 to ``VAR_BINS - 1``, of each local variance: octaves of variance on a fixed scale.

    Ojala et al. [1] quantize VAR at cut values learned from training images;
    a feature vector that needs no fitting uses a fixed scale instead, for
    working images in [0, 1]: bin ``k`` (``1 <= k <= VAR_BINS - 2``) holds the
    variances in ``[2**(k - 3.5), 2**(k - 2.5))`` squared 8-bit grey levels,
    half an octave of standard deviation each, bin 0 those below
    ``2**-2.5`` (a standard deviation below 0.42 grey level: flat), bin 15
    those at or above ``2**11.5`` (a standard deviation above 54 levels).
    The edges are irrational, so the variance of 8-bit neighbourhoods, a
    rational number, never falls on one: ties are not decided by rounding.

    Parameters
    ----------
    variance : array_like
        Local variances (:func:`local_variance`, or scikit-image's ``"var"``
        codes with NaN read as 0), non-negative.

    Returns
    -------
    bins : ndarray of uint8

    Examples
    --------
    >>> var_bins(np.array([0.0, 1.0, 2.0, 1e9]) / 255**2).tolist()  # 1 and 2 squared grey levels
    [0, 3, 4, 15]
    """
    # fmax reads NaN as 0; float64, so that a float32 variance is binned exactly as its float64 value.
    scaled = np.fmax(variance, 0.0, dtype=np.float64)
    scaled *= _VAR_FACTOR
    exponent = np.frexp(scaled)[1]
    return np.clip(exponent, 0, VAR_BINS - 1, out=exponent).astype(np.uint8)


def lbp_var_responses(image, scales=((8, 1), (16, 2), (24, 3)), origin=0):
    """Yield the VAR bin (:func:`var_bins` of :func:`local_variance`) of every pixel at every scale.

    The VAR features' per-pixel responses, as :func:`lbp_responses` are the
    LBP features'.  ``origin`` (the row at which a band of rows starts) is
    accepted for the extractor's interface and not needed: the arithmetic
    does not depend on the row number.
    """
    for P, R in scales:
        yield var_bins(local_variance(image, P, R))


def lbp_var_feature_names(scales=((8, 1), (16, 2), (24, 3))):
    """Names of :func:`lbp_var_feature_vector`'s values, e.g. ``lbpvar_p8_r1_bin07``."""
    return [f"lbpvar_p{P}_r{R:g}_bin{b:02d}" for P, R in scales for b in range(VAR_BINS)]


def lbp_var_feature_vector(image, scales=((8, 1), (16, 2), (24, 3)), inside=None):
    """Concatenated normalized histograms of the VAR bins at every ``(P, R)`` scale.

    The extractor's path (see :func:`lbp_feature_vector`): the ``inside``
    pixels of a region that passed :func:`check_mask` are counted, each
    with its whole-image neighbourhood.

    A finite image is binned slab by slab of :data:`_SLAB_PIXELS`, each with
    the :func:`lbp_reach` rows of context that give the whole image's
    variances bit for bit (:func:`local_variance`): a large image costs a
    few bytes per pixel beyond itself, not the 30 of whole-image variances
    and bins.

    Returns
    -------
    values : (VAR_BINS * len(scales),) ndarray of float64
        In the order of :func:`lbp_var_feature_names`.
    """
    rows, cols = image.shape
    # A non-finite image takes local_variance's float64 path: whole, so that every row takes it.
    slab = max(1, _SLAB_PIXELS // max(cols, 1)) if math.isfinite(_largest_magnitude(image)) else rows
    pad = lbp_reach(scales)
    counts = [np.zeros(VAR_BINS, dtype=np.intp) for _ in scales]
    for top in range(0, rows, slab):
        bottom = min(top + slab, rows)
        low = max(top - pad, 0)
        block = image[low : min(bottom + pad, rows)]
        for bins, scale_counts in zip(lbp_var_responses(block, scales), counts):
            bins = bins[top - low : bottom - low]
            scale_counts += np.bincount(bins.ravel() if inside is None else bins[inside[top:bottom]],
                                        minlength=VAR_BINS)
    return np.concatenate([_normalized(scale_counts) for scale_counts in counts])


def lbp_var_features(image, scales=((8, 1), (16, 2), (24, 3)), mask=None):
    """Multi-scale VAR histograms of an image: the local contrast that the LBP codes leave out [1].

    Ojala et al. pair each rotation-invariant LBP code with VAR_{P,R}, the
    variance of the same ``P`` neighbours: rotation-invariant too, but not
    invariant to the grey scale.  Here VAR is quantized on the fixed scale
    of :func:`var_bins` and counted per scale, as the LBP codes are.  Masks
    are handled as in :func:`lbp_features`.

    Parameters
    ----------
    image : (M, N) array or path
        Grey image (see :func:`texture.read_image`).
    scales : sequence of (int, float), optional
        ``(P, R)`` pairs: neighbours and radius of each scale.
    mask : array_like or path, optional
        Region of interest (see :func:`lbp_features`).

    Returns
    -------
    features : pandas.Series
        Fraction of the pixels with each VAR bin, named like ``lbpvar_p8_r1_bin07``.

    Raises
    ------
    ConfigError
        From :func:`check_lbp_params`.
    MaskError
        As :func:`lbp_features`.

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = lbp_var_features(brick())
    >>> len(features), round(float(features.sum()), 6)
    (48, 3.0)
    """
    check_lbp_params(scales, "uniform", field="lbpvar_scales")
    image, inside, named = read_image_and_mask(image, mask)
    if inside is not None:
        check_mask(inside, scales, named)
    values = lbp_var_feature_vector(image, scales, inside)
    import pandas as pd  # see texture.features.extract_features

    return pd.Series(values, index=lbp_var_feature_names(scales))


# -- Completed LBP: the magnitude and centre parts (CLBP_M/C) -------------------------------------


def clbp_codes(image, P=8, R=1.0, inside=None):
    """CLBP_M and CLBP_C codes of every pixel (Guo, Zhang and Zhang 2010) [3].

    LBP keeps the signs of the differences ``d_p = g_p - g_c`` from the
    centre (CLBP_S, :func:`lbp_codes`); the completed LBP adds their
    magnitudes and the centre:

    * CLBP_M: the rotation-invariant uniform code (as ``"uniform"``) of the
      bits ``|d_p| >= c_M``, ``c_M`` the mean of ``|d_p|`` over every
      sample of every pixel of the image (of the region, with ``inside``);
    * CLBP_C: ``g_c >= c_I``, ``c_I`` the mean grey level of the image (of
      the region).

    The neighbours are :func:`lbp_codes`' (bilinear samples, zero outside
    the image); each difference is one float32 ``cv2.filter2D`` pass, made
    twice (the mean first, then the bits), so that no ``P`` planes are
    held at once, over slabs of rows of :data:`_SLAB_PIXELS` with the rows
    the circle reaches (:func:`_clbp_slabs`).  Both thresholds are
    statistics of the whole image (or region): the codes of a window depend
    on pixels outside it, which is why :func:`texture.feature_map` refuses
    this family.

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image, finite.
    P, R : int, float
        Neighbours and radius, as in :func:`lbp_codes`.
    inside : (M, N) ndarray of bool, optional
        Region whose pixels give the thresholds.

    Returns
    -------
    magnitude : (M, N) ndarray of uint8
        CLBP_M codes, ``0 .. P + 1``.
    centre : (M, N) ndarray of bool
        CLBP_C codes.

    Examples
    --------
    >>> image = np.zeros((5, 5)); image[2, 2] = 1.0
    >>> magnitude, centre = clbp_codes(image, 4, 1)
    >>> int(magnitude[2, 2]), bool(centre[2, 2]), bool(centre[0, 0])  # four large differences; bright centre
    (4, True, False)
    """
    magnitude = np.empty(image.shape, dtype=np.uint8)
    centre = np.empty(image.shape, dtype=bool)
    for top, bottom, slab_magnitude, slab_centre in _clbp_slabs(image, P, R, inside):
        magnitude[top:bottom], centre[top:bottom] = slab_magnitude, slab_centre
    return magnitude, centre


def _clbp_slabs(image, P, R, inside=None):
    """Yield ``(top, bottom, magnitude, centre)``: :func:`clbp_codes` of the image's rows [top, bottom), slab by slab.

    Two passes over slabs of :data:`_SLAB_PIXELS`, each with the ``ceil(R) +
    1`` rows its circle reaches on either side: the first sums the
    magnitudes for the threshold ``c_M``, the second compares them with it.
    A slab's differences are those of the whole image at its rows (the
    context rows stand in for the zero border, which only the image's own
    edges keep), so a large image costs a few bytes per pixel beyond itself,
    not whole-image float32 planes and codes.  The threshold is the same sum
    grouped by slab: the same bits for an image of one slab, and a last-bit
    difference at most otherwise, which a float32 magnitude exactly on
    ``c_M`` would need to show.
    """
    _check_scale(P, R)
    plan = [_difference_kernel(r_off, c_off) for r_off, c_off in zip(*(o.tolist() for o in _circle(P, R)))]
    rows, cols = image.shape
    pad = math.ceil(R) + 1
    slab = max(1, _SLAB_PIXELS // max(cols, 1))
    bands = [(top, min(top + slab, rows)) for top in range(0, rows, slab)]

    def magnitudes(top, bottom):
        """``|d_p|`` of rows [top, bottom) for each sample ``p`` in turn (float32, one buffer reused)."""
        low = max(top - pad, 0)
        values = np.ascontiguousarray(image[low : min(bottom + pad, rows)], dtype=np.float32)
        difference = np.empty_like(values)
        own = difference[top - low : bottom - low]
        for kernel, anchor in plan:
            cv2.filter2D(values, -1, kernel, dst=difference, anchor=anchor, borderType=cv2.BORDER_CONSTANT)
            yield np.abs(own, out=own)

    total = 0.0
    for top, bottom in bands:
        region = None if inside is None else inside[top:bottom].view(np.uint8)
        total += sum(cv2.sumElems(cv2.bitwise_and(m, m, mask=region))[0] if region is not None
                     else cv2.sumElems(m)[0] for m in magnitudes(top, bottom))
    count = P * (image.size if inside is None else np.count_nonzero(inside))
    threshold = total / max(count, 1)
    level = (image if inside is None else image[inside]).mean()
    for top, bottom in bands:
        ones = np.zeros((bottom - top, cols), dtype=np.uint8)
        changes = np.zeros_like(ones)
        previous = np.empty(ones.shape, dtype=bool)
        bit = np.empty_like(previous)
        for p, magnitude in enumerate(magnitudes(top, bottom)):
            np.greater_equal(magnitude, threshold, out=bit)
            ones += bit.view(np.uint8)
            if p:  # the open chain, as _ones_and_transitions counts
                changes += (bit != previous).view(np.uint8)
            previous, bit = bit, previous
        yield top, bottom, _riu2(ones, changes, P), image[top:bottom] >= level


def clbp_feature_names(scales=((8, 1), (16, 2), (24, 3))):
    """Names of :func:`clbp_feature_vector`'s values, e.g. ``clbp_p8_r1_m03_c1``."""
    return [f"clbp_p{P}_r{R:g}_m{m:02d}_c{c}" for P, R in scales for m in range(P + 2) for c in (0, 1)]


def clbp_feature_vector(image, scales=((8, 1), (16, 2), (24, 3)), inside=None):
    """Concatenated normalized joint histograms of (CLBP_M, CLBP_C) at every scale: CLBP_M/C.

    With the LBP histograms (CLBP_S) beside them, this is Guo et al.'s
    CLBP_S_M/C descriptor.  With ``inside``, the thresholds and the counts
    are the region's.

    Returns
    -------
    values : 1-D ndarray of float64
        ``2 (P + 2)`` per scale, in the order of :func:`clbp_feature_names`.
    """
    hists = []
    for P, R in scales:
        counts = np.zeros(2 * (P + 2), dtype=np.intp)
        for top, bottom, magnitude, centre in _clbp_slabs(image, P, R, inside):  # no whole-image codes
            joint = 2 * magnitude.astype(np.intp) + centre
            counts += np.bincount(joint.ravel() if inside is None else joint[inside[top:bottom]],
                                  minlength=len(counts))
        hists.append(_normalized(counts))
    return np.concatenate(hists)
