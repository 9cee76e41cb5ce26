"""Regions of interest: reading masks, refusing bad ones, and masked extraction through extract_features."""

import cv2
import numpy as np
import pandas as pd
import pytest

import texture
from texture import FeatureConfig, extract_features, read_mask
from texture.lpq import lpqr_features


@pytest.fixture(scope="module")
def image(texture_images):
    return texture_images[0][1]


@pytest.fixture(scope="module")
def disk(image, regions):
    return regions(image.shape)["disk"]


def test_every_container_of_the_same_region_reads_the_same(disk, tmp_path):
    path = tmp_path / "mask.png"
    cv2.imwrite(str(path), disk.astype(np.uint8) * 255)
    rgb = tmp_path / "mask_rgb.png"
    cv2.imwrite(str(rgb), np.dstack([disk.astype(np.uint8) * 7] * 3))  # any non-zero colour is inside
    containers = [disk, disk.astype(np.uint8), disk * 3.5, disk.astype(np.int64) * -2, str(path), path, rgb]
    for mask in containers:
        inside = read_mask(mask, disk.shape)
        assert inside.dtype == bool and inside.flags.c_contiguous
        np.testing.assert_array_equal(inside, disk)


def test_mask_of_another_shape_is_refused_naming_both_shapes(disk, tmp_path):
    path = tmp_path / "small_mask.png"
    cv2.imwrite(str(path), np.full((10, 12), 255, np.uint8))
    with pytest.raises(texture.MaskError, match=rf"^{path}: mask is 10 x 12 pixels but its image is 150 x 170"):
        read_mask(path, disk.shape)
    with pytest.raises(texture.MaskError, match="^image.png: mask is 150 x 169"):
        read_mask(disk[:, 1:], disk.shape, path="image.png")


def test_empty_mask_is_refused(disk):
    for empty in (np.zeros(disk.shape, bool), np.zeros(disk.shape)):
        with pytest.raises(texture.MaskError, match="mask is empty"):
            read_mask(empty, disk.shape)


def test_unreadable_mask_file_is_refused_naming_it(disk, tmp_path):
    garbage = tmp_path / "mask.png"
    garbage.write_bytes(b"not a png at all")
    with pytest.raises(texture.MaskError, match=rf"^{garbage}: cannot read the mask: not a recognised image"):
        read_mask(garbage, disk.shape)
    missing = tmp_path / "missing.png"
    with pytest.raises(texture.MaskError, match=rf"^{missing}: cannot read the mask: no such file"):
        read_mask(missing, disk.shape)


def test_nan_and_malformed_masks_are_refused(disk):
    with pytest.raises(texture.MaskError, match="NaN or infinite"):
        read_mask(np.where(disk, np.nan, 0.0), disk.shape)
    with pytest.raises(texture.MaskError, match="cannot read the mask"):
        read_mask(np.ones((3, 4, 5)), disk.shape)


def test_mask_errors_are_texture_and_value_errors():
    assert issubclass(texture.MaskError, texture.TextureError)
    assert issubclass(texture.MaskError, ValueError)


class TestExtractFeatures:
    def test_full_mask_gives_exactly_the_unmasked_features(self, texture_images):
        for _, image in texture_images:
            unmasked = extract_features(image)
            pd.testing.assert_series_equal(extract_features(image, mask=np.ones(image.shape, bool)), unmasked,
                                           check_exact=True)

    def test_masked_vector_is_the_families_masked_features_in_order(self, image, disk):
        features = extract_features(image, mask=disk)
        parts = [texture.glcm_features(image, mask=disk), texture.lbp_features(image, mask=disk),
                 texture.gabor_features(image, mask=disk), lpqr_features(image, mask=disk)]
        pd.testing.assert_series_equal(features, pd.concat(parts), check_exact=True)
        assert not np.allclose(features, extract_features(image), rtol=1e-3)

    def test_mask_file_and_image_file_give_the_array_features(self, image, disk, tmp_path):
        cv2.imwrite(str(tmp_path / "image.png"), image)
        cv2.imwrite(str(tmp_path / "mask.png"), disk.astype(np.uint8) * 255)
        pd.testing.assert_series_equal(extract_features(tmp_path / "image.png", mask=tmp_path / "mask.png"),
                                       extract_features(image, mask=disk), check_exact=True)

    def test_too_thin_mask_names_the_family_and_the_file(self, image, tmp_path):
        strip = np.zeros(image.shape, bool)
        strip[10:100, 50:54] = True
        cv2.imwrite(str(tmp_path / "image.png"), image)
        with pytest.raises(texture.MaskError, match=rf"^{tmp_path / 'image.png'}: mask too small or thin for GLCM"):
            extract_features(tmp_path / "image.png", mask=strip)
        cv2.imwrite(str(tmp_path / "strip.png"), strip.astype(np.uint8))
        lbp_only = FeatureConfig(families=("lbp",))
        with pytest.raises(texture.MaskError, match=rf"^{tmp_path / 'strip.png'}: mask too small or thin for LBP"):
            extract_features(image, lbp_only, mask=tmp_path / "strip.png")
        # Gabor statistics exist for any non-empty region.
        gabor_only = FeatureConfig(families=("gabor",))
        assert extract_features(image, gabor_only, mask=strip).notna().all()

    def test_names_do_not_change_with_a_mask(self, image, disk):
        config = FeatureConfig(glcm_aggregate="none", gabor_aggregate="rotation", lbp_method="nri_uniform")
        assert list(extract_features(image, config, mask=disk).index) == list(extract_features(image, config).index)


def test_docstring_examples_run():
    import doctest

    import texture.masks

    assert doctest.testmod(texture.masks).failed == 0


def test_lbp_and_gabor_of_a_box_mask_are_those_of_the_feature_map_window(texture_images):
    # One semantics for regions: the whole image's codes and responses, summed over the region's pixels.
    # (GLCM differs on purpose: a mask counts the pairs with both pixels inside, a window those of its first.)
    from texture.maps import feature_map

    image = texture_images[1][1][:96, :120]
    config = FeatureConfig(families=("lbp", "gabor"))
    features = feature_map(image, window=48, step=24, config=config)
    for i, j in [(0, 0), (1, 2), (2, 3)]:
        y0, x0, y1, x1 = features.boxes[i, j]
        box = np.zeros(image.shape, bool)
        box[y0:y1, x0:x1] = True
        np.testing.assert_allclose(features.values[i, j], extract_features(image, config, mask=box), rtol=1e-4,
                                   atol=1e-6)
