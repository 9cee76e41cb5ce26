"""Feature maps against a brute-force per-window reference with the same semantics."""

import numpy as np
import pandas as pd
import pytest
from skimage import data

import texture
from texture import FeatureConfig, extract_features, feature_map, read_image
from texture import lbp as lbp_module
from texture import maps
from texture.colour import chroma_view, half_resolution, opponent_channels
from texture.features import REGISTRY
from texture.gabor import gabor_feature_names, gabor_magnitudes, gabor_responses
from texture.glcm import (GLCM_PROPERTIES, glcm_feature_names, glcm_half_feature_names, glcm_offsets,
                          glcm_properties, half_scale, quantize)
from texture.lbp import (VAR_BINS, lbp_codes, lbp_feature_names, lbp_n_bins, lbp_var_feature_names,
                         local_variance, var_bins)
from texture.lpq import lpq_codes, lpq_feature_names, lpq_reach, lpqr_feature_names, rotation_orbits

# Small banks keep the brute-force reference quick; every option and every family with per-pixel
# responses, the optional ones too, is covered ("clbp" has whole-image thresholds: maps refuse it).
MAPPED = tuple(name for name, family in REGISTRY.items() if family.responses is not None)
SMALL = FeatureConfig(families=MAPPED, glcm_levels=16, glcm_distances=(1, 3), lbp_scales=((8, 1), (12, 2.5)),
                      gabor_frequencies=(0.1, 0.3), gabor_orientations=3, lbpvar_scales=((8, 1), (12, 2.5)))


def reference_map(image, window, step, config, seen=None):
    """Per window, the statistics of the whole image's per-pixel responses over the window's pixels, by loops.

    The grey features of `image`; with `seen` (family -> 2-D array), those of what each family sees instead.
    """
    c = config
    if seen is None:
        grey = read_image(image)
        magnitudes = np.abs(gabor_responses(grey, c.gabor_frequencies, c.gabor_orientations, c.gabor_bandwidth))
        seen = {"glcm": grey, "lbp": grey, "lbpvar": grey, "glcmhalf": grey, "lpq": grey, "lpqr": grey}
    else:  # a chroma channel, outside [0, 1]: gabor_responses would refuse it
        magnitudes = np.array([m.copy() for m in gabor_magnitudes(seen["gabor"], c.gabor_frequencies,
                                                                  c.gabor_orientations, c.gabor_bandwidth)])
    height, width = seen["lbp"].shape
    q = quantize(seen["glcm"], c.glcm_levels)
    # Half-scale GLCM: the level of the 2 x 2 block starting at each pixel (none on the last row and column).
    half = quantize(half_scale(seen["glcmhalf"]), c.glcm_levels)
    offsets = glcm_offsets(c.glcm_distances, c.glcm_angles)
    codes = {(P, R): lbp_codes(seen["lbp"], P, R, c.lbp_method).astype(int) for P, R in c.lbp_scales}
    # VAR bins of the whole image (local_variance is tested against scikit-image in test_lbp).
    var = {(P, R): var_bins(local_variance(seen["lbpvar"], P, R)) for P, R in c.lbpvar_scales}
    # LPQ codes of the whole image (tested against a brute force of the definition in test_lpq).
    lpq = lpq_codes(seen["lpq"], c.lpq_window)
    # Rotation orbits of the undecorrelated codes (the codes tested in test_lpq, the orbits there too).
    lpqr = rotation_orbits()[lpq_codes(seen["lpqr"], c.lpq_window, decorrelate=False)]
    rows, cols = (height - window) // step + 1, (width - window) // step + 1
    out = []
    for i in range(rows):
        for j in range(cols):
            y0, x0 = i * step, j * step
            box = (slice(y0, y0 + window), slice(x0, x0 + window))
            vector = {}
            # GLCM: pairs whose first pixel is in the window and partner in the image, counted both ways.
            props = np.empty((len(GLCM_PROPERTIES),) + offsets.shape[:2])
            for d in range(offsets.shape[0]):
                for a in range(offsets.shape[1]):
                    dr, dc = offsets[d, a]
                    y, x = np.mgrid[y0 : y0 + window, x0 : x0 + window].reshape(2, -1)
                    inside = (y + dr < height) & (x + dc >= 0) & (x + dc < width)
                    y, x = y[inside], x[inside]
                    counts = np.zeros((c.glcm_levels, c.glcm_levels))
                    np.add.at(counts, (q[y, x], q[y + dr, x + dc]), 1)
                    counts += counts.T
                    props[:, d, a] = glcm_properties(counts / counts.sum())
            names = iter(glcm_feature_names(c.glcm_distances, c.glcm_angles, c.glcm_aggregate))
            store(vector, names, props, c.glcm_aggregate)
            # Half-scale GLCM: pairs of blocks at twice the offsets, the first block starting in the window.
            for d in range(offsets.shape[0]):
                for a in range(offsets.shape[1]):
                    dr, dc = 2 * offsets[d, a]
                    y, x = np.mgrid[y0 : y0 + window, x0 : x0 + window].reshape(2, -1)
                    inside = ((y < height - 1) & (x < width - 1) & (y + dr < height - 1)
                              & (x + dc >= 0) & (x + dc < width - 1))
                    y, x = y[inside], x[inside]
                    counts = np.zeros((c.glcm_levels, c.glcm_levels))
                    np.add.at(counts, (half[y, x], half[y + dr, x + dc]), 1)
                    counts += counts.T
                    props[:, d, a] = glcm_properties(counts / counts.sum())
            store(vector, iter(glcm_half_feature_names(c.glcm_distances, c.glcm_angles, c.glcm_aggregate)),
                  props, c.glcm_aggregate)
            # LBP: histogram of the whole image's codes inside the window.
            names = iter(lbp_feature_names(c.lbp_scales, c.lbp_method))
            for P, R in c.lbp_scales:
                hist = np.bincount(codes[P, R][box].ravel(), minlength=lbp_n_bins(P, c.lbp_method)) / window**2
                for value in hist:
                    vector[next(names)] = value
            # VAR: histogram of the whole image's variance bins inside the window.
            names = iter(lbp_var_feature_names(c.lbpvar_scales))
            for P, R in c.lbpvar_scales:
                for value in np.bincount(var[P, R][box].ravel(), minlength=VAR_BINS) / window**2:
                    vector[next(names)] = value
            # LPQ: histogram of the whole image's codes inside the window.
            names = iter(lpq_feature_names(c.lpq_window))
            for value in np.bincount(lpq[box].ravel(), minlength=256) / window**2:
                vector[next(names)] = value
            names = iter(lpqr_feature_names(c.lpq_window))
            for value in np.bincount(lpqr[box].ravel(), minlength=64) / window**2:
                vector[next(names)] = value
            # Gabor: mean and standard deviation of the whole image's response magnitudes inside the window.
            stats = np.array([[m[box].mean(), m[box].std()] for m in magnitudes]).reshape(
                len(c.gabor_frequencies), c.gabor_orientations, 2)
            if c.gabor_aggregate == "rotation":
                stats = np.stack([stats.mean(axis=1), np.ptp(stats, axis=1)], axis=-1)
            names = gabor_feature_names(c.gabor_frequencies, c.gabor_orientations, c.gabor_aggregate)
            vector.update(zip(names, stats.ravel()))
            out.append([vector[name] for name in texture.FeatureExtractor(c).names if name in vector])
    return np.array(out).reshape(rows, cols, -1)


def store(vector, names, props, aggregate):
    """Put the GLCM properties (property, distance, angle) into `vector` under `names`, aggregated."""
    for p in range(props.shape[0]):
        for d in range(props.shape[1]):
            if aggregate == "mean_range":
                vector[next(names)] = props[p, d].mean()
                vector[next(names)] = props[p, d].max() - props[p, d].min()
            else:
                for a in range(props.shape[2]):
                    vector[next(names)] = props[p, d, a]


def assert_close(ours, reference):
    """Equal to 1e-6 (absolute, or relative for large values such as cluster prominence): float32 rounding."""
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def scene():
    """A non-square 8-bit image with two textures and a flat patch (exact LBP ties)."""
    image = np.concatenate([data.brick()[:70, :90], data.grass()[:70, :90]], axis=0).copy()
    image[10:30, 50:80] = 128
    return image


@pytest.mark.parametrize(
    "window, step, config",
    [
        (32, 16, SMALL),
        (24, 16, FeatureConfig(**{**SMALL.to_dict(), "glcm_aggregate": "none", "lbp_method": "nri_uniform",
                                  "gabor_aggregate": "rotation"})),
        (20, 15, SMALL),  # cells of gcd(20, 15) = 5 pixels
        (17, 9, SMALL),  # coprime: cells of one pixel
    ],
)
def test_every_family_equals_the_brute_force_reference(scene, window, step, config):
    fmap = feature_map(scene, window, step, config)
    reference = reference_map(scene, window, step, config)
    assert fmap.values.shape == reference.shape
    assert fmap.values.dtype == np.float32
    assert_close(fmap.values, reference)


def test_bands_and_blocks_do_not_change_the_map(scene, monkeypatch):
    whole = feature_map(scene, 24, 8, SMALL).values
    # Bands of a few window rows (each with its own context rows), count tables of a few cells.
    monkeypatch.setattr(maps, "_BAND_PIXELS", 40 * scene.shape[1])
    monkeypatch.setattr(maps, "_BAND_SPANS", 1)
    monkeypatch.setattr(maps, "_CELL_ENTRIES", 3000)
    assert len(list(maps._bands(maps.WindowGrid(scene.shape, 24, 8), 5))) > 3
    banded = feature_map(scene, 24, 8, SMALL).values
    assert_close(banded, whole)
    assert_close(banded, reference_map(scene, 24, 8, SMALL))


def test_bands_hold_at_most_their_window_budget_whatever_the_step(scene, monkeypatch):
    whole = feature_map(scene, 24, 4, SMALL).values
    grid = maps.WindowGrid(scene.shape, 24, 4)
    monkeypatch.setattr(maps, "_BAND_WINDOWS", 2 * grid.cols + 1)
    bands = list(maps._bands(grid, 5))
    assert max(last - first for first, last in bands) == 2
    assert bands[-1][1] == grid.rows
    assert_close(feature_map(scene, 24, 4, SMALL).values, whole)


def test_bands_of_a_wide_image_recompute_a_small_share_of_their_rows():
    # 2 Mi pixels of a 16000 px wide image are 131 rows: bands that short would each recompute
    # more rows (a window less a step, plus the context on both sides) than they map.
    window, step, context = 64, 16, 34
    grid = maps.WindowGrid((3000, 16000), window, step)
    bands = list(maps._bands(grid, context))
    assert [first for first, _ in bands] == list(range(0, grid.rows, bands[0][1]))
    own_rows = bands[0][1] * step
    assert (window - step + 2 * context) / own_rows < 1 / 3


@pytest.mark.parametrize("step", [8, 16, 32])
def test_bands_with_their_context_are_quick_transform_lengths(step):
    # Gabor transforms each band with its context as it is when no prime factor above 13 divides its
    # height; otherwise it would lengthen it (596 rows at step 16 without the choice: 675 transformed).
    window, context = 64, 34
    grid = maps.WindowGrid((4096, 4096), window, step)
    for first, last in list(maps._bands(grid, context))[:-1]:
        height = (last - first - 1) * step + window + 2 * context
        assert texture.gabor._transform_length(height, context) == height


def test_the_working_memory_of_a_map_does_not_grow_with_the_image(monkeypatch):
    """Streaming in bands of rows: beyond the map itself, an image eight times taller takes no more memory
    (traced numpy allocations; bands of 256 rows here, where a 256 px wide image would otherwise be one band)."""
    import tracemalloc

    monkeypatch.setattr(maps, "_BAND_PIXELS", 1 << 16)
    rng = np.random.default_rng(3)
    working = {}
    for height in (600, 4800):
        image = rng.integers(0, 256, (height, 256), dtype=np.uint8)
        feature_map(image, 32, 16, SMALL)  # the Gabor spectra of its bands' shapes, cached, are not working memory
        tracemalloc.start()
        try:
            values = feature_map(image, 32, 16, SMALL).values
            working[height] = tracemalloc.get_traced_memory()[1] - values.nbytes
        finally:
            tracemalloc.stop()
    assert working[4800] < 1.1 * working[600]


def test_lbp_codes_of_a_band_numbered_from_its_origin_are_the_whole_images(scene):
    grey = read_image(scene)
    for P, R in ((8, 1), (16, 2), (12, 2.5)):
        whole = lbp_codes(grey, P, R, "default")
        pad = lbp_module.lbp_reach([(P, R)])
        (band,) = lbp_module.lbp_responses(grey[40 - pad : 100 + pad], [(P, R)], "default", origin=40 - pad)
        np.testing.assert_array_equal(band[pad:-pad], whole[40:100])


def test_lpq_codes_of_a_band_with_its_context_are_the_whole_images(scene):
    grey = read_image(scene)
    grey[60:80, :] = 0.5  # flat rows: exact ties, at the band's edge
    for window in (3, 7, 9):
        whole = lpq_codes(grey, window)
        pad = lpq_reach(window)
        for first, last in ((0, 40), (40, 100), (57, 83), (120, 140)):
            low, high = max(first - pad, 0), min(last + pad, len(grey))
            (band,) = REGISTRY["lpq"].responses(grey[low:high], FeatureConfig(lpq_window=window), origin=low)
            np.testing.assert_array_equal(band[first - low : last - low], whole[first:last])


def test_a_window_covering_the_image_has_its_extract_features(scene):
    image = scene[40:130]  # 90 x 90: brick, grass and the flat patch
    fmap = feature_map(image, 90, 32)
    assert fmap.values.shape[:2] == (1, 1)
    assert fmap.names == list(extract_features(image).index)
    assert_close(fmap.values[0, 0], extract_features(image).to_numpy())


def test_interior_windows_are_near_extract_features_of_their_crop():
    """Context semantics: a window's border pixels read their true neighbours, where its crop reads zeros
    (LBP) or wraps around (Gabor) or loses the pairs leaving it (GLCM).  The stated distance (README), at
    window 64 on scikit-image's brick, the least regular of its textures: LBP histograms differ by at most
    twice the share of pixels within R + 1 of the window's border (L1, per scale); the median relative
    difference of a feature is about 2 % for GLCM, 11 % for LBP and Gabor."""
    image = data.brick()[:320, :320]
    window = 64
    fmap = feature_map(image, window, window)
    crops = np.array([[extract_features(image[y0:y1, x0:x1]).to_numpy() for y0, x0, y1, x1 in row]
                      for row in fmap.boxes[1:-1, 1:-1]])
    ours = fmap.values[1:-1, 1:-1].astype(np.float64)
    names = np.array(fmap.names)
    for P, R in FeatureConfig().lbp_scales:
        columns = np.char.startswith(names, f"lbp_p{P}_r{R:g}_")
        l1 = np.abs(ours[..., columns] - crops[..., columns]).sum(axis=-1)
        border = 1 - (window - 2 * (np.ceil(R) + 1)) ** 2 / window**2
        assert l1.max() <= 2 * border
    for family, bound in (("glcm", 0.03), ("lbp", 0.13), ("gabor", 0.13)):
        columns = np.char.startswith(names, family)
        relative = np.abs(ours[..., columns] - crops[..., columns]) / (np.abs(crops[..., columns]) + 1e-9)
        assert np.median(relative) <= bound, family


def test_geometry_and_frame(scene):
    fmap = feature_map(scene, 32, 16, SMALL)
    grid = fmap.grid
    assert (grid.rows, grid.cols) == ((140 - 32) // 16 + 1, (90 - 32) // 16 + 1)
    assert fmap.window == 32 and fmap.step == 16
    np.testing.assert_array_equal(fmap.boxes[2, 1], [32, 16, 64, 48])
    frame = fmap.to_frame()
    assert list(frame.columns[:6]) == ["row", "col", "y0", "x0", "y1", "x1"]
    assert list(frame.columns[6:]) == fmap.names
    assert len(frame) == grid.rows * grid.cols
    row = frame[(frame.row == 2) & (frame.col == 1)].iloc[0]
    assert (row.y0, row.x0, row.y1, row.x1) == (32, 16, 64, 48)
    np.testing.assert_array_equal(row[fmap.names].to_numpy(dtype=np.float32), fmap.values[2, 1])
    # Every pixel belongs to the window whose centre is nearest.
    nearest = grid.nearest(140, axis=0)
    assert nearest[0] == 0 and nearest[-1] == grid.rows - 1
    assert nearest[8 + 16 * 3] == 3  # the centre rows of window 3 are 56 .. 71


def test_file_input_and_colour(tmp_path, scene):
    import cv2

    path = tmp_path / "scene.png"
    cv2.imwrite(str(path), scene)
    assert_close(feature_map(path, 32, 16, SMALL).values, feature_map(scene, 32, 16, SMALL).values)
    rgb = np.repeat(scene[..., None], 3, axis=2)
    assert_close(feature_map(rgb, 32, 16, SMALL).values, feature_map(read_image(rgb), 32, 16, SMALL).values)


def test_bad_input_is_refused_with_a_clear_error(tmp_path, scene):
    with pytest.raises(texture.ImageTooSmallError, match="64 pixel window"):
        feature_map(scene[:50], 64, 32)
    with pytest.raises(texture.ConfigError, match="window must be at least"):
        feature_map(scene, 4, 4)
    for step in (0, 2.5, True):
        with pytest.raises(texture.ConfigError, match="step must be a positive integer"):
            feature_map(scene, 32, step)
    with pytest.raises(texture.ImageTooLargeError, match="raise max_pixels"):
        feature_map(scene, 32, 16, max_pixels=scene.size - 1)
    # The limit is the image's: a band with its rows of context may hold more pixels.
    assert feature_map(scene, 32, 16, SMALL, max_pixels=scene.size).values.shape[:2] == (7, 4)
    with pytest.raises(texture.InvalidImageError, match=r"span \[0.0313725, 1.81961\]"):
        feature_map(scene / 127.5, 32, 16)
    missing = tmp_path / "missing.png"
    with pytest.raises(texture.ImageNotFoundError, match="missing.png"):
        feature_map(missing)
    with pytest.raises(texture.InvalidImageError, match="shape"):
        feature_map(np.zeros((40, 40, 5)), 32, 16)


def test_to_frame_is_a_dataframe_of_floats(scene):
    frame = feature_map(scene, 32, 32, SMALL).to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame[frame.columns[6:]].dtypes.unique().tolist() == [np.float64]


def test_docstring_examples():
    import doctest

    assert doctest.testmod(maps).failed == 0


@pytest.fixture(scope="module")
def colour_scene():
    """An 8-bit RGB photograph with odd sides (the half-resolution channels drop a row and a column)."""
    return data.astronaut()[101:200, 151:270].copy()


def test_a_colour_map_equals_the_brute_force_reference_on_luminance_and_each_chroma_channel(colour_scene,
                                                                                          monkeypatch):
    config = FeatureConfig(**{**SMALL.to_dict(), "colour": "opponent", "gabor_aggregate": "rotation"})
    fmap = feature_map(colour_scene, 32, 16, config)
    assert fmap.names == texture.FeatureExtractor(config).names
    monkeypatch.setattr(maps, "_BAND_WINDOWS", fmap.values.shape[1])  # one row of windows per band
    assert_close(feature_map(colour_scene, 32, 16, config).values, fmap.values)
    channels = opponent_channels(half_resolution(read_image(colour_scene, colour=True)))
    # Chroma: the same windows at half resolution (16 px every 8), each family seeing the channel its way.
    parts = [reference_map(colour_scene, 32, 16, config)]
    parts += [reference_map(None, 16, 8, config, {f: chroma_view(f, channel) for f in MAPPED})
              for channel in channels]
    stats = np.array([[[s for channel in channels for s in (channel[i:i + 16, j:j + 16].mean(),
                                                             channel[i:i + 16, j:j + 16].std())]
                       for j in range(0, channels.shape[2] - 15, 8)] for i in range(0, channels.shape[1] - 15, 8)])
    assert_close(fmap.values, np.concatenate(parts + [stats], axis=-1))


def test_a_grey_image_in_colour_has_the_flat_chroma_of_extract_features(scene):
    config = FeatureConfig(**{**SMALL.to_dict(), "colour": "opponent"})
    with pytest.warns(texture.FlatChromaWarning, match="flat chroma"):
        fmap = feature_map(scene, 32, 16, config)
    with pytest.warns(texture.FlatChromaWarning, match="flat chroma"):
        whole = texture.FeatureExtractor(config).transform(read_image(scene[:32, :32]))
    n_grey = len(texture.FeatureExtractor(SMALL).names)
    assert_close(fmap.values[..., n_grey:], np.broadcast_to(whole[n_grey:], fmap.values[..., n_grey:].shape))


def test_a_colour_map_needs_an_even_window_and_step(colour_scene):
    config = FeatureConfig(**{**SMALL.to_dict(), "colour": "opponent"})
    with pytest.raises(texture.ConfigError, match="even window and step"):
        feature_map(colour_scene, 32, 15, config)
