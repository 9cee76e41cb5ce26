"""Gabor filter bank: kernels, responses and response-magnitude statistics.

Each filter is scikit-image's complex Gabor kernel (an isotropic Gaussian
envelope times a complex sinusoid of the given frequency and orientation).
Responses are convolutions with periodic (wrap-around) borders, computed in
the frequency domain: the image is transformed once (and scaled by its
size, so that no inverse transform needs scaling), multiplied by every
kernel's precomputed spectrum and transformed back, in single precision.
The kernels are separable (isotropic envelope, square support), so each
spectrum is the outer product of two 1-D transforms (``numpy.fft``).  The
image transforms are OpenCV's, about twice as fast as ``scipy.fft`` on
single-threaded 200 x 200 transforms, and lighter to import (same sign
convention and scaling as ``numpy.fft``).  Their cost depends on the factors
of the side lengths: a side with a prime factor above 13 (141 = 3 x 47, a
prime like 283) transforms 2 to 4 times slower than a 5-smooth side a third
longer, so such a side is wrapped around and transformed at that longer
length instead (:func:`_transform_length`), which gives the same periodic
convolution on the image's own pixels.

Over 400 lines because the module holds the whole family: kernels, their
spectra and transform lengths, responses, statistics (with masks),
parameter checks and the feature vector; splitting it would scatter one
concept.

References
----------
.. [1] J. G. Daugman, "Uncertainty relation for resolution in space, spatial
       frequency, and orientation optimized by two-dimensional visual
       cortical filters", J. Opt. Soc. Am. A 2(7), 1160-1169, 1985.
.. [2] B. S. Manjunath and W. Y. Ma, "Texture features for browsing and
       retrieval of image data", IEEE TPAMI 18(8), 837-842, 1996.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from texture.io import read_image
from texture.errors import ConfigError
from texture.masks import read_image_and_mask

__all__ = [
    "gabor_kernel",
    "gabor_bank",
    "gabor_spectra",
    "gabor_responses",
    "gabor_magnitudes",
    "gabor_reach",
    "is_quick_length",
    "gabor_statistics",
    "check_gabor_params",
    "gabor_feature_names",
    "gabor_feature_vector",
    "gabor_features",
]

AGGREGATES = ("none", "rotation")
DEFAULT_FREQUENCIES = (0.05, 0.1, 0.2, 0.4)
#: Bytes of kernel spectra the feature vector may hold and cache per image
#: shape (see ``_spectra``): 64 MiB, a 590 x 590 image with the default bank.
_SPECTRA_BUDGET = 2**26
# Above this many pixels, an image's features are computed band by band of
# rows (:func:`_banded_magnitudes`): a whole-image transform costs about 28
# bytes per pixel on top of the image; the bands hold about 2.
_WHOLE_IMAGE_PIXELS = 1 << 21
_BAND_PIXELS = (1 << 20, 1 << 22)  # smallest and largest band (about 24 bytes per pixel of it)
#: Largest prime factor of a side length that OpenCV transforms at full speed.
#: Measured on 200-row images against the next 5-smooth length holding 68
#: more pixels: sides whose largest prime factor is 2 to 13 transform faster
#: or within 11 %, sides with one of 17 to 2003 1.15 to 4 times slower.
_FAST_PRIME = 13


def gabor_kernel(frequency, theta, bandwidth=1.0, n_stds=3):
    """Complex Gabor kernel, equal to ``skimage.filters.gabor_kernel``'s defaults.

    ``g(x, y) = exp(-(x^2 + y^2) / (2 sigma^2)) / (2 pi sigma^2)
    * exp(2 pi i frequency (x cos theta + y sin theta))`` on the grid
    ``|x|, |y| <= ceil(max(n_stds sigma |cos theta|, n_stds sigma |sin theta|, 1))``,
    with ``sigma = sqrt(ln 2 / 2) / pi * (2^b + 1) / (2^b - 1) / frequency``:
    the half-magnitude bandwidth is ``b`` octaves.  The envelope is isotropic
    and the grid square, so the kernel is separable: the outer product of a
    column factor in ``y`` and a row factor in ``x``.

    Parameters
    ----------
    frequency : float
        Spatial frequency of the sinusoid, in cycles per pixel (0, 0.5].
    theta : float
        Orientation in radians; ``x`` runs along columns, ``y`` along rows.
    bandwidth : float, optional
        Half-magnitude frequency bandwidth in octaves.
    n_stds : float, optional
        Half-width of the kernel in envelope standard deviations.

    Returns
    -------
    kernel : (2 x0 + 1, 2 x0 + 1) ndarray of complex128
        Centred on its middle element.

    Examples
    --------
    >>> gabor_kernel(0.4, 0.0).shape
    (11, 11)
    """
    return np.outer(*_kernel_factors(frequency, theta, bandwidth, n_stds))


def _kernel_factors(frequency, theta, bandwidth=1.0, n_stds=3):
    """Column and row factors of :func:`gabor_kernel`: ``kernel = outer(column, row)``.

    ``column(y) = exp(-y^2 / (2 sigma^2)) exp(2 pi i frequency y sin theta)``,
    ``row(x) = exp(-x^2 / (2 sigma^2)) exp(2 pi i frequency x cos theta) / (2 pi sigma^2)``,
    both on ``-x0 .. x0``.
    """
    _check_frequency(frequency)
    sigma = _sigma(frequency, bandwidth)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    x0 = math.ceil(max(abs(n_stds * sigma * cos_t), abs(n_stds * sigma * sin_t), 1))
    t = np.arange(-x0, x0 + 1)
    envelope = np.exp(-0.5 * t**2 / sigma**2)
    column = envelope * np.exp(2j * np.pi * frequency * sin_t * t)
    row = envelope * np.exp(2j * np.pi * frequency * cos_t * t) / (2 * np.pi * sigma * sigma)
    return column, row


def _sigma(frequency, bandwidth):
    """Envelope standard deviation of a ``bandwidth``-octave filter (scikit-image's formula)."""
    return 1.0 / np.pi * np.sqrt(np.log(2) / 2.0) * (2.0**bandwidth + 1) / (2.0**bandwidth - 1) / frequency


def _check_frequency(frequency):
    if not (isinstance(frequency, (int, float, np.number)) and 0 < frequency <= 0.5):
        raise ConfigError(f"gabor frequency must be in (0, 0.5] cycles/pixel, got {frequency!r}")


def gabor_bank(frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0):
    """The kernels of a filter bank, frequency-major.

    Parameters
    ----------
    frequencies : sequence of float, optional
        Frequencies in cycles per pixel.  The default spans 0.05 to 0.4
        (periods of 20 to 2.5 pixels) in octaves, suited to 128 to 256 pixel
        textures.
    n_orientations : int, optional
        Orientations ``k * 180 / n_orientations`` degrees, ``k = 0 ..
        n_orientations - 1``.
    bandwidth : float, optional
        Bandwidth in octaves (see :func:`gabor_kernel`).

    Returns
    -------
    kernels : list of ndarray
        ``kernels[i * n_orientations + k]`` has frequency ``frequencies[i]``
        and orientation ``k``.
    """
    return [np.outer(*factors) for factors in _bank_factors(frequencies, n_orientations, bandwidth)]


def _bank_factors(frequencies, n_orientations, bandwidth):
    """:func:`_kernel_factors` of every kernel of :func:`gabor_bank`, in its order."""
    return [
        _kernel_factors(f, np.deg2rad(theta), bandwidth)
        for f in frequencies
        for theta in _orientations(n_orientations)
    ]


def _orientations(n_orientations):
    """Orientations in degrees, evenly spread over a half turn."""
    if isinstance(n_orientations, bool) or not isinstance(n_orientations, (int, np.integer)) or n_orientations < 1:
        raise ConfigError(f"gabor_orientations must be a positive integer, got {n_orientations!r}")
    return [180.0 * k / n_orientations for k in range(n_orientations)]


@functools.lru_cache(maxsize=4)
def gabor_spectra(shape, frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0):
    """Discrete Fourier transforms of the bank's kernels for images of ``shape``.

    Each kernel is wrapped around an array of ``shape`` with its centre at
    ``(0, 0)`` (kernels larger than the image wrap onto themselves), so that
    multiplying spectra is a periodic convolution.  Cached for the last four
    shapes: a batch of equal size images computes them once.

    Parameters
    ----------
    shape : (int, int)
        Image shape.
    frequencies, n_orientations, bandwidth
        As in :func:`gabor_bank` (``frequencies`` a tuple).

    Returns
    -------
    spectra : (n_filters, M, N) ndarray of complex64
        Read-only.
    """
    bank = _bank_factors(frequencies, n_orientations, bandwidth)
    spectra = np.empty((len(bank), *shape), dtype=np.complex64)
    for out, factors in zip(spectra, bank):
        _kernel_spectrum(factors, shape, out)
    spectra.setflags(write=False)
    return spectra


def _kernel_spectrum(factors, shape, out=None):
    """DFT of a kernel wrapped around `shape`, centred at ``(0, 0)``, from its :func:`_kernel_factors`.

    The kernel is separable, and so are its wrapping and its transform: the
    spectrum is the outer product of the factors' wrapped 1-D transforms
    (computed in double precision), one product per pixel where a 2-D
    transform takes a few dozen operations.  Written into `out` (complex64, `shape`) when given,
    so that a large image streams every filter through one buffer.
    """
    column, row = (np.fft.fft(_wrapped(factor, n)).astype(np.complex64) for factor, n in zip(factors, shape))
    if out is None:
        out = np.empty(shape, dtype=np.complex64)
    return np.multiply(column[:, None], row[None, :], out=out)


def _wrapped(factor, n):
    """A centred 1-D `factor` wrapped around a period of `n`, its centre at 0 (overlaps add up)."""
    half = len(factor) // 2
    wrapped = np.zeros(n, dtype=np.complex128)
    np.add.at(wrapped, np.arange(-half, half + 1) % n, factor)
    return wrapped


def _spectra(shape, frequencies, n_orientations, bandwidth, buffer):
    """The kernel spectra, in bank order: the cached stack if small, else one at a time.

    A stack takes 8 bytes per pixel per filter, 24 times the working image
    for the default bank; above :data:`_SPECTRA_BUDGET` each spectrum is
    computed into `buffer` (complex64, `shape`) when needed, so a large image
    costs a few copies of itself instead, and the cache never holds more than
    4 budgets.
    """
    n_filters = len(frequencies) * n_orientations
    if n_filters * shape[0] * shape[1] * np.dtype(np.complex64).itemsize <= _SPECTRA_BUDGET:
        return gabor_spectra(shape, tuple(frequencies), n_orientations, bandwidth)
    bank = _bank_factors(frequencies, n_orientations, bandwidth)
    return (_kernel_spectrum(factors, shape, buffer) for factors in bank)


def _largest_prime_factor(n):
    """Largest prime factor of a positive integer (1 for 1), by trial division: sides are small."""
    factor, largest = 2, 1
    while factor * factor <= n:
        while n % factor == 0:
            n //= factor
            largest = factor
        factor += 1
    return max(largest, n)


def is_quick_length(n):
    """Whether a side of `n` pixels transforms at full speed: no prime factor above :data:`_FAST_PRIME`.

    Examples
    --------
    >>> is_quick_length(660), is_quick_length(596)  # 2**2 3 5 11, 2**2 149
    (True, False)
    """
    return _largest_prime_factor(n) <= _FAST_PRIME


def _transform_length(n, reach):
    """Length at which to transform an image side of `n` pixels for kernels reaching `reach` pixels.

    `n` itself, unless it has a prime factor above :data:`_FAST_PRIME`: then
    the side is wrapped around by `reach` pixels at each end and transformed
    at the next 5-smooth length (``cv2.getOptimalDFTSize``) holding them, if
    that is at most ``2 n``.  A periodic convolution on that longer grid, read
    on the image's own pixels, equals the periodic convolution on the image:
    a kernel reaching at most `reach` pixels never sees past the wrapped-around
    margins.

    Examples
    --------
    >>> _transform_length(200, 34), _transform_length(196, 34), _transform_length(283, 34)
    (200, 196, 360)
    """
    if is_quick_length(n):
        return n
    longer = cv2.getOptimalDFTSize(n + 2 * reach)
    return longer if longer <= 2 * n else n


def _grid(image, frequencies, n_orientations, bandwidth):
    """The image on the grid its spectra are computed on, and where the image lies in that grid.

    Returns
    -------
    grid_image : 2-D ndarray
        `image` itself, or `image` wrapped around along the sides that
        :func:`_transform_length` lengthens (``numpy.pad(mode="wrap")``:
        the margin before each side is its last `reach` pixels).
    window : tuple of slice
        ``grid_image[window]`` is `image`.
    """
    reach = gabor_reach(tuple(frequencies), n_orientations, bandwidth)
    lengths = [_transform_length(n, reach) for n in image.shape]
    if lengths == list(image.shape):
        return image, (slice(None), slice(None))
    margins = [(0, 0) if length == n else (reach, length - n - reach) for n, length in zip(image.shape, lengths)]
    window = tuple(slice(before, before + n) for (before, _), n in zip(margins, image.shape))
    return np.pad(image, margins, mode="wrap"), window


@functools.lru_cache(maxsize=16)
def gabor_reach(frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0):
    """How far the bank's kernels reach from their centre, in pixels: the largest half-width.

    A response at pixel ``(r, c)`` reads the image only within this many
    rows and columns of it (:func:`gabor_magnitudes` of a band of rows with
    this many rows of context above and below is the whole image's on the
    band).

    Parameters
    ----------
    frequencies : tuple of float
        As in :func:`gabor_bank` (a tuple: the result is cached).
    n_orientations, bandwidth
        As in :func:`gabor_bank`.

    Returns
    -------
    int

    Examples
    --------
    >>> gabor_reach((0.1,), 6, 1.0)
    17
    """
    return max(len(column) // 2 for column, _ in _bank_factors(frequencies, n_orientations, bandwidth))


def gabor_responses(image, frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0):
    """Complex responses of every filter of the bank.

    ``response[k] = image (*) kernel[k]``, a convolution with periodic
    borders: pixel ``(r, c)`` sees ``image[(r - i) % M, (c - j) % N]``.  This
    equals ``scipy.ndimage.convolve(image, kernel, mode="wrap")`` everywhere
    and any other border mode wherever the kernel does not reach the border.

    Parameters
    ----------
    image : (M, N) array or path
        Grey image (see :func:`texture.read_image`).
    frequencies, n_orientations, bandwidth
        As in :func:`gabor_bank`.

    Returns
    -------
    responses : (n_filters, M, N) ndarray of complex64
        Frequency-major, like :func:`gabor_bank`.
    """
    grid_image, window = _grid(read_image(image), frequencies, n_orientations, bandwidth)
    spectra = gabor_spectra(grid_image.shape, tuple(frequencies), n_orientations, bandwidth)
    responses = spectra * _spectrum(grid_image)
    for response in responses:
        _inverse_dft(response, out=response)
    return np.ascontiguousarray(responses[(slice(None), *window)])


def _spectrum(image):
    """Complex64 DFT of ``image`` divided by its size, ``numpy.fft.fft2(image) / image.size``.

    Scaling the one forward transform spares the scaling of every inverse
    transform (:func:`_inverse_dft`).
    """
    flags = cv2.DFT_COMPLEX_OUTPUT | cv2.DFT_SCALE
    return cv2.dft(image.astype(np.float32, copy=False), flags=flags).view(np.complex64)[..., 0]


def _inverse_dft(spectrum, out):
    """Unscaled inverse DFT, ``numpy.fft.ifft2(spectrum) * spectrum.size``, of complex64 ``spectrum`` into ``out``.

    Both C-contiguous; ``out`` may be ``spectrum``.
    """
    # OpenCV's complex layout, (M, N, 2) float32, is complex64 viewed as pairs.
    cv2.idft(_pairs(spectrum), dst=_pairs(out))
    return out


def _pairs(array):
    """A complex64 array viewed in OpenCV's complex layout, (M, N, 2) float32."""
    return array.view(np.float32).reshape(*array.shape, 2)


def gabor_feature_names(frequencies=DEFAULT_FREQUENCIES, n_orientations=6, aggregate="none"):
    """Names of :func:`gabor_feature_vector`'s values, e.g. ``gabor_f0.10_t030_mean``."""
    names = []
    for f in frequencies:
        if aggregate == "rotation":
            names += [f"gabor_f{_label(f)}_{stat}_{agg}" for stat in ("mean", "std") for agg in ("avg", "range")]
        else:
            names += [
                f"gabor_f{_label(f)}_t{t:03g}_{stat}" for t in _orientations(n_orientations) for stat in ("mean", "std")
            ]
    return names


def _label(frequency):
    """Two decimals (``0.10``) when exact, else every digit needed (``0.125``): names stay unique."""
    short = f"{frequency:.2f}"
    return short if float(short) == frequency else repr(float(frequency))


def gabor_feature_vector(image, frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0, aggregate="none",
                         inside=None):
    """Mean and standard deviation of each filter's response magnitude: the extractor's fast path.

    The parameters are not checked here (see :func:`check_gabor_params`).

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image (see :func:`texture.read_image`).
    frequencies, n_orientations, bandwidth, aggregate
        As in :func:`gabor_features`.
    inside : (M, N) ndarray of bool, optional
        Region of interest (see :func:`texture.masks.read_mask`): the
        statistics of the whole image's responses at its pixels.

    Returns
    -------
    values : 1-D ndarray of float64
        In the order of :func:`gabor_feature_names`.
    """
    n_filters = len(frequencies) * n_orientations
    sums = np.zeros((n_filters, 2))  # of |response| and of |response|^2
    ones = np.empty(0, dtype=np.float32)
    for rows, magnitudes in _banded_magnitudes(image, frequencies, n_orientations, bandwidth):
        if ones.size < image[rows].size:
            ones = np.ones(image[rows].size, dtype=np.float32)
        # Outside pixels are zeroed, which leaves the sums of the inside ones.
        weights = None if inside is None else inside[rows].reshape(-1).astype(np.float32)
        for out, magnitude in zip(sums, magnitudes):
            flat = magnitude.reshape(-1)
            if weights is not None:
                np.multiply(flat, weights, out=flat)
            # Single-precision dot products (BLAS, quicker than numpy's sum):
            # ~1e-6 relative accuracy, far inside the 1e-4 the responses are
            # good to, and the same result on every call (cv2.sumElems gave the
            # same image sums differing in the last bit from one call to the next).
            out[0] += np.dot(flat, ones[: flat.size])
            out[1] += np.dot(flat, flat)
    sums /= image.size if inside is None else np.count_nonzero(inside)
    return gabor_statistics(sums[:, 0], sums[:, 1], len(frequencies), n_orientations, aggregate)


def gabor_magnitudes(image, frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0):
    """Yield the magnitude ``|response|`` of every filter of the bank: the Gabor features' per-pixel responses.

    Every Gabor feature is a statistic of these magnitudes over a region:
    the whole image, a mask's pixels (:func:`gabor_feature_vector`) or a
    window of a feature map (:func:`texture.feature_map`), always of the
    whole image's responses (periodic borders, as :func:`gabor_responses`).

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image (see :func:`texture.read_image`), not checked.
    frequencies, n_orientations, bandwidth
        As in :func:`gabor_bank`.

    Yields
    ------
    magnitude : (M, N) ndarray of float32
        One per filter, in bank order.  The image is transformed once, and
        each yielded array is a buffer that the next filter overwrites:
        copy it to keep it.

    Examples
    --------
    >>> image = np.random.default_rng(0).random((32, 32))
    >>> magnitudes = [m.copy() for m in gabor_magnitudes(image, (0.1, 0.2), 4)]
    >>> len(magnitudes), bool(np.allclose(magnitudes[0], np.abs(gabor_responses(image, (0.1, 0.2), 4)[0]), atol=1e-5))
    (8, True)
    """
    grid_image, window = _grid(image, frequencies, n_orientations, bandwidth)
    spectrum = _spectrum(grid_image)
    # One buffer holds a kernel's spectrum (when streamed), the product, then the response.
    response = np.empty(grid_image.shape, dtype=np.complex64)
    magnitude = np.empty(image.shape, dtype=np.float32)
    for kernel_spectrum in _spectra(grid_image.shape, frequencies, n_orientations, bandwidth, response):
        np.multiply(kernel_spectrum, spectrum, out=response)
        _inverse_dft(response, out=response)  # the response (the spectrum is scaled)
        np.abs(response[window], out=magnitude)
        yield magnitude


def _banded_magnitudes(image, frequencies, n_orientations, bandwidth):
    """Yield ``(rows, magnitudes)``: bands of rows of the image and :func:`gabor_magnitudes` of them.

    ``magnitudes`` yields ``|response|`` (float32) of every filter on the
    image's ``rows`` (a slice), each equal to those rows of the whole image's
    :func:`gabor_magnitudes` to float32 rounding.  An image of up to
    :data:`_WHOLE_IMAGE_PIXELS` pixels is one band.  A larger one is
    transformed in bands of about a sixteenth of its pixels: each band with the
    `reach` rows above and below it that the kernels see (wrapped around the
    image's ends, as its periodic convolution does), on a grid of a fast DFT
    length; the band's own rows then never see past that context.
    """
    reach = gabor_reach(tuple(frequencies), n_orientations, bandwidth)
    rows, cols = image.shape
    band_pixels = min(max(image.size // 16, _BAND_PIXELS[0]), _BAND_PIXELS[1])
    length = cv2.getOptimalDFTSize(max(band_pixels // cols, 6 * reach))
    inner = length - 2 * reach
    if image.size <= _WHOLE_IMAGE_PIXELS or inner >= rows:
        yield slice(None), gabor_magnitudes(image, frequencies, n_orientations, bandwidth)
        return
    for top in range(0, rows, inner):
        bottom = min(top + inner, rows)
        band = np.empty((length, cols), dtype=np.float32)  # what the transform takes
        for row, source in enumerate(range(top - reach, top - reach + length)):
            band[row] = image[source % rows]
        yield slice(top, bottom), (magnitude[reach : reach + bottom - top] for magnitude in
                                   gabor_magnitudes(band, frequencies, n_orientations, bandwidth))


def gabor_statistics(mean, mean_square, n_frequencies, n_orientations, aggregate="none"):
    """Feature values in :func:`gabor_feature_names` order from each filter's mean magnitude and mean square.

    The standard deviation is ``sqrt(max(E[m^2] - E[m]^2, 0))``: the
    statistics of a region follow from two sums of :func:`gabor_magnitudes`
    over its pixels, however the region is summed (directly, or by
    summed-area tables for the windows of a feature map).

    Parameters
    ----------
    mean, mean_square : (..., n_filters) array of float64
        Per region (leading axes) and filter (bank order), the mean of the
        magnitude and of its square over the region's pixels.
    n_frequencies, n_orientations : int
        The bank's shape, ``n_filters = n_frequencies * n_orientations``.
    aggregate : {"none", "rotation"}, optional
        As in :func:`gabor_features`.

    Returns
    -------
    values : (..., n_features) ndarray of float64

    Examples
    --------
    >>> gabor_statistics(np.array([2.0, 1.0]), np.array([5.0, 1.0]), 1, 2).tolist()
    [2.0, 1.0, 1.0, 0.0]
    """
    std = np.sqrt(np.maximum(mean_square - mean**2, 0.0))
    stats = np.stack([mean, std], axis=-1)
    stats = stats.reshape(*stats.shape[:-2], n_frequencies, n_orientations, 2)
    if aggregate == "rotation":
        # (frequency, stat, [average, range]) over the orientations.
        stats = np.stack([stats.mean(axis=-2), np.ptp(stats, axis=-2)], axis=-1)
    return stats.reshape(*stats.shape[:-3], -1)


def gabor_features(image, frequencies=DEFAULT_FREQUENCIES, n_orientations=6, bandwidth=1.0, aggregate="none",
                   mask=None):
    """Gabor filter bank features of an image.

    With a mask, the mean and standard deviation are those of the inside
    pixels of the responses of the *whole* image (not of the mask's
    bounding box): a pixel's response is then the same whatever the region,
    its filter reads the real surroundings rather than a padding, and a
    mask covering the image gives exactly the unmasked statistics.  The
    cost is that of the unmasked features, whatever the region's size.

    Parameters
    ----------
    image : (M, N) array or path
        Grey image (see :func:`texture.read_image`).
    frequencies : sequence of float, optional
        Filter frequencies in cycles per pixel.
    n_orientations : int, optional
        Number of orientations per frequency, evenly spread over 180 degrees.
    bandwidth : float, optional
        Bandwidth in octaves.
    aggregate : {"none", "rotation"}, optional
        ``"none"``: the mean and standard deviation of the magnitude of each
        filter's response (``gabor_f0.10_t030_mean``, ``..._std``).
        ``"rotation"``: per frequency, the average and the range over the
        orientations of those two statistics (``gabor_f0.10_mean_avg``,
        ``gabor_f0.10_mean_range``, ...), insensitive to the texture's
        orientation.
    mask : array_like or path, optional
        Region of interest: a boolean array of the image's shape, or
        anything :func:`texture.read_image` reads, non-zero inside (see
        :func:`texture.masks.read_mask`).  The whole image when omitted.

    Returns
    -------
    features : pandas.Series

    Raises
    ------
    ConfigError
        From :func:`check_gabor_params`.
    MaskError
        The mask cannot be read, has another shape than the image, or is
        empty.  Any non-empty mask has statistics: a response is defined at
        every pixel.

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = gabor_features(brick())
    >>> len(features)
    48
    """
    check_gabor_params(frequencies, n_orientations, bandwidth, aggregate)
    image, inside, _ = read_image_and_mask(image, mask)
    values = gabor_feature_vector(image, frequencies, n_orientations, bandwidth, aggregate, inside)
    import pandas as pd  # see texture.features.extract_features

    return pd.Series(values, index=gabor_feature_names(frequencies, n_orientations, aggregate))


def check_gabor_params(frequencies, n_orientations, bandwidth, aggregate):
    """Raise ConfigError naming the first invalid filter bank parameter by its FeatureConfig field.

    Parameters
    ----------
    frequencies, n_orientations, bandwidth, aggregate
        As in :func:`gabor_features` (fields ``gabor_frequencies``,
        ``gabor_orientations``, ...); no frequency may repeat, as it would
        repeat feature names.

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_gabor_params((0.1, 0.2), 6, 1.0, "none")
    >>> check_gabor_params((0.1, 0.7), 6, 1.0, "none")
    Traceback (most recent call last):
    ...
    texture.errors.ConfigError: gabor_frequencies: gabor frequency must be in (0, 0.5] cycles/pixel, got 0.7
    """
    if isinstance(frequencies, str) or not np.iterable(frequencies) or len(frequencies) == 0:
        raise ConfigError(f"gabor_frequencies must be a non-empty sequence, got {frequencies!r}")
    try:
        for f in frequencies:
            _check_frequency(f)
    except ConfigError as error:
        raise ConfigError(f"gabor_frequencies: {error.message}") from None
    _orientations(n_orientations)
    if not (isinstance(bandwidth, (int, float, np.number)) and 0 < bandwidth <= 8):
        raise ConfigError(f"gabor_bandwidth must be in (0, 8] octaves, got {bandwidth!r}")
    if aggregate not in AGGREGATES:
        raise ConfigError(f"gabor_aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    if len(set(frequencies)) != len(frequencies):
        raise ConfigError(f"gabor_frequencies must not repeat values, got {frequencies!r}")
