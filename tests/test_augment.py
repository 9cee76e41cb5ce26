"""Training copies: rescaled and blurred (pipeline/augment.py)."""

import numpy as np
import pytest
from skimage.filters import gaussian
from skimage.transform import rescale

from pipeline.augment import (BLUR_SIGMA, N_TRAINING_COPIES, SCALE_FACTORS, copy_features, rescaled_copies,
                              training_copies)
from texture import ConfigError, FeatureConfig, FeatureExtractor, read_image
from pipeline.sample import sample_root


@pytest.fixture(scope="module")
def brick():
    return read_image(sample_root() / "textures" / "brick" / "brick_00.png")


def test_copies_have_the_scaled_shape_and_stay_in_range(brick):
    copies = rescaled_copies(brick, (0.5, 2**0.5, 2.0))
    assert [c.shape for c in copies] == [
        tuple(round(f * s) for s in brick.shape) for f in (0.5, 2**0.5, 2.0)
    ]
    for copy in copies:
        assert copy.dtype == np.float64 and copy.min() >= 0.0 and copy.max() <= 1.0


def test_default_factors_are_half_an_octave_each_way(brick):
    assert np.allclose(np.log2(SCALE_FACTORS), [-0.5, 0.5])
    assert len(rescaled_copies(brick)) == 2


def test_shrinking_is_anti_aliased_like_scikit_image(brick):
    shrunk, = rescaled_copies(brick, (0.5,))
    expected = rescale(brick, 0.5, order=1, anti_aliasing=True)
    np.testing.assert_allclose(shrunk, np.clip(expected, 0, 1))
    # Anti-aliasing smooths: plain subsampling keeps more high-frequency energy.
    assert np.abs(np.diff(shrunk, axis=1)).mean() < np.abs(np.diff(brick[::2, ::2], axis=1)).mean()


def test_a_constant_image_stays_constant():
    for copy in rescaled_copies(np.full((40, 30), 0.25)):
        np.testing.assert_allclose(copy, 0.25)


@pytest.mark.parametrize("factors", [(0.0,), (-1.0,), (np.nan,), ((1.0, 2.0),)])
def test_refuses_factors_that_are_not_positive_numbers(factors):
    with pytest.raises(ConfigError):
        rescaled_copies(np.zeros((10, 10)), factors)


def test_training_copies_are_the_rescaled_ones_then_a_gaussian_blur(brick):
    copies = training_copies(brick)
    assert len(copies) == len(SCALE_FACTORS) + 1 == N_TRAINING_COPIES
    for copy, expected in zip(copies, rescaled_copies(brick)):
        np.testing.assert_array_equal(copy, expected)
    np.testing.assert_allclose(copies[-1], gaussian(brick, BLUR_SIGMA))
    assert copies[-1].shape == brick.shape
    # Blurring removes fine detail.
    assert np.abs(np.diff(copies[-1], axis=1)).mean() < np.abs(np.diff(brick, axis=1)).mean()


def test_training_copies_without_blur_are_the_rescaled_ones(brick):
    assert len(training_copies(brick, factors=(0.5,), blur_sigma=None)) == 1


@pytest.mark.parametrize("sigma", [0.0, -1.0, np.nan])
def test_training_copies_refuse_a_blur_that_is_not_positive(sigma):
    with pytest.raises(ConfigError):
        training_copies(np.zeros((10, 10)), blur_sigma=sigma)


def test_copy_features_are_the_extractor_output_of_each_copy(brick):
    extractor = FeatureExtractor(FeatureConfig(families=("lbp",)))
    rows = copy_features(extractor, brick)
    expected = [extractor.transform(copy) for copy in training_copies(brick)]
    np.testing.assert_array_equal(rows, expected)


def test_colour_copies_alter_each_plane_as_a_grey_image():
    rng = np.random.default_rng(3)
    rgb = rng.random((50, 36, 3))
    copies = training_copies(rgb)
    assert [copy.shape for copy in copies] == [(35, 25, 3), (71, 51, 3), (50, 36, 3)]
    for plane in range(3):
        for copy, grey_copy in zip(copies, training_copies(np.ascontiguousarray(rgb[..., plane]))):
            np.testing.assert_allclose(copy[..., plane], grey_copy, rtol=0, atol=1e-12)
