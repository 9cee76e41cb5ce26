"""Local phase quantization: codes against a brute force of the definition, blur, masks, config, names;
the rotation-pooled family (lpqr): quarter turns of the codes, invariance, orbit histograms."""

import json

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage
from skimage import data

import texture
from texture import FeatureConfig, FeatureExtractor, extract_features
from texture import lpq
from texture.features import DEFAULT_FAMILIES
from texture.lbp import lbp_feature_vector
from texture.lpq import (check_mask, decorrelation_matrix, lpq_codes, lpq_feature_names, lpq_feature_vector,
                         lpq_reach, lpqr_codes, lpqr_feature_names, lpqr_feature_vector, lpqr_features, quarter_turn,
                         rotation_orbits)

WITH_LPQ = FeatureConfig(families=DEFAULT_FAMILIES + ("lpq",))


def brute_force_codes(image, window=7, decorrelate=True):
    """Per pixel, the four STFT coefficients of its window (zeros outside the image) as direct sums, then bits.

    ``F(u) = sum_{y, x} f(i - y, j - x) exp(-2j pi (u_row y + u_col x))`` over the offsets ``-r .. r``, at
    ``u = (0, a), (a, 0), (a, a), (a, -a)``, ``a = 1 / window``; the values ``Re F1, Im F1, ...`` times the
    decorrelation matrix; bit k is value k > 2**-32 times the window's sum of |f| (within rounding of 0: 0).
    """
    r, a = window // 2, 1.0 / window
    padded = np.pad(np.asarray(image, dtype=np.float64), r)
    patches = sliding_window_view(padded, (window, window))  # patches[i, j, p, q] = f(i + p - r, j + q - r)
    offsets = r - np.arange(window)  # p -> y = r - p: f(i - y, ...)
    values = []
    for u_row, u_col in ((0, a), (a, 0), (a, a), (a, -a)):
        phase = np.exp(-2j * np.pi * (u_row * offsets[:, None] + u_col * offsets[None, :]))
        F = np.einsum("ijpq,pq->ij", patches, phase)
        values += [F.real, F.imag]
    values = np.stack(values, axis=-1)
    if decorrelate:
        values = values @ decorrelation_matrix(window).T
    tie = lpq.TIE * np.abs(patches).sum(axis=(2, 3))
    return ((values > tie[..., None]) * (1 << np.arange(8))).sum(axis=-1)


def authors_decorrelation(window, rho=0.9):
    """``Vt`` of the authors' lpq.m construction, written out independently (numpy's signs)."""
    r = (window - 1) // 2
    x = np.arange(-r, r + 1)
    w0, w1 = np.ones(window, dtype=complex), np.exp(-2j * np.pi * x / window)
    w2 = np.conj(w1)
    xp, yp = np.meshgrid(np.arange(1, window + 1), np.arange(1, window + 1))
    positions = np.column_stack([xp.ravel(), yp.ravel()])
    distances = np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(axis=-1))
    C = rho**distances
    q = [np.outer(w0, w1), np.outer(w1, w0), np.outer(w1, w1), np.outer(w1, w2)]
    M = np.array([part(qk).ravel() for qk in q for part in (np.real, np.imag)])
    D = M @ C @ M.T
    A = np.diag([1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1])
    _, _, Vt = np.linalg.svd(A @ D @ A)
    return Vt, D


@pytest.mark.parametrize("shape", [(1, 1), (2, 5), (5, 3), (7, 7), (12, 31), (40, 23)])
@pytest.mark.parametrize("window", [3, 7])
def test_codes_equal_a_brute_force_of_the_definition(shape, window):
    image = np.random.default_rng(sum(shape) + window).random(shape)
    codes = lpq_codes(image, window)
    assert codes.dtype == np.uint8 and codes.shape == shape
    np.testing.assert_array_equal(codes, brute_force_codes(image, window))
    np.testing.assert_array_equal(lpq_codes(image, window, decorrelate=False),
                                  brute_force_codes(image, window, decorrelate=False))


def test_codes_of_8_bit_images_with_flat_patches_and_negative_values_equal_the_brute_force():
    """Exact ties (flat windows: every coefficient 0, within rounding) give bit 0 in both computations."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (37, 29)) / 255.0
    image[5:20, 3:17] = 0.5  # flat inside, edges at the patch's border
    image[25:, :] = 0.0  # zeros, like the border
    np.testing.assert_array_equal(lpq_codes(image), brute_force_codes(image))
    assert (lpq_codes(image)[9:16, 7:13] == 0).all()
    chroma = image - 0.5  # negative values: the ties are relative to the window's sum of |f|
    np.testing.assert_array_equal(lpq_codes(chroma, 5), brute_force_codes(chroma, 5))
    np.testing.assert_array_equal(lpq_codes(4.0 * chroma, 5), lpq_codes(chroma, 5))  # a positive scale: same codes


def test_a_flat_image_has_code_0_and_finite_features():
    for value in (0.0, 0.3, 1.0):
        image = np.full((20, 30), value)
        if value:
            # A flat image's border is not flat (zeros outside): only the interior has every coefficient 0.
            assert (lpq_codes(image)[3:-3, 3:-3] == 0).all()
        else:
            assert (lpq_codes(image) == 0).all()
    values = extract_features(np.full((16, 16), 0.4), FeatureConfig(families=("lpq",)))
    assert np.isfinite(values).all() and values.sum() == pytest.approx(1.0)


def test_slabs_give_the_whole_images_codes_and_histograms(monkeypatch):
    image = np.random.default_rng(5).random((61, 47))
    image[20:30] = 0.25  # flat rows across slab boundaries
    inside = np.random.default_rng(6).random(image.shape) > 0.4
    whole_codes, whole = lpq_codes(image), lpq_feature_vector(image, inside=inside)
    for slab in (1, 100, 1000):  # one row per slab, a few rows, more rows than the window's reach
        monkeypatch.setattr(lpq, "_SLAB_PIXELS", slab)
        np.testing.assert_array_equal(lpq_codes(image), whole_codes)
        np.testing.assert_array_equal(lpq_feature_vector(image, inside=inside), whole)
    monkeypatch.setattr(lpq, "_PRODUCT_PIXELS", 7)
    np.testing.assert_array_equal(lpq_codes(image), whole_codes)


def test_histograms_of_an_image_and_its_blurred_copy_are_closer_than_lbps():
    """The point of LPQ.  L1 distances between the histograms of a 256 x 256 crop and of its Gaussian-blurred copy
    (sigma 1 px), measured: brick 0.19 for LPQ (256 bins) against 0.77 for LBP riu2 at (8, 1) (10 bins);
    grass 0.085 against 0.71."""
    for name in ("brick", "grass"):
        image = getattr(data, name)()[:256, :256] / 255.0
        blurred = ndimage.gaussian_filter(image, 1.0)
        ours = np.abs(lpq_feature_vector(image) - lpq_feature_vector(blurred)).sum()
        lbp = np.abs(lbp_feature_vector(image, ((8, 1),)) - lbp_feature_vector(blurred, ((8, 1),))).sum()
        assert ours < lbp / 3, name


def test_the_decorrelation_matrix_is_the_authors_orthogonal_whitening():
    for window in (3, 7, 9):
        V = decorrelation_matrix(window)
        reference, D = authors_decorrelation(window)
        np.testing.assert_allclose(V @ V.T, np.eye(8), atol=1e-12)
        # The same singular vectors, each up to its sign, which ours fixes: the first non-zero entry positive.
        signs = np.sign(np.sum(V * reference, axis=1))
        assert np.all(np.abs(signs) == 1)
        np.testing.assert_allclose(V, signs[:, None] * reference, atol=1e-9)
        first = (np.abs(V) > 1e-8).argmax(axis=1)
        assert (V[np.arange(8), first] > 0).all()
        # It whitens the model's covariance: V D V^T is diagonal.
        whitened = V @ D @ V.T
        off = whitened - np.diag(np.diag(whitened))
        assert np.abs(off).max() < 1e-4 * np.abs(np.diag(whitened)).max()
        assert not V.flags.writeable


def test_masked_vector_is_the_histogram_of_the_inside_codes():
    image = data.brick()[:90, :120] / 255.0
    inside = np.zeros(image.shape, dtype=bool)
    inside[10:50, 20:100] = True
    inside[60:70, 5:15] = True
    codes = lpq_codes(image)
    expected = np.bincount(codes[inside], minlength=256) / inside.sum()
    np.testing.assert_array_equal(lpq_feature_vector(image, inside=inside), expected)
    config = FeatureConfig(families=("lpq",))
    np.testing.assert_array_equal(extract_features(image, config, mask=inside).to_numpy(), expected)
    # A mask covering the image gives the unmasked vector.
    np.testing.assert_array_equal(lpq_feature_vector(image, inside=np.ones(image.shape, dtype=bool)),
                                  lpq_feature_vector(image))


def test_check_mask_refuses_a_region_without_a_whole_window_naming_the_file(tmp_path):
    import cv2

    image = (data.brick()[:40, :40]).copy()
    thin = np.zeros(image.shape, dtype=np.uint8)
    thin[5:35, 10:16] = 255  # 6 px wide: no 7 x 7 square inside
    path = tmp_path / "thin_mask.png"
    cv2.imwrite(str(path), thin)
    with pytest.raises(texture.MaskError, match=r"thin_mask\.png.*LPQ window 7: 0 of its 180 pixels"):
        extract_features(image, FeatureConfig(families=("lpq",)), mask=path)
    with pytest.raises(texture.MaskError, match="region.png"):
        check_mask(thin > 0, 7, "region.png")
    check_mask(thin > 0, 5, "region.png")  # 5 x 5 squares fit
    corner = np.zeros((20, 20), dtype=bool)
    corner[:7, :7] = True  # at the image's corner: outside the image is outside the mask, but the square fits
    check_mask(corner, 7)
    corner[6, :] = False
    with pytest.raises(texture.MaskError):
        check_mask(corner, 7)
    # A family with a smaller neighbourhood accepts it: the refusal is LPQ's.
    small = FeatureConfig(families=("lbp",), lbp_scales=((8, 1),))
    assert extract_features(image, small, mask=thin > 0).notna().all()
    with pytest.raises(texture.MaskError, match="LPQ window 7"):
        extract_features(image, FeatureConfig(families=("lbp", "lpq"), lbp_scales=((8, 1),)), mask=thin > 0)


def test_config_round_trip_and_validation():
    config = FeatureConfig(families=("lbp", "lpq"), lpq_window=5)
    assert FeatureConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.to_dict()["lpq_window"] == 5
    assert FeatureConfig.from_dict({"families": ["lpq"]}).lpq_window == 7  # older configs: the default
    assert FeatureConfig(lpq_window=np.int64(9)).lpq_window == 9
    for bad in (4, 1, -3, 2.5, 7.0, True, "7", None):
        with pytest.raises(texture.ConfigError, match="lpq_window must be an odd integer >= 3"):
            FeatureConfig(lpq_window=bad)
    with pytest.raises(texture.ConfigError, match="rho"):
        lpq_codes(np.zeros((5, 5)), 7, rho=1.0)
    # Not a default family (its rotation-pooled sibling "lpqr" is): 216 + 64 default features.
    assert "lpq" not in FeatureConfig().families and "lpqr" in FeatureConfig().families
    assert len(FeatureExtractor().names) == 280
    assert FeatureConfig(families=("lpq",), lpq_window=11).min_image_size == 11
    assert lpq_reach(11) == 5


def test_names_count_and_sums():
    names = lpq_feature_names(7)
    assert len(names) == 256 and names[0] == "lpq_w7_bin000" and names[-1] == "lpq_w7_bin255"
    image = data.grass()[:64, :80]
    features = extract_features(image, WITH_LPQ)
    n = len(FeatureExtractor().names)
    assert list(features.index[:n]) == FeatureExtractor().names
    assert list(features.index[n:]) == names
    np.testing.assert_array_equal(features.to_numpy()[:n], extract_features(image).to_numpy())
    assert features[names].sum() == pytest.approx(1.0, abs=1e-12)
    assert (features[names] >= 0).all()
    with pytest.raises(texture.ImageTooSmallError):
        extract_features(image[:8, :8], FeatureConfig(families=("lpq",), lpq_window=9))
    assert extract_features(image[:9, :9], FeatureConfig(families=("lpq",), lpq_window=9)).sum() == pytest.approx(1)


def test_colour_runs_lpq_on_the_chroma_channels():
    rgb = data.astronaut()[100:180, 150:250]
    config = FeatureConfig(families=("lbp", "lpq"), colour="opponent")
    features = extract_features(rgb, config)
    for channel in ("", "o1_", "o2_"):
        part = features[[f"{channel}{name}" for name in lpq_feature_names(7)]]
        assert part.sum() == pytest.approx(1.0)
    # The chroma histograms are those of the half-resolution channels' codes.
    from texture.colour import half_resolution, opponent_channels

    o1 = opponent_channels(half_resolution(texture.read_image(rgb, colour=True)))[0]
    expected = np.bincount(lpq_codes(o1).ravel(), minlength=256) / o1.size
    np.testing.assert_array_equal(features[[f"o1_{n}" for n in lpq_feature_names(7)]].to_numpy(), expected)
    # A grey image in colour: flat chroma, every chroma code 0.
    with pytest.warns(texture.FlatChromaWarning):
        grey = extract_features(np.repeat(rgb[..., :1], 3, axis=2), config)
    assert grey["o1_lpq_w7_bin000"] == 1.0 and grey["o2_lpq_w7_bin000"] == 1.0


@pytest.mark.parametrize("shape", [(24, 24), (19, 31)])
def test_a_quarter_turn_of_the_image_turns_the_undecorrelated_codes_as_quarter_turn_says(shape):
    image = np.random.default_rng(sum(shape)).normal(size=shape)  # no ties: every value far from 0
    codes = lpq_codes(image, decorrelate=False)
    for k in (1, 2, 3):
        turned = np.rot90(codes, k).astype(np.intp)
        for _ in range(k):
            turned = quarter_turn(turned)
        np.testing.assert_array_equal(lpq_codes(np.rot90(image, k), decorrelate=False), turned)
    # The decorrelated codes follow no such rule: some pixel's code is not the turn of its code.
    decorrelated = lpq_codes(image)
    assert not np.array_equal(lpq_codes(np.rot90(image)), quarter_turn(np.rot90(decorrelated)))


def test_rotation_orbits_are_64_orbits_of_4_codes_closed_under_the_quarter_turn():
    orbit = rotation_orbits()
    codes = np.arange(256)
    np.testing.assert_array_equal(orbit[quarter_turn(codes)], orbit)
    np.testing.assert_array_equal(quarter_turn(quarter_turn(quarter_turn(quarter_turn(codes)))), codes)
    assert np.array_equal(np.bincount(orbit), np.full(64, 4))
    # Numbered in the order of their least code.
    least = [codes[orbit == k].min() for k in range(64)]
    assert least == sorted(least) and orbit[0] == 0


def test_lpqr_histogram_ignores_right_angle_rotations_and_lpqs_does_not():
    image = np.random.default_rng(3).random((40, 56))
    for k in (1, 2, 3):
        np.testing.assert_array_equal(lpqr_feature_vector(np.rot90(image, k)), lpqr_feature_vector(image))
    brick = data.brick()[:128, :160] / 255.0  # 8-bit: a few ties, still within 0.5 % of the pixels
    turned = np.abs(lpqr_feature_vector(np.rot90(brick)) - lpqr_feature_vector(brick)).sum()
    assert turned < 0.01
    assert np.abs(lpq_feature_vector(np.rot90(brick)) - lpq_feature_vector(brick)).sum() > 30 * max(turned, 1e-3)


def test_lpqr_vector_is_the_orbit_histogram_of_the_undecorrelated_codes_masked_or_not():
    image = data.camera()[100:160, 200:290] / 255.0
    orbits = rotation_orbits()[lpq_codes(image, decorrelate=False)]
    np.testing.assert_array_equal(lpqr_codes(image), orbits)
    np.testing.assert_array_equal(lpqr_feature_vector(image), np.bincount(orbits.ravel(), minlength=64) / image.size)
    inside = np.zeros(image.shape, dtype=bool)
    inside[10:40, 20:70] = True
    expected = np.bincount(orbits[inside], minlength=64) / inside.sum()
    np.testing.assert_array_equal(lpqr_feature_vector(image, inside=inside), expected)
    features = extract_features(image, FeatureConfig(families=("lpqr",), lpq_window=5), mask=inside)
    assert list(features.index) == lpqr_feature_names(5)
    np.testing.assert_array_equal(
        features.to_numpy(), np.bincount(rotation_orbits()[lpq_codes(image, 5, decorrelate=False)][inside],
                                         minlength=64) / inside.sum())
    np.testing.assert_array_equal(lpqr_features(image, mask=inside).to_numpy(), expected)
    with pytest.raises(texture.MaskError, match="LPQ window 7"):
        lpqr_features(image, mask=np.eye(*image.shape, dtype=bool))


def test_lpqr_names_config_and_colour():
    names = lpqr_feature_names(7)
    assert len(names) == 64 and names[0] == "lpqr_w7_orbit00" and names[-1] == "lpqr_w7_orbit63"
    config = FeatureConfig(families=("lpq", "lpqr"), colour="opponent")
    assert FeatureConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert len(FeatureExtractor(config).names) == 3 * (256 + 64) + 4
    rgb = data.astronaut()[100:180, 150:250]
    with pytest.warns(texture.FlatChromaWarning):
        grey = extract_features(np.repeat(rgb[..., :1], 3, axis=2), config)
    assert grey["o1_lpqr_w7_orbit00"] == 1.0 and grey["o2_lpqr_w7_orbit00"] == 1.0  # flat chroma: code 0, orbit 0
    with pytest.raises(texture.ConfigError, match="lpq_window must be an odd integer"):
        FeatureConfig(families=("lpqr",), lpq_window=6)


def test_docstring_examples():
    import doctest

    assert doctest.testmod(lpq).failed == 0
