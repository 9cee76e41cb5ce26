"""GLCM matrices and Haralick properties against scikit-image, mahotas and the textbook formulas."""

import warnings

import mahotas
import numpy as np
import pandas as pd
import pytest
from mahotas.features.texture import haralick_features
from skimage.feature import graycomatrix, graycoprops

import texture
from texture.glcm import GLCM_PROPERTIES, glcm_matrices, glcm_properties, quantize

DISTANCES = (1, 2, 4)
ANGLES = (0, 45, 90, 135)
# mahotas' 13 features in its order, with use_x_minus_y_variance=True.
MAHOTAS = ("asm", "contrast", "correlation", "variance", "homogeneity", "sum_average", "sum_variance",
           "sum_entropy", "entropy", "difference_variance", "difference_entropy", "imc1", "imc2")


def prop(props, name):
    return props[GLCM_PROPERTIES.index(name)]


def skimage_glcm(q, levels, distances=DISTANCES, normed=True):
    """scikit-image's matrices for our Chebyshev offsets, as (distance, angle, i, j).

    scikit-image rounds (d sin a, d cos a); the distance d / max(|sin a|, |cos a|)
    gives the offset d steps along the dominant axis.
    """
    per_angle = []
    for a in np.deg2rad(ANGLES):
        scaled = np.asarray(distances) / max(abs(np.sin(a)), abs(np.cos(a)))
        per_angle.append(graycomatrix(q, scaled, [a], levels, symmetric=True, normed=normed)[:, :, :, 0])
    return np.stack(per_angle, axis=-1).transpose(2, 3, 0, 1)


@pytest.mark.parametrize("levels", [8, 13, 32, 100, 256])
def test_quantize_integer_images_like_integer_arithmetic(levels):
    for dtype in (np.uint8, np.uint16):
        v = np.arange(np.iinfo(dtype).max + 1, dtype=np.int64)
        expected = np.minimum(v * levels // np.iinfo(dtype).max, levels - 1)
        image = v.astype(dtype).reshape(1, -1)
        np.testing.assert_array_equal(quantize(image, levels)[0], expected)
        # The working float image (what read_image returns) quantizes identically.
        np.testing.assert_array_equal(quantize(image / np.iinfo(dtype).max, levels)[0], expected)


def test_quantize_rejects_bad_levels():
    for levels in (7, 257, 32.0, True):
        with pytest.raises(texture.ConfigError, match="glcm_levels"):
            quantize(np.zeros((4, 4)), levels)


@pytest.mark.parametrize("levels", [8, 32, 256])
def test_matrices_equal_scikit_image(texture_images, levels):
    for _, image in texture_images:
        ours = glcm_matrices(image, DISTANCES, ANGLES, levels)
        np.testing.assert_allclose(ours, skimage_glcm(quantize(image, levels), levels), rtol=1e-12, atol=1e-15)


def test_properties_equal_scikit_image(texture_images):
    for _, image in texture_images:
        P = glcm_matrices(image, DISTANCES, ANGLES, 32)
        ref_P = skimage_glcm(quantize(image, 32), 32).transpose(2, 3, 0, 1)
        props = glcm_properties(P)
        for ours, theirs in [("contrast", "contrast"), ("dissimilarity", "dissimilarity"),
                             ("homogeneity", "homogeneity"), ("asm", "ASM"), ("energy", "energy"),
                             ("correlation", "correlation"), ("variance", "variance")]:
            np.testing.assert_allclose(prop(props, ours), graycoprops(ref_P, theirs), rtol=1e-6, err_msg=ours)
        # scikit-image's entropy is in nats, ours in bits.
        np.testing.assert_allclose(prop(props, "entropy") * np.log(2), graycoprops(ref_P, "entropy"), rtol=1e-6)


def test_properties_equal_mahotas_on_the_same_matrices(texture_images):
    for _, image in texture_images:
        counts = skimage_glcm(quantize(image, 32), 32, normed=False)
        cmats = [counts[d, a].astype(np.int64) for d in range(len(DISTANCES)) for a in range(len(ANGLES))]
        ref = haralick_features(cmats, use_x_minus_y_variance=True).T.reshape(13, len(DISTANCES), len(ANGLES))
        props = glcm_properties(glcm_matrices(image, DISTANCES, ANGLES, 32))
        for k, name in enumerate(MAHOTAS):
            np.testing.assert_allclose(prop(props, name), ref[k], rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("distance", DISTANCES)
def test_properties_equal_mahotas_haralick_on_the_image(texture_images, distance):
    # mahotas' offsets are ours: distance times (0,1), (1,1), (1,0), (1,-1),
    # our 0, 45, 90 and 135 degrees.
    for _, image in texture_images:
        q = quantize(image, 32)
        ref = mahotas.features.haralick(q, use_x_minus_y_variance=True, distance=distance).T
        # mahotas sizes its matrices by the image's maximum level.
        P = glcm_matrices(image, [distance], ANGLES, 32)[0, :, : q.max() + 1, : q.max() + 1]
        props = glcm_properties(P)
        for k, name in enumerate(MAHOTAS):
            np.testing.assert_allclose(prop(props, name), ref[k], rtol=1e-6, err_msg=name)


def test_remaining_properties_follow_their_definitions(texture_images):
    # No reference library has these; check them against the formulas written out by hand.
    _, image = texture_images[0]
    P = glcm_matrices(image, [1, 3], [0, 90], 16)
    props = glcm_properties(P)
    i, j = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    for d in range(2):
        for a in range(2):
            p = P[d, a]
            mu_x, mu_y = (i * p).sum(), (j * p).sum()
            assert prop(props, "max_probability")[d, a] == p.max()
            np.testing.assert_allclose(prop(props, "cluster_shade")[d, a], ((i + j - mu_x - mu_y) ** 3 * p).sum())
            np.testing.assert_allclose(prop(props, "cluster_prominence")[d, a], ((i + j - mu_x - mu_y) ** 4 * p).sum())
            np.testing.assert_allclose(prop(props, "autocorrelation")[d, a], (i * j * p).sum())


def test_flat_image_gives_finite_documented_values():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        props = glcm_properties(glcm_matrices(np.full((9, 11), 0.4), DISTANCES, ANGLES, 32))
    assert np.isfinite(props).all()
    assert (prop(props, "correlation") == 1).all()
    assert (prop(props, "asm") == 1).all() and (prop(props, "contrast") == 0).all()
    assert (prop(props, "imc1") == 0).all() and (prop(props, "imc2") == 0).all()
    assert (prop(props, "entropy") == 0).all()


def test_features_aggregate_mean_and_range_over_angles(texture_images):
    _, image = texture_images[1]
    per_angle = texture.glcm_features(image, aggregate="none")
    aggregated = texture.glcm_features(image)
    assert len(aggregated) == len(GLCM_PROPERTIES) * len(DISTANCES) * 2
    for d in DISTANCES:
        values = per_angle[[f"glcm_homogeneity_d{d}_a{a:03d}" for a in ANGLES]]
        assert aggregated[f"glcm_homogeneity_d{d}_mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert aggregated[f"glcm_homogeneity_d{d}_range"] == pytest.approx(np.ptp(values), rel=1e-12)


def test_features_of_a_rotated_image_keep_their_mean_over_angles(texture_images):
    # A quarter turn maps the 0/90 and 45/135 offsets onto each other.
    _, image = texture_images[2]
    features = texture.glcm_features(image)
    rotated = texture.glcm_features(np.rot90(image))
    np.testing.assert_allclose(rotated.filter(like="_mean"), features.filter(like="_mean"), rtol=1e-9)


def test_large_image_counted_in_bands_equals_scikit_image(texture_images, monkeypatch):
    _, image = texture_images[0]
    large = np.tile(image, (3, 2))  # 450 x 340
    monkeypatch.setattr(texture.glcm, "_BAND_PIXELS", 1 << 14)  # 48 rows: several bands per offset
    ref = skimage_glcm(quantize(large, 16), 16)
    np.testing.assert_allclose(glcm_matrices(large, DISTANCES, ANGLES, 16), ref, rtol=1e-12)


def test_repeated_and_oversized_offsets_are_counted_like_pixel_pairs():
    # At distance 1, 0 and 10 degrees give the same offset (0, 1); at
    # distance 7 no pair fits in the 6 columns, nor in the 5 rows at 90.
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (5, 6)).astype(np.uint8)
    q = quantize(image, 8)
    P = glcm_matrices(image, [1, 7], [0, 10, 90], 8)
    offsets = texture.glcm.glcm_offsets([1, 7], [0, 10, 90])
    for d in range(2):
        for a in range(3):
            dr, dc = offsets[d, a]
            counts = np.zeros((8, 8))
            for r in range(5):
                for c in range(6):
                    if 0 <= r + dr < 5 and 0 <= c + dc < 6:
                        counts[q[r, c], q[r + dr, c + dc]] += 1
                        counts[q[r + dr, c + dc], q[r, c]] += 1
            expected = counts / counts.sum() if counts.any() else counts
            np.testing.assert_allclose(P[d, a], expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(P[0, 0], P[0, 1])
    assert not P[1].any()


def test_offsets_are_chebyshev_steps():
    offsets = texture.glcm.glcm_offsets([1, 2, 4], [0, 45, 90, 135, 30])
    assert offsets[1].tolist() == [[0, 2], [2, 2], [2, 0], [2, -2], [1, 2]]
    # No two distances share an offset (scikit-image's rounding maps 1 and 2 to (1, 1) at 45 degrees).
    assert len({tuple(o) for o in offsets[:, :4].reshape(-1, 2).tolist()}) == 12


def _half_angles(distance):
    """Angles in [0, 180) where ``d sin a / m`` or ``d cos a / m`` is exactly a half: ``tan a = (k + 1/2) / d``."""
    base = [np.degrees(np.arctan((k + 0.5) / distance)) for k in range(distance)]
    return [a for b in base for a in (b, 90 - b, 90 + b, 180 - b)]


def test_offsets_round_halves_away_from_zero():
    # The three cases of the issue, where np.rint's halves to even gave (0, 1), (0, 2) and (2, 3).
    atan = lambda x: np.degrees(np.arctan(x))  # noqa: E731
    assert texture.glcm.glcm_offsets([1], [atan(1 / 2)]).tolist() == [[[1, 1]]]
    assert texture.glcm.glcm_offsets([2], [atan(1 / 4)]).tolist() == [[[1, 2]]]
    assert texture.glcm.glcm_offsets([3], [atan(5 / 6)]).tolist() == [[[3, 3]]]


@pytest.mark.parametrize("distance", range(1, 9))
def test_matrices_equal_scikit_image_at_every_angle(distance):
    # A dense grid of angles plus every angle where an offset is exactly a half:
    # each matrix is graycomatrix's at the distance d / max(|sin a|, |cos a|).
    angles = np.concatenate([np.arange(0, 180, 0.25), _half_angles(distance)])
    q = np.random.default_rng(distance).integers(0, 8, (2 * distance + 3, 2 * distance + 4)).astype(np.uint8)
    P = glcm_matrices(q / 7, [distance], angles, levels=8)[0]
    for a, ours in zip(np.deg2rad(angles), P):
        scaled = distance / max(abs(np.sin(a)), abs(np.cos(a)))
        expected = graycomatrix(q, [scaled], [a], 8, symmetric=True, normed=True)[:, :, 0, 0]
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15, err_msg=f"{np.degrees(a)} degrees")


@pytest.fixture(scope="module")
def counts():
    """scikit-image's own non-normalized test matrices (test_non_normalized_glcm), seeded: counts, not probabilities."""
    image = (np.random.default_rng(0).random((100, 100)) * 8).astype(np.uint8)
    return graycomatrix(image, [1, 2, 4, 5], [0, 0.25, 1, 1.5], levels=8)


def test_properties_of_counts_are_those_of_the_normalized_matrices(counts):
    # glcm_properties used to read counts as probabilities: correlation 0.9999999958,
    # contrast 101426 and entropy -72054 (scikit-image: 0.0101, 10.245, 4.155), with
    # an overflow warning; now it normalizes first, like graycoprops.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        props = glcm_properties(counts.transpose(2, 3, 0, 1))
    for ours, theirs in [("contrast", "contrast"), ("dissimilarity", "dissimilarity"),
                         ("homogeneity", "homogeneity"), ("asm", "ASM"), ("correlation", "correlation")]:
        np.testing.assert_allclose(prop(props, ours), graycoprops(counts, theirs), rtol=1e-10, err_msg=ours)
    np.testing.assert_allclose(prop(props, "entropy") * np.log(2), graycoprops(counts, "entropy"), rtol=1e-10)
    assert 10 < prop(props, "contrast").mean() < 11 and abs(prop(props, "correlation")).max() < 0.05
    normalized = counts / counts.sum(axis=(0, 1))
    np.testing.assert_allclose(props, glcm_properties(normalized.transpose(2, 3, 0, 1)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_properties_refuse_negative_or_non_finite_matrices(counts, bad):
    P = counts.transpose(2, 3, 0, 1).astype(np.float64)
    P[0, 0, 3, 4] = bad
    with pytest.raises(texture.ConfigError, match="non-negative, finite"):
        glcm_properties(P)


def test_all_zero_matrix_stays_zero():
    # An offset that does not fit in the image counts no pair: zeros, not NaN.
    props = glcm_properties(np.zeros((8, 8)))
    assert np.isfinite(props).all()


def skimage_masked_counts(q, inside, levels, offsets):
    """scikit-image's counts of the pairs with both pixels inside: outside pixels moved to a spare level.

    A pair with an outside pixel lands in the spare level's row or column,
    which is then dropped.
    """
    spare = np.where(inside, q, levels).astype(np.uint8)
    counts = []
    for dr, dc in offsets:
        # scikit-image's offset for distance d at angle a is (round(d sin a), round(d cos a)), rows downwards.
        distance, angle = float(np.hypot(dr, dc)), np.arctan2(dr, dc)
        full = graycomatrix(spare, [distance], [angle], levels + 1, symmetric=True)[:, :, 0, 0]
        counts.append(full[:levels, :levels])
    return np.array(counts, dtype=np.float64)


# 255 at most: scikit-image counts 8-bit levels, and the spare level needs one more.
@pytest.mark.parametrize("levels", [8, 32, 255])
def test_masked_pair_counts_equal_scikit_image_with_a_spare_level(texture_images, regions, levels):
    offsets = texture.glcm.glcm_offsets(DISTANCES, ANGLES).reshape(-1, 2)
    for _, image in texture_images:
        q = quantize(image, levels)
        for inside in regions(image.shape).values():
            ours = texture.glcm.glcm_pair_counts(q, offsets, levels, inside)
            np.testing.assert_array_equal(ours, skimage_masked_counts(q, inside, levels, offsets))


def test_masked_features_are_the_properties_of_the_masked_matrices(texture_images, regions):
    _, image = texture_images[1]
    inside = regions(image.shape)["ring"]
    offsets = texture.glcm.glcm_offsets(DISTANCES, ANGLES)
    counts = skimage_masked_counts(quantize(image, 32), inside, 32, offsets.reshape(-1, 2))
    P = (counts / counts.sum(axis=(1, 2), keepdims=True)).reshape(3, 4, 32, 32)
    expected = glcm_properties(P)
    features = texture.glcm_features(image, aggregate="none", mask=inside)
    np.testing.assert_allclose(features.to_numpy(), expected.ravel(), rtol=1e-10, atol=1e-12)


def test_full_mask_gives_exactly_the_unmasked_features(texture_images):
    for _, image in texture_images:
        for aggregate in ("mean_range", "none"):
            unmasked = texture.glcm_features(image, aggregate=aggregate)
            masked = texture.glcm_features(image, aggregate=aggregate, mask=np.ones(image.shape, bool))
            pd.testing.assert_series_equal(masked, unmasked, check_exact=True)


def test_rectangular_mask_gives_the_features_of_the_crop(texture_images):
    # Pairs with both pixels in a box are the pairs of the cropped image.
    _, image = texture_images[0]
    inside = np.zeros(image.shape, bool)
    inside[20:90, 35:140] = True
    masked = texture.glcm_features(image, mask=inside)
    np.testing.assert_allclose(masked, texture.glcm_features(image[20:90, 35:140]), rtol=1e-12, atol=1e-13)
    assert not np.allclose(masked, texture.glcm_features(image), rtol=1e-3)


def test_mask_without_a_pair_at_the_longest_offset_is_refused():
    image = np.random.default_rng(0).random((40, 40))
    inside = np.zeros(image.shape, bool)
    inside[5:35, 10:14] = True  # 4 columns: pairs at distance 4 only along the columns
    with pytest.raises(texture.MaskError, match=r"GLCM distance 4 at 0 degrees: 0 pixel pairs .* its 120 pixels"):
        texture.glcm_features(image, mask=inside)
    # The same strip is thick enough for distances up to 3.
    assert np.isfinite(texture.glcm_features(image, distances=[1, 3], mask=inside)).all()


# -- glcm_half_features: the co-occurrences of the half-scale image, every phase of its blocks --------


def half_resolution_counts(image, levels, inside=None):
    """Sum over the four phases (a, b) of scikit-image's counts of the half-resolution image of image[a:, b:].

    The half-resolution image is the 2 x 2 block means; with `inside`, a block counts when its four pixels
    are inside (the spare level `levels` marks the others, and its row and column are dropped).
    """
    total = 0
    for a in (0, 1):
        for b in (0, 1):
            crop = image[a:, b:]
            rows, cols = crop.shape[0] // 2 * 2, crop.shape[1] // 2 * 2
            blocks = crop[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2)
            half = 0.25 * (blocks[:, 0, :, 0] + blocks[:, 1, :, 0] + blocks[:, 0, :, 1] + blocks[:, 1, :, 1])
            q = quantize(half, levels)
            if inside is not None:
                whole = inside[a:, b:][:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).all(axis=(1, 3))
                q = np.where(whole, q, levels)
            total = total + skimage_glcm(q, levels + 1, normed=False)[..., :levels, :levels]
    return total


@pytest.mark.parametrize("levels", [8, 32])
def test_half_scale_features_are_those_of_the_four_half_resolution_images_pooled(texture_images, regions, levels):
    from texture.glcm import glcm_half_features

    for _, image in texture_images[:2]:
        image = image / 255.0
        for inside in [None, regions(image.shape)["blob"]]:
            counts = half_resolution_counts(image, levels, inside)
            matrices = counts / counts.sum(axis=(2, 3), keepdims=True)
            props = glcm_properties(matrices.reshape(-1, levels, levels)).reshape(-1, *counts.shape[:2])
            expected = np.stack([props.mean(axis=-1), np.ptp(props, axis=-1)], axis=-1).reshape(-1)
            ours = glcm_half_features(image, DISTANCES, ANGLES, levels, mask=inside)
            assert ours.index[0] == "glcmhalf_contrast_d1_mean"
            np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-9, atol=1e-12)


def test_half_scale_of_a_block_image_is_the_half_resolution_image():
    from texture.glcm import glcm_half_features, half_scale

    rng = np.random.default_rng(0)
    half = rng.random((20, 24))
    image = half.repeat(2, axis=0).repeat(2, axis=1)
    np.testing.assert_allclose(half_scale(image)[::2, ::2], half, rtol=1e-15)
    # The co-occurrences at distance d of the half-scale image pool the block image at 2 d: a wider reach
    # than glcm_features at the same distances, with another contrast.
    assert not np.allclose(glcm_half_features(image).to_numpy(), texture.glcm_features(image).to_numpy())


def test_half_scale_mask_without_a_pair_of_whole_blocks_is_refused():
    from texture.glcm import glcm_half_features

    image = np.random.default_rng(1).random((40, 40))
    inside = np.zeros(image.shape, bool)
    inside[5:35, 5:13] = True  # 8 columns: 7 block columns, none 8 apart (distance 4 at 0 degrees)
    assert texture.glcm_features(image, mask=inside).notna().all()
    with pytest.raises(texture.MaskError, match=r"half-scale GLCM distance 4 at 0 degrees"):
        glcm_half_features(image, mask=inside)
    with pytest.raises(texture.ImageTooSmallError):
        texture.extract_features(image[:9, :9], texture.FeatureConfig(families=("glcmhalf",)))
    assert texture.extract_features(image[:10, :10], texture.FeatureConfig(families=("glcmhalf",))).notna().all()
