"""One configurable extractor: image -> named vector of GLCM, LBP and Gabor features.

:class:`FeatureConfig` says which families run and with which parameters,
on grey or also on colour; it round-trips through JSON so that a trained
model stores exactly how its features were made.  :class:`FeatureExtractor`
turns working images into 1-D float64 vectors in the stable order of its
:attr:`~FeatureExtractor.names`; :func:`extract_features` is the one-image
convenience returning a :class:`pandas.Series`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from texture import colour, gabor, glcm, lbp
from texture.io import check_min_size, luminance, read_image
from texture.masks import named_file, read_mask
from texture.errors import ConfigError, MaskError

__all__ = ["FAMILIES", "FeatureConfig", "FeatureExtractor", "extract_features"]

FAMILIES = ("glcm", "lbp", "gabor")


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature families to compute, and their parameters.

    Parameters
    ----------
    families : tuple of str
        Subset of ``("glcm", "lbp", "gabor")``, computed in that order.
    glcm_levels : int
        Grey levels of the co-occurrence matrices, 8 to 256.
    glcm_distances : tuple of int
        Pixel distances of the co-occurrence matrices.
    glcm_angles : tuple of float
        Angles in degrees, in [0, 180).
    glcm_aggregate : {"mean_range", "none"}
        Mean and range over the angles per distance, or every angle.
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

    families: tuple = FAMILIES
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
    colour: str = "grey"

    def __post_init__(self):
        # Lists (from JSON) become tuples, so that configs hash and compare equal.
        for field, value in [
            ("families", self.families),
            ("glcm_distances", self.glcm_distances),
            ("glcm_angles", self.glcm_angles),
            ("gabor_frequencies", self.gabor_frequencies),
        ]:
            if isinstance(value, str) or not np.iterable(value):
                raise ConfigError(f"{field} must be a sequence, got {value!r}")
            object.__setattr__(self, field, tuple(value))
        if isinstance(self.lbp_scales, str) or not np.iterable(self.lbp_scales) or not all(
            np.iterable(s) and len(s) == 2 for s in self.lbp_scales
        ):
            raise ConfigError(f"lbp_scales must be a sequence of (P, R) pairs, got {self.lbp_scales!r}")
        object.__setattr__(self, "lbp_scales", tuple((s[0], s[1]) for s in self.lbp_scales))
        self._validate()

    def _validate(self):
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families or len(set(self.families)) != len(self.families):
            raise ConfigError(f"families must be distinct names among {FAMILIES}, got {self.families!r}")
        glcm._check_levels(self.glcm_levels)
        if not self.glcm_distances or not all(_is_int(d) and d >= 1 for d in self.glcm_distances):
            raise ConfigError(f"glcm_distances must be positive integers, got {self.glcm_distances!r}")
        if not self.glcm_angles or not all(_is_real(a) and 0 <= a < 180 for a in self.glcm_angles):
            raise ConfigError(f"glcm_angles must be degrees in [0, 180), got {self.glcm_angles!r}")
        if self.glcm_aggregate not in glcm.AGGREGATES:
            raise ConfigError(f"glcm_aggregate must be one of {glcm.AGGREGATES}, got {self.glcm_aggregate!r}")
        if not self.lbp_scales:
            raise ConfigError("lbp_scales must not be empty")
        # The family modules validate their own parameters; name the config field.
        with _field("lbp_scales"):
            for P, R in self.lbp_scales:
                lbp._check_scale(P, R)
        with _field("lbp_method"):
            for P, _ in self.lbp_scales:
                lbp.lbp_n_bins(P, self.lbp_method)
        if self.colour not in colour.COLOUR_MODES:
            raise ConfigError(f"colour must be one of {colour.COLOUR_MODES}, got {self.colour!r}")
        with _field("gabor_frequencies"):
            gabor._check_bank(self.gabor_frequencies, self.gabor_orientations, self.gabor_bandwidth,
                              self.gabor_aggregate)
        # Repeated values would repeat feature names.
        for field in ("glcm_distances", "glcm_angles", "lbp_scales", "gabor_frequencies"):
            values = getattr(self, field)
            if len(set(values)) != len(values):
                raise ConfigError(f"{field} must not repeat values, got {values!r}")

    @property
    def reads_colour(self):
        """Whether images are read with their colour planes (``read_image(..., colour=True)``)."""
        return self.colour != "grey"

    @property
    def min_image_size(self):
        """Smallest image side the enabled families accept.

        GLCM needs one pixel pair at its longest offset, LBP the whole circle
        of its largest radius around a pixel; Gabor responses are periodic
        and accept any size.  In colour, twice that: the chroma channels
        have half the resolution (:mod:`texture.colour`).
        """
        sizes = [1]
        if "glcm" in self.families:
            sizes.append(int(np.abs(glcm.glcm_offsets(self.glcm_distances, self.glcm_angles)).max()) + 1)
        if "lbp" in self.families:
            sizes.append(2 * math.ceil(max(R for _, R in self.lbp_scales)) + 1)
        return max(sizes) * (2 if self.reads_colour else 1)

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


@contextlib.contextmanager
def _field(name):
    """Prefix a ConfigError raised inside with the config field it is about, unless it names a field."""
    try:
        yield
    except ConfigError as error:
        if error.message.split(" ")[0] in {f.name for f in dataclasses.fields(FeatureConfig)}:
            raise
        raise ConfigError(f"{name}: {error.message}") from None


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)


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
        grey families' (``glcm_*``, ``lbp_*``, ``gabor_*``), then with
        ``colour="opponent"`` the same families on ``o1`` (``o1_glcm_*`` ...)
        and on ``o2``, then ``o1_mean, o1_std, o2_mean, o2_std``.

    Notes
    -----
    Everything that depends only on the configuration is computed once: the
    GLCM offsets here, the Gabor kernel spectra per image shape (cached by
    :func:`texture.gabor.gabor_spectra`), so a batch of equal-size images
    pays for one forward FFT and one inverse FFT per filter and image.  The
    chroma features of a grey image, the same for every grey image (see
    :mod:`texture.colour`, "Flat chroma"), are computed once too.

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
        c = self.config
        self._glcm_offsets = glcm.glcm_offsets(c.glcm_distances, c.glcm_angles)
        names = {
            "glcm": glcm.glcm_feature_names(c.glcm_distances, c.glcm_angles, c.glcm_aggregate),
            "lbp": lbp.lbp_feature_names(c.lbp_scales, c.lbp_method),
            "gabor": gabor.gabor_feature_names(c.gabor_frequencies, c.gabor_orientations, c.gabor_aggregate),
        }
        self.names = [name for family in c.families for name in names[family]]
        if c.reads_colour:
            chroma = [f"{channel}_{name}" for channel in colour.CHROMA_CHANNELS for name in self.names]
            self.names = self.names + chroma + colour.colour_statistic_names()
        self._flat_chroma = None

    def transform(self, image, path=None, mask=None):
        """Feature vector of one image, or of the pixels inside a mask.

        Parameters
        ----------
        image : array_like
            Working image in [0, 1] (:func:`texture.read_image`'s output,
            read with ``colour=True`` for ``config.colour="opponent"``), or
            any array :func:`texture.read_image` accepts.
        path : str, optional
            File the image came from, named in error messages.
        mask : array_like or path, optional
            Region of interest (see :func:`extract_features`).

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
        UserWarning
            Once per process, the first time a grey image (2-D, or R = G =
            B) is given to a colour extractor: its chroma features are the
            constant ones of flat chroma.
        """
        # Validates; a working image passes through without a copy.
        image = read_image(image, colour=self.config.reads_colour)
        check_min_size(image, self.config.min_image_size, path=path)
        inside = None if mask is None else self._region(read_mask(mask, image.shape[:2], path), mask, path)
        if not self.config.reads_colour:
            return self._families(image, glcm._quantize, inside)
        if image.ndim == 2:
            grey, channels = image, None
        else:
            grey, channels = luminance(image), colour.opponent_channels(colour.half_resolution(image))
        parts = [self._families(grey, glcm._quantize, inside)]
        if channels is None or not channels.any():
            _warn_flat_chroma(path)
            parts.append(self._flat_chroma_features())
        else:
            half = None
            if inside is not None:
                try:
                    half = self._region(colour.half_resolution_mask(inside), mask, path)
                except MaskError as error:
                    raise MaskError(f"at the half resolution of the colour channels: {error.message}",
                                    error.path) from None
            parts += [self._families(channel, colour.quantize_chroma, half) for channel in channels]
            parts.append(colour.colour_statistics(channels, half))
        return np.concatenate(parts)

    def _region(self, inside, mask, path):
        """`inside`, once the enabled families have checked it is large enough; errors name the mask's file."""
        named = named_file(mask, path)
        if "glcm" in self.config.families:
            glcm.check_mask(inside, self.config.glcm_distances, self.config.glcm_angles, named)
        if "lbp" in self.config.families:
            lbp.check_mask(inside, self.config.lbp_scales, named)
        return inside

    def _families(self, channel, quantize, inside=None):
        """The enabled families on one 2-D channel, over the `inside` pixels (all when None);
        ``quantize(channel, levels)`` gives its GLCM levels."""
        c = self.config
        parts = []
        for family in c.families:
            if family == "glcm":
                q = quantize(channel, c.glcm_levels)
                parts.append(glcm.glcm_feature_vector(q, self._glcm_offsets, c.glcm_levels, c.glcm_aggregate, inside))
            elif family == "lbp":
                parts.append(lbp.lbp_feature_vector(channel, c.lbp_scales, c.lbp_method, inside))
            else:
                parts.append(
                    gabor.gabor_feature_vector(
                        channel, c.gabor_frequencies, c.gabor_orientations, c.gabor_bandwidth, c.gabor_aggregate,
                        inside,
                    )
                )
        return np.concatenate(parts)

    def _flat_chroma_features(self):
        """Chroma features (both channels and their statistics) of a grey image, computed once.

        They do not depend on the image size (:mod:`texture.colour`, "Flat
        chroma"), so a zero channel of the smallest accepted size gives them.
        """
        if self._flat_chroma is None:
            side = self.config.min_image_size // 2
            zero = np.zeros((side, side))
            block = self._families(zero, colour.quantize_chroma)
            self._flat_chroma = np.concatenate(
                [np.tile(block, len(colour.CHROMA_CHANNELS)), np.zeros(len(colour.colour_statistic_names()))]
            )
        return self._flat_chroma


_flat_chroma_warned = False


def _warn_flat_chroma(path):
    """Say once per process that grey images get constant chroma features in colour mode."""
    global _flat_chroma_warned
    if _flat_chroma_warned:
        return
    _flat_chroma_warned = True
    source = f"{path}: " if path is not None else ""
    warnings.warn(
        f"{source}grey image in colour mode (FeatureConfig(colour='opponent')): its chroma features "
        "are those of flat chroma, the same for every grey image (said once per process)",
        UserWarning,
        stacklevel=3,
    )


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
        float64 values indexed by :attr:`FeatureExtractor.names`: ``glcm_*``,
        then ``lbp_*``, then ``gabor_*`` (then the chroma channels' and the
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
    image = read_image(image, colour=extractor.config.reads_colour)
    return pd.Series(extractor.transform(image, path=path, mask=mask), index=extractor.names)
