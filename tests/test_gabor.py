"""Gabor kernels and responses against scikit-image, scipy.ndimage and OpenCV spatial convolution."""

import cv2
import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi
from skimage.filters import gabor_kernel as skimage_gabor_kernel

import texture
from texture.gabor import gabor_bank, gabor_feature_names, gabor_kernel, gabor_responses

FREQUENCIES = (0.05, 0.1, 0.2, 0.4)


def scipy_response(image, kernel):
    """Direct periodic convolution with scipy (slow for the large kernels)."""
    return ndi.convolve(image, kernel.real, mode="wrap") + 1j * ndi.convolve(image, kernel.imag, mode="wrap")


def opencv_response(image, kernel, periodic=True):
    """Spatial convolution with OpenCV; periodic by wrapping the image around first."""
    half_r, half_c = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(image, ((half_r, half_r), (half_c, half_c)), mode="wrap") if periodic else image
    flipped = kernel[::-1, ::-1]  # filter2D correlates: flip the kernel to convolve
    out = cv2.filter2D(padded, -1, flipped.real.copy()) + 1j * cv2.filter2D(padded, -1, flipped.imag.copy())
    return out[half_r : out.shape[0] - half_r, half_c : out.shape[1] - half_c] if periodic else out


@pytest.mark.parametrize("frequency", FREQUENCIES + (0.13,))
@pytest.mark.parametrize("degrees", [0, 30, 45, 90, 150])
def test_kernel_equals_scikit_image(frequency, degrees):
    ours = gabor_kernel(frequency, np.deg2rad(degrees))
    theirs = skimage_gabor_kernel(frequency, np.deg2rad(degrees))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_responses_equal_periodic_spatial_convolution(texture_images):
    _, image = texture_images[0]
    image = image[:90, :110] / 255.0  # the 0.05 kernel (69 pixels) wraps around
    for k, (response, kernel) in enumerate(zip(gabor_responses(image), gabor_bank())):
        expected = opencv_response(image, kernel)
        np.testing.assert_allclose(response, expected, rtol=0, atol=1e-4 * np.abs(expected).max())
        if k >= 12:  # the small kernels: direct convolution by scipy too
            np.testing.assert_allclose(response, scipy_response(image, kernel), rtol=0,
                                       atol=1e-4 * np.abs(expected).max())


def test_responses_equal_opencv_filter2d_away_from_the_border(texture_images):
    _, image = texture_images[1]
    image = image / 255.0
    for response, kernel in zip(gabor_responses(image), gabor_bank()):
        expected = opencv_response(image, kernel, periodic=False)  # OpenCV's reflect-101 border
        half_r, half_c = kernel.shape[0] // 2, kernel.shape[1] // 2
        inside = (slice(half_r, -half_r), slice(half_c, -half_c))
        np.testing.assert_allclose(response[inside], expected[inside], rtol=0,
                                   atol=1e-4 * np.abs(expected[inside]).max())


def test_features_are_magnitude_mean_and_std(texture_images):
    _, image = texture_images[2]
    image = image[:96, :80] / 255.0
    features = texture.gabor_features(image)
    assert list(features.index) == gabor_feature_names()
    assert features.index[2] == "gabor_f0.05_t030_mean"
    for k, kernel in enumerate(gabor_bank()):
        magnitude = np.abs(opencv_response(image, kernel))
        np.testing.assert_allclose(features.iloc[2 * k : 2 * k + 2], [magnitude.mean(), magnitude.std()], rtol=1e-4)


def test_rotation_aggregate_is_invariant_to_a_quarter_turn(texture_images):
    # The kernel grid is square and the envelope isotropic, so a quarter turn
    # maps the 0..150 degree filters onto the same set.
    _, image = texture_images[0]
    image = image[:120, :120] / 255.0
    per_filter = texture.gabor_features(image).to_numpy().reshape(4, 6, 2)
    features = texture.gabor_features(image, aggregate="rotation")
    np.testing.assert_allclose(features.filter(like="_mean_avg"), per_filter[:, :, 0].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(features.filter(like="_std_range"), np.ptp(per_filter[:, :, 1], axis=1), rtol=1e-12)
    rotated = texture.gabor_features(np.rot90(image), aggregate="rotation")
    np.testing.assert_allclose(rotated, features, rtol=1e-4)


def test_flat_image_has_no_texture():
    features = texture.gabor_features(np.full((40, 50), 0.5))
    assert np.isfinite(features).all()
    # The 0.4 filter averages to ~0 on a constant; its magnitude std is ~0.
    assert features["gabor_f0.40_t000_std"] < 1e-6


def test_invalid_bank_raises_config_error():
    with pytest.raises(texture.ConfigError, match="frequency"):
        texture.gabor_features(np.zeros((16, 16)), frequencies=(0.6,))
    with pytest.raises(texture.ConfigError, match="gabor_orientations"):
        texture.gabor_features(np.zeros((16, 16)), n_orientations=0)
    with pytest.raises(texture.ConfigError, match="gabor_aggregate"):
        texture.gabor_features(np.zeros((16, 16)), aggregate="max")


def test_features_are_bit_identical_wherever_the_buffers_lie():
    # Reductions whose result depends on memory alignment or on thread
    # scheduling (OpenCV's multi-threaded sums) would make repeated calls
    # disagree in the last bits.
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (37, 41)) / 255.0
    expected = texture.gabor_features(image).to_numpy()
    held = []
    for k in range(32):
        held.append(np.empty(2000 + 24 * k, dtype=np.uint8))  # shifts where the next buffers start
        np.testing.assert_array_equal(texture.gabor_features(image.copy()).to_numpy(), expected)


@pytest.mark.parametrize("shape", [(64, 64), (37, 90), (15, 16), (5, 81)])
def test_kernel_spectra_equal_the_2d_transform_of_the_wrapped_kernel(shape):
    # The spectra come from the kernels' separable factors; kernels larger
    # than the image (the 0.05 one spans 69 pixels) wrap onto themselves.
    spectra = texture.gabor.gabor_spectra(shape)
    for spectrum, kernel in zip(spectra, gabor_bank()):
        wrapped = np.zeros(shape, dtype=complex)
        r = (np.arange(kernel.shape[0]) - kernel.shape[0] // 2) % shape[0]
        c = (np.arange(kernel.shape[1]) - kernel.shape[1] // 2) % shape[1]
        np.add.at(wrapped, (r[:, None], c[None, :]), kernel)
        expected = np.fft.fft2(wrapped)
        np.testing.assert_allclose(spectrum, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


def test_transform_length_avoids_slow_prime_factors_only():
    length = texture.gabor._transform_length
    assert length(200, 34) == 200 and length(196, 34) == 196  # 2^3 5^2 and 2^2 7^2: fast as they are
    assert length(283, 34) == 360  # a prime: wrapped around by 34 on each side, next 5-smooth length
    assert length(141, 34) == 216  # 3 x 47
    assert length(47, 34) == 47  # lengthening would more than double it


@pytest.mark.parametrize("shape", [(94, 103), (103, 90)])
def test_responses_on_a_lengthened_grid_equal_periodic_spatial_convolution(shape):
    # 94 = 2 x 47 and 103 (prime) are transformed at 162 and 180: the image is
    # wrapped around, and the responses read on its own pixels.
    image = np.random.default_rng(4).integers(0, 256, shape) / 255.0
    responses = gabor_responses(image)
    assert responses.shape == (24, *shape)
    for response, kernel in zip(responses, gabor_bank()):
        expected = opencv_response(image, kernel)
        np.testing.assert_allclose(response, expected, rtol=0, atol=1e-4 * np.abs(expected).max())


def test_features_do_not_depend_on_the_transform_length(monkeypatch):
    image = np.random.default_rng(5).integers(0, 256, (94, 103)) / 255.0
    lengthened = texture.gabor_features(image).to_numpy()
    monkeypatch.setattr(texture.gabor, "_FAST_PRIME", 10**9)  # every side transformed as it is
    np.testing.assert_allclose(lengthened, texture.gabor_features(image).to_numpy(), rtol=1e-5)


def test_masked_features_are_statistics_of_the_spatial_convolution_inside(texture_images, regions):
    _, image = texture_images[2]
    image = image[:96, :80] / 255.0
    for inside in regions(image.shape).values():
        features = texture.gabor_features(image, mask=inside)
        for k, kernel in enumerate(gabor_bank()):
            magnitude = np.abs(opencv_response(image, kernel))[inside]
            np.testing.assert_allclose(features.iloc[2 * k : 2 * k + 2], [magnitude.mean(), magnitude.std()],
                                       rtol=1e-4)


def test_full_mask_gives_exactly_the_unmasked_statistics(texture_images):
    for _, image in texture_images:
        for aggregate in ("none", "rotation"):
            unmasked = texture.gabor_features(image, aggregate=aggregate)
            masked = texture.gabor_features(image, aggregate=aggregate, mask=np.ones(image.shape, bool))
            pd.testing.assert_series_equal(masked, unmasked, check_exact=True)


def test_a_single_pixel_region_has_its_response_magnitude_and_no_spread(texture_images):
    image = texture_images[0][1][:64, :64] / 255.0
    inside = np.zeros(image.shape, bool)
    inside[30, 41] = True
    features = texture.gabor_features(image, mask=inside)
    magnitudes = np.abs(gabor_responses(image)[:, 30, 41])
    np.testing.assert_allclose(features.iloc[0::2], magnitudes, rtol=1e-6)
    # The std is sqrt(E[m^2] - E[m]^2) of single-precision sums: ~2**-12 of m where it should be 0.
    np.testing.assert_allclose(features.iloc[1::2], 0, atol=1e-3 * magnitudes.max())
