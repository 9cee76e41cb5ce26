"""Property-based tests: every feature family and the extractor, on any image.

Any 2-D image of a supported dtype (uint8, uint16, float32/64 in [0, 1],
bool) and any size from the minimum the radii allow up to 1024 x 1024 gives
finite features of the documented length, the same on every call; below the
minimum, the extractor raises ImageTooSmallError.  The contents cover the
degenerate cases that break texture statistics (constant, binary,
saturated, a single odd pixel, denormal floats) as well as noise.

Hypothesis runs derandomized under the "ci" profile of ``conftest.py``:
the same examples on every run.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, note
from hypothesis import strategies as st

from texture import (
    FeatureConfig,
    FeatureExtractor,
    ImageTooSmallError,
    extract_features,
    gabor_features,
    glcm_features,
    lbp_features,
    read_image,
)
from texture.gabor import gabor_feature_names
from texture.glcm import glcm_feature_names
from texture.lbp import lbp_feature_names, lbp_n_bins

DTYPES = ("uint8", "uint16", "float32", "float64", "bool")
CONTENTS = ("noise", "constant", "binary", "saturated", "one_pixel", "gradient", "stripes", "denormal")
LARGEST = 1024
MAX_DRAWN_AREA = 160 * 160


def _make_image(content, dtype, shape, seed):
    """A `dtype` image of `shape` with the given `content`, deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    high = 1.0 if dtype.startswith("float") or dtype == "bool" else np.iinfo(dtype).max
    if content == "noise":
        unit = rng.random(shape)
    elif content == "constant":
        unit = np.full(shape, rng.choice([0.0, 1.0, rng.random()]))
    elif content == "binary":
        unit = (rng.random(shape) < rng.random()).astype(float)
    elif content == "saturated":  # clipped highlights: mostly white, some noise
        unit = np.minimum(rng.random(shape) * 4, 1.0)
    elif content == "one_pixel":
        unit = np.zeros(shape)
        unit[rng.integers(shape[0]), rng.integers(shape[1])] = 1.0
    elif content == "gradient":
        unit = np.add.outer(np.arange(shape[0]), np.arange(shape[1])) / (shape[0] + shape[1])
    elif content == "stripes":
        unit = (np.arange(shape[1]) // max(1, int(rng.integers(1, 5))) % 2 * np.ones((shape[0], 1)))
    else:  # "denormal": float values far below one grey level
        unit = rng.random(shape) * 1e-308
    if dtype == "bool":
        return unit >= 0.5
    if dtype.startswith("float"):
        return unit.astype(dtype)
    return np.round(unit * high).astype(dtype)


@st.composite
def images(draw, min_size=1, max_size=LARGEST):
    """Image arrays of any supported kind; oblong shapes are common.

    Either side can reach `max_size`, but the area stays below
    ``MAX_DRAWN_AREA`` to keep a hundred examples fast: full-size images
    come from explicit ``@example`` cases.
    """
    first = draw(st.one_of(st.integers(min_size, min_size + 60), st.integers(min_size, max_size)))
    second = draw(st.integers(min_size, max(min_size, min(max_size, MAX_DRAWN_AREA // first))))
    shape = draw(st.sampled_from([(first, second), (second, first)]))
    dtype = draw(st.sampled_from(DTYPES))
    content = draw(st.sampled_from(CONTENTS))
    seed = draw(st.integers(0, 2**32 - 1))
    image = _make_image(content, dtype, shape, seed)
    if draw(st.booleans()):
        image = np.asfortranarray(image)  # memory layout must not matter
    note(f"{content} {dtype} {shape} seed={seed}")
    return image


@st.composite
def lbp_settings(draw, max_size):
    """(method, scales); "ror" and "default" have 2**P bins, so P <= 12 for them."""
    method = draw(st.sampled_from(["uniform", "nri_uniform", "ror", "default"]))
    scales = [(4, 1), (8, 1), (12, 1.5), (8, 5)]
    if method in ("uniform", "nri_uniform"):
        scales += [(16, 2), (24, 3)]
    return method, draw(st.lists(st.sampled_from(scales), min_size=1, max_size=max_size, unique=True))


@st.composite
def configs(draw):
    """Valid feature configurations, small enough to keep each example fast."""
    families = draw(st.lists(st.sampled_from(("glcm", "lbp", "gabor", "lpqr")), min_size=1, max_size=4, unique=True))
    lbp_method, lbp_scales = draw(lbp_settings(max_size=3))
    return FeatureConfig(
        families=tuple(families),
        glcm_levels=draw(st.sampled_from([8, 16, 32, 64, 256])),
        glcm_distances=tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))),
        glcm_angles=tuple(draw(st.lists(st.sampled_from([0, 30, 45, 90, 135, 150]), min_size=1, max_size=4, unique=True))),
        glcm_aggregate=draw(st.sampled_from(["mean_range", "none"])),
        lbp_scales=tuple(lbp_scales),
        lbp_method=lbp_method,
        gabor_frequencies=tuple(draw(st.lists(st.sampled_from([0.05, 0.1, 0.25, 0.5]), min_size=1, max_size=2, unique=True))),
        gabor_orientations=draw(st.integers(1, 6)),
        gabor_bandwidth=draw(st.sampled_from([0.5, 1.0, 2.0])),
        gabor_aggregate=draw(st.sampled_from(["none", "rotation"])),
    )


def _assert_finite_vector(values, length):
    values = np.asarray(values)
    assert values.dtype == np.float64
    assert values.shape == (length,)
    bad = np.flatnonzero(~np.isfinite(values))
    assert bad.size == 0, f"non-finite values at {bad.tolist()}: {values[bad].tolist()}"


# The extractor, with the default configuration and with any configuration.

DEFAULT = FeatureExtractor()


@given(image=images(min_size=FeatureConfig().min_image_size))
@example(image=_make_image("noise", "uint16", (LARGEST, LARGEST), seed=1))
@example(image=_make_image("constant", "float32", (LARGEST, FeatureConfig().min_image_size), seed=2))
def test_default_extractor_gives_finite_features_of_the_documented_length(image):
    grey = read_image(image)
    vector = DEFAULT.transform(grey)
    _assert_finite_vector(vector, len(DEFAULT.names))
    if grey.size <= 256 * 256:  # deterministic (checked where it is cheap)
        np.testing.assert_array_equal(DEFAULT.transform(grey.copy()), vector)


@given(config=configs(), data=st.data())
def test_any_config_gives_finite_features_above_its_minimum(config, data):
    size = config.min_image_size
    image = data.draw(images(min_size=size, max_size=256))
    extractor = FeatureExtractor(config)
    _assert_finite_vector(extractor.transform(read_image(image)), len(extractor.names))


@given(config=configs(), data=st.data())
def test_any_config_refuses_images_below_its_minimum(config, data):
    size = config.min_image_size
    assume(size > 1)
    short = data.draw(st.integers(1, size - 1))
    long = data.draw(st.integers(1, 3 * size))
    shape = data.draw(st.sampled_from([(short, long), (long, short)]))
    with pytest.raises(ImageTooSmallError):
        FeatureExtractor(config).transform(np.zeros(shape))


@given(image=images(min_size=FeatureConfig().min_image_size, max_size=128))
def test_extract_features_is_named_and_finite(image):
    features = extract_features(image)
    assert list(features.index) == DEFAULT.names
    _assert_finite_vector(features.to_numpy(), len(DEFAULT.names))


# Each family on its own, with its own size minimum.

@given(
    distances=st.lists(st.integers(1, 8), min_size=1, max_size=3, unique=True),
    angles=st.lists(st.sampled_from([0, 45, 60, 90, 135]), min_size=1, max_size=4, unique=True),
    levels=st.sampled_from([8, 16, 32, 64, 128, 256]),
    aggregate=st.sampled_from(["mean_range", "none"]),
    data=st.data(),
)
def test_glcm_features_are_finite(distances, angles, levels, aggregate, data):
    # The longest offset must fit inside the image at least once.
    image = data.draw(images(min_size=max(distances) + 1))
    features = glcm_features(read_image(image), distances, angles, levels, aggregate)
    assert list(features.index) == glcm_feature_names(distances, angles, aggregate)
    _assert_finite_vector(features.to_numpy(), len(features.index))


@given(settings=lbp_settings(max_size=3), data=st.data())
def test_lbp_features_are_finite_histograms(settings, data):
    method, scales = settings
    radius = max(R for _, R in scales)
    image = data.draw(images(min_size=2 * math.ceil(radius) + 1))
    features = lbp_features(read_image(image), scales, method)
    assert list(features.index) == lbp_feature_names(scales, method)
    values = features.to_numpy()
    _assert_finite_vector(values, len(values))
    # Each scale is a histogram over every pixel: non-negative, summing to one.
    assert values.min() >= 0
    bins = np.cumsum([0] + [lbp_n_bins(P, method) for P, _ in scales])
    np.testing.assert_allclose(np.add.reduceat(values, bins[:-1]), 1.0, rtol=1e-12)


@given(
    frequencies=st.lists(st.sampled_from([0.02, 0.05, 0.1, 0.2, 0.4, 0.5]), min_size=1, max_size=3, unique=True),
    n_orientations=st.integers(1, 8),
    bandwidth=st.sampled_from([0.5, 1.0, 1.5, 3.0]),
    aggregate=st.sampled_from(["none", "rotation"]),
    data=st.data(),
)
def test_gabor_features_are_finite_and_non_negative(frequencies, n_orientations, bandwidth, aggregate, data):
    image = data.draw(images())  # periodic filtering: any size, even 1 x 1
    features = gabor_features(read_image(image), frequencies, n_orientations, bandwidth, aggregate)
    assert list(features.index) == gabor_feature_names(frequencies, n_orientations, aggregate)
    values = features.to_numpy()
    _assert_finite_vector(values, len(values))
    # Means and standard deviations of magnitudes (and their ranges) are >= 0.
    assert values.min() >= 0
