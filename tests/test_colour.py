"""Colour features: the opponent channels, each family on a channel against the grey family, flat chroma."""

import warnings

import numpy as np
import pytest
from scipy import ndimage
from skimage import data
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern

import texture
from texture import FeatureConfig, FeatureExtractor, extract_features, read_image
from texture import colour
from texture.colour import (CHROMA_STEP, GLCM_CHROMA_RANGE, colour_statistics, half_resolution, opponent_channels,
                            chroma_to_unit, chroma_view)
from texture.gabor import gabor_kernel
from texture.features import REGISTRY
from texture.io import luminance, open_image
from texture.lbp import lbp_histogram

OPPONENT = FeatureConfig(colour="opponent")


@pytest.fixture(scope="module")
def rgb():
    """A colour photograph (scikit-image's coffee, CC0), non-square, 8-bit."""
    return np.ascontiguousarray(data.coffee()[100:220, 200:350])


def _independent_channels(rgb8, half=True):
    """o1 and o2 straight from the definition (in another arithmetic order than the library's), rounded.

    At half resolution (2 x 2 block means, odd last row/column dropped) unless `half` is False.
    """
    rgb = rgb8.astype(np.float64) / 255
    if half:
        m, n = rgb.shape[0] // 2, rgb.shape[1] // 2
        rgb = rgb[: 2 * m, : 2 * n].reshape(m, 2, n, 2, 3).mean(axis=(1, 3))
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return [np.round(c / CHROMA_STEP) * CHROMA_STEP for c in ((r - g) / np.sqrt(2), (r + g - 2 * b) / np.sqrt(6))]


def _block(vector, names, prefix):
    """The values of `vector` whose names start with `prefix`."""
    return vector[[k for k, name in enumerate(names) if name.startswith(prefix)]]


class TestOpponentChannels:
    def test_match_the_definition(self, rgb):
        o1, o2 = _independent_channels(rgb, half=False)
        channels = opponent_channels(read_image(rgb, colour=True))
        np.testing.assert_array_equal(channels[0], o1)
        np.testing.assert_array_equal(channels[1], o2)

    def test_half_resolution_averages_2x2_blocks(self, rgb):
        odd = read_image(rgb[:119, :149], colour=True)
        half = half_resolution(odd)
        assert half.shape == (59, 74, 3)
        np.testing.assert_allclose(half, odd[:118, :148].reshape(59, 2, 74, 2, 3).mean(axis=(1, 3)), atol=1e-15)

    def test_are_orthonormal_and_blind_to_grey(self):
        # The rows of the transform: unit length, orthogonal, and zero on R = G = B.
        # Pixel k of this 1 x 3 image is the unit colour e_k: the output holds the transform's rows.
        rows = opponent_channels(np.eye(3)[None])[:, 0, :]
        np.testing.assert_allclose(rows @ rows.T, np.eye(2), atol=1e-15)
        np.testing.assert_allclose(rows.sum(axis=1), 0, atol=1e-15)
        grey = np.repeat(np.linspace(0, 1, 7)[None, :, None], 3, axis=2)
        assert not opponent_channels(grey).any()

    def test_statistics_are_mean_and_std(self, rgb):
        o1, o2 = _independent_channels(rgb)
        expected = [o1.mean(), o1.std(), o2.mean(), o2.std()]
        np.testing.assert_allclose(colour_statistics(np.stack([o1, o2])), expected, rtol=1e-12)
        assert colour.colour_statistic_names() == ["o1_mean", "o1_std", "o2_mean", "o2_std"]


class TestQuantizeChroma:
    @pytest.mark.parametrize("levels", [8, 32, 256])
    def test_equal_bins_over_the_range_clipped_beyond(self, levels):
        h = GLCM_CHROMA_RANGE
        edges = -h + 2 * h * (np.arange(levels) + 0.5) / levels  # bin centres
        np.testing.assert_array_equal(texture.quantize(chroma_to_unit(edges[None]), levels)[0], np.arange(levels))
        outside = texture.quantize(chroma_to_unit(np.array([[-0.8, -h - 1e-9, h, 0.8]])), levels)
        np.testing.assert_array_equal(outside, [[0, 0, levels - 1, levels - 1]])
        assert texture.quantize(chroma_to_unit(np.zeros((1, 1))), levels)[0, 0] == levels // 2
        # Grey pixels whose chroma rounds a hair below 0 still fall on the middle level.
        assert texture.quantize(chroma_to_unit(np.full((1, 1), -1e-17)), levels)[0, 0] == levels // 2


class TestFamiliesOnChannels:
    """Each family on o1 and o2 equals the grey family applied to that channel, computed independently."""

    @pytest.fixture
    def colour_features(self, rgb):
        return extract_features(rgb, OPPONENT)

    @pytest.mark.parametrize("channel", [0, 1])
    def test_glcm(self, rgb, colour_features, channel):
        c = FeatureConfig()
        values = _independent_channels(rgb)[channel]
        h = GLCM_CHROMA_RANGE
        unit = np.clip((values + h) / (2 * h), 0, 1)
        q = texture.quantize(unit, c.glcm_levels)
        prefix = f"o{channel + 1}_glcm_"
        expected = texture.glcm_features(unit)  # the grey family, on the channel mapped onto [0, 1]
        names = [f"o{channel + 1}_{name}" for name in expected.index]
        assert [name for name in colour_features.index if name.startswith(prefix)] == names
        np.testing.assert_allclose(colour_features[names].to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-15)
        # The matrices themselves against scikit-image, through two of its properties.
        P = graycomatrix(q, [1], np.deg2rad(c.glcm_angles), c.glcm_levels, symmetric=True, normed=True)
        for prop in ("contrast", "correlation"):
            assert colour_features[f"{prefix}{prop}_d1_mean"] == pytest.approx(graycoprops(P, prop).mean(), rel=1e-9)

    @pytest.mark.parametrize("channel", [0, 1])
    def test_lbp_equals_scikit_image_on_the_channel(self, rgb, colour_features, channel):
        values = _independent_channels(rgb)[channel]
        for P, R in FeatureConfig().lbp_scales:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scikit-image warns about float images
                codes = local_binary_pattern(values, P, R, "uniform")
            prefix = f"o{channel + 1}_lbp_p{P}_r{R:g}_"
            got = _block(colour_features.to_numpy(), list(colour_features.index), prefix)
            np.testing.assert_array_equal(got, lbp_histogram(codes, P))

    @pytest.mark.parametrize("channel", [0, 1])
    def test_gabor_equals_spatial_convolution_of_the_channel(self, rgb, colour_features, channel):
        values = _independent_channels(rgb)[channel]
        c = FeatureConfig()
        for frequency in (0.1, 0.4):
            for theta in (0, 90):
                kernel = gabor_kernel(frequency, np.deg2rad(theta), c.gabor_bandwidth)
                response = ndimage.convolve(values, kernel.real, mode="wrap") + 1j * ndimage.convolve(
                    values, kernel.imag, mode="wrap"
                )
                name = f"o{channel + 1}_gabor_f{frequency:.2f}_t{theta:03d}"
                magnitude = np.abs(response)
                scale = magnitude.mean()
                assert abs(colour_features[f"{name}_mean"] - magnitude.mean()) < 1e-4 * scale
                assert abs(colour_features[f"{name}_std"] - magnitude.std()) < 1e-4 * scale


class TestColourVector:
    def test_grey_vector_plus_more_columns(self, rgb):
        grey = FeatureExtractor()
        extractor = FeatureExtractor(OPPONENT)
        n = len(grey.names)
        assert extractor.names[:n] == grey.names
        assert len(extractor.names) == 3 * n + 4 and len(set(extractor.names)) == len(extractor.names)
        assert extractor.names[n] == "o1_glcm_contrast_d1_mean" and extractor.names[-1] == "o2_std"
        assert "o1_lbp_p8_r1_riu2_bin03" in extractor.names and "o2_gabor_f0.10_t030_mean" in extractor.names
        vector = extractor.transform(read_image(rgb, colour=True))
        # The grey features keep their values, bit for bit.
        np.testing.assert_array_equal(vector[:n], grey.transform(read_image(rgb)))
        assert np.isfinite(vector).all()

    def test_family_subset_keeps_the_layout(self, rgb):
        config = FeatureConfig(families=("lbp",), colour="opponent")
        names = FeatureExtractor(config).names
        assert [name.split("_")[0] for name in names[:54]] == ["lbp"] * 54
        assert all(name.startswith("o1_lbp_") for name in names[54:108])
        full = extract_features(rgb, OPPONENT)
        np.testing.assert_array_equal(extract_features(rgb, config).to_numpy(), full[names].to_numpy())

    def test_config_round_trip_records_the_mode(self):
        assert FeatureConfig.from_dict(OPPONENT.to_dict()) == OPPONENT
        assert OPPONENT.to_dict()["colour"] == "opponent"
        legacy = FeatureConfig().to_dict()
        del legacy["colour"]  # written before colour existed
        assert FeatureConfig.from_dict(legacy).colour == "grey"

    @pytest.mark.parametrize("value", ["rgb", "Opponent", None, 1])
    def test_invalid_mode_is_refused(self, value):
        with pytest.raises(texture.ConfigError, match="colour"):
            FeatureConfig(colour=value)


class TestFlatChroma:
    def test_grey_image_gets_constant_finite_chroma_and_a_warning(self, rgb):
        grey = read_image(rgb)
        extractor = FeatureExtractor(OPPONENT)
        n = len(FeatureExtractor().names)
        with pytest.warns(texture.FlatChromaWarning, match="^grey image in colour mode") as record:
            vector = extractor.transform(grey)
            again = extractor.transform(grey[:60, :70])
        assert len(record) == 2 and all(w.message.paths == (None,) for w in record)  # each call, no file
        assert np.isfinite(vector).all()
        np.testing.assert_array_equal(vector[:n], FeatureExtractor().transform(grey))
        # The documented values: those of a zero channel of the image's own (half) size, whatever the size.
        zero = np.zeros((grey.shape[0] // 2, grey.shape[1] // 2))
        chroma = extractor._families(zero, view=chroma_view)
        np.testing.assert_array_equal(vector[n:], np.concatenate([chroma, chroma, np.zeros(4)]))
        np.testing.assert_array_equal(again[n:], vector[n:])
        names = extractor.names
        assert vector[names.index("o1_glcm_contrast_d1_mean")] == 0
        assert vector[names.index("o2_glcm_correlation_d4_mean")] == 1
        assert vector[names.index("o1_lbp_p8_r1_riu2_bin08")] == 1 and vector[names.index("o1_lbp_p8_r1_riu2_bin03")] == 0
        assert vector[names.index("o2_gabor_f0.05_t000_mean")] == 0

    def test_rgb_with_equal_planes_is_a_grey_image(self, rgb):
        grey = read_image(rgb)
        planes = np.repeat(grey[:, :, None], 3, axis=2)
        extractor = FeatureExtractor(OPPONENT)
        with pytest.warns(texture.FlatChromaWarning, match="grey image"):
            from_planes, from_grey = extractor.transform(planes), extractor.transform(grey)
        n = len(FeatureExtractor().names)
        # Its luminance is that of grey mode (a hair off the planes: the weights' sum rounds), its chroma flat.
        np.testing.assert_array_equal(from_planes[:n], FeatureExtractor().transform(planes))
        np.testing.assert_array_equal(from_planes[n:], from_grey[n:])

    def test_grey_file_names_the_file_in_the_warning(self, tmp_path):
        import cv2

        path = tmp_path / "grey.png"
        cv2.imwrite(str(path), (np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8))
        with pytest.warns(texture.FlatChromaWarning, match="grey.png: grey image in colour mode") as record:
            features_ = extract_features(path, OPPONENT)
        assert record[0].message.paths == (str(path),)
        assert np.isfinite(features_.to_numpy()).all()

    def test_python_shows_the_warning_once_per_file_and_a_colour_image_none(self, rgb):
        grey, extractor = read_image(rgb), FeatureExtractor(OPPONENT)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("default")  # Python's own: once per message and place
            for path in ["a.png", "a.png", "b.png"]:
                extractor.transform(grey, path=path)
            extractor.transform(read_image(rgb, colour=True), path="colour.png")
        assert [str(w.message).split(":")[0] for w in record] == ["a.png", "b.png"]
        assert all(w.category is texture.FlatChromaWarning for w in record)

    def test_the_warning_crosses_a_process_boundary(self):
        import pickle

        warning = pickle.loads(pickle.dumps(texture.FlatChromaWarning("a.png", "b.png", "a.png")))
        assert warning.paths == ("a.png", "b.png") and isinstance(warning, UserWarning)
        assert str(warning) == ("2 grey images read in colour mode (first: a.png): chroma features are constant "
                                "(those of flat chroma, the same for every grey image)")

    def test_a_feature_map_of_a_grey_image_warns_as_extract_features_does(self, rgb, tmp_path):
        import cv2

        grey, planes = read_image(rgb), np.repeat(read_image(rgb)[:, :, None], 3, axis=2)
        path = tmp_path / "grey.png"
        cv2.imwrite(str(path), (grey * 255).round().astype(np.uint8))
        for image, named in ((path, str(path)), (planes, None)):
            with pytest.warns(texture.FlatChromaWarning) as record:
                texture.feature_map(image, 32, 16, OPPONENT)
            assert [w.message.paths for w in record] == [(named,)]
        with warnings.catch_warnings():
            warnings.simplefilter("error", texture.FlatChromaWarning)
            texture.feature_map(rgb, 32, 16, OPPONENT)  # colour: no warning
            texture.feature_map(grey, 32, 16)  # grey mode: no warning


class TestColourMasks:
    def test_chroma_features_of_a_region_use_the_blocks_wholly_inside(self, rgb):
        extractor = FeatureExtractor(OPPONENT)
        image = read_image(rgb, colour=True)
        everything = np.ones(rgb.shape[:2], dtype=bool)
        np.testing.assert_array_equal(extractor.transform(image, mask=everything), extractor.transform(image))
        inside = np.zeros(rgb.shape[:2], dtype=bool)
        inside[:, :81] = True  # column 80 starts a block whose other half is outside
        vector = extractor.transform(image, mask=inside)
        o1, o2 = _independent_channels(rgb)
        blocks = np.s_[:, :40]
        expected = [o1[blocks].mean(), o1[blocks].std(), o2[blocks].mean(), o2[blocks].std()]
        np.testing.assert_allclose(vector[-4:], expected, rtol=1e-12)
        half = np.zeros(o1.shape, dtype=bool)
        half[blocks] = True
        n = len(FeatureExtractor().names)
        np.testing.assert_array_equal(vector[n : 2 * n], extractor._families(o1, half, chroma_view))

    def test_a_region_too_thin_for_the_chroma_channels_is_refused(self, rgb):
        inside = np.zeros(rgb.shape[:2], dtype=bool)
        inside[20:31, 20:120] = True  # 11 rows: enough at full resolution, 5 rows of blocks
        FeatureExtractor().transform(read_image(rgb), mask=inside)
        with pytest.raises(texture.MaskError, match="half resolution of the colour channels"):
            FeatureExtractor(OPPONENT).transform(read_image(rgb, colour=True), mask=inside)

    def test_training_copies_of_a_masked_colour_image(self, rgb):
        from pipeline.augment import N_TRAINING_COPIES, copy_features

        inside = np.zeros(rgb.shape[:2], dtype=bool)
        inside[10:100, 10:130] = True
        rows = copy_features(FeatureExtractor(OPPONENT), read_image(rgb, colour=True), mask=inside)
        assert rows.shape == (N_TRAINING_COPIES, len(FeatureExtractor(OPPONENT).names)) and np.isfinite(rows).all()


def test_feature_maps_of_a_colour_config_have_its_names(rgb):
    # The values against a brute-force reference: tests/test_maps.py.
    fmap = texture.feature_map(rgb, window=32, step=32, config=OPPONENT)
    assert fmap.names == texture.FeatureExtractor(OPPONENT).names
    assert np.isfinite(fmap.values).all()


@pytest.mark.parametrize("shape", [(119, 149), (64, 200)])
def test_chroma_of_a_stored_image_is_made_band_by_band_exactly_in_float32(monkeypatch, rgb, shape):
    whole = opponent_channels(half_resolution(read_image(rgb[:shape[0], :shape[1]], colour=True)))
    stored = open_image(rgb[:shape[0], :shape[1]])
    for band_pixels in (1, 700, 1 << 16):  # one half-resolution row, a few rows, the whole image
        monkeypatch.setattr(colour, "_BAND_PIXELS", band_pixels)
        chroma = colour.stored_chroma_channels(stored)
        assert chroma.dtype == np.float32
        np.testing.assert_array_equal(chroma.astype(np.float64), whole)


@pytest.mark.parametrize("masked", [False, True])
def test_colour_vector_is_the_whole_working_images_bit_for_bit(rgb, masked):
    """Made from the stored pixels, one chroma channel at a time, the vector is the one of the whole working colour
    image: the grey families on its luminance, each family on each chroma channel, their statistics."""
    config = FeatureConfig(colour="opponent")
    image = read_image(rgb, colour=True)
    inside = None
    if masked:
        inside = np.zeros(rgb.shape[:2], dtype=bool)
        inside[10:110, 5:140] = True
    half = None if inside is None else colour.half_resolution_mask(inside)
    channels = opponent_channels(half_resolution(image))

    def families(channel, region, view=lambda family, c: c):
        return [REGISTRY[f].vector(view(f, channel), config, region) for f in config.families]

    expected = np.concatenate(families(luminance(image), inside)
                              + [v for c in channels for v in families(c, half, chroma_view)]
                              + [colour_statistics(channels, half)])
    extractor = FeatureExtractor(config)
    for source in (rgb, image, open_image(rgb)):
        np.testing.assert_array_equal(extractor.transform(source, mask=inside), expected)
