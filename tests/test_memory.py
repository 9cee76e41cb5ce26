"""Memory per pixel of the feature families' whole-image paths, and that working in bands changes no result.

The peaks are traced numpy allocations (tracemalloc) on a 2048 x 2048 image,
in bytes per pixel beyond the working image itself (8 bytes per pixel).
Before the families worked in bands they added 9 (GLCM quantization), 12
(LBP's padded and scaled copies) and 26 (Gabor's whole-image transforms).
``benchmarks/memory.py --per-pixel`` measures whole extractions, traced and
resident.
"""

import tracemalloc

import numpy as np
import pytest

from texture import gabor, glcm, lbp, lpq

SIDE = 2048  # 4 megapixels: past Gabor's whole-image threshold, several LBP slabs


@pytest.fixture(scope="module")
def large():
    rng = np.random.default_rng(7)
    return np.ascontiguousarray(rng.integers(0, 256, (SIDE, SIDE)) / 255.0)


def _added_bytes_per_pixel(function, image):
    tracemalloc.start()
    try:
        function(image)
        return tracemalloc.get_traced_memory()[1] / image.size
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("family, function, limit", [
    ("glcm", lambda image: glcm._quantize(image, 32), 2.5),  # the uint8 levels, and 2 MiB bands
    ("lbp", lambda image: lbp._uniform_histograms(image, ((8, 1),)), 4),
    # Before its codes were counted band by band, "nri_uniform" added 30 (the padded and scaled copies, and
    # the int64 codes of each scale).
    ("lbp nri_uniform", lambda image: lbp._code_histograms(image, ((8, 1), (16, 2)), "nri_uniform"), 5),
    # Whole-image variances and bins: 25.
    ("lbpvar", lambda image: lbp.lbp_var_feature_vector(image, ((8, 1), (16, 2))), 8),
    ("gabor", lambda image: gabor.gabor_feature_vector(image, gabor.DEFAULT_FREQUENCIES, 6), 8),
    # Whole-image float64 block means and their sums: 17.
    ("glcmhalf", lambda image: glcm.glcm_half_feature_vector(image), 4),
    # Whole-image float32 planes and codes: 24.
    ("clbp", lambda image: lbp.clbp_feature_vector(image, ((8, 1), (16, 2))), 8),
    # Slabs of 8192 pixels: some 2 MiB of temporaries (0.5 per pixel here), whatever the image.
    ("lpq", lambda image: lpq.lpq_feature_vector(image), 1),
])
def test_families_add_a_few_bytes_per_pixel_to_a_large_image(large, family, function, limit):
    assert _added_bytes_per_pixel(function, large) < limit, family


def _smooth(shape, seed, levels=256):
    noise = np.random.default_rng(seed).random((shape[0] + 3, shape[1] + 3))
    smooth = (noise[:-3, :-3] + noise[3:, 3:] + noise[:-3, 3:] + noise[3:, :-3]) / 4
    return np.floor(smooth * (levels - 1) + 0.5) / (levels - 1)  # ties, as 8-bit images have


@pytest.mark.parametrize("shape, masked, levels", [((97, 211), False, 256), ((150, 64), True, 4), ((41, 300), True, 256)])
def test_lbp_slabs_give_the_whole_images_histograms_bit_for_bit(monkeypatch, shape, masked, levels):
    image = _smooth(shape, 1, levels)
    inside = np.random.default_rng(2).random(shape) > 0.3 if masked else None
    scales = ((8, 1), (16, 2), (24, 3))
    whole = lbp._uniform_histograms(image, scales, inside)
    for slab in (1, 1000, 5000):  # one row, a few rows, more rows than a circle's reach
        monkeypatch.setattr(lbp, "_SLAB_PIXELS", slab)
        np.testing.assert_array_equal(lbp._uniform_histograms(image, scales, inside), whole)


@pytest.mark.parametrize("method", ["nri_uniform", "ror", "default"])
@pytest.mark.parametrize("shape, masked", [((97, 211), False), ((41, 300), True)])
def test_lbp_code_histograms_in_slabs_are_those_of_the_whole_images_codes(monkeypatch, method, shape, masked):
    image = _smooth(shape, 5)
    inside = np.random.default_rng(6).random(shape) > 0.3 if masked else None
    scales = ((8, 1), (12, 2.5))
    whole = np.concatenate([lbp.lbp_histogram(lbp.lbp_codes(image, P, R, method), P, method, inside)
                            for P, R in scales])
    for slab in (1, 1000, 5000, 1 << 20):  # one row, a few rows, more rows than a circle's reach, all
        monkeypatch.setattr(lbp, "_SLAB_PIXELS", slab)
        np.testing.assert_array_equal(lbp.lbp_feature_vector(image, scales, method, inside), whole)


@pytest.mark.parametrize("shape, masked", [((97, 211), False), ((41, 300), True)])
def test_lbpvar_slabs_give_the_whole_images_histograms_bit_for_bit(monkeypatch, shape, masked):
    image = _smooth(shape, 8)
    inside = np.random.default_rng(9).random(shape) > 0.3 if masked else None
    scales = ((8, 1), (12, 2.5))
    whole = np.concatenate([np.bincount(bins.ravel() if inside is None else bins[inside], minlength=lbp.VAR_BINS)
                            for bins in lbp.lbp_var_responses(image, scales)]).astype(float)
    for slab in (1, 1000, 5000, 1 << 20):  # one row, a few rows, more rows than a circle's reach, all
        monkeypatch.setattr(lbp, "_SLAB_PIXELS", slab)
        counts = lbp.lbp_var_feature_vector(image, scales, inside) * (image.size if inside is None else inside.sum())
        np.testing.assert_allclose(counts, whole, rtol=0, atol=1e-9)


@pytest.mark.parametrize("shape", [(97, 211), (2, 300), (64, 3)])
def test_half_scale_levels_in_bands_are_those_of_the_whole_image(monkeypatch, shape):
    image = _smooth(shape, 15)
    whole = glcm._quantize(glcm.half_scale(image), 32)
    for band in (1, 1000, 1 << 20):  # one row, a few rows, all
        monkeypatch.setattr(glcm, "_QUANTIZE_PIXELS", band)
        np.testing.assert_array_equal(glcm._half_scale_levels(image, 32), whole)
        np.testing.assert_array_equal(glcm.glcm_half_levels(image, 32)[:-1, :-1], whole)


@pytest.mark.parametrize("shape, masked", [((97, 211), False), ((41, 300), True)])
def test_clbp_slabs_give_the_whole_images_codes_bit_for_bit(monkeypatch, shape, masked):
    image = _smooth(shape, 12)
    inside = np.random.default_rng(13).random(shape) > 0.3 if masked else None
    scales = ((8, 1), (12, 2.5), (24, 3))
    whole = [lbp.clbp_codes(image, P, R, inside) for P, R in scales]  # one slab: the image is small
    vector = lbp.clbp_feature_vector(image, scales, inside)
    for slab in (1, 1000, 5000):  # one row, a few rows, more rows than a circle's reach
        monkeypatch.setattr(lbp, "_SLAB_PIXELS", slab)
        for (P, R), (magnitude, centre) in zip(scales, whole):
            slabbed = lbp.clbp_codes(image, P, R, inside)
            np.testing.assert_array_equal(slabbed[0], magnitude)
            np.testing.assert_array_equal(slabbed[1], centre)
        np.testing.assert_array_equal(lbp.clbp_feature_vector(image, scales, inside), vector)


@pytest.mark.parametrize("shape, masked", [((300, 331), False), ((257, 640), True)])
def test_gabor_bands_agree_with_the_whole_image_transform(monkeypatch, shape, masked):
    image = _smooth(shape, 3)
    inside = np.random.default_rng(4).random(shape) > 0.4 if masked else None
    whole = gabor.gabor_feature_vector(image, gabor.DEFAULT_FREQUENCIES, 6, inside=inside)
    # Bands of (a DFT length of) 3 * 34 rows around 34 rows of context each way: many bands.
    monkeypatch.setattr(gabor, "_WHOLE_IMAGE_PIXELS", 0)
    monkeypatch.setattr(gabor, "_BAND_PIXELS", (0, 0))
    banded = gabor.gabor_feature_vector(image, gabor.DEFAULT_FREQUENCIES, 6, inside=inside)
    # Float32 transforms of other lengths: within 1e-5, far inside the 1e-4 the responses are good to.
    np.testing.assert_allclose(banded, whole, rtol=1e-5)


def test_training_copies_are_made_one_at_a_time(large):
    from pipeline.augment import copy_features, training_copies
    from texture import FeatureConfig, FeatureExtractor

    image = np.ascontiguousarray(large[:1024, :1024])
    extractor = FeatureExtractor(FeatureConfig(families=("lbp",), lbp_scales=((8, 1),)))
    copy_features(extractor, image[:64, :64])  # imports and caches: not per pixel
    # All four copies at once hold 2 + 0.5 + 1 + 1 images of 8 bytes per pixel: 36 (49 at the peak, measured).
    assert _added_bytes_per_pixel(lambda image: copy_features(extractor, image), image) < 36
    # The same copies and features as made all at once.
    np.testing.assert_array_equal(copy_features(extractor, image[:200, :300]),
                                  [extractor.transform(copy) for copy in training_copies(image[:200, :300])])


def test_colour_extraction_holds_the_stored_pixels_not_the_working_colour_image(tmp_path):
    """extract_features of an RGB file in colour: under 12 bytes per pixel at the peak, traced.

    The whole float64 working colour image alone took 24 (44 in all, measured): now the stored
    pixels (3), the float32 chroma (2) and one float64 channel (2) while the chroma features are made,
    then the stored pixels and the grey image (8) while it is converted, then the grey image alone.
    """
    from PIL import Image

    from texture import FeatureConfig, extract_features

    path = tmp_path / "rgb.png"
    rng = np.random.default_rng(11)
    Image.fromarray(rng.integers(0, 256, (SIDE, 3 * SIDE // 2, 3), dtype=np.uint8)).save(path, compress_level=0)
    config = FeatureConfig(families=("glcm",), colour="opponent")  # the family that adds least: the working images show
    extract_features(rng.random((64, 64, 3)), config)  # imports and caches: not per pixel
    tracemalloc.start()
    try:
        extract_features(path, config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / (SIDE * 3 * SIDE // 2) < 12, peak / (SIDE * 3 * SIDE // 2)


def test_colour_training_copies_are_made_from_the_stored_pixels(tmp_path):
    """Each copy is made from a working colour image made for it alone and dropped: 96 -> 75 traced bytes per
    pixel (the stored pixels 3, the working image 24 and the upscaled copy 48 while that copy is made)."""
    from PIL import Image

    from pipeline.augment import N_TRAINING_COPIES, copy_features
    from texture import FeatureConfig, FeatureExtractor, read_image
    from texture.io import open_image

    side, path = 1024, tmp_path / "rgb.png"
    rng = np.random.default_rng(14)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path, compress_level=0)
    extractor = FeatureExtractor(FeatureConfig(families=("glcm",), colour="opponent"))
    copy_features(extractor, rng.random((64, 64, 3)))  # imports and caches: not per pixel
    tracemalloc.start()
    try:
        rows = copy_features(extractor, open_image(path))
        peak = tracemalloc.get_traced_memory()[1] / side**2
    finally:
        tracemalloc.stop()
    assert peak < 85, peak
    assert rows.shape == (N_TRAINING_COPIES, len(extractor.names))
    # The same features as the copies of the whole working image.
    small = tmp_path / "small.png"
    Image.open(path).crop((0, 0, 300, 200)).save(small)
    np.testing.assert_array_equal(copy_features(extractor, open_image(small)),
                                  copy_features(extractor, read_image(small, colour=True)))


def test_a_colour_model_reads_files_as_stored_not_as_working_colour_images(tmp_path):
    """TextureModel.featurize of an RGB file in colour: under 12 bytes per pixel at the peak, traced, as the
    extractor alone (it read the whole float64 working colour image first: 24 bytes per pixel and more)."""
    from PIL import Image

    from pipeline import TextureModel
    from texture import FeatureConfig

    path = tmp_path / "rgb.png"
    rng = np.random.default_rng(12)
    Image.fromarray(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)).save(path, compress_level=0)
    model = TextureModel(FeatureConfig(families=("glcm",), colour="opponent"))
    model.featurize([rng.random((64, 64, 3))])  # imports and caches: not per pixel
    tracemalloc.start()
    try:
        model.featurize([path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / SIDE**2 < 12, peak / SIDE**2
