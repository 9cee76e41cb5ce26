"""Grey-level co-occurrence matrices (GLCM) and the Haralick texture properties.

An image is quantized to ``levels`` grey levels; for every (distance, angle)
offset the symmetric, normalized co-occurrence matrix ``P[i, j]`` is the
probability that a pixel of level ``i`` has a neighbour of level ``j`` at that
offset.  Each matrix is one joint histogram (OpenCV ``calcHist``) of two
views of the quantized image, and all properties are evaluated on the whole
stack at once.

Over 400 lines because the module holds the whole family: quantization,
offsets, the matrices (with masks), the 19 properties with their
definitions, parameter checks and the feature vector; splitting it would
scatter one concept.

References
----------
.. [1] R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural features for
       image classification", IEEE Trans. Systems, Man and Cybernetics,
       SMC-3(6), pp. 610-621, 1973. :DOI:`10.1109/TSMC.1973.4309314`
.. [2] A. Zwanenburg et al., "Image biomarker standardisation initiative
       (IBSI)", arXiv:1612.07003, section 3.6 (grey level co-occurrence
       based features).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from texture.io import read_image
from texture.errors import ConfigError, MaskError
from texture.masks import read_image_and_mask

__all__ = [
    "GLCM_PROPERTIES",
    "quantize",
    "glcm_offsets",
    "glcm_matrices",
    "glcm_pair_counts",
    "glcm_properties",
    "glcm_properties_from_reductions",
    "glcm_properties_from_moments",
    "glcm_reach",
    "check_glcm_params",
    "glcm_feature_names",
    "glcm_feature_vector",
    "glcm_feature_values",
    "glcm_features",
    "half_scale",
    "half_scale_mask",
    "glcm_half_levels",
    "glcm_half_offsets",
    "glcm_half_feature_names",
    "glcm_half_feature_vector",
    "check_half_scale_mask",
    "glcm_half_features",
]

GLCM_PROPERTIES = (
    "contrast",
    "dissimilarity",
    "homogeneity",
    "asm",
    "energy",
    "correlation",
    "entropy",
    "variance",
    "sum_average",
    "sum_variance",
    "sum_entropy",
    "difference_variance",
    "difference_entropy",
    "imc1",
    "imc2",
    "max_probability",
    "cluster_shade",
    "cluster_prominence",
    "autocorrelation",
)
AGGREGATES = ("mean_range", "none")
MIN_LEVELS, MAX_LEVELS = 8, 256

# Products k * levels of an integer image scaled to [0, 1] land within a few
# ulps of the exact integer; larger than that, yet far below the smallest true
# fraction (1 / 65535 for 16-bit input), snaps them onto it.
_SNAP = 1e-9
_BAND_PIXELS = 1 << 22  # pixel pairs counted per calcHist call (exact float32 counts)
_QUANTIZE_PIXELS = 1 << 18  # pixels quantized at once (2 MiB of float64 products)


def quantize(image, levels=32):
    """Quantize a working grey image into ``levels`` integer grey levels.

    ``q = min(floor(x * levels), levels - 1)`` for ``x`` in [0, 1], evaluated
    so that an 8- or 16-bit image scaled by its maximum (``x = v / vmax``)
    quantizes exactly like the integer arithmetic ``min(v * levels // vmax,
    levels - 1)``: products that float rounding leaves a few ulps below an
    integer are snapped onto it.

    Parameters
    ----------
    image : (M, N) array
        Grey image: floats in [0, 1], or an integer image (see
        :func:`texture.read_image`).
    levels : int, optional
        Number of grey levels, 8 to 256.

    Returns
    -------
    q : (M, N) ndarray of uint8
        Grey levels in ``0 .. levels - 1``.

    Examples
    --------
    >>> quantize(np.array([[0, 127, 128, 255]], dtype=np.uint8), levels=8)
    array([[0, 3, 4, 7]], dtype=uint8)
    """
    _check_levels(levels)
    return _quantize(read_image(image), levels)


def _quantize(image, levels):
    """:func:`quantize` of a working grey image, already validated: the extractor's path.

    Band by band of rows: the float64 products stay small next to a large
    image (one byte per pixel is what is kept).
    """
    q = np.empty(image.shape, dtype=np.uint8)
    rows = max(1, _QUANTIZE_PIXELS // max(image.shape[1], 1))
    for start in range(0, len(image), rows):
        scaled = image[start : start + rows] * levels
        scaled += _SNAP
        np.minimum(scaled, levels - 1, out=scaled)
        q[start : start + rows] = scaled  # truncation: the floor of these non-negative values
    return q


def glcm_offsets(distances, angles):
    """Pixel offsets ``(row, col)`` of each (distance, angle) pair.

    Distances are Chebyshev (chessboard) distances, as in Haralick [1]_,
    mahotas and IBSI [2]_: the neighbour of pixel ``(r, c)`` at distance
    ``d`` and angle ``a`` (degrees; 0 points right along the row, 90 down
    the column) is ``d`` steps along the ray's dominant axis,
    ``(r + round(d sin a / m), c + round(d cos a / m))`` with ``m =
    max(|sin a|, |cos a|)``: ``(0, d)``, ``(d, d)``, ``(d, 0)`` and
    ``(d, -d)`` for 0, 45, 90 and 135 degrees.  ``round`` takes halves away
    from zero, computed as scikit-image does (``trunc(x + 0.5)`` for ``x >
    0``, ``trunc(x - 0.5)`` otherwise), so every offset is the one
    ``graycomatrix`` gives for the distance ``d / m``, at every angle,
    including those where ``d sin a / m`` or ``d cos a / m`` is a half
    (``d = 1`` at ``atan(1/2)``: ``(1, 1)``).  (``graycomatrix`` at the
    distance ``d`` itself rounds ``d sin a, d cos a``, which maps the
    diagonal distances 1 and 2 onto the same offset.)

    Parameters
    ----------
    distances : sequence of int
        Positive pixel distances.
    angles : sequence of float
        Angles in degrees.

    Returns
    -------
    offsets : (len(distances), len(angles), 2) ndarray of int

    References
    ----------
    .. [1] R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural features
           for image classification", IEEE Trans. SMC-3(6), 610-621, 1973.
    .. [2] A. Zwanenburg et al., "The image biomarker standardisation
           initiative", reference manual arXiv:1612.07003, section 3.6.

    Examples
    --------
    >>> glcm_offsets([2], [0, 45, 90, 135]).tolist()
    [[[0, 2], [2, 2], [2, 0], [2, -2]]]
    """
    d = np.asarray(distances, dtype=np.float64)[:, None]
    a = np.deg2rad(np.asarray(angles, dtype=np.float64))[None, :]
    sin, cos = np.sin(a), np.cos(a)
    steps = d / np.maximum(np.abs(sin), np.abs(cos))
    return np.stack([_round_half_away(sin * steps), _round_half_away(cos * steps)], axis=-1).astype(np.intp)


def _round_half_away(x):
    """Round to the nearest integer, halves away from zero, with scikit-image's arithmetic.

    ``graycomatrix`` rounds its offsets with ``trunc(x +- 0.5)``, not
    ``np.rint`` (halves to even); the same float operations give the same
    integers, also where ``x`` is a half up to rounding error.
    """
    return np.trunc(np.where(x > 0, x + 0.5, x - 0.5))


def glcm_reach(distances=(1, 2, 4), angles=(0, 45, 90, 135)):
    """Rows and columns between a pixel and its farthest partner: the longest offset's Chebyshev length.

    Examples
    --------
    >>> glcm_reach((1, 2, 4), (0, 45, 90, 135))
    4
    """
    return int(np.abs(_cached_offsets(tuple(distances), tuple(angles))).max())


@functools.lru_cache(maxsize=16)
def _cached_offsets(distances, angles):
    """:func:`glcm_offsets` once per configuration: it costs ~0.1 ms, paid per image (or window) otherwise."""
    offsets = glcm_offsets(distances, angles)
    offsets.flags.writeable = False
    return offsets


def glcm_matrices(image, distances=(1, 2, 4), angles=(0, 45, 90, 135), levels=32):
    """Symmetric, normalized grey-level co-occurrence matrices.

    Parameters
    ----------
    image : (M, N) array
        Grey image (floats in [0, 1] or an integer image), quantized with
        :func:`quantize`.
    distances : sequence of int, optional
        Pixel distances.
    angles : sequence of float, optional
        Angles in degrees (see :func:`glcm_offsets`).
    levels : int, optional
        Number of grey levels, 8 to 256.

    Returns
    -------
    P : (len(distances), len(angles), levels, levels) ndarray of float64
        ``P[d, a]`` sums to 1 and is symmetric.  For one angle ``a`` this
        is ``skimage.feature.graycomatrix(q, distances / m, [radians(a)],
        levels, symmetric=True, normed=True)`` (``m`` of
        :func:`glcm_offsets`) with axes ``(i, j, d, a)`` moved to ``(d, a,
        i, j)``.  A matrix whose offset does not fit in the image is all
        zeros.

    Examples
    --------
    >>> P = glcm_matrices(np.eye(8), distances=[1], angles=[0], levels=8)
    >>> P.shape, float(P.sum())
    ((1, 1, 8, 8), 1.0)
    """
    q = quantize(image, levels)
    offsets = glcm_offsets(distances, angles)
    return _cooccurrence(q, offsets.reshape(-1, 2), levels).reshape(offsets.shape[:2] + (levels, levels))


def _cooccurrence(q, offsets, levels, inside=None):
    """Normalized symmetric GLCMs of quantized image ``q``, one per offset.

    With ``inside`` (bool, ``q``'s shape), only the pairs whose two pixels
    are inside count.
    """
    counts = glcm_pair_counts(q, offsets, levels, inside)
    totals = counts.sum(axis=(1, 2), keepdims=True)
    return np.divide(counts, totals, out=counts, where=totals > 0)


def glcm_pair_counts(q, offsets, levels, inside=None):
    """Symmetric co-occurrence counts of a quantized image: the pairs of pixels at each offset.

    ``counts[k, i, j]`` is the number of pixels ``x`` with ``q[x] = i`` and
    ``q[x + offsets[k]] = j``, plus the number with the levels swapped (each
    unordered pair counted in both orders, as ``graycomatrix(...,
    symmetric=True)``).  With ``inside``, a pair counts only when both of
    its pixels are inside: this is the masked co-occurrence matrix, and a
    rectangular ``inside`` gives the matrix of that crop of the image.

    Parameters
    ----------
    q : (M, N) ndarray of uint8
        Output of :func:`quantize`.
    offsets : (K, 2) array of int
        ``(row, col)`` offsets, e.g. :func:`glcm_offsets` reshaped.
    levels : int
        The ``levels`` ``q`` was quantized with.
    inside : (M, N) ndarray of bool, optional
        Region of interest (see :func:`texture.masks.read_mask`); every
        pixel when omitted.

    Returns
    -------
    counts : (K, levels, levels) ndarray of float64
        Integer counts; ``counts[k].sum()`` is twice the number of pairs at
        ``offsets[k]``.

    Examples
    --------
    >>> q = np.array([[0, 1, 1]], dtype=np.uint8)
    >>> glcm_pair_counts(q, [(0, 1)], 8)[0, :2, :2].tolist()
    [[0.0, 1.0], [1.0, 2.0]]
    >>> glcm_pair_counts(q, [(0, 1)], 8, inside=np.array([[False, True, True]]))[0, :2, :2].tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """
    rows, cols = q.shape
    # Nearby angles can round to the same offset at short distances: count each once.
    offsets = [tuple(offset) for offset in np.asarray(offsets).tolist()]
    unique = list(dict.fromkeys(offsets))
    counts = np.zeros((len(unique), levels, levels))
    # The pairs (q[x], q[x + offset]) of two uint8 views of q, counted by
    # OpenCV's joint histogram, much quicker than numpy's bincount of
    # combined indices.  Its float32 counts are exact below 2**24 pairs,
    # hence bands of rows.  A mask is the joint histogram's own mask: the
    # pixels whose pair has both ends inside.
    band = max(1, _BAND_PIXELS // cols)
    pair_inside = None
    for k, (dr, dc) in enumerate(unique):
        r0, r1 = max(0, -dr), min(rows, rows - dr)
        c0, c1 = max(0, -dc), min(cols, cols - dc)
        for start in range(r0, r1 if c1 > c0 else r0, band):
            stop = min(start + band, r1)
            first, second = np.s_[start:stop, c0:c1], np.s_[start + dr : stop + dr, c0 + dc : c1 + dc]
            if inside is not None:
                pair_inside = np.logical_and(inside[first], inside[second]).view(np.uint8)
            views = [q[first], q[second]]
            counts[k] += cv2.calcHist(views, [0, 1], pair_inside, [levels, levels], [0, levels, 0, levels])
    counts = counts[[unique.index(offset) for offset in offsets]]
    counts += counts.transpose(0, 2, 1).copy()
    return counts


def _entropy(p, axes):
    """Shannon entropy in bits, ``-sum p log2 p`` with ``0 log 0 = 0``."""
    logp = np.log2(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logp).sum(axis=axes)


def _distribution(P, index, length):
    """Sum ``P[k, i, j]`` into bins ``index[i, j]`` per matrix ``k``: p_{x+y} or p_{x-y}."""
    n = P.shape[0]
    bins = (np.arange(n)[:, None, None] * length + index).ravel()
    return np.bincount(bins, weights=P.ravel(), minlength=n * length).reshape(n, length)


def glcm_properties(P):
    """All Haralick/IBSI properties of a stack of normalized co-occurrence matrices.

    With grey levels ``i, j = 0 .. L-1`` (0-based, like scikit-image and
    mahotas; IBSI counts from 1, which shifts the sum average by 2 and
    changes the autocorrelation), marginals ``p_x(i) = sum_j P[i, j]``,
    ``p_y(j) = sum_i P[i, j]``, means ``mu_x, mu_y``, standard deviations
    ``s_x, s_y``, ``p_{x+y}(k) = sum_{i+j=k} P[i, j]`` (k = 0 .. 2L-2),
    ``p_{x-y}(k) = sum_{|i-j|=k} P[i, j]`` (k = 0 .. L-1) and
    ``H(p) = -sum p log2 p`` (entropies in bits, like mahotas and IBSI):

    ==================== =====================================================
    contrast             sum (i - j)^2 P  [1] f2
    dissimilarity        sum |i - j| P
    homogeneity          sum P / (1 + (i - j)^2)  (inverse difference moment)
    asm                  sum P^2  (angular second moment) [1] f1
    energy               sqrt(asm)
    correlation          sum (i - mu_x)(j - mu_y) P / (s_x s_y) [1] f3;
                         1 when s_x or s_y < 1e-15 (a flat image is perfectly
                         correlated with itself), as scikit-image and mahotas
    entropy              H(P) [1] f9  (scikit-image uses the natural log:
                         its value is this times ln 2)
    variance             sum (i - mu_x)^2 P  ("sum of squares") [1] f4
    sum_average          sum k p_{x+y}(k) [1] f6
    sum_variance         sum (k - sum_average)^2 p_{x+y}(k).  Haralick's f7
                         centres on the sum entropy instead, a typo kept by
                         some implementations; mahotas and IBSI use this one
    sum_entropy          H(p_{x+y}) [1] f8
    difference_variance  sum (k - mu_{x-y})^2 p_{x-y}(k), the variance of
                         |i - j| (IBSI; mahotas' default is the variance of
                         the vector p_{x-y}, its ``use_x_minus_y_variance``
                         option gives this) [1] f10
    difference_entropy   H(p_{x-y}) [1] f11
    imc1                 (H(P) - HXY1) / max(H(p_x), H(p_y)) [1] f12, with
                         HXY1 = -sum P log2(p_x p_y) = H(p_x) + H(p_y);
                         0 when both marginal entropies are 0 (flat image)
    imc2                 sqrt(1 - exp(-2 (HXY2 - H(P)))) [1] f13, with
                         HXY2 = -sum p_x p_y log2(p_x p_y) = H(p_x) + H(p_y);
                         natural exp of entropies in bits, as mahotas and IBSI
    max_probability      max P
    cluster_shade        sum (i + j - mu_x - mu_y)^3 P  [2]
    cluster_prominence   sum (i + j - mu_x - mu_y)^4 P  [2]
    autocorrelation      sum i j P  [2]
    ==================== =====================================================

    Every value is finite for any matrix, including the one-entry matrix of
    a flat image.

    Parameters
    ----------
    P : (..., L, L) array
        Co-occurrence matrices, e.g. from :func:`glcm_matrices`: each is
        divided by its sum first, like scikit-image's ``graycoprops`` does,
        so counts (``graycomatrix(..., normed=False)``) give the properties
        of their normalized matrices; an all-zero matrix stays zero.  They
        need not be symmetric.

    Returns
    -------
    props : (len(GLCM_PROPERTIES), ...) ndarray of float64
        ``props[GLCM_PROPERTIES.index(name)]`` is that property per matrix.

    Raises
    ------
    ConfigError
        If an entry is negative, NaN or infinite: such a matrix is no
        distribution of pixel pairs.

    References
    ----------
    .. [1] R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural features
           for image classification", IEEE Trans. SMC-3(6), 610-621, 1973.
    .. [2] A. Zwanenburg et al., "The image biomarker standardisation
           initiative", Radiology 295(2), 328-338, 2020, and its reference
           manual arXiv:1612.07003.

    Examples
    --------
    >>> P = glcm_matrices(np.eye(8), distances=[1], angles=[0], levels=8)
    >>> props = glcm_properties(P)
    >>> float(props[GLCM_PROPERTIES.index("contrast")][0, 0])  # a quarter of the pairs are 0-7: 49 / 4
    12.25
    """
    P = np.asarray(P, dtype=np.float64)
    if not (np.isfinite(P).all() and (P >= 0).all()):
        raise ConfigError("glcm_properties needs co-occurrence matrices of non-negative, finite counts or "
                          "probabilities; these hold negative, NaN or infinite entries")
    totals = P.sum(axis=(-2, -1), keepdims=True)
    return _matrix_properties(np.divide(P, totals, out=np.zeros_like(P), where=totals > 0))


def _matrix_properties(P):
    """:func:`glcm_properties` of normalized matrices (already checked, as :func:`_cooccurrence` makes them)."""
    batch, L = P.shape[:-2], P.shape[-1]
    P = P.reshape(-1, L, L)
    levels = np.arange(L)
    i, j = levels[:, None], levels[None, :]
    return glcm_properties_from_reductions(
        P.sum(axis=2), P.sum(axis=1), _distribution(P, i + j, 2 * L - 1), _distribution(P, np.abs(i - j), L),
        (P * P).sum(axis=(1, 2)), _entropy(P, (1, 2)), P.max(axis=(1, 2)),
    ).reshape((-1,) + batch)


def glcm_properties_from_reductions(px, py, p_sum, p_diff, asm, entropy, max_probability, out=None):
    """:func:`glcm_properties` from the reductions of the matrices it needs, one row per matrix.

    Every property is a function of the marginals ``p_x, p_y``, the sum and
    difference distributions ``p_{x+y}, p_{x-y}`` and three sums over the
    whole matrix (``asm``, the entropy ``H(P)``, ``max P``): the covariance
    follows from ``var(i + j) = var(i) + var(j) + 2 cov(i, j)``.  It takes
    the moments and entropies of these distributions, then
    :func:`glcm_properties_from_moments` the rest.

    Parameters
    ----------
    px, py : (n, L) array of float64
        Marginal distributions of the normalized matrices (rows sum to 1).
    p_sum : (n, 2 L - 1) array of float64
        ``p_{x+y}``.
    p_diff : (n, L) array of float64
        ``p_{x-y}`` (of ``|i - j|``).
    asm, entropy, max_probability : (n,) array of float64
        ``sum P^2``, ``H(P)`` in bits and ``max P``.
    out : (len(GLCM_PROPERTIES), n) ndarray of float64, optional
        Where to write the properties.

    Returns
    -------
    props : (len(GLCM_PROPERTIES), n) ndarray of float64
        ``out`` when given.

    Examples
    --------
    >>> P = glcm_matrices(np.eye(8), distances=[1], angles=[0], levels=8).reshape(1, 8, 8)
    >>> i, j = np.indices((8, 8))
    >>> p_sum = np.bincount((i + j).ravel(), P[0].ravel(), 15)[None]
    >>> p_diff = np.bincount(abs(i - j).ravel(), P[0].ravel(), 8)[None]
    >>> props = glcm_properties_from_reductions(P.sum(2), P.sum(1), p_sum, p_diff, (P**2).sum((1, 2)),
    ...                                         -(P * np.log2(P, where=P > 0, out=np.zeros_like(P))).sum((1, 2)),
    ...                                         P.max((1, 2)))
    >>> bool(np.allclose(props, glcm_properties(P)))
    True
    """
    L = px.shape[1]
    k = np.arange(2 * L - 1, dtype=np.float64)
    # The marginals of a symmetric matrix are one (px is py): computed once.
    x = _moments_and_entropy(px, k[:L])
    y = x if py is px else _moments_and_entropy(py, k[:L])
    # Central moments as sums of products (einsum, matrix products), not one
    # array per power and property.
    sum_average = p_sum @ k  # = mu_x + mu_y
    sum_dev = k - sum_average[:, None]
    sum_dev2 = sum_dev * sum_dev  # products: quicker than float powers
    weighted = p_sum * sum_dev2
    sums = (sum_average, weighted.sum(axis=1), np.einsum("ij,ij->i", weighted, sum_dev),
            np.einsum("ij,ij->i", weighted, sum_dev2), _entropy(p_sum, 1))
    diff_mean, contrast, homogeneity = (p_diff @ _difference_weights(L)).T
    diff_dev = k[:L] - diff_mean[:, None]
    differences = (diff_mean, contrast, homogeneity, np.einsum("ij,ij,ij->i", p_diff, diff_dev, diff_dev),
                   _entropy(p_diff, 1))
    return glcm_properties_from_moments(x, y, sums, differences, asm, entropy, max_probability, out=out)


def glcm_properties_from_moments(x, y, sums, differences, asm, entropy, max_probability, out=None):
    """:func:`glcm_properties` from moments and entropies of the matrices' reductions, one value per matrix.

    What :func:`glcm_properties_from_reductions` takes from the marginal,
    sum and difference distributions, for callers that have these moments
    without the distributions (feature maps compute them from integer counts).

    Parameters
    ----------
    x, y : tuple of three (n,) arrays of float64
        Mean, variance and entropy (bits) of the marginals ``p_x`` and ``p_y``
        (the same tuple, ``y is x``, for symmetric matrices).
    sums : tuple of five (n,) arrays of float64
        Of ``p_{x+y}``: the mean (sum average), the second, third and fourth
        central moments (sum variance, cluster shade, cluster prominence) and
        the entropy.
    differences : tuple of five (n,) arrays of float64
        Of ``p_{x-y}`` (of ``|i - j|``): the mean (dissimilarity), the mean
        square (contrast), the mean of ``1 / (1 + k**2)`` (homogeneity), the
        variance and the entropy.
    asm, entropy, max_probability : (n,) array of float64
        ``sum P^2``, ``H(P)`` in bits and ``max P``.
    out : (len(GLCM_PROPERTIES), n) ndarray of float64, optional
        Where to write the properties.

    Returns
    -------
    props : (len(GLCM_PROPERTIES), n) ndarray of float64
        ``out`` when given.
    """
    (mu_x, var_x, h_x), (mu_y, var_y, h_y) = x, y
    s_x, s_y = np.sqrt(var_x), np.sqrt(var_y)
    sum_average, sum_variance, cluster_shade, cluster_prominence, sum_entropy = sums
    # var(i + j) = var(i) + var(j) + 2 cov(i, j).
    cov = 0.5 * (sum_variance - var_x - var_y)
    flat = (s_x < 1e-15) | (s_y < 1e-15)
    correlation = np.divide(cov, s_x * s_y, out=np.ones_like(cov), where=~flat)

    # HXY1 = HXY2 = H(p_x) + H(p_y) exactly (expand log2(p_x p_y)), so the two
    # information measures depend only on the mutual information.
    mutual_info = h_x + h_y - entropy
    h_max = np.maximum(h_x, h_y)
    imc1 = np.divide(-mutual_info, h_max, out=np.zeros_like(h_max), where=h_max > 0)
    imc2 = np.sqrt(np.maximum(0.0, 1.0 - np.exp(-2.0 * mutual_info)))

    diff_mean, contrast, homogeneity, difference_variance, difference_entropy = differences
    values = {
        "contrast": contrast,
        "dissimilarity": diff_mean,
        "homogeneity": homogeneity,
        "asm": asm,
        "energy": np.sqrt(asm),
        "correlation": correlation,
        "entropy": entropy,
        "variance": var_x,
        "sum_average": sum_average,
        "sum_variance": sum_variance,
        "sum_entropy": sum_entropy,
        "difference_variance": difference_variance,
        "difference_entropy": difference_entropy,
        "imc1": imc1,
        "imc2": imc2,
        "max_probability": max_probability,
        # Cluster deviations are about mu_x + mu_y, the sum average.
        "cluster_shade": cluster_shade,
        "cluster_prominence": cluster_prominence,
        "autocorrelation": cov + mu_x * mu_y,
    }
    return np.stack([values[name] for name in GLCM_PROPERTIES], out=out)


@functools.lru_cache(maxsize=8)
def _difference_weights(L):
    """``(L, 3)``: ``k, k**2, 1 / (1 + k**2)``, whose product with ``p_{x-y}`` is its mean, the contrast and the homogeneity (read-only)."""
    k = np.arange(L, dtype=np.float64)
    weights = np.stack([k, k * k, 1.0 / (1.0 + k * k)], axis=1)
    weights.flags.writeable = False
    return weights


def _moments_and_entropy(p, k):
    """Mean, variance and entropy (bits) of distributions ``p`` (one per row) over the values ``k``."""
    mu = p @ k
    dev = k - mu[:, None]
    return mu, np.einsum("ij,ij,ij->i", p, dev, dev), _entropy(p, 1)


def _check_levels(levels):
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or not (
        MIN_LEVELS <= levels <= MAX_LEVELS
    ):
        raise ConfigError(f"glcm_levels must be an integer in [{MIN_LEVELS}, {MAX_LEVELS}], got {levels!r}")


def check_glcm_params(levels, distances, angles, aggregate):
    """Raise ConfigError naming the first invalid GLCM parameter.

    Errors name the parameters as :class:`texture.FeatureConfig` fields
    (``glcm_levels``, ``glcm_distances``, ...).

    Parameters
    ----------
    levels, distances, angles, aggregate
        As in :func:`glcm_features`; angles must lie in [0, 180), and no
        distance or angle may repeat (it would repeat a feature name).

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_glcm_params(32, (1, 2), (0, 90), "mean_range")
    >>> check_glcm_params(32, (1, 1), (0, 90), "mean_range")
    Traceback (most recent call last):
    ...
    texture.errors.ConfigError: glcm_distances must not repeat values, got (1, 1)
    """
    _check_levels(levels)
    if not _is_sequence(distances) or len(distances) == 0 or not all(_is_int(d) and d >= 1 for d in distances):
        raise ConfigError(f"glcm_distances must be positive integers, got {distances!r}")
    if not _is_sequence(angles) or len(angles) == 0 or not all(_is_real(a) and 0 <= a < 180 for a in angles):
        raise ConfigError(f"glcm_angles must be degrees in [0, 180), got {angles!r}")
    if aggregate not in AGGREGATES:
        raise ConfigError(f"glcm_aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    for field, values in (("glcm_distances", distances), ("glcm_angles", angles)):
        if len(set(values)) != len(values):
            raise ConfigError(f"{field} must not repeat values, got {values!r}")


def _is_sequence(value):
    return not isinstance(value, str) and np.iterable(value)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)


def glcm_feature_names(distances=(1, 2, 4), angles=(0, 45, 90, 135), aggregate="mean_range"):
    """Names of :func:`glcm_feature_vector`'s values, e.g. ``glcm_contrast_d1_mean``.

    Parameters
    ----------
    distances, angles, aggregate
        As in :func:`glcm_features`.

    Returns
    -------
    names : list of str
        Property-major: every distance (and angle or statistic) of
        ``contrast`` first.
    """
    if aggregate == "mean_range":
        suffixes = [f"d{d}_{stat}" for d in distances for stat in ("mean", "range")]
    else:
        suffixes = [f"d{d}_a{a:03g}" for d in distances for a in angles]
    return [f"glcm_{prop}_{s}" for prop in GLCM_PROPERTIES for s in suffixes]


def check_mask(inside, distances, angles, path=None):
    """Refuse a region of interest that holds no pixel pair at some offset.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        Output of :func:`texture.masks.read_mask`.
    distances, angles
        As in :func:`glcm_features`.
    path : str, optional
        File named in the error (the mask's, else the image's).

    Raises
    ------
    MaskError
        Naming the first (distance, angle) whose offset pairs no two inside
        pixels, and the mask's pixel count.
    """
    rows, cols = inside.shape
    offsets = glcm_offsets(distances, angles)
    for (d, a), (dr, dc) in zip(np.ndindex(offsets.shape[:2]), offsets.reshape(-1, 2).tolist()):
        r0, r1 = max(0, -dr), min(rows, rows - dr)
        c0, c1 = max(0, -dc), min(cols, cols - dc)
        first, second = inside[r0:r1, c0:c1], inside[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
        if r1 <= r0 or c1 <= c0 or not np.logical_and(first, second).any():
            raise MaskError(
                f"mask too small or thin for GLCM distance {distances[d]} at {angles[a]:g} degrees: 0 pixel "
                f"pairs at offset ({dr}, {dc}) have both pixels inside its {np.count_nonzero(inside)} pixels",
                path,
            )


def glcm_feature_vector(image, distances=(1, 2, 4), angles=(0, 45, 90, 135), levels=32, aggregate="mean_range",
                        inside=None):
    """GLCM features of a working grey image: the extractor's path, without validation.

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image (see :func:`texture.read_image`).
    distances, angles, levels, aggregate
        As in :func:`glcm_features`, already checked by
        :func:`check_glcm_params`.
    inside : (M, N) ndarray of bool, optional
        Region of interest that passed :func:`check_mask`.

    Returns
    -------
    values : 1-D ndarray of float64
        In the order of :func:`glcm_feature_names`.
    """
    offsets = _cached_offsets(tuple(distances), tuple(angles))
    q = _quantize(image, levels)
    matrices = _cooccurrence(q, offsets.reshape(-1, 2), levels, inside)
    props = _matrix_properties(matrices).reshape(-1, *offsets.shape[:2])
    return glcm_feature_values(props, aggregate)


def glcm_feature_values(props, aggregate="mean_range"):
    """Feature values in :func:`glcm_feature_names` order from the properties of every (distance, angle).

    Parameters
    ----------
    props : (len(GLCM_PROPERTIES), ..., n_distances, n_angles) array of float64
        :func:`glcm_properties` of each offset's matrix, per region (the
        middle axes: none for one image, window rows and columns for a
        feature map).
    aggregate : {"mean_range", "none"}, optional
        As in :func:`glcm_features`.

    Returns
    -------
    values : (..., n_features) ndarray of float64

    Examples
    --------
    >>> props = np.arange(len(GLCM_PROPERTIES) * 2.0).reshape(-1, 1, 2)
    >>> glcm_feature_values(props)[:4].tolist()  # contrast: mean, range; dissimilarity: mean, range
    [0.5, 1.0, 2.5, 1.0]
    """
    if aggregate == "mean_range":
        props = np.stack([props.mean(axis=-1), np.ptp(props, axis=-1)], axis=-1)
    props = np.moveaxis(props, 0, -3)
    return props.reshape(*props.shape[:-3], -1)


def glcm_features(image, distances=(1, 2, 4), angles=(0, 45, 90, 135), levels=32, aggregate="mean_range",
                  mask=None):
    """Haralick/IBSI texture properties of an image's co-occurrence matrices.

    With a mask, a pixel pair counts only when both of its pixels are
    inside.  The grey levels are those of the whole image, quantized over
    the fixed range [0, 1] as without a mask (not over the inside pixels'
    range), so a region's levels mean the same grey as the unmasked image's.

    Parameters
    ----------
    image : (M, N) array or path
        Grey image (see :func:`texture.read_image`).
    distances : sequence of int, optional
        Pixel distances.
    angles : sequence of float, optional
        Angles in degrees (see :func:`glcm_offsets`).
    levels : int, optional
        Number of grey levels, 8 to 256 (see :func:`quantize`).
    aggregate : {"mean_range", "none"}, optional
        ``"mean_range"``: per distance, the mean and the range (max - min) of
        each property over the angles, tolerant to rotation.  ``"none"``:
        one value per (distance, angle).
    mask : array_like or path, optional
        Region of interest: a boolean array of the image's shape, or
        anything :func:`texture.read_image` reads, non-zero inside (see
        :func:`texture.masks.read_mask`).  The whole image when omitted.

    Returns
    -------
    features : pandas.Series
        Named like ``glcm_contrast_d1_mean`` (``glcm_contrast_d1_a045``
        without aggregation); the properties are those of
        :func:`glcm_properties`.  The same names with or without a mask.

    Raises
    ------
    ConfigError
        From :func:`check_glcm_params`.
    MaskError
        The mask cannot be read, has another shape than the image, is
        empty, or pairs no two inside pixels at some offset.

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = glcm_features(brick())
    >>> bool(features["glcm_correlation_d1_mean"] > 0.5)
    True
    """
    check_glcm_params(levels, distances, angles, aggregate)
    image, inside, named = read_image_and_mask(image, mask)
    if inside is not None:
        check_mask(inside, distances, angles, named)
    values = glcm_feature_vector(image, distances, angles, levels, aggregate, inside)
    import pandas as pd  # see texture.features.extract_features

    return pd.Series(values, index=glcm_feature_names(distances, angles, aggregate))


# -- The same features one octave up: the co-occurrences of the half-scale image ---------------------


def half_scale(image):
    """The 2 x 2 block mean at every pixel: the half-resolution image of all four phases at once.

    ``h[i, j]`` averages ``image[i:i + 2, j:j + 2]``; ``h[a::2, b::2]`` is
    the half-resolution image (2 x 2 block means) of ``image[a:, b:]``.

    Returns
    -------
    h : (M - 1, N - 1) ndarray of float64

    Examples
    --------
    >>> half_scale(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])).tolist()
    [[0.75, 0.5]]
    """
    image = np.asarray(image, dtype=np.float64)
    return 0.25 * (image[:-1, :-1] + image[1:, :-1] + image[:-1, 1:] + image[1:, 1:])


def half_scale_mask(inside):
    """Which 2 x 2 blocks of :func:`half_scale` lie wholly inside a region: ``(M - 1, N - 1)`` bool."""
    return inside[:-1, :-1] & inside[1:, :-1] & inside[:-1, 1:] & inside[1:, 1:]


def glcm_half_offsets(distances=(1, 2, 4), angles=(0, 45, 90, 135)):
    """Offsets of the half-scale co-occurrences in image pixels: twice :func:`glcm_offsets`.

    A distance ``d`` counts half-resolution pixels: ``2 d`` image pixels
    between two block means of the same phase.
    """
    return 2 * _cached_offsets(tuple(distances), tuple(angles))


def glcm_half_levels(image, levels=32):
    """The quantized :func:`half_scale` image, padded back to ``image``'s shape with ``levels`` (no block).

    The per-pixel responses of the half-scale GLCM features: pixel ``(i, j)``
    holds the grey level of the block starting at it, or ``levels`` on the
    last row and column, where no whole block starts.

    Returns
    -------
    q : (M, N) ndarray of uint16
    """
    q = np.full(np.shape(image), levels, dtype=np.uint16)
    q[:-1, :-1] = _half_scale_levels(image, levels)
    return q


def _half_scale_levels(image, levels):
    """``_quantize(half_scale(image), levels)``, band by band of rows: the same uint8 levels without
    the whole-image float64 block means and their sums (16 bytes per pixel)."""
    rows, cols = image.shape[0] - 1, image.shape[1] - 1
    q = np.empty((rows, cols), dtype=np.uint8)
    band = max(1, _QUANTIZE_PIXELS // max(cols, 1))
    for start in range(0, rows, band):
        stop = min(start + band, rows)
        q[start:stop] = _quantize(half_scale(image[start : stop + 1]), levels)  # a block reads the next row
    return q


def glcm_half_feature_names(distances=(1, 2, 4), angles=(0, 45, 90, 135), aggregate="mean_range"):
    """Names of :func:`glcm_half_feature_vector`'s values, e.g. ``glcmhalf_contrast_d1_mean``."""
    return ["glcmhalf_" + name[len("glcm_"):] for name in glcm_feature_names(distances, angles, aggregate)]


def glcm_half_feature_vector(image, distances=(1, 2, 4), angles=(0, 45, 90, 135), levels=32,
                             aggregate="mean_range", inside=None):
    """GLCM features of the half-scale image: the extractor's path, without validation.

    The co-occurrence counts of :func:`half_scale`'s grey levels at
    :func:`glcm_half_offsets`: the sum of the counts of the four
    half-resolution images (one per phase of the 2 x 2 blocks) at
    ``distances``, whose properties follow.  With ``inside`` (a region that
    passed :func:`check_half_scale_mask`), the blocks wholly inside.

    Returns
    -------
    values : 1-D ndarray of float64
        In the order of :func:`glcm_half_feature_names`.
    """
    offsets = glcm_half_offsets(distances, angles)
    q = _half_scale_levels(image, levels)
    blocks = None if inside is None else half_scale_mask(inside)
    matrices = _cooccurrence(q, offsets.reshape(-1, 2), levels, blocks)
    props = _matrix_properties(matrices).reshape(-1, *offsets.shape[:2])
    return glcm_feature_values(props, aggregate)


def check_half_scale_mask(inside, distances, angles, path=None):
    """Refuse a region without a pair of whole 2 x 2 blocks inside it at some half-scale offset.

    Raises
    ------
    MaskError
        As :func:`check_mask`, for the blocks of the half-scale image.
    """
    blocks = half_scale_mask(inside)
    rows, cols = blocks.shape
    offsets = glcm_half_offsets(distances, angles)
    for (d, a), (dr, dc) in zip(np.ndindex(offsets.shape[:2]), offsets.reshape(-1, 2).tolist()):
        r0, r1 = max(0, -dr), min(rows, rows - dr)
        c0, c1 = max(0, -dc), min(cols, cols - dc)
        if r1 <= r0 or c1 <= c0 or not np.logical_and(blocks[r0:r1, c0:c1],
                                                      blocks[r0 + dr : r1 + dr, c0 + dc : c1 + dc]).any():
            raise MaskError(
                f"mask too small or thin for half-scale GLCM distance {distances[d]} at {angles[a]:g} degrees: "
                f"no two 2 x 2 blocks inside its {np.count_nonzero(inside)} pixels are {2 * distances[d]} "
                f"pixels apart at offset ({dr}, {dc})",
                path,
            )


def glcm_half_features(image, distances=(1, 2, 4), angles=(0, 45, 90, 135), levels=32, aggregate="mean_range",
                       mask=None):
    """GLCM features one octave up the pyramid: of the half-resolution image, every phase counted.

    The image's 2 x 2 block means (its half-resolution image, and the three
    others obtained by starting the blocks one pixel lower or to the right)
    are quantized over [0, 1] as :func:`glcm_features` does, and their
    co-occurrences at ``distances`` half-resolution pixels (twice as many
    image pixels) pooled into one matrix per offset: the four phases give
    four times the pairs of one half-resolution image, and the result does
    not depend on where the blocks start.  With a mask, the blocks wholly
    inside it.

    Parameters
    ----------
    image, distances, angles, levels, aggregate, mask
        As in :func:`glcm_features`; distances count half-resolution pixels.

    Returns
    -------
    features : pandas.Series
        Named like ``glcmhalf_contrast_d1_mean``.

    Raises
    ------
    ConfigError
        From :func:`check_glcm_params`.
    MaskError
        As :func:`glcm_features`, for the blocks (:func:`check_half_scale_mask`).

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = glcm_half_features(brick())
    >>> bool(features["glcmhalf_correlation_d1_mean"] > 0.5)
    True
    """
    check_glcm_params(levels, distances, angles, aggregate)
    image, inside, named = read_image_and_mask(image, mask)
    if inside is not None:
        check_half_scale_mask(inside, distances, angles, named)
    values = glcm_half_feature_vector(image, distances, angles, levels, aggregate, inside)
    import pandas as pd  # see texture.features.extract_features

    return pd.Series(values, index=glcm_half_feature_names(distances, angles, aggregate))
