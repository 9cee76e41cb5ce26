"""LBP codes against scikit-image's local_binary_pattern, and the histograms built on them."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from skimage.feature import local_binary_pattern

import texture
from texture import lbp as lbp_module
from texture.lbp import (lbp_codes, lbp_feature_names, lbp_feature_vector, lbp_histogram, lbp_n_bins,
                         local_variance, var_bins)

SCALES = [(8, 1), (16, 2), (24, 3), (4, 1.5), (12, 2.5)]


def reference(image, P, R, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-image warns about float images
        return local_binary_pattern(image, P, R, method)


@pytest.mark.parametrize(
    "P, R, method",
    [(P, R, method) for P, R in SCALES for method in ("default", "ror", "uniform", "nri_uniform")],
)
def test_codes_equal_scikit_image_exactly(texture_images, P, R, method):
    _, image = texture_images[0]
    # Both the 8-bit image and its working float version: ties resolve by the
    # same floating-point arithmetic in both implementations.
    for variant in (image, image / 255.0):
        np.testing.assert_array_equal(lbp_codes(variant, P, R, method), reference(variant, P, R, method))


@pytest.mark.parametrize("P, R", SCALES[:3])
def test_codes_equal_scikit_image_on_every_image(texture_images, P, R):
    for _, image in texture_images[1:]:
        np.testing.assert_array_equal(lbp_codes(image / 255.0, P, R), reference(image / 255.0, P, R, "uniform"))


@pytest.mark.parametrize("P, R", SCALES)
def test_var_equals_scikit_image(texture_images, P, R):
    _, image = texture_images[0]
    ours, theirs = lbp_codes(image, P, R, "var"), reference(image, P, R, "var")
    # scikit-image divides by zero on flat neighbourhoods; ours stays finite there.
    undefined = np.isnan(theirs)
    assert (ours[undefined] == 0).all() and np.isfinite(ours).all()
    np.testing.assert_allclose(ours[~undefined], theirs[~undefined], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
def test_near_ties_equal_scikit_image(scale):
    # Few grey levels make flat patches, where the interpolated neighbours tie
    # with the centre up to rounding, and a 1e-9 ripple makes differences far
    # below single precision: the fast path must hand all of these to the
    # exact float64 arithmetic.  Any scale, and negative values, work alike.
    rng = np.random.default_rng(7)
    levels = rng.integers(0, 3, (40, 50)).repeat(2, axis=0).repeat(2, axis=1) / 2.0
    for image in (levels, levels + 1e-9 * rng.standard_normal(levels.shape), 0.5 - levels):
        image = image * scale
        for P, R in SCALES:
            np.testing.assert_array_equal(lbp_codes(image, P, R, "default"), reference(image, P, R, "default"))


@pytest.mark.parametrize("shape", [(7, 7), (1, 9), (12, 5)])
def test_flat_and_tiny_images_equal_scikit_image(shape):
    rng = np.random.default_rng(3)
    for image in (np.full(shape, 0.5), rng.integers(0, 4, shape) / 3.0):
        for method in ("default", "uniform", "nri_uniform"):
            np.testing.assert_array_equal(lbp_codes(image, 8, 1, method), reference(image, 8, 1, method))


def _with_non_finite(values, seed):
    """A 9 x 9 random image holding ``values`` at the centre, an edge, a corner and inside."""
    image = np.random.default_rng(seed).random((9, 9))
    for (r, c), value in zip([(4, 4), (1, 7), (0, 0), (8, 3)], itertools.cycle(values)):
        image[r, c] = value
    return image


@pytest.mark.parametrize("values", [(np.inf,), (-np.inf,), (np.inf, -np.inf), (np.nan, np.inf), (np.nan,)],
                         ids=["inf", "-inf", "both", "nan_inf", "nan"])
@pytest.mark.parametrize("P, R", [(4, 1), (8, 1), (8, 2), (16, 2), (12, 1.5), (6, 3)])
def test_non_finite_images_give_scikit_image_codes(values, P, R):
    # scikit-image's bit is g_p - g_c >= 0 (inf - inf is NaN: 0), and its
    # interpolation turns a zero-weight infinite corner into NaN.
    image = _with_non_finite(values, seed=P)
    for method in ("default", "ror", "uniform", "nri_uniform"):
        np.testing.assert_array_equal(lbp_codes(image, P, R, method), reference(image, P, R, method),
                                      err_msg=method)
    # The variance of neighbourhoods touching a non-finite pixel is NaN (or inf) in both.
    np.testing.assert_allclose(lbp_codes(image, P, R, "var"), reference(image, P, R, "var"), rtol=1e-9, atol=1e-9)


def test_non_finite_cases_of_the_issue():
    image = np.random.default_rng(0).random((9, 9))
    image[4, 4] = np.inf
    assert lbp_codes(image, 4, 1, "default")[3, 4] == reference(image, 4, 1, "default")[3, 4]
    image[4, 4] = -np.inf
    assert lbp_codes(image, 8, 1, "default")[4, 4] == 85 == reference(image, 8, 1, "default")[4, 4]


def test_histogram_counts_every_pixel(texture_images):
    _, image = texture_images[1]
    for P, R in SCALES[:3]:
        codes = reference(image / 255.0, P, R, "uniform")
        hist = lbp_histogram(lbp_codes(image / 255.0, P, R), P)
        assert hist.shape == (P + 2,) and hist.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(hist, np.bincount(codes.astype(int).ravel(), minlength=P + 2) / codes.size)
    assert lbp_n_bins(8, "nri_uniform") == 59


def codes_histograms(image, scales):
    """The uniform histograms counted from the full code arrays."""
    return np.concatenate(
        [np.bincount(lbp_codes(image, P, R, "uniform").astype(int).ravel(), minlength=P + 2) / image.size for P, R in scales]
    )


def test_fast_uniform_histograms_equal_histograms_of_the_codes(texture_images):
    # The default feature path counts codes on the fly, without the code array.
    rng = np.random.default_rng(11)
    levels = rng.integers(0, 3, (40, 50)).repeat(2, axis=0).repeat(2, axis=1) / 2.0
    images = [image / 255.0 for _, image in texture_images]
    images += [
        np.tile(images[0], (3, 2)),  # several bands of rows
        np.full((20, 30), 0.5),  # flat: every neighbour ties with its centre
        np.zeros((9, 9)),
        levels,  # flat patches: near-ties decided exactly
        levels + 1e-9 * rng.standard_normal(levels.shape),
        np.where(levels > 0.5, np.inf, levels),  # non-finite: the exact path throughout
    ]
    scales = [(8, 1), (16, 2), (24, 3), (4, 1.5), (12, 2.5)]
    for image in images:
        np.testing.assert_array_equal(lbp_feature_vector(image, scales), codes_histograms(image, scales))


def test_features_are_normalized_multiscale_histograms(texture_images):
    _, image = texture_images[2]
    features = texture.lbp_features(image)
    assert list(features.index) == lbp_feature_names()
    assert len(features) == 10 + 18 + 26
    assert features.index[3] == "lbp_p8_r1_riu2_bin03"
    for P, R in ((8, 1), (16, 2), (24, 3)):
        assert features.filter(like=f"lbp_p{P}_r{R}_").sum() == pytest.approx(1.0)


def test_rotation_invariant_histogram_of_a_quarter_turn(texture_images):
    # Four neighbours on the axes need no interpolation, so a quarter turn
    # permutes them exactly and the rotation-invariant codes cannot change.
    _, image = texture_images[0]
    features = texture.lbp_features(image, scales=[(4, 1), (4, 2)])
    np.testing.assert_array_equal(texture.lbp_features(np.rot90(image), scales=[(4, 1), (4, 2)]), features)


def test_invalid_parameters_raise_config_error():
    image = np.zeros((9, 9))
    with pytest.raises(texture.ConfigError, match="method"):
        lbp_codes(image, 8, 1, "bogus")
    with pytest.raises(texture.ConfigError, match="P"):
        lbp_codes(image, 0, 1)
    with pytest.raises(texture.ConfigError, match="R"):
        lbp_codes(image, 8, -1)
    with pytest.raises(texture.ConfigError, match="P must be <= 16"):
        texture.lbp_features(image, scales=[(24, 3)], method="default")


def test_large_image_processed_in_bands_equals_scikit_image(texture_images):
    _, image = texture_images[2]
    large = np.tile(image, (3, 2))  # 450 x 340: several bands of rows
    for method in ("uniform", "nri_uniform"):
        np.testing.assert_array_equal(lbp_codes(large, 16, 2, method), reference(large, 16, 2, method))
    ours, theirs = lbp_codes(large, 8, 1, "var"), reference(large, 8, 1, "var")
    np.testing.assert_allclose(ours, np.where(np.isnan(theirs), 0, theirs), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape", [(1, 9), (5, 30), (9, 4)])
def test_bands_of_one_row_equal_scikit_image(shape, monkeypatch):
    # Bands of a single row: neighbours on the axes up to 3 rows away lie in
    # other bands or outside the image, and some rows are narrower than R.
    monkeypatch.setattr(texture.lbp, "_BAND_PIXELS", 1)
    image = np.random.default_rng(4).integers(0, 4, shape) / 3.0
    for P, R in [(4, 1), (4, 2), (8, 3), (12, 2.5)]:
        np.testing.assert_array_equal(lbp_codes(image, P, R, "default"), reference(image, P, R, "default"))
        expected = np.bincount(reference(image, P, R, "uniform").astype(int).ravel(), minlength=P + 2) / image.size
        np.testing.assert_array_equal(lbp_feature_vector(image, [(P, R)]), expected)


def masked_reference(image, inside, scales, method):
    """Histograms of scikit-image's codes at the inside pixels, concatenated."""
    return np.concatenate([
        np.bincount(reference(image, P, R, method)[inside].astype(int), minlength=lbp_n_bins(P, method)) / inside.sum()
        for P, R in scales
    ])


@pytest.mark.parametrize("method", ["uniform", "nri_uniform", "ror", "default"])
def test_masked_histograms_count_scikit_image_codes_at_inside_pixels(texture_images, regions, method):
    scales = [(8, 1), (16, 2), (12, 2.5)] if method in ("uniform", "nri_uniform") else [(8, 1), (4, 1.5)]
    for _, image in texture_images:
        image = image / 255.0
        for inside in regions(image.shape).values():
            ours = texture.lbp_features(image, scales, method, mask=inside)
            np.testing.assert_allclose(ours, masked_reference(image, inside, scales, method), rtol=1e-15, atol=0)


def test_masked_histograms_over_several_bands_of_rows(texture_images, regions):
    image = np.tile(texture_images[0][1] / 255.0, (3, 2))  # the fast path's bands of rows
    inside = regions(image.shape, seed=3)["blob"]
    scales = [(8, 1), (24, 3)]
    np.testing.assert_allclose(texture.lbp_features(image, scales, mask=inside),
                               masked_reference(image, inside, scales, "uniform"), rtol=1e-15, atol=0)


def test_full_mask_gives_exactly_the_unmasked_histograms(texture_images):
    full = np.ones(texture_images[0][1].shape, bool)
    for method in ("uniform", "nri_uniform"):
        for _, image in texture_images:
            unmasked = texture.lbp_features(image, method=method)
            pd.testing.assert_series_equal(texture.lbp_features(image, method=method, mask=full), unmasked,
                                           check_exact=True)


def test_mask_too_thin_for_the_largest_radius_is_refused():
    image = np.random.default_rng(1).random((40, 40))
    inside = np.zeros(image.shape, bool)
    inside[3:37, 10:16] = True  # 6 columns: no 7 x 7 square inside for R = 3
    with pytest.raises(texture.MaskError, match=r"LBP radius 3: 0 of its 204 pixels have the 7 x 7 square"):
        texture.lbp_features(image, mask=inside)
    assert texture.lbp_features(image, scales=[(8, 1), (16, 2)], mask=inside).notna().all()
    # A square touching the image's border does not borrow pixels beyond it.
    corner = np.zeros(image.shape, bool)
    corner[:6, :6] = True
    with pytest.raises(texture.MaskError, match="LBP radius 3"):
        texture.lbp_features(image, mask=corner)


# -- VAR (lbp_var_features): the local variance of the LBP neighbours, quantized on a fixed scale --


def reference_var_bins(image, P, R):
    """scikit-image's VAR (NaN on flat neighbourhoods read as 0) and its bins, by brute-force edge counts."""
    variance = np.nan_to_num(reference(image, P, R, "var"), nan=0.0)
    edges = 2.0 ** (np.arange(lbp_module.VAR_BINS - 1) - 2.5) / 255**2
    return variance, (variance[..., None] >= edges).sum(axis=-1)


@pytest.mark.parametrize("P, R", SCALES)
def test_local_variance_equals_scikit_image_to_single_precision(texture_images, P, R):
    for _, image in texture_images:
        image = image / 255.0
        theirs, _ = reference_var_bins(image, P, R)
        ours = local_variance(image, P, R)
        assert ours.dtype == np.float32 and (ours >= 0).all()
        # float32 differences from the centre: errors relative to the local variance, not to the grey level.
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("P, R", SCALES)
def test_var_bins_equal_the_bins_of_scikit_image_variance(texture_images, P, R):
    for _, image in texture_images:
        image = image / 255.0
        _, theirs = reference_var_bins(image, P, R)
        np.testing.assert_array_equal(var_bins(local_variance(image, P, R)), theirs)
        assert 0 < theirs.min() or theirs.max() < lbp_module.VAR_BINS - 1 or len(np.unique(theirs)) > 3


def test_var_bins_are_octaves_of_squared_grey_levels():
    levels = np.array([0, 2**-2.6, 2**-2.4, 1, 2, 5.6, 5.7, 2**11.4, 2**11.6, 1e9]) / 255**2
    assert var_bins(levels).tolist() == [0, 0, 1, 3, 4, 5, 6, 14, 15, 15]
    assert var_bins(np.array([np.nan, -1e-12])).tolist() == [0, 0]


def test_local_variance_of_a_non_finite_image_is_scikit_images(texture_images):
    image = texture_images[0][1] / 255.0
    image[20, 30] = np.nan
    image[50, 60] = np.inf
    ours, theirs = local_variance(image, 8, 1), reference(image, 8, 1, "var")
    undefined = np.isnan(theirs)
    np.testing.assert_array_equal(np.isnan(ours), undefined & ~(ours == 0))
    np.testing.assert_allclose(ours[~undefined], theirs[~undefined], rtol=1e-9, atol=1e-9)


def test_var_features_are_normalized_histograms_of_the_bins(texture_images, regions):
    scales = [(8, 1), (16, 2), (12, 2.5)]
    for _, image in texture_images:
        image = image / 255.0
        features = texture.lbp.lbp_var_features(image, scales)
        assert list(features.index[:2]) == ["lbpvar_p8_r1_bin00", "lbpvar_p8_r1_bin01"]
        assert len(features) == lbp_module.VAR_BINS * len(scales)
        for inside in [None, *regions(image.shape).values()]:
            ours = texture.lbp.lbp_var_features(image, scales, mask=inside)
            expected = []
            for P, R in scales:
                _, bins = reference_var_bins(image, P, R)
                counted = bins.ravel() if inside is None else bins[inside]
                expected.append(np.bincount(counted, minlength=lbp_module.VAR_BINS) / counted.size)
            np.testing.assert_allclose(ours.to_numpy(), np.concatenate(expected), rtol=1e-15, atol=0)


def test_var_features_are_rotation_invariant_at_a_quarter_turn(texture_images):
    image = texture_images[0][1] / 255.0
    turned = texture.lbp.lbp_var_features(np.rot90(image).copy(), [(8, 1), (16, 2)])
    np.testing.assert_allclose(turned, texture.lbp.lbp_var_features(image, [(8, 1), (16, 2)]), atol=2e-4)


def test_var_features_refuse_bad_scales_and_thin_masks():
    image = np.random.default_rng(1).random((40, 40))
    with pytest.raises(texture.ConfigError, match=r"lbpvar_scales: lbp R must be a positive number"):
        texture.lbp.lbp_var_features(image, [(8, 0)])
    with pytest.raises(texture.ConfigError, match=r"lbpvar_scales"):
        texture.FeatureConfig(lbpvar_scales=((8, 1), (8, 1)))
    inside = np.zeros(image.shape, bool)
    inside[3:37, 10:16] = True
    with pytest.raises(texture.MaskError, match=r"LBP radius 3"):
        texture.lbp.lbp_var_features(image, mask=inside)


# -- Completed LBP (CLBP_M/C, Guo, Zhang and Zhang 2010) against a brute-force float64 reference --------


def reference_clbp(image, P, R, inside=None):
    """CLBP_M and CLBP_C by the paper's definitions, in float64, and where |d_p| is within 1e-6 of c_M."""
    from scipy.ndimage import map_coordinates

    angles = 2 * np.pi * np.arange(P) / P
    rows, cols = np.indices(image.shape, dtype=np.float64)
    # scikit-image's circle (offsets rounded to 5 decimals) and bilinear samples, zero outside the image.
    magnitudes = np.abs(np.array([
        map_coordinates(image, [rows + r, cols + c], order=1, mode="grid-constant", cval=0.0) - image
        for r, c in zip(np.round(-R * np.sin(angles), 5), np.round(R * np.cos(angles), 5))
    ]))
    c_m = magnitudes.mean() if inside is None else magnitudes[:, inside].mean()
    bits = magnitudes >= c_m
    ones, changes = bits.sum(axis=0), (bits[1:] != bits[:-1]).sum(axis=0)
    magnitude = np.where(changes <= 2, ones, P + 1)
    centre = image >= (image.mean() if inside is None else image[inside].mean())
    ambiguous = (np.abs(magnitudes - c_m) < 1e-6).any(axis=0)
    return magnitude, centre, ambiguous


@pytest.mark.parametrize("P, R", [(8, 1), (16, 2), (24, 3), (12, 2.5)])
def test_clbp_codes_equal_the_definition(texture_images, regions, P, R):
    for _, image in texture_images[:2]:
        image = image / 255.0
        for inside in [None, regions(image.shape)["blob"]]:
            magnitude, centre, ambiguous = reference_clbp(image, P, R, inside)
            ours_m, ours_c = lbp_module.clbp_codes(image, P, R, inside)
            assert ambiguous.mean() < 0.01
            np.testing.assert_array_equal(ours_m[~ambiguous], magnitude[~ambiguous])
            np.testing.assert_array_equal(ours_c, centre)


def test_clbp_features_are_joint_histograms_of_the_codes(texture_images, regions):
    image = texture_images[0][1] / 255.0
    scales = ((8, 1), (16, 2))
    for inside in [None, regions(image.shape)["disk"]]:
        config = texture.FeatureConfig(families=("clbp",), clbp_scales=scales)
        features = texture.extract_features(image, config, mask=inside)
        assert features.index[3] == "clbp_p8_r1_m01_c1" and len(features) == 2 * (10 + 18)
        expected = []
        for P, R in scales:
            magnitude, centre = lbp_module.clbp_codes(image, P, R, inside)
            joint = (2 * magnitude.astype(int) + centre)[inside if inside is not None else ...].ravel()
            expected.append(np.bincount(joint, minlength=2 * (P + 2)) / joint.size)
        np.testing.assert_array_equal(features.to_numpy(), np.concatenate(expected))


def test_clbp_is_refused_by_feature_maps_and_checks_its_scales():
    image = np.random.default_rng(2).random((40, 40))
    with pytest.raises(texture.ConfigError, match="feature maps cannot compute the clbp family"):
        texture.feature_map(image, 16, 8, texture.FeatureConfig(families=("lbp", "clbp")))
    with pytest.raises(texture.ConfigError, match=r"clbp_scales: lbp R must be a positive number"):
        texture.FeatureConfig(clbp_scales=((8, -1),))
