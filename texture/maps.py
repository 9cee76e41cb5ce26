"""Feature maps: the named feature vector of every window of a grid over an image.

A window and a whole image are "the statistics of these pixels" asked twice.
The per-pixel responses of each family are computed once for the image,
band of rows by band of rows, exactly as :func:`texture.extract_features`
computes them for a whole image:

* GLCM: the quantized grey level of every pixel and, per offset, the pair
  ``(q[p], q[p + offset])`` that starts at it (when its partner lies in the
  image);
* LBP: the code of every pixel at every scale (zero outside the image);
  VAR: the bin of every pixel's local variance at every scale (the same
  neighbours); half-scale GLCM: the quantized mean of the 2 x 2 block
  starting at every pixel, and the pairs of blocks at twice the offsets;
  LPQ: the code of every pixel (its window, zero outside the image);
* Gabor: the magnitude of every filter's response (periodic borders).

These are each family's ``responses`` in :data:`texture.features.REGISTRY`;
this module adds only how a window sums them.

A window then only adds up the responses of its own pixels: code counts and
sums of magnitudes over ``g x g`` cells (``g = gcd(window, step)``), summed
over the cells of each window through a summed-area table of the cells.  The
cost grows with the number of pixels, and only through those small tables
with the number of windows.

Semantics of a window (one definition; ``feature_map`` documents it)
---------------------------------------------------------------------
Pixels near a window's border see their neighbours *outside the window* as
context (like Orfeo ToolBox's Haralick extraction and glcm-cupy): an LBP
code or a Gabor response is that of the whole image, and a co-occurrence
pair belongs to the window of its first pixel.  At the image border, the
whole image's rules apply: LBP reads zeros outside the image, Gabor
responses wrap around it, pairs whose partner falls outside are not
counted.  Hence a window covering the whole image has exactly
``extract_features(image)``, and the features of a map are additive in the
sense that matters for streaming: they do not depend on how the image is cut
into bands.  An interior window differs from ``extract_features`` of the
cropped window only through its border pixels (measured in the tests and the
README).
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np

from texture import colour, gabor, glcm, lbp, lpq
from texture.errors import ConfigError, FlatChromaWarning, ImageTooSmallError
from texture.features import REGISTRY, FeatureExtractor
from texture.io import open_image

__all__ = ["WindowGrid", "FeatureMap", "feature_map"]

#: Pixels of working image per band of rows (float64: 16 MiB), unless that
#: is too few rows (see ``_bands``).  Small enough that a band's per-pixel
#: responses take a few tens of MiB, each array below the size at which the
#: C allocator maps fresh pages for it (32 MiB in glibc): temporaries are
#: recycled band after band instead of faulted in anew (at 4096 x 4096 px,
#: 64 MiB bands spent about 3 s of 14 in the kernel, these under 1 s).
_BAND_PIXELS = 1 << 21
#: Least height of a band, in windows plus the context on both sides: the
#: rows a band recomputes for its neighbours (a window's height less a step,
#: plus twice the context) then stay a fraction of its rows whatever the width.
_BAND_SPANS = 4
#: Windows per band of rows: a band's window statistics take a few KiB
#: per window (the GLCM properties of every offset: 1.8 KiB in float64 by
#: default), so at most a few hundred MiB whatever the step.
_BAND_WINDOWS = 1 << 15
#: Entries of the per-cell count table of one block, made its summed-area
#: table in place (uint16: 4 MiB; see ``_block``), and of the table that one
#: ``bincount`` increments (int64: 512 KiB, within a core's cache).
_CELL_ENTRIES = 1 << 21
_STRIP_ENTRIES = 1 << 16
#: Windows whose GLCM sums are computed at once (temporaries of
#: windows x pair bins: 1 MiB of float64 at 32 levels, reused from chunk to
#: chunk; 2048 windows took twice as long per window).
_REDUCED_WINDOWS = 1 << 8


@dataclass(frozen=True)
class WindowGrid:
    """Square windows of ``window`` pixels every ``step`` pixels over an image of ``shape``.

    Window ``(i, j)`` covers rows ``i * step .. i * step + window - 1`` and
    columns ``j * step .. j * step + window - 1``; windows lie wholly inside
    the image, the first at its top left corner.  The last ``(side - window)
    % step`` rows and columns (fewer than ``step``) start no window.

    Attributes
    ----------
    shape : (int, int)
        Image height and width.
    window, step : int
    """

    shape: tuple
    window: int
    step: int

    def __post_init__(self):
        for name in ("window", "step"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "window", int(self.window))
        object.__setattr__(self, "step", int(self.step))

    @property
    def rows(self) -> int:
        """Number of window rows."""
        return max(0, (self.shape[0] - self.window) // self.step + 1)

    @property
    def cols(self) -> int:
        """Number of window columns."""
        return max(0, (self.shape[1] - self.window) // self.step + 1)

    @property
    def boxes(self) -> np.ndarray:
        """``(rows, cols, 4)`` int array: ``y0, x0, y1, x1`` of each window (``y1, x1`` exclusive)."""
        y0 = np.arange(self.rows) * self.step
        x0 = np.arange(self.cols) * self.step
        boxes = np.empty((self.rows, self.cols, 4), dtype=np.int32)
        boxes[..., 0], boxes[..., 1] = y0[:, None], x0[None, :]
        boxes[..., 2], boxes[..., 3] = boxes[..., 0] + self.window, boxes[..., 1] + self.window
        return boxes

    def nearest(self, n, axis) -> np.ndarray:
        """For each of ``n`` pixel rows (axis 0) or columns (axis 1), the window row or column whose centre is nearest.

        Each pixel thus belongs to one window: the one whose central
        ``step`` pixels hold it, or the closest one at the image's edges.
        """
        count = self.rows if axis == 0 else self.cols
        centre = (self.window - self.step) / 2
        return np.clip(np.floor((np.arange(n) - centre) / self.step), 0, count - 1).astype(np.intp)

    def window_counts(self, codes, n_codes):
        """Per window, the number of its pixels carrying each code ``0 .. n_codes - 1``.

        Parameters
        ----------
        codes : (M, N) array of int
            One code per pixel of the image (``M, N`` = :attr:`shape`).
        n_codes : int

        Returns
        -------
        (rows, cols, n_codes) ndarray of uint16 (uint32 for windows of 2**16 pixels or more)
        """
        covered = (slice(0, _band_height(self, self.rows)), slice(0, _covered(self)))
        return _window_counts(np.asarray(codes)[covered], n_codes, self)

    def to_dict(self) -> dict:
        """JSON-ready geometry: ``shape``, ``window``, ``step``."""
        return {"shape": list(self.shape), "window": self.window, "step": self.step}


@dataclass(frozen=True)
class FeatureMap:
    """The feature vector of every window of a :class:`WindowGrid`.

    Attributes
    ----------
    values : (rows, cols, n_features) ndarray of float32
        ``values[i, j]`` is the vector of window ``(i, j)``.
    names : list of str
        Feature names, exactly :func:`texture.extract_features`'s for the
        same configuration, in the same order.
    grid : WindowGrid
        Geometry: image shape, window, step.
    """

    values: np.ndarray
    names: list
    grid: WindowGrid

    @property
    def window(self) -> int:
        return self.grid.window

    @property
    def step(self) -> int:
        return self.grid.step

    @property
    def boxes(self) -> np.ndarray:
        """``(rows, cols, 4)``: ``y0, x0, y1, x1`` of each window (see :attr:`WindowGrid.boxes`)."""
        return self.grid.boxes

    def to_frame(self):
        """One row per window: ``row, col, y0, x0, y1, x1`` then the features (float64).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd  # see texture.features.extract_features

        rows, cols = self.values.shape[:2]
        index = np.indices((rows, cols)).reshape(2, -1)
        geometry = {"row": index[0], "col": index[1]}
        boxes = self.boxes.reshape(-1, 4)
        geometry.update({key: boxes[:, k] for k, key in enumerate(("y0", "x0", "y1", "x1"))})
        features = pd.DataFrame(self.values.reshape(rows * cols, -1).astype(np.float64), columns=self.names)
        return pd.concat([pd.DataFrame(geometry), features], axis=1)


def feature_map(image, window=64, step=32, config=None, *, max_pixels=None):
    """Texture features of every ``window`` x ``window`` window, every ``step`` pixels.

    Each window's vector has the names and meaning of
    :func:`texture.extract_features`, with one definition of what a window
    sees: the per-pixel responses are those of the *whole image* (an LBP
    code reads the neighbours around its pixel even outside the window, a
    Gabor response is the whole image's, a co-occurrence pair belongs to the
    window holding its first pixel and may have its partner just outside),
    and the window sums them over its own pixels.  At the image border the
    whole image's rules apply (LBP reads zeros outside, Gabor wraps around,
    pairs leaving the image are not counted).  So a window covering the whole
    image has exactly ``extract_features(image)``, and an interior window
    differs from ``extract_features`` of its crop only through its border
    pixels (README, "Texture maps").

    In colour (``config.colour="opponent"``) the grey features are those of
    the luminance, and the chroma features (:mod:`texture.colour`) those of
    the same windows on the whole image's half-resolution chroma channels:
    window ``(i, j)`` covers the ``window / 2`` half-resolution pixels from
    ``(i step / 2, j step / 2)``, with the same semantics, so ``window`` and
    ``step`` must be even.  A grey image has flat chroma, as in
    :func:`texture.extract_features`, and the same
    :class:`~texture.errors.FlatChromaWarning` (when every window sees flat
    chroma).

    Computed densely: the responses once per band of rows, window statistics
    by summed-area tables over ``gcd(window, step)``-pixel cells.  The image
    is held as stored (8 bits per grey pixel for most files) and converted
    band by band, so a 16000 x 16000 8-bit image maps in well under 2 GB.

    Parameters
    ----------
    image : str, os.PathLike or array_like
        Image file or array (see :func:`texture.read_image`).
    window : int, optional
        Window side in pixels, at least ``config.min_image_size`` and at most
        the image's smaller side.
    step : int, optional
        Distance between consecutive windows, in pixels.
    config : FeatureConfig, optional
        Defaults to ``FeatureConfig()``.  In colour, ``window`` and ``step``
        must be even.  Every family but ``"clbp"`` (whose thresholds are
        whole-image statistics) can be mapped.
    max_pixels : int, optional
        Largest image accepted (see :func:`texture.read_image`); larger ones
        are refused with ImageTooLargeError.

    Returns
    -------
    FeatureMap
        ``values`` of shape ``(grid.rows, grid.cols, len(names))``.

    Raises
    ------
    TextureError
        As :func:`texture.read_image`; ImageTooSmallError when the window does
        not fit in the image; ConfigError for a bad window, step or config.

    Examples
    --------
    >>> from skimage.data import brick
    >>> fmap = feature_map(brick(), window=64, step=32)
    >>> fmap.values.shape[:2], fmap.names[0]
    ((15, 15), 'glcm_contrast_d1_mean')
    """
    extractor = FeatureExtractor(config)
    config = extractor.config
    unmapped = [family for family in config.families if family not in _WINDOW_STATISTICS]
    if unmapped:
        raise ConfigError(f"feature maps cannot compute the {', '.join(unmapped)} family: its per-pixel codes "
                          "depend on thresholds taken over the whole image, not over a window")
    if config.reads_colour and (window % 2 or step % 2):
        raise ConfigError(f"a colour feature map needs an even window and step (its chroma channels have half "
                          f"the resolution), got window {window}, step {step}")
    stored = open_image(image, max_pixels=max_pixels)  # checked as a whole, converted band by band
    height, width = stored.shape
    grid = WindowGrid((height, width), window, step)
    if window < config.min_image_size:
        raise ConfigError(f"window must be at least {config.min_image_size} pixels for this feature config, "
                          f"got {window}")
    if window > min(height, width):
        raise ImageTooSmallError(f"image is {height} x {width} pixels, smaller than the {window} pixel window",
                                 stored.path)
    values = np.empty((grid.rows, grid.cols, len(extractor.names)), dtype=np.float32)
    bands = _Bands(config, grid)
    if config.reads_colour:
        # The chroma windows: the same windows on the half-resolution channels.
        half = WindowGrid((height // 2, width // 2), window // 2, step // 2)
        assert (half.rows, half.cols) == (grid.rows, grid.cols)
        chroma = _Bands(config, half)
    flat_chroma = config.reads_colour  # until a band's windows see some chroma
    for first, last in _bands(grid, bands.context):
        parts = [bands.band(stored.grey, first, last)]
        if config.reads_colour:
            parts += [chroma.band(lambda rows, k=k: _chroma(stored, rows)[k], first, last, view=colour.chroma_view)
                      for k in range(len(colour.CHROMA_CHANNELS))]
            statistics, coloured = _colour_statistics(stored, half, first, last)
            parts.append(statistics)
            flat_chroma = flat_chroma and not coloured
        values[first:last] = np.concatenate(parts, axis=-1)
    if flat_chroma:
        path = os.fspath(image) if isinstance(image, (str, os.PathLike)) else None
        warnings.warn(FlatChromaWarning(path), stacklevel=2)
    return FeatureMap(values, list(extractor.names), grid)


def _chroma(stored, rows):
    """The chroma channels ``(2, n, width // 2)`` of the half-resolution rows ``rows`` (a slice or indices).

    Half-resolution row ``r`` averages the image rows ``2 r`` and ``2 r + 1``
    (:func:`texture.colour.half_resolution`, block by block: the rows of the
    whole image's channels bit for bit).  A grey image has flat chroma: zeros.
    """
    rows = np.arange(stored.shape[0] // 2)[rows] if isinstance(rows, slice) else np.asarray(rows)
    rgb = stored.colour((2 * rows[:, None] + np.arange(2)).ravel())
    if rgb.ndim == 2:
        return np.zeros((len(colour.CHROMA_CHANNELS), len(rows), stored.shape[1] // 2))
    return colour.opponent_channels(colour.half_resolution(rgb))


def _colour_statistics(stored, half, first, last):
    """``o1_mean, o1_std, o2_mean, o2_std`` of window rows ``first .. last - 1`` on the half-resolution ``half`` grid,
    and whether those windows see any chroma (False: flat chroma, a grey image)."""
    channels = _chroma(stored, slice(first * half.step, (last - 1) * half.step + half.window))
    covered = channels[:, :, : _covered(half)]
    stats = np.empty((last - first, half.cols, len(channels), 2))
    for k, channel in enumerate(covered):
        sums, squares = _window_moments(channel, half)
        mean = sums / half.window**2
        stats[..., k, 0] = mean
        stats[..., k, 1] = np.sqrt(np.maximum(squares / half.window**2 - mean**2, 0.0))
    return stats.reshape(last - first, half.cols, -1), bool(covered.any())


def _bands(grid, context):
    """Yield ``(first, last)`` window rows of each band of rows.

    A band holds about :data:`_BAND_PIXELS` pixels, or :data:`_BAND_SPANS`
    windows' height with their context if that is more, and at most
    :data:`_BAND_WINDOWS` windows (at least one row of windows), so that
    neither its per-pixel responses nor its per-window statistics grow
    with the image or shrink with the step.
    """
    band_rows = max(_BAND_PIXELS // max(grid.shape[1], 1) - 2 * context,
                    _BAND_SPANS * (grid.window + 2 * context))
    per_band = max(1, min((band_rows - grid.window) // grid.step + 1, _BAND_WINDOWS // grid.cols))
    # Up to a quarter more window rows, for a band whose rows with their
    # context are a length the Gabor filters transform at full speed as it
    # is, instead of one lengthened to the next (at 4096 px, window 64, step
    # 16: 34 window rows, 660 rows transformed, instead of 30 and 675).
    for more in range(min(per_band // 4, grid.rows - per_band) + 1):
        if gabor.is_quick_length((per_band + more - 1) * grid.step + grid.window + 2 * context):
            per_band += more
            break
    for first in range(0, grid.rows, per_band):
        yield first, min(first + per_band, grid.rows)


class _Bands:
    """The enabled families' per-pixel responses and window statistics, band by band."""

    def __init__(self, config, grid):
        self.config, self.grid = config, grid
        self.families = [(name, REGISTRY[name]) for name in config.families]
        self.reach = {name: family.reach(config) for name, family in self.families}
        self.context = max(self.reach.values())

    def band(self, rows_of, first, last, view=None):
        """Feature rows of window rows ``first .. last - 1`` of an image given by rows.

        ``rows_of(rows)`` is the 2-D working image (grey, or a chroma channel)
        of ``rows``, a slice or row indices; ``view(family, image)``, when
        given, is what ``family`` sees of it.  The band's rows are read once,
        with the most rows of context any family reads on each side; each
        family's responses are then computed on the band with its own context
        (from the other end of the image for periodic responses, clipped at
        the image's border otherwise), so that they are the whole image's on
        the band.

        Returns
        -------
        (last - first, cols, n_features) ndarray of float64
        """
        grid, height = self.grid, self.grid.shape[0]
        top = first * grid.step
        bottom = (last - 1) * grid.step + grid.window
        # A periodic family whose context would be the whole image gets the
        # whole image's responses, on a grid that is not lengthened by wrapped rows.
        whole = {name: family.periodic and bottom - top + 2 * self.reach[name] >= height
                 for name, family in self.families}
        if any(whole.values()):
            low, block = 0, rows_of(slice(None))
        elif any(family.periodic for _, family in self.families):
            low = top - self.context
            block = rows_of(np.arange(low, bottom + self.context) % height)
        else:
            low = max(top - self.context, 0)
            block = rows_of(slice(low, min(bottom + self.context, height)))
        parts = []
        for name, family in self.families:
            reach = self.reach[name]
            if whole[name]:
                start, grey = 0, block
            elif family.periodic and any(whole.values()):  # the block is the whole image: wrap around it
                start = top - reach
                grey = block[np.arange(start, bottom + reach) % height]
            elif family.periodic:
                start = top - reach
                grey = block[start - low : bottom + reach - low]
            else:
                start = max(top - reach, 0)
                grey = block[start - low : min(bottom + reach, height) - low]
            responses = family.responses(grey if view is None else view(name, grey), self.config, origin=start)
            parts.append(_WINDOW_STATISTICS[name](self.config, grid, responses, top - start, last - first))
        return np.concatenate(parts, axis=-1)


def _lbp_windows(c, grid, responses, offset, n_rows):
    """LBP histograms of the band's windows from :func:`texture.lbp.lbp_responses` of the band, ``offset`` rows above it."""
    n_bins = [lbp.lbp_n_bins(P, c.lbp_method) for P, _ in c.lbp_scales]
    return _code_histograms(grid, responses, n_bins, offset, n_rows)


def _lbpvar_windows(c, grid, responses, offset, n_rows):
    """VAR histograms of the band's windows from :func:`texture.lbp.lbp_var_responses` of the band."""
    return _code_histograms(grid, responses, [lbp.VAR_BINS] * len(c.lbpvar_scales), offset, n_rows)


def _lpq_windows(c, grid, responses, offset, n_rows):
    """LPQ histograms of the band's windows from :func:`texture.lpq.lpq_codes` of the band, ``offset`` rows above it."""
    return _code_histograms(grid, responses, [lpq.LPQ_BINS], offset, n_rows)


def _lpqr_windows(c, grid, responses, offset, n_rows):
    """Rotation-orbit histograms of the band's windows from :func:`texture.lpq.lpqr_codes` of the band."""
    return _code_histograms(grid, responses, [lpq.LPQR_BINS], offset, n_rows)


def _code_histograms(grid, responses, n_bins, offset, n_rows):
    """Per window, the normalized histogram of each code plane of `responses`, concatenated."""
    histograms = []
    for codes, bins in zip(responses, n_bins):
        codes = codes[offset : offset + _band_height(grid, n_rows), : _covered(grid)]
        histograms.append(_window_counts(codes, bins, grid) / grid.window**2)
    return np.concatenate(histograms, axis=-1)


def _gabor_windows(c, grid, responses, offset, n_rows):
    """Gabor statistics of the band's windows from :func:`texture.gabor.gabor_magnitudes` of the band, ``offset`` rows above it."""
    height, width = _band_height(grid, n_rows), _covered(grid)
    n_filters = len(c.gabor_frequencies) * c.gabor_orientations
    sums = np.empty((n_rows, grid.cols, n_filters, 2))
    for k, magnitude in enumerate(responses):
        inside = magnitude[offset : offset + height, :width]
        sums[:, :, k, 0], sums[:, :, k, 1] = _window_moments(inside, grid)
    sums /= grid.window**2
    return gabor.gabor_statistics(sums[..., 0], sums[..., 1], len(c.gabor_frequencies), c.gabor_orientations,
                                  c.gabor_aggregate)


def _glcm_windows(c, grid, responses, offset, n_rows):
    """GLCM features of the band's windows from its quantized grey levels, ``offset`` rows above it."""
    return _cooccurrence_windows(c, grid, responses, offset, n_rows,
                                 glcm.glcm_offsets(c.glcm_distances, c.glcm_angles))


def _glcmhalf_windows(c, grid, responses, offset, n_rows):
    """Half-scale GLCM features of the band's windows from :func:`texture.glcm.glcm_half_levels` of the band.

    A pair belongs to the window holding the first pixel of its first 2 x 2 block.
    """
    return _cooccurrence_windows(c, grid, responses, offset, n_rows,
                                 glcm.glcm_half_offsets(c.glcm_distances, c.glcm_angles))


def _cooccurrence_windows(c, grid, responses, offset, n_rows, offsets):
    """GLCM features at `offsets` of the band's windows from its quantized grey levels ``q``, ``offset`` rows above it.

    Per offset and window, only the unordered pairs ``{q[p], q[p + offset]}``
    starting in the window are counted (the symmetric matrix has half as
    many distinct entries); every other reduction that
    :func:`texture.glcm.glcm_properties_from_reductions` needs (the grey
    levels of both pixels, their sum and their absolute difference) is a sum
    of these counts, taken per window (:func:`_pair_tables`).  Each pixel's
    pair is one code ``q[p] (L + 1) + q[p + offset]``, level ``L`` standing
    for "outside the image" (or "no whole block here" in ``q``); a lookup
    table turns it into its pair's bin.
    """
    L = c.glcm_levels
    height, width = _band_height(grid, n_rows), _covered(grid)
    reach = int(np.abs(offsets).max())
    (levels,) = responses
    # The quantized band inside a margin of level L (outside the image).
    q = np.full((levels.shape[0] + 2 * reach, levels.shape[1] + 2 * reach), L, dtype=np.int32)
    q[reach:-reach, reach:-reach] = levels
    top = reach + offset
    first = q[top : top + height, reach : reach + width] * (L + 1)
    pair_bin, reductions = _pair_tables(L)
    n_d, n_a = offsets.shape[:2]
    # Offset-major: each chunk's properties are written in place, row by row.
    props = np.empty((n_d * n_a, len(glcm.GLCM_PROPERTIES), n_rows * grid.cols))
    code = np.empty_like(first)
    sums = np.empty((len(_moment_weights(L)) + 3, n_rows * grid.cols))
    for k, (dr, dc) in enumerate(offsets.reshape(-1, 2).tolist()):
        np.add(first, q[top + dr : top + dr + height, reach + dc : reach + dc + width], out=code)
        counts = _flat(_window_counts(code, reductions.shape[1], grid, pair_bin[None]))
        # A few hundred windows at a time: temporaries of a few MiB, reused
        # by the allocator instead of fresh pages faulted in for each.
        for chunk in range(0, len(counts), _REDUCED_WINDOWS):
            windows = slice(chunk, chunk + _REDUCED_WINDOWS)
            _window_sums(counts[windows], reductions, L, 2 * grid.window**2, out=sums[:, windows])
        _window_properties(sums, L, out=props[k])
    props = np.moveaxis(props, 0, -1).reshape(-1, n_rows, grid.cols, n_d, n_a)
    return glcm.glcm_feature_values(props, c.glcm_aggregate)


def _window_sums(pairs, reductions, L, largest, out):
    """Per window, the sums that its GLCM properties need, from its unordered pair counts, into ``out`` (``(16, n)``).

    The rows of :func:`_moment_weights`'s product, then those of
    :func:`_joint_sums`; all but the ``c log2 c`` sums are exact integers.
    ``largest`` bounds the number of pairs of a window (``2 window**2``).
    See :func:`_pair_tables`.
    """
    # Sums of integer counts, exact in float32 below 2**24, and quickest
    # bin-major: each of the sparse matrix's entries adds one row of counts.
    exact = np.float32 if largest < 2**24 else np.float64
    counts = reductions @ np.ascontiguousarray(pairs.T, dtype=exact)
    stacked = np.empty((2 * len(counts), len(pairs)))
    stacked[: len(counts)] = counts
    _c_log2_c(largest).take(counts.astype(np.intp), out=stacked[len(counts) :], mode="clip")
    weights = _moment_weights(L)
    np.matmul(weights, stacked, out=out[: len(weights)])
    out[len(weights) :] = _joint_sums(pairs, L, largest)
    return out


def _window_properties(sums, L, out):
    """The GLCM properties ``(n_properties, n)`` of ``n`` windows from their :func:`_window_sums`, into ``out``.

    The moments and entropies of the marginal, sum and difference
    distributions come from their integer counts' sums: central moments
    from raw ones, entropies as ``log2 n - sum c log2 c / n``.  Computed for
    all of a band's windows at once (a few dozen array operations).
    """
    total, level_1, level_2, sum_1, sum_2, sum_3, sum_4, diff_1, diff_2, inverse, *c_log_c, squares, entries, most = sums
    both = 2 * total  # the grey levels of both pixels of each pair; the symmetric matrix's sum
    mean = level_1 / both
    marginal = (mean, np.maximum(level_2 / both - mean * mean, 0.0), np.log2(both) - c_log_c[0] / both)
    # Central moments of i + j from raw ones about L - 1 (the middle of its
    # range: small powers, exact sums).
    shift, sum_2, sum_3, sum_4 = sum_1 / total, sum_2 / total, sum_3 / total, sum_4 / total
    square = shift * shift
    sums = (shift + (L - 1), np.maximum(sum_2 - square, 0.0), sum_3 - 3 * shift * sum_2 + 2 * square * shift,
            np.maximum(sum_4 - 4 * shift * sum_3 + 6 * square * sum_2 - 3 * square * square, 0.0),
            np.log2(total) - c_log_c[1] / total)
    diff_mean, contrast = diff_1 / total, diff_2 / total
    differences = (diff_mean, contrast, inverse / total, np.maximum(contrast - diff_mean * diff_mean, 0.0),
                   np.log2(total) - c_log_c[2] / total)
    # H(P) = log2(n) - sum e log2 e / n over the entries e of the matrix, n = sum e.
    return glcm.glcm_properties_from_moments(marginal, marginal, sums, differences, squares / both**2,
                                             np.log2(both) - entries / both, most / both, out=out)


#: Per family of :data:`texture.features.REGISTRY`, its values for the
#: windows of a band from the band's per-pixel responses (``Family.responses``
#: of the band with its context): ``(config, grid, responses, offset, n_rows)
#: -> (n_rows, cols, n_values)``, the band ``offset`` rows into the responses.
_WINDOW_STATISTICS = {"glcm": _glcm_windows, "lbp": _lbp_windows, "gabor": _gabor_windows,
                      "glcmhalf": _glcmhalf_windows, "lbpvar": _lbpvar_windows, "lpq": _lpq_windows,
                      "lpqr": _lpqr_windows}
assert set(_WINDOW_STATISTICS) == {name for name, family in REGISTRY.items() if family.responses is not None}, \
    "every family with per-pixel responses needs its window statistics here"


def _flat(a):
    """``(..., n)`` -> ``(-1, n)``: one row per window."""
    return a.reshape(-1, a.shape[-1])


@functools.lru_cache(maxsize=8)
def _pair_tables(L):
    """The bin of each pair code ``i (L + 1) + j``, and the sums of bins that give the other reductions.

    The unordered pair ``{i, j}`` has one of ``L (L + 1) / 2`` bins: the
    diagonal pairs first (bin ``i``), then those with ``i < j``.  A code
    with ``i`` or ``j`` equal to ``L`` (outside the image) goes to the
    dropped bin ``L (L + 1) / 2``.

    Returns
    -------
    pair_bin : ((L + 1) ** 2,) ndarray of intp, read-only
    reductions : scipy.sparse.csr_array, (4 L - 1, L (L + 1) / 2) of float32
        ``reductions @ counts`` turns pair counts (one row per bin) into,
        one after the other: the counts of each grey level over both pixels
        of the pairs (``L`` rows: a pair ``{i, i}`` counts twice for ``i``),
        of their sums ``i + j`` (``2 L - 1``) and of their differences
        ``|i - j|`` (``L``).
    """
    import scipy.sparse  # here: a tenth of a second to import, for maps only (start-up, tests/test_cli.py)

    pair = np.empty((L, L), dtype=np.int32)
    pair[np.diag_indices(L)] = np.arange(L)
    upper = np.triu_indices(L, 1)
    pair[upper] = L + np.arange(len(upper[0]))
    pair[upper[::-1]] = pair[upper]
    n_pairs = L * (L + 1) // 2
    pair_bin = np.full((L + 1, L + 1), n_pairs, dtype=np.int32)
    pair_bin[:L, :L] = pair
    pair_bin = pair_bin.reshape(-1)
    pair_bin.flags.writeable = False
    # Each pair bin, from its (i, j) with i <= j, adds to four reductions.
    i, j = np.concatenate([np.diag_indices(L), np.triu_indices(L, 1)], axis=1)
    bins = np.tile(np.arange(n_pairs), 4)
    reduced = np.concatenate([i, j, L + i + j, 3 * L - 1 + j - i])
    reductions = scipy.sparse.csr_array((np.ones(len(bins), dtype=np.float32), (reduced, bins)),
                                        shape=(4 * L - 1, n_pairs))
    return pair_bin, reductions


@functools.lru_cache(maxsize=8)
def _moment_weights(L):
    """``(13, 2 (4 L - 1))``: the sums per window that :func:`_window_sums` takes from its reductions.

    Multiplies the reductions' counts (:func:`_pair_tables`), then their
    ``c log2 c``, stacked (one column per window).  Rows: the number of
    pairs; the sums of ``k`` and ``k**2`` over the grey levels of both
    pixels; of ``(k - (L - 1))**r``, ``r = 1 .. 4``, over the pairs' sums;
    of ``k``, ``k**2`` and ``1 / (1 + k**2)`` over their differences; then
    ``sum c log2 c`` over the counts of the levels, of the sums and of the
    differences.  Read-only.
    """
    n = 4 * L - 1
    levels, sums, diffs = slice(0, L), slice(L, 3 * L - 1), slice(3 * L - 1, n)
    k = np.arange(L, dtype=np.float64)
    centred = np.arange(2 * L - 1, dtype=np.float64) - (L - 1)
    weights = np.zeros((13, 2 * n))
    weights[0, sums] = 1
    weights[1, levels], weights[2, levels] = k, k * k
    for r in range(1, 5):
        weights[2 + r, sums] = centred**r
    weights[7, diffs], weights[8, diffs], weights[9, diffs] = k, k * k, 1 / (1 + k * k)
    for row, part in enumerate((levels, sums, diffs)):
        weights[10 + row, n + part.start : n + part.stop] = 1
    weights.flags.writeable = False
    return weights


def _joint_sums(counts, L, largest):
    """Over the entries ``e`` of symmetric matrices, from their unordered pair counts: ``sum e**2``, ``sum e log2 e``, ``max e``.

    ``counts[:, i]`` (``i < L``) counts pairs ``(i, i)``: ``2 c`` in the
    symmetric matrix; the others count ``(i, j)`` and ``(j, i)`` together:
    ``c`` in each of two entries.  No count exceeds ``largest``.

    Returns
    -------
    (3, n) ndarray of float64
    """
    # Sums over the matrix's entries from sums over the counts: a diagonal
    # entry is 2 c (c^2 -> 4 c^2, c log2 c -> 2 c log2 c + 2 c), an
    # off-diagonal count two entries c.
    diagonal = counts[:, :L]
    sums = np.empty((3, len(counts)))
    # Squares multiplied and summed in float64 (exact below 2**53): quicker
    # than an integer einsum, or one from float32 that casts as it goes.
    exact = counts.astype(np.float64)
    sums[0] = 2 * (np.einsum("ij,ij->i", exact, exact) + np.einsum("ij,ij->i", exact[:, :L], exact[:, :L]))
    # c log2 c looked up for the integer counts (mode="clip": no bounds check).
    sums[1] = 2 * (_c_log2_c(largest).take(counts, mode="clip").sum(axis=1) + diagonal.sum(axis=1, dtype=np.float64))
    sums[2] = np.maximum(2 * diagonal.max(axis=1).astype(np.float64), counts[:, L:].max(axis=1, initial=0))
    return sums


@functools.lru_cache(maxsize=4)
def _c_log2_c(largest):
    """``c log2 c`` for ``c = 0 .. largest`` (0 for 0), read-only."""
    c = np.arange(largest + 1, dtype=np.float64)
    table = c * np.log2(c, out=np.zeros_like(c), where=c > 0)
    table.flags.writeable = False
    return table


def _band_height(grid, n_rows):
    """Pixel rows covered by ``n_rows`` consecutive window rows."""
    return (n_rows - 1) * grid.step + grid.window


def _covered(grid):
    """Pixel columns covered by the windows."""
    return (grid.cols - 1) * grid.step + grid.window


def _window_totals(table, grid):
    """Sums over the cells of each window, from per-cell totals in ``table[1:, 1:]`` (``(cell_rows, cell_cols, ...)``).

    ``table`` has a zero first row and column, and becomes in place the
    summed-area table of the cells, read at each window's four corners; the
    cells are those of consecutive windows, the first at the top left.
    Counts are summed in their unsigned integers: sums modulo 2**16 (2**32)
    give the exact differences of a window whose counts are below it, and
    halve the memory traffic.
    """
    g = math.gcd(grid.window, grid.step)
    span, stride = grid.window // g, grid.step // g
    # Running sums row after row, then column after column: numpy's cumsum
    # along a leading axis is several times slower than these whole-row adds.
    for i in range(2, table.shape[0]):
        np.add(table[i - 1, 1:], table[i, 1:], out=table[i, 1:])
    for j in range(2, table.shape[1]):
        np.add(table[1:, j - 1], table[1:, j], out=table[1:, j])
    # Strided views of the table at the windows' corners (no gathers).
    n_rows = (table.shape[0] - 1 - span) // stride + 1
    n_cols = (table.shape[1] - 1 - span) // stride + 1
    top, bottom = slice(0, n_rows * stride, stride), slice(span, span + n_rows * stride, stride)
    left, right = slice(0, n_cols * stride, stride), slice(span, span + n_cols * stride, stride)
    totals = table[bottom, right] - table[bottom, left]
    totals -= table[top, right]
    totals += table[top, left]
    return totals


def _count_dtype(grid):
    """Unsigned integers holding any count of a window's pixels."""
    return np.uint16 if grid.window**2 < 2**16 else np.uint32


def _window_moments(values, grid):
    """Per window, the sums of ``values`` (the band's covered pixels) and of their squares, in float64.

    Cell sums one row of cells at a time: its rows copied to float64
    (squares exact for float32 values) and added up, in buffers that stay in
    cache (quicker than a reduction over both axes, or one with a cast).

    Returns
    -------
    sums, squares : (n_rows, cols) ndarray of float64
    """
    g = math.gcd(grid.window, grid.step)
    rows, width = values.shape[0] // g, values.shape[1]
    tables = np.zeros((2, rows + 1, width // g + 1))
    line, square = np.empty((g, width)), np.empty((g, width))
    column_sums = np.empty((2, width))
    for r in range(rows):
        np.copyto(line, values[r * g : (r + 1) * g])
        np.multiply(line, line, out=square)
        line.sum(axis=0, out=column_sums[0])
        square.sum(axis=0, out=column_sums[1])
        tables[:, r + 1, 1:] = column_sums.reshape(2, -1, g).sum(axis=2)
    return tuple(_window_totals(table, grid) for table in tables)


def _window_counts(codes, n_bins, grid, tables=None):
    """Per window, the number of pixels of each code ``0 .. n_bins - 1`` (code ``n_bins``: not counted).

    ``codes`` are the band's covered pixels.  With ``tables`` (``(k,
    n_codes)`` of intp), each pixel adds to the ``k`` bins ``tables[:,
    code]`` instead.  Counted per ``g x g`` cell, in square-ish blocks of
    windows whose cell table holds at most :data:`_CELL_ENTRIES` entries:
    each block's cells strip of cell rows by strip, by one ``bincount`` whose
    table of at most :data:`_STRIP_ENTRIES` entries stays in the processor's
    cache (a table of megabytes, incremented at random, costs several times
    more per pixel).

    Returns
    -------
    (n_rows, cols, n_bins) ndarray of uint16 (uint32 for windows of 2**16 pixels or more)
    """
    g = math.gcd(grid.window, grid.step)
    n_rows = (codes.shape[0] - grid.window) // grid.step + 1
    width, planes = n_bins + 1, 1 if tables is None else len(tables)
    rows, cols = _block(grid, n_rows, width)
    dtype = _count_dtype(grid)
    out = np.empty((n_rows, grid.cols, n_bins), dtype=dtype)
    # One summed-area table for every block (its zero first row and column
    # included): a fresh one per block would be fresh pages to fault in.
    span, stride = grid.window // g, grid.step // g
    summed_buffer = np.zeros(((rows - 1) * stride + span + 1, (cols - 1) * stride + span + 1, n_bins), dtype=dtype)
    for first_row in range(0, n_rows, rows):
        last_row = min(first_row + rows, n_rows)
        for first_col in range(0, grid.cols, cols):
            last_col = min(first_col + cols, grid.cols)
            y0, x0 = first_row * grid.step, first_col * grid.step
            block = codes[y0 : (last_row - 1) * grid.step + grid.window, x0 : (last_col - 1) * grid.step + grid.window]
            summed = summed_buffer[: block.shape[0] // g + 1, : block.shape[1] // g + 1]
            cells = summed[1:, 1:]
            strip = max(1, _STRIP_ENTRIES // (cells.shape[1] * width))  # cell rows per bincount
            # Each pixel's offset in the strip's table: its cell's first bin.
            cell = (np.arange(strip * g, dtype=np.intp)[:, None] // g * (cells.shape[1] * width)
                    + np.arange(block.shape[1], dtype=np.intp) // g * width)
            index = np.empty((planes, *cell.shape), dtype=np.int32)
            for top in range(0, cells.shape[0], strip):
                pixels = block[top * g : (top + strip) * g]
                part = index[:, : len(pixels)]
                if tables is None:
                    np.add(pixels, cell[: len(pixels)], out=part[0])
                else:
                    # Plane by plane: twice as quick as one take.  mode="clip"
                    # (the codes are in range): with the default mode, numpy
                    # buffers `out`, six times slower.
                    for table, plane in zip(tables, part):
                        np.take(table, pixels, out=plane, mode="clip")
                    part += cell[: len(pixels)]
                n_cells = len(pixels) // g * cells.shape[1]
                counts = np.bincount(part.reshape(-1), minlength=n_cells * width)
                cells[top : top + strip] = counts.reshape(-1, cells.shape[1], width)[..., :n_bins]
            out[first_row:last_row, first_col:last_col] = _window_totals(summed, grid)
    return out


@functools.lru_cache(maxsize=64)
def _block(grid, n_rows, width):
    """Window rows and columns per block of :func:`_window_counts`: as many as the budget allows, square-ish.

    Larger blocks count fewer pixels twice (a window's rows less a step at
    each block edge); the budget keeps a block's cell table (``width``
    entries per cell) and its summed-area table within tens of MiB.
    """
    g = math.gcd(grid.window, grid.step)
    span, stride = grid.window // g, grid.step // g

    def fits(rows, cols):
        return ((rows - 1) * stride + span) * ((cols - 1) * stride + span) * width <= _CELL_ENTRIES

    n = 1
    while n < max(n_rows, grid.cols) and fits(min(n_rows, n + 1), min(grid.cols, n + 1)):
        n += 1
    rows, cols = min(n_rows, n), min(grid.cols, n)
    while cols < grid.cols and fits(rows, cols + 1):
        cols += 1
    while rows < n_rows and fits(rows + 1, cols):
        rows += 1
    return rows, cols
