"""Rescaled training copies (pipeline/augment.py)."""

import numpy as np
import pytest
from skimage.transform import rescale

from pipeline.augment import SCALE_FACTORS, rescaled_copies
from texture import ConfigError, read_image
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
