"""Training copies: rescaled, blurred and noisy (pipeline/augment.py)."""

import numpy as np
import pytest
from skimage.filters import gaussian
from skimage.transform import rescale

from pipeline.augment import (BLUR_SIGMA, CROP_FRACTION, N_CROPS, N_TRAINING_COPIES, NOISE_SNR_DB, SCALE_FACTORS,
                              add_noise, copy_features, cropped_copies, mask_copies, rescaled_copies, training_copies)
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


def test_training_copies_are_the_rescaled_ones_then_a_gaussian_blur_then_noise_then_crops(brick):
    copies = training_copies(brick)
    assert len(copies) == len(SCALE_FACTORS) + 2 + N_CROPS == N_TRAINING_COPIES
    for copy, expected in zip(copies, rescaled_copies(brick)):
        np.testing.assert_array_equal(copy, expected)
    for copy, expected in zip(copies[-N_CROPS:], cropped_copies(brick)):
        np.testing.assert_array_equal(copy, expected)
    blurred, noisy = copies[len(SCALE_FACTORS):len(SCALE_FACTORS) + 2]
    np.testing.assert_allclose(blurred, gaussian(brick, BLUR_SIGMA))
    assert blurred.shape == noisy.shape == brick.shape
    # Blurring removes fine detail.
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(brick, axis=1)).mean()
    # The noise has the variance its signal-to-noise ratio says (clipping at 0 and 1 trims a little).
    ratio = (noisy - brick).var() / brick.var()
    assert 0.8 * 10 ** (-NOISE_SNR_DB / 10) < ratio <= 1.05 * 10 ** (-NOISE_SNR_DB / 10)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0


def test_the_noisy_copy_depends_on_the_image_only(brick):
    first, again = training_copies(brick, (), None, crop_fraction=None)[0], training_copies(brick.copy(), (), None)[0]
    np.testing.assert_array_equal(first, again)
    other = training_copies(brick[::-1].copy(), (), None)[0][::-1]
    assert not np.array_equal(first - brick, other - brick)  # another image, another draw


@pytest.mark.parametrize("snr_db", [30.0, 10.0, 5.0])
def test_add_noise_has_the_variance_of_its_signal_to_noise_ratio(snr_db):
    image = np.linspace(0.3, 0.7, 200 * 200).reshape(200, 200)  # far from 0 and 1: nothing clipped
    noise = add_noise(image, snr_db, np.random.default_rng(1)) - image
    assert abs(noise.mean()) < 0.01 * noise.std()
    assert noise.var() / image.var() == pytest.approx(10 ** (-snr_db / 10), rel=0.02)


def test_training_copies_without_blur_nor_noise_nor_crops_are_the_rescaled_ones(brick):
    assert len(training_copies(brick, factors=(0.5,), blur_sigma=None, noise_snr_db=None, crop_fraction=None)) == 1


def test_crops_are_the_four_corners_at_the_fraction_of_the_side():
    image = np.random.default_rng(0).random((40, 30))
    crops = cropped_copies(image)
    assert CROP_FRACTION == 0.75 and len(crops) == N_CROPS == 4
    assert all(c.shape == (30, 22) and c.flags.c_contiguous for c in crops)  # round(0.75 * 30) = 22
    np.testing.assert_array_equal(crops[0], image[:30, :22])
    np.testing.assert_array_equal(crops[1], image[:30, 8:])
    np.testing.assert_array_equal(crops[2], image[10:, :22])
    np.testing.assert_array_equal(crops[3], image[10:, 8:])
    crops[0][0, 0] = -1.0  # copies, not views
    assert image[0, 0] >= 0.0
    # A colour image is cropped in its plane axes; a fraction of 1 gives the image four times.
    rgb = np.random.default_rng(1).random((20, 16, 3))
    assert [c.shape for c in cropped_copies(rgb)] == [(15, 12, 3)] * 4
    assert all(np.array_equal(c, image) for c in cropped_copies(image, 1.0))


def test_mask_copies_crop_the_mask_as_the_image():
    inside = np.zeros((40, 30), bool)
    inside[5:20, 3:25] = True
    masks = mask_copies(inside)
    assert len(masks) == N_TRAINING_COPIES
    for mask, crop in zip(masks[-N_CROPS:], cropped_copies(inside)):
        assert mask.dtype == bool
        np.testing.assert_array_equal(mask, crop)


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5, np.nan, "half"])
def test_training_copies_refuse_a_crop_fraction_outside_zero_one(fraction):
    with pytest.raises(ConfigError, match="crop_fraction"):
        training_copies(np.zeros((10, 10)), crop_fraction=fraction)


@pytest.mark.parametrize("snr_db", [np.nan, np.inf])
def test_training_copies_refuse_a_signal_to_noise_ratio_that_is_not_finite(snr_db):
    with pytest.raises(ConfigError):
        training_copies(np.zeros((10, 10)), noise_snr_db=snr_db)


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
    assert [copy.shape for copy in training_copies(rgb)] == [(35, 25, 3), (71, 51, 3), (50, 36, 3), (50, 36, 3)] \
        + [(38, 27, 3)] * N_CROPS
    # The noisy copy draws over all planes at once (one variance, one seed); the others plane by plane.
    copies = training_copies(rgb, noise_snr_db=None)
    for plane in range(3):
        for copy, grey_copy in zip(copies, training_copies(np.ascontiguousarray(rgb[..., plane]), noise_snr_db=None)):
            np.testing.assert_allclose(copy[..., plane], grey_copy, rtol=0, atol=1e-12)


# -- choosing the copies --------------------------------------------------------------


def _two_classes(n_per_class=12, seed=0):
    """Two classes told apart by feature 0; copies chosen by the test."""
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b"], n_per_class)
    X = rng.normal(size=(len(y), 3))
    X[:, 0] += np.where(y == "a", -3.0, 3.0)
    return X, y, rng


def _small_net():
    from pipeline import BPClassifier

    return BPClassifier((8,), activation="tanh", epochs=60, random_state=0)


def test_choose_copies_drops_copies_that_mislead():
    from pipeline.augment import COPY_CHOICES, choose_copies
    from pipeline.normalize import StandardScaler

    X, y, rng = _two_classes()
    # The rescaled and blurred copies of every image look like the other class; the noisy one and the crops
    # like their image.
    copies = _misleading_copies(X, rng)
    assert choose_copies(_small_net(), StandardScaler, X, y, copies) == COPY_CHOICES[1] \
        == tuple(range(len(SCALE_FACTORS) + 1, N_TRAINING_COPIES))


def _misleading_copies(X, rng):
    """Copies: the rescaled and blurred ones with feature 0 flipped, the noisy one and the crops near the image."""
    misleading = X * np.array([-1.0, 1.0, 1.0])
    return np.stack([misleading] * (len(SCALE_FACTORS) + 1)
                    + [X + 0.1 * rng.normal(size=X.shape) for _ in range(1 + N_CROPS)], axis=1)


def test_choose_copies_scores_each_third_held_out(monkeypatch):
    from pipeline import BPClassifier
    from pipeline.augment import choose_copies
    from pipeline.normalize import StandardScaler

    X, y, rng = _two_classes()
    fitted = []
    original = BPClassifier.fit

    def counting(self, X_fit, y_fit):
        fitted.append(len(X_fit))
        return original(self, X_fit, y_fit)

    monkeypatch.setattr(BPClassifier, "fit", counting)
    choose_copies(_small_net(), StandardScaler, X, y, _misleading_copies(X, rng))
    # Three thirds of 24 images held out in turn (8 each), each choice trained on the other 16 with its copies.
    assert fitted == [16 * (1 + N_TRAINING_COPIES), 16 * (1 + 1 + N_CROPS)] * 3


def test_choose_copies_keeps_every_copy_on_a_tie_and_leaves_the_estimator_untouched():
    from pipeline.augment import COPY_CHOICES, choose_copies
    from pipeline.normalize import StandardScaler

    X, y, _ = _two_classes()
    net = _small_net()
    # Copies equal to their image: both choices score the same on the held-out images.
    kept = choose_copies(net, StandardScaler, X, y, np.stack([X] * N_TRAINING_COPIES, axis=1))
    assert kept == COPY_CHOICES[0] == tuple(range(N_TRAINING_COPIES))
    assert not hasattr(net, "network_")


def test_choose_copies_judges_an_ensemble_by_one_of_its_networks(monkeypatch):
    from pipeline import NetworkEnsemble
    from pipeline.augment import COPY_CHOICES, choose_copies
    from pipeline.normalize import StandardScaler

    def refuse(self, X, y):
        raise AssertionError("choose_copies trained a whole ensemble")

    monkeypatch.setattr(NetworkEnsemble, "fit", refuse)
    X, y, rng = _two_classes()
    copies = _misleading_copies(X, rng)
    assert choose_copies(NetworkEnsemble(_small_net(), n_networks=5), StandardScaler, X, y, copies) == COPY_CHOICES[1]


def test_choose_copies_keeps_every_copy_when_a_class_is_too_small_to_hold_out():
    from pipeline.augment import choose_copies
    from pipeline.normalize import StandardScaler

    X, y, _ = _two_classes(n_per_class=2)
    misleading = np.stack([-X] * N_TRAINING_COPIES, axis=1)
    assert choose_copies(_small_net(), StandardScaler, X, y, misleading) == tuple(range(N_TRAINING_COPIES))


def test_choose_copies_refuses_other_copies_than_the_default_ones():
    from pipeline.augment import choose_copies
    from pipeline.normalize import StandardScaler

    X, y, _ = _two_classes()
    with pytest.raises(ConfigError, match="copies must have shape"):
        choose_copies(_small_net(), StandardScaler, X, y, np.stack([X] * 3, axis=1))
