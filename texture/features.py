"""One configurable extractor: image -> named vector of GLCM, LBP, Gabor and LPQ features.

:class:`FeatureConfig` says which families run and with which parameters,
on grey or also on colour; it round-trips through JSON so that a trained
model stores exactly how its features were made.  :class:`FeatureExtractor`
turns working images into 1-D float64 vectors in the stable order of its
:attr:`~FeatureExtractor.names`; :func:`extract_features` is the one-image
convenience returning a :class:`pandas.Series`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from texture import colour, gabor, glcm, lbp, lpq
from texture.io import StoredImage, check_min_size, open_image, read_image
from texture.masks import named_file, read_mask
from texture.errors import ConfigError, FlatChromaWarning, MaskError

__all__ = ["DEFAULT_FAMILIES", "FAMILIES", "REGISTRY", "Family", "FeatureConfig", "FeatureExtractor", "extract_features"]


@dataclass(frozen=True)
class Family:
    """A feature family as the extractor sees it: five functions of a :class:`FeatureConfig`.

    A family's configuration fields are the :class:`FeatureConfig` fields
    named after it (``glcm_levels``, ``lbp_scales``, ...).  Adding a family
    means adding its fields to :class:`FeatureConfig` and its entry to
    :data:`REGISTRY`; the order of :data:`REGISTRY` is the order of the
    feature vector.

    Attributes
    ----------
    check : callable ``(config) -> None``
        Raise ConfigError naming the first invalid field of the family.
    names : callable ``(config) -> list of str``
        Names of the family's values, each starting with ``name + "_"``.
    vector : callable ``(image, config, inside=None) -> 1-D ndarray of float64``
        The values for a working grey image (:func:`texture.read_image`'s
        output) at least ``min_size(config)`` pixels on each side, or for
        the pixels of its region ``inside`` (bool, the image's shape) that
        passed ``check_mask``.
    min_size : callable ``(config) -> int``
        Smallest image side the family accepts.
    check_mask : callable ``(inside, config, path) -> None``
        Raise MaskError, naming ``path``, for a region too small or thin
        for the family.
    responses : callable ``(image, config, origin=0) -> iterable of (M, N) arrays``
        The family's per-pixel responses of a working grey image, of which
        every value is a statistic over a region's pixels (the whole image,
        a mask, a window of :func:`texture.feature_map`): the quantized grey
        levels (GLCM, :func:`texture.glcm.quantize`), the codes of every
        scale (:func:`texture.lbp.lbp_responses`), the magnitude of every
        filter (:func:`texture.gabor.gabor_magnitudes`).  ``origin`` is the
        image row at which ``image`` starts when it is a band of rows.
        None for a family whose per-pixel values depend on statistics of
        the whole image (``"clbp"``'s thresholds): feature maps refuse it.
    reach : callable ``(config) -> int``, or None with ``responses``
        Rows and columns around a pixel that its responses read: a band of
        rows with this many rows of context on each side has the whole
        image's responses.
    periodic : bool
        Whether the responses wrap around the image's borders (Gabor), or
        read nothing beyond them.
    """

    check: Callable
    names: Callable
    vector: Callable
    min_size: Callable
    check_mask: Callable
    responses: Callable
    reach: Callable
    periodic: bool


def _glcm_min_size(c):
    # One pixel pair at the longest offset.
    return glcm.glcm_reach(c.glcm_distances, c.glcm_angles) + 1


def _circle_min_size(scales):
    # The whole circle of the largest radius around one pixel.
    return 2 * math.ceil(max(R for _, R in scales)) + 1


#: Every feature family by name, in the order of the feature vector.
REGISTRY = {
    "glcm": Family(
        check=lambda c: glcm.check_glcm_params(c.glcm_levels, c.glcm_distances, c.glcm_angles, c.glcm_aggregate),
        names=lambda c: glcm.glcm_feature_names(c.glcm_distances, c.glcm_angles, c.glcm_aggregate),
        vector=lambda image, c, inside=None: glcm.glcm_feature_vector(
            image, c.glcm_distances, c.glcm_angles, c.glcm_levels, c.glcm_aggregate, inside
        ),
        min_size=_glcm_min_size,
        check_mask=lambda inside, c, path: glcm.check_mask(inside, c.glcm_distances, c.glcm_angles, path),
        responses=lambda image, c, origin=0: (glcm.quantize(image, c.glcm_levels),),
        reach=lambda c: glcm.glcm_reach(c.glcm_distances, c.glcm_angles),
        periodic=False,
    ),
    "lbp": Family(
        check=lambda c: lbp.check_lbp_params(c.lbp_scales, c.lbp_method),
        names=lambda c: lbp.lbp_feature_names(c.lbp_scales, c.lbp_method),
        vector=lambda image, c, inside=None: lbp.lbp_feature_vector(image, c.lbp_scales, c.lbp_method, inside),
        min_size=lambda c: _circle_min_size(c.lbp_scales),
        check_mask=lambda inside, c, path: lbp.check_mask(inside, c.lbp_scales, path),
        responses=lambda image, c, origin=0: lbp.lbp_responses(image, c.lbp_scales, c.lbp_method, origin),
        reach=lambda c: lbp.lbp_reach(c.lbp_scales),
        periodic=False,
    ),
    "gabor": Family(
        check=lambda c: gabor.check_gabor_params(
            c.gabor_frequencies, c.gabor_orientations, c.gabor_bandwidth, c.gabor_aggregate
        ),
        names=lambda c: gabor.gabor_feature_names(c.gabor_frequencies, c.gabor_orientations, c.gabor_aggregate),
        vector=lambda image, c, inside=None: gabor.gabor_feature_vector(
            image, c.gabor_frequencies, c.gabor_orientations, c.gabor_bandwidth, c.gabor_aggregate, inside
        ),
        min_size=lambda c: 1,  # periodic responses: any size
        check_mask=lambda inside, c, path: None,  # a response at every pixel: any non-empty region
        responses=lambda image, c, origin=0: gabor.gabor_magnitudes(
            image, c.gabor_frequencies, c.gabor_orientations, c.gabor_bandwidth
        ),
        reach=lambda c: gabor.gabor_reach(tuple(c.gabor_frequencies), c.gabor_orientations, c.gabor_bandwidth),
        periodic=True,
    ),
    "glcmhalf": Family(
        check=lambda c: None,  # the "glcm" family's fields, checked there
        names=lambda c: glcm.glcm_half_feature_names(c.glcm_distances, c.glcm_angles, c.glcm_aggregate),
        vector=lambda image, c, inside=None: glcm.glcm_half_feature_vector(
            image, c.glcm_distances, c.glcm_angles, c.glcm_levels, c.glcm_aggregate, inside
        ),
        # One pair of whole blocks at the longest offset.
        min_size=lambda c: 2 * glcm.glcm_reach(c.glcm_distances, c.glcm_angles) + 2,
        check_mask=lambda inside, c, path: glcm.check_half_scale_mask(inside, c.glcm_distances, c.glcm_angles, path),
        responses=lambda image, c, origin=0: (glcm.glcm_half_levels(image, c.glcm_levels),),
        reach=lambda c: 2 * glcm.glcm_reach(c.glcm_distances, c.glcm_angles) + 1,
        periodic=False,
    ),
    "lbpvar": Family(
        check=lambda c: lbp.check_lbp_params(c.lbpvar_scales, "uniform", field="lbpvar_scales"),
        names=lambda c: lbp.lbp_var_feature_names(c.lbpvar_scales),
        vector=lambda image, c, inside=None: lbp.lbp_var_feature_vector(image, c.lbpvar_scales, inside),
        min_size=lambda c: _circle_min_size(c.lbpvar_scales),
        check_mask=lambda inside, c, path: lbp.check_mask(inside, c.lbpvar_scales, path),
        responses=lambda image, c, origin=0: lbp.lbp_var_responses(image, c.lbpvar_scales, origin),
        reach=lambda c: lbp.lbp_reach(c.lbpvar_scales),
        periodic=False,
    ),
    "clbp": Family(
        check=lambda c: lbp.check_lbp_params(c.clbp_scales, "uniform", field="clbp_scales"),
        names=lambda c: lbp.clbp_feature_names(c.clbp_scales),
        vector=lambda image, c, inside=None: lbp.clbp_feature_vector(image, c.clbp_scales, inside),
        min_size=lambda c: _circle_min_size(c.clbp_scales),
        check_mask=lambda inside, c, path: lbp.check_mask(inside, c.clbp_scales, path),
        responses=None,  # thresholds are means over the whole image: no window of a map has its own
        reach=None,
        periodic=False,
    ),
    "lpq": Family(
        check=lambda c: lpq.check_lpq_params(c.lpq_window),
        names=lambda c: lpq.lpq_feature_names(c.lpq_window),
        vector=lambda image, c, inside=None: lpq.lpq_feature_vector(image, c.lpq_window, inside),
        min_size=lambda c: c.lpq_window,  # one whole window
        check_mask=lambda inside, c, path: lpq.check_mask(inside, c.lpq_window, path),
        responses=lambda image, c, origin=0: (lpq.lpq_codes(image, c.lpq_window),),
        reach=lambda c: lpq.lpq_reach(c.lpq_window),
        periodic=False,
    ),
    "lpqr": Family(
        check=lambda c: lpq.check_lpq_params(c.lpq_window),
        names=lambda c: lpq.lpqr_feature_names(c.lpq_window),
        vector=lambda image, c, inside=None: lpq.lpqr_feature_vector(image, c.lpq_window, inside),
        min_size=lambda c: c.lpq_window,
        check_mask=lambda inside, c, path: lpq.check_mask(inside, c.lpq_window, path),
        responses=lambda image, c, origin=0: (lpq.lpqr_codes(image, c.lpq_window),),
        reach=lambda c: lpq.lpq_reach(c.lpq_window),
        periodic=False,
    ),
}
#: Every family's name, in the order of :data:`REGISTRY`.
FAMILIES = tuple(REGISTRY)
#: The families of the default :class:`FeatureConfig`.
DEFAULT_FAMILIES = ("glcm", "lbp", "gabor", "lpqr")


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature families to compute, and their parameters.

    Parameters
    ----------
    families : tuple of str
        Distinct names among ``("glcm", "lbp", "gabor", "glcmhalf",
        "lbpvar", "clbp", "lpq", "lpqr")``
        (:data:`FAMILIES`), computed in the order given; by default
        ``("glcm", "lbp", "gabor", "lpqr")`` (:data:`DEFAULT_FAMILIES`;
        ``"lpqr"`` since the seventh round of issue 17, chosen by nested
        validation as the others).
    glcm_levels : int
        Grey levels of the co-occurrence matrices, 8 to 256.
    glcm_distances : tuple of int
        Pixel distances of the co-occurrence matrices.
    glcm_angles : tuple of float
        Angles in degrees, in [0, 180).
    glcm_aggregate : {"mean_range", "none"}
        Mean and range over the angles per distance, or every angle.  The
        four ``glcm_*`` fields also configure ``"glcmhalf"``, the same
        features of the half-scale image (distances in half-resolution
        pixels, see :func:`texture.glcm.glcm_half_features`).
    lbp_scales : tuple of (int, float)
        ``(P, R)`` neighbour counts and radii.
    lbp_method : {"uniform", "nri_uniform", "ror", "default"}
        LBP code (see :func:`texture.lbp.lbp_codes`).
    gabor_frequencies : tuple of float
        Filter frequencies in cycles per pixel, in (0, 0.5].
    gabor_orientations : int
        Orientations per frequency, evenly spread over 180 degrees.
    gabor_bandwidth : float
        Filter bandwidth in octaves.
    gabor_aggregate : {"none", "rotation"}
        Statistics per filter, or their average and range over orientations.
    lbpvar_scales : tuple of (int, float)
        ``(P, R)`` of the VAR histograms (``"lbpvar"``: the local variance
        of the same circle of neighbours as LBP, quantized on a fixed scale,
        see :func:`texture.lbp.lbp_var_features`).
    clbp_scales : tuple of (int, float)
        ``(P, R)`` of the completed LBP's joint magnitude and centre
        histograms (``"clbp"``, :func:`texture.lbp.clbp_feature_vector`;
        not available in feature maps).
    lpq_window : int
        Odd side, at least 3, of the neighbourhood whose local Fourier phase
        gives each pixel's LPQ code (``"lpq"``: the normalized histogram of
        the 256 codes, :func:`texture.lpq.lpq_feature_vector`; decorrelated
        with ``rho = 0.9``, as its authors do; ``"lpqr"``: the histogram of
        the undecorrelated codes' 64 orbits under the right-angle
        rotations, :func:`texture.lpq.lpqr_feature_vector`).
    colour : {"grey", "opponent"}
        ``"grey"``: the families run on the luminance.  ``"opponent"``: they
        also run on the two opponent-colour channels ``o1`` and ``o2``
        (:mod:`texture.colour` defines them, and how each family sees them),
        followed by the mean and standard deviation of each; the grey
        features come first, with the same names and values, so a colour
        vector is the grey vector plus more columns.

    Raises
    ------
    ConfigError
        Naming the first invalid field.

    Examples
    --------
    >>> config = FeatureConfig(families=("glcm", "lbp"), glcm_levels=16)
    >>> FeatureConfig.from_dict(config.to_dict()) == config
    True
    >>> config.min_image_size
    7
    """

    families: tuple = DEFAULT_FAMILIES
    glcm_levels: int = 32
    glcm_distances: tuple = (1, 2, 4)
    glcm_angles: tuple = (0, 45, 90, 135)
    glcm_aggregate: str = "mean_range"
    lbp_scales: tuple = ((8, 1), (16, 2), (24, 3))
    lbp_method: str = "uniform"
    gabor_frequencies: tuple = gabor.DEFAULT_FREQUENCIES
    gabor_orientations: int = 6
    gabor_bandwidth: float = 1.0
    gabor_aggregate: str = "none"
    lbpvar_scales: tuple = ((8, 1), (16, 2), (24, 3))
    clbp_scales: tuple = ((8, 1), (16, 2), (24, 3))
    lpq_window: int = 7
    colour: str = "grey"

    def __post_init__(self):
        # Lists (from JSON) become tuples, so that configs hash and compare equal.
        for field in dataclasses.fields(self):
            if isinstance(field.default, tuple):
                value = getattr(self, field.name)
                if isinstance(value, str) or not np.iterable(value):
                    raise ConfigError(f"{field.name} must be a sequence, got {value!r}")
                object.__setattr__(self, field.name, _frozen(value))
        unknown = [f for f in self.families if f not in REGISTRY]
        if unknown or not self.families or len(set(self.families)) != len(self.families):
            raise ConfigError(f"families must be distinct names among {FAMILIES}, got {self.families!r}")
        # Every family's fields, enabled or not: a config is valid as a whole.
        for family in REGISTRY.values():
            family.check(self)
        if self.colour not in colour.COLOUR_MODES:
            raise ConfigError(f"colour must be one of {colour.COLOUR_MODES}, got {self.colour!r}")

    @property
    def reads_colour(self):
        """Whether images are read with their colour planes (``read_image(..., colour=True)``)."""
        return self.colour != "grey"

    @property
    def min_image_size(self):
        """Smallest image side the enabled families accept; in colour, twice that (the chroma
        channels have half the resolution, see :mod:`texture.colour`)."""
        size = max(REGISTRY[family].min_size(self) for family in self.families)
        return 2 * size if self.reads_colour else size

    def to_dict(self):
        """JSON-ready dict (lists instead of tuples); :meth:`from_dict` inverts it."""
        return {
            field.name: _to_json(getattr(self, field.name)) for field in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data):
        """Build a config from :meth:`to_dict`'s output; missing fields take their defaults.

        Raises
        ------
        ConfigError
            On unknown fields or invalid values.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"a feature config must be a dict, got {type(data).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown feature config fields: {', '.join(unknown)}")
        return cls(**data)


def _frozen(value):
    """Nested sequences as nested tuples (``lbp_scales`` holds pairs)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_frozen(v) for v in value)
    return value


def _to_json(value):
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


class FeatureExtractor:
    """Turn working images into feature vectors of a fixed layout.

    Parameters
    ----------
    config : FeatureConfig, optional
        Defaults to ``FeatureConfig()``.

    Attributes
    ----------
    config : FeatureConfig
    names : list of str
        Name of every value of :meth:`transform`'s output, in order: the
        grey families' in the order of ``config.families`` (by default
        ``glcm_*``, ``lbp_*``, ``gabor_*``, ``lpqr_*``; the optional
        ``glcmhalf_*``, ``lbpvar_*``, ``clbp_*``, ``lpq_*`` where they are given), then with
        ``colour="opponent"`` the same families on ``o1`` (``o1_glcm_*`` ...)
        and on ``o2``, then ``o1_mean, o1_std, o2_mean, o2_std``.

    Notes
    -----
    The costly part that depends only on the configuration, the Gabor kernel
    spectra per image shape, is cached (see
    :func:`texture.gabor.gabor_spectra`), so a batch of equal-size images
    pays for one forward FFT and one inverse FFT per filter and image.  The
    chroma features of a grey image, the same for every grey image (see
    :mod:`texture.colour`, "Flat chroma"), are computed once.

    Examples
    --------
    >>> from skimage.data import brick
    >>> extractor = FeatureExtractor()
    >>> vector = extractor.transform(brick() / 255.0)
    >>> vector.shape == (len(extractor.names),)
    True
    """

    def __init__(self, config=None):
        self.config = FeatureConfig() if config is None else config
        if not isinstance(self.config, FeatureConfig):
            raise ConfigError(f"config must be a FeatureConfig, got {type(self.config).__name__}")
        self.names = [name for family in self.config.families for name in REGISTRY[family].names(self.config)]
        if self.config.reads_colour:
            chroma = [f"{channel}_{name}" for channel in colour.CHROMA_CHANNELS for name in self.names]
            self.names = self.names + chroma + colour.colour_statistic_names()
        self._flat_chroma = None

    def transform(self, image, path=None, mask=None, max_pixels=None):
        """Feature vector of one image, or of the pixels inside a mask.

        Parameters
        ----------
        image : str, os.PathLike, array_like or StoredImage
            Working image in [0, 1] (:func:`texture.read_image`'s output,
            read with ``colour=True`` for ``config.colour="opponent"``), or
            anything :func:`texture.read_image` accepts (an image file, an
            array), or an image opened with :func:`texture.io.open_image`.
        path : str, optional
            File the image came from, named in error messages.
        mask : array_like or path, optional
            Region of interest (see :func:`extract_features`).
        max_pixels : int, optional
            Largest image read from a file or array, as in
            :func:`texture.read_image`.

        Returns
        -------
        vector : (len(names),) ndarray of float64

        Raises
        ------
        ImageTooSmallError
            If a side is below ``config.min_image_size``.
        MaskError
            A mask that cannot be read, does not fit the image, is empty or
            too thin for the enabled families (in colour, also at the half
            resolution of the chroma channels).

        Warns
        -----
        FlatChromaWarning
            A grey image (2-D, or R = G = B) given to a colour extractor,
            naming `path`: its chroma features are the constant ones of flat
            chroma.  Python shows it once per file (its default filter); a
            batch run says it once per run, counting the files.

        Notes
        -----
        In colour, the image is kept as stored (:func:`texture.io.open_image`:
        3 bytes per pixel for 8-bit RGB) and never made a whole working
        colour image (24): the chroma channels are made band by band, in
        float32, and their features computed one channel at a time; then
        the grey image is made, and the stored pixels dropped (when this
        method read them) before the grey features are computed.  Given a
        file, a colour extraction peaks near the grey one's bytes per pixel.
        """
        if not self.config.reads_colour:
            # Validates; a working image passes through without a copy.
            image = image.grey() if isinstance(image, StoredImage) else read_image(image, max_pixels=max_pixels)
            check_min_size(image, self.config.min_image_size, path=path)
            inside = None if mask is None else self._region(read_mask(mask, image.shape[:2], path), mask, path)
            return self._families(image, inside)
        stored = image if isinstance(image, StoredImage) else open_image(image, max_pixels=max_pixels)
        del image  # only `stored` holds what this method read
        check_min_size(stored, self.config.min_image_size, path=path)
        inside = None if mask is None else self._region(read_mask(mask, stored.shape, path), mask, path)
        chroma = colour.stored_chroma_channels(stored) if stored.has_colour else None
        if chroma is None or not chroma.any():
            warnings.warn(FlatChromaWarning(path), stacklevel=2)
            chroma_features = self._flat_chroma_features()
        else:
            half = None
            if inside is not None:
                try:
                    half = self._region(colour.half_resolution_mask(inside), mask, path)
                except MaskError as error:
                    raise MaskError(f"at the half resolution of the colour channels: {error.message}",
                                    error.path) from None
            chroma_features = self._chroma_features(chroma, half)
        del chroma
        grey = stored.grey()
        del stored
        return np.concatenate([self._families(grey, inside), chroma_features])

    def _chroma_features(self, chroma, inside):
        """The enabled families on each chroma channel, one channel at a time in float64, then their statistics."""
        parts, statistics = [], []
        for channel in chroma:
            channel = channel.astype(np.float64)  # exact (see texture.colour.stored_chroma_channels)
            parts.append(self._families(channel, inside, colour.chroma_view))
            statistics.append(colour.colour_statistics((channel,), inside))
        return np.concatenate(parts + statistics)

    def _region(self, inside, mask, path):
        """`inside`, once every enabled family has checked it; errors name the mask's file, else the image's."""
        named = named_file(mask, path)
        for family in self.config.families:
            REGISTRY[family].check_mask(inside, self.config, named)
        return inside

    def _families(self, channel, inside=None, view=None):
        """The enabled families on one 2-D channel, over the `inside` pixels (all when None).

        ``view(family, channel)`` is what each family is given (for a chroma
        channel, :func:`texture.colour.chroma_view`); the channel itself when None.
        """
        c = self.config
        return np.concatenate([
            REGISTRY[family].vector(channel if view is None else view(family, channel), c, inside)
            for family in c.families
        ])

    def has_flat_chroma(self, vector) -> bool:
        """Whether `vector` (of :meth:`transform`) holds the chroma features of a grey image.

        Without a mask that is exactly when the image was grey: a chroma
        channel that is not zero everywhere has a mean or a standard
        deviation other than 0.  (With one, when the region is grey.)  Always
        False in grey mode.
        """
        if not self.config.reads_colour:
            return False
        flat = self._flat_chroma_features()
        return bool(np.array_equal(np.asarray(vector)[len(self.names) - len(flat):], flat))

    def _flat_chroma_features(self):
        """Chroma features (both channels and their statistics) of a grey image, computed once.

        They do not depend on the image size (:mod:`texture.colour`, "Flat
        chroma"), so a zero channel of the smallest accepted size gives them.
        """
        if self._flat_chroma is None:
            side = self.config.min_image_size // 2
            block = self._families(np.zeros((side, side)), view=colour.chroma_view)
            self._flat_chroma = np.concatenate(
                [np.tile(block, len(colour.CHROMA_CHANNELS)), np.zeros(len(colour.colour_statistic_names()))]
            )
        return self._flat_chroma


def extract_features(image, config=None, mask=None):
    """Named texture features of one image, or of a region of interest in it.

    A mask restricts every family's statistics to the pixels inside it,
    each computed on the whole image's per-pixel responses:

    * GLCM: a pixel pair counts only when both pixels are inside; grey
      levels are quantized over the fixed range [0, 1], as without a mask;
    * LBP: the histograms count the codes of the inside pixels, whose
      neighbours may lie outside the mask;
    * Gabor: the mean and standard deviation of the response magnitudes at
      the inside pixels, the responses being those of the whole image.
    * LPQ (``lpqr`` by default; ``lpq`` optional): the histogram of the
      inside pixels' codes (or their rotation orbits), each read from its
      whole-image window, like LBP.

    A mask covering the whole image gives exactly the unmasked features.

    Parameters
    ----------
    image : str, os.PathLike or array_like
        Image file or array (grey, RGB(A), integer or float in [0, 1]); see
        :func:`texture.read_image`.
    config : FeatureConfig, optional
        Defaults to ``FeatureConfig()``.
    mask : str, os.PathLike or array_like, optional
        Region of interest: a boolean array of the image's shape, or
        anything :func:`texture.read_image` reads (a mask file, a numeric
        array), non-zero inside (see :func:`texture.masks.read_mask`).

    Returns
    -------
    features : pandas.Series
        float64 values indexed by :attr:`FeatureExtractor.names`: by default
        ``glcm_*``, then ``lbp_*``, ``gabor_*`` and ``lpqr_*`` (each family of
        ``config.families`` in its order; then the chroma channels' and the
        colour statistics with ``config.colour="opponent"``).

    Raises
    ------
    TextureError
        The subclasses raised by :func:`texture.read_image`,
        ImageTooSmallError for an image below ``config.min_image_size``, and
        MaskError, naming the mask file (else the image file), for a mask
        that cannot be read, has another shape than the image, is empty, or
        is too small or thin for the largest GLCM offset or LBP radius.

    Examples
    --------
    >>> from skimage.data import brick
    >>> features = extract_features(brick())
    >>> features.index[0]
    'glcm_contrast_d1_mean'
    """
    # Imported here: pandas takes a third of a second to import, and batch
    # runs, which call FeatureExtractor.transform, never build a Series.
    import pandas as pd

    extractor = FeatureExtractor(config)
    path = None if isinstance(image, np.ndarray) else image
    # The extractor reads the image itself: in colour, it then drops the stored pixels early.
    return pd.Series(extractor.transform(image, path=path, mask=mask), index=extractor.names)
