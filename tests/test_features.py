"""The configurable extractor: names, config round trip, input containers and sizes."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

import texture
from texture import FeatureConfig, FeatureExtractor, extract_features
from texture.features import DEFAULT_FAMILIES, FAMILIES, REGISTRY
from texture.lpq import lpqr_features


@pytest.fixture(scope="module")
def image(texture_images):
    return texture_images[0][1]


def test_names_are_stable_unique_and_prefixed():
    names = FeatureExtractor().names
    assert names == FeatureExtractor(FeatureConfig()).names
    assert len(set(names)) == len(names)
    assert names[0] == "glcm_contrast_d1_mean"
    assert "lbp_p8_r1_riu2_bin03" in names and "gabor_f0.10_t030_mean" in names
    prefixes = [name.split("_")[0] for name in names]
    assert prefixes == sorted(prefixes, key=["glcm", "lbp", "gabor", "lpqr"].index)


def test_extract_features_concatenates_the_families(image):
    features = extract_features(image)
    assert isinstance(features, pd.Series) and features.dtype == np.float64
    assert list(features.index) == FeatureExtractor().names
    expected = pd.concat([texture.glcm_features(image), texture.lbp_features(image), texture.gabor_features(image),
                          lpqr_features(image)])
    pd.testing.assert_series_equal(features, expected, check_exact=False, rtol=1e-12)


def test_transform_is_the_same_vector(image):
    extractor = FeatureExtractor()
    working = texture.read_image(image)
    vector = extractor.transform(working)
    assert vector.shape == (len(extractor.names),) and vector.dtype == np.float64
    np.testing.assert_array_equal(vector, extract_features(image).to_numpy())
    # Repeated calls reuse cached spectra and give the same bits.
    np.testing.assert_array_equal(extractor.transform(working), vector)


def test_family_subset_is_a_slice_of_the_full_vector(image):
    full = extract_features(image)
    config = FeatureConfig(families=("lbp", "gabor"), gabor_aggregate="none")
    part = extract_features(image, config)
    assert all(name.startswith(("lbp_", "gabor_")) for name in part.index)
    pd.testing.assert_series_equal(part, full[part.index])


def test_path_and_array_give_the_same_features(image, tmp_path):
    path = tmp_path / "texture.png"
    cv2.imwrite(str(path), image)
    from_path = extract_features(path)
    pd.testing.assert_series_equal(from_path, extract_features(image))
    pd.testing.assert_series_equal(extract_features(str(path)), from_path)


def test_uint16_and_rgb_inputs(image):
    wide = image.astype(np.uint16) * 257  # the same grey levels on 16 bits
    narrow_features, wide_features = extract_features(image), extract_features(wide)
    lbp = narrow_features.index.str.startswith("lbp_")
    pd.testing.assert_series_equal(wide_features[~lbp], narrow_features[~lbp], check_exact=False, rtol=1e-9, atol=1e-12)
    # LBP decides ties between equal grey levels by the last bit of the
    # interpolation (like scikit-image), and v / 255 and 257 v / 65535 round
    # differently: a few tie pixels move between bins.
    np.testing.assert_allclose(wide_features[lbp], narrow_features[lbp], atol=5e-3)
    rgb = np.dstack([image, image, image])
    pd.testing.assert_series_equal(extract_features(rgb), extract_features(texture.read_image(rgb)))
    # Equal channels give the grey image back, up to rounding of the weights.
    pd.testing.assert_series_equal(extract_features(rgb).filter(like="glcm_"), extract_features(image).filter(like="glcm_"))


def test_flat_image_gives_finite_features():
    for value in (0, 128, 255):
        features = extract_features(np.full((32, 40), value, dtype=np.uint8))
        assert np.isfinite(features).all()
        assert features["glcm_correlation_d1_mean"] == 1.0


def test_smallest_allowed_image_and_smaller():
    config = FeatureConfig()
    size = config.min_image_size
    assert size == 7  # LBP radius 3 needs 7 pixels; GLCM distance 4 needs 5
    rng = np.random.default_rng(0)
    tiny = rng.integers(0, 256, (size, size + 3), dtype=np.uint8)
    assert np.isfinite(extract_features(tiny)).all()
    with pytest.raises(texture.ImageTooSmallError):
        extract_features(tiny[:, : size - 1])
    assert FeatureConfig(families=("glcm",), glcm_distances=(1,)).min_image_size == 2


def test_config_round_trips_through_json():
    config = FeatureConfig(
        families=("gabor", "glcm"), glcm_levels=16, glcm_angles=(0, 90), lbp_scales=((8, 1.5),),
        gabor_frequencies=(0.1, 0.3), gabor_orientations=4, gabor_aggregate="rotation",
    )
    again = FeatureConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and hash(again) == hash(config)
    assert FeatureConfig.from_dict({}) == FeatureConfig()
    assert FeatureExtractor(again).names == FeatureExtractor(config).names


@pytest.mark.parametrize(
    "field, value",
    [
        ("families", ("glcm", "sift")),
        ("glcm_levels", 4),
        ("glcm_distances", (0,)),
        ("glcm_angles", (180,)),
        ("glcm_aggregate", "max"),
        ("lbp_scales", ((8, 0),)),
        ("lbp_method", "var"),
        ("gabor_frequencies", (0.7,)),
        ("gabor_orientations", 0),
        ("gabor_bandwidth", -1.0),
        ("gabor_aggregate", "mean"),
        ("glcm_distances", (1, 2, 1)),
        ("gabor_frequencies", (0.1, 0.1)),
    ],
)
def test_invalid_config_names_the_field(field, value):
    with pytest.raises(texture.ConfigError, match=field):
        FeatureConfig(**{field: value})


def test_unknown_config_field_is_refused():
    with pytest.raises(texture.ConfigError, match="glcm_level"):
        FeatureConfig.from_dict({"glcm_level": 32})


def test_every_registered_family_names_its_values_and_fits_its_minimum():
    config = FeatureConfig()
    rng = np.random.default_rng(0)
    for name, family in REGISTRY.items():
        names = family.names(config)
        assert names and all(n.startswith(name + "_") for n in names)
        size = family.min_size(config)
        image = rng.random((size, size + 1))
        assert family.vector(image, config).shape == (len(names),)
    assert FAMILIES == tuple(REGISTRY)
    assert FeatureConfig().families == DEFAULT_FAMILIES and set(DEFAULT_FAMILIES) < set(FAMILIES)
