"""Label and score maps (pipeline.maps, TextureModel.score_map / fit_regions / window=)."""

import cv2
import numpy as np
import pytest
from skimage import data

import texture
from pipeline import BPClassifier, BPRegressor, TextureMap, TextureModel
from pipeline.maps import PALETTE, pure_windows, read_regions
from texture import FeatureConfig, feature_map

CONFIG = FeatureConfig(glcm_levels=16, glcm_distances=(1, 2), lbp_scales=((8, 1), (16, 2)),
                       gabor_frequencies=(0.1, 0.25), gabor_orientations=4)


def small_network(**kwargs):
    return BPClassifier(hidden_layer_sizes=(16,), epochs=80, random_state=0, **kwargs)


@pytest.fixture(scope="module")
def textures():
    return data.brick(), data.grass()


@pytest.fixture(scope="module")
def scene(textures):
    """512 x 512: brick on the left half, grass on the right."""
    brick, grass = textures
    return np.concatenate([brick[:, :256], grass[:, 256:]], axis=1)


@pytest.fixture(scope="module")
def model(textures):
    brick, grass = textures
    images = [brick[:256, :256], brick[256:, 256:], grass[:256, :256], grass[256:, 256:]]
    return TextureModel(CONFIG, augment=False, window=64, estimator=small_network()).fit(
        images, ["brick", "brick", "grass", "grass"])


def test_window_model_trains_on_windows_and_records_the_window(model, textures, monkeypatch):
    assert model.window_ == 64
    assert "window=64" in repr(model)
    seen = {}
    original = TextureModel.fit_features

    def spy(self, X, labels, **kwargs):
        seen["X"], seen["labels"] = X, labels
        return original(self, X, labels, **kwargs)

    monkeypatch.setattr(TextureModel, "fit_features", spy)
    brick, grass = textures
    TextureModel(CONFIG, augment=False, window=64, estimator=small_network()).fit(
        [brick[:256, :256], grass[:128, :192]], ["brick", "grass"])
    # Windows of 64 every 32 px: 7 x 7 of the first image, 3 x 5 of the second, each with its image's label.
    assert len(seen["X"]) == 49 + 15
    assert list(seen["labels"]) == ["brick"] * 49 + ["grass"] * 15
    np.testing.assert_allclose(seen["X"][:49], feature_map(brick[:256, :256], 64, 32, CONFIG).values.reshape(49, -1))
    # With training copies, the windows of each copy too (the shrunk 181 px copy gives 4 x 4).
    TextureModel(CONFIG, window=64, estimator=small_network()).fit(
        [brick[:256, :256], grass[:256, :256]], ["brick", "grass"])
    assert len(seen["X"]) > 2 * (49 + 16)


def test_score_map_labels_every_window(model, scene):
    tmap = model.score_map(scene)
    assert isinstance(tmap, TextureMap)
    assert (tmap.grid.window, tmap.grid.step) == (64, 32)  # the model's window, half of it as step
    grid = tmap.grid
    # The geometry reads as on a FeatureMap.
    assert (tmap.window, tmap.step) == (64, 32)
    np.testing.assert_array_equal(tmap.boxes, grid.boxes)
    assert tmap.boxes[1, 2].tolist() == [32, 64, 96, 128]
    assert tmap.labels.shape == tmap.confidence.shape == (grid.rows, grid.cols) == (15, 15)
    assert tmap.probabilities.shape == (15, 15, 2)
    np.testing.assert_allclose(tmap.probabilities.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(tmap.confidence, tmap.probabilities.max(axis=-1))
    np.testing.assert_array_equal(tmap.labels, np.array(tmap.classes)[tmap.probabilities.argmax(axis=-1)])
    assert tmap.value is None  # class names are not numbers
    # The same numbers as the network on the feature map's vectors.
    fmap = feature_map(scene, 64, 32, CONFIG)
    expected = model.estimator_.predict_proba(model.scaler_.transform(fmap.values.reshape(225, -1)))
    np.testing.assert_allclose(tmap.probabilities.reshape(225, -1), expected)
    # Windows wholly inside one half are labelled with its texture.
    x0 = grid.boxes[0, :, 1]
    left, right = x0 + 64 <= 256, x0 >= 256
    accuracy = np.concatenate([tmap.labels[:, left].ravel() == "brick", tmap.labels[:, right].ravel() == "grass"])
    assert accuracy.mean() >= 0.95
    fractions = tmap.area_fractions()
    assert sum(fractions.values()) == pytest.approx(1.0)
    assert fractions["brick"] == pytest.approx(0.5, abs=0.1)


def test_score_map_window_and_step_override_the_model(model, scene):
    tmap = model.score_map(scene, window=96, step=48)
    assert (tmap.grid.rows, tmap.grid.cols) == ((512 - 96) // 48 + 1,) * 2
    untrained_window = TextureModel(CONFIG, augment=False, estimator=small_network())
    untrained_window.fit([scene[:200, :200], scene[:200, -200:]], ["brick", "grass"])
    assert untrained_window.window_ is None
    assert untrained_window.score_map(scene).grid.window == 64  # the documented default


def test_numeric_classes_give_a_score_map(textures):
    brick, grass = textures
    images = [brick[:256, :256], grass[:256, :256]]
    model = TextureModel(CONFIG, augment=False, window=64, estimator=small_network()).fit(images, [1, 3])
    tmap = model.score_map(np.concatenate([brick[:256, :256], grass[:256, :256]], axis=1))
    np.testing.assert_allclose(tmap.value, tmap.probabilities @ np.array([1.0, 3.0]))
    regressor = TextureModel(CONFIG, augment=False, window=64,
                             estimator=BPRegressor(hidden_layer_sizes=(8,), epochs=30, random_state=0))
    regressor.fit(images, [1.0, 3.0])
    rmap = regressor.score_map(brick[:256, :256])
    assert rmap.labels is None and rmap.probabilities is None and rmap.value.shape == (7, 7)
    picture = rmap.overlay()
    assert picture.dtype == np.uint8 and picture.shape[0] == 256


def test_the_window_survives_save_and_load(model, scene, tmp_path):
    path = tmp_path / "map_model.npz"
    model.save(path)
    loaded = TextureModel.load(path)
    assert loaded.window_ == 64
    np.testing.assert_array_equal(loaded.score_map(scene).probabilities, model.score_map(scene).probabilities)


def test_overlay_blends_class_colours_and_draws_a_legend(model, scene):
    tmap = model.score_map(scene)
    picture = tmap.overlay(alpha=0.5)
    assert picture.dtype == np.uint8 and picture.shape[0] == 512 and picture.shape[1] > 512
    rows, cols = tmap.pixel_windows((512, 512))
    k = tmap.label_index[rows[100], cols[100]]
    expected = np.round(0.5 * scene[100, 100] + 0.5 * PALETTE[k].astype(float))
    np.testing.assert_allclose(picture[100, 100], expected, atol=1)
    legend = picture[:, 512:]
    for k in range(len(tmap.classes)):  # a swatch of every class colour
        assert (legend == PALETTE[k]).all(axis=-1).sum() >= 100
    np.testing.assert_array_equal(tmap.overlay(alpha=0)[:, :512, 0], scene)
    with pytest.raises(texture.ConfigError, match="alpha"):
        tmap.overlay(alpha=2)


def _colours(values, colormap):
    """RGB colours of values in [0, 1] in an OpenCV colour map, as the heat maps draw them."""
    scaled = np.uint8(np.round(255 * np.asarray(values)))
    return cv2.applyColorMap(scaled.reshape(1, -1), colormap)[0, :, ::-1].reshape(np.shape(values) + (3,))


@pytest.fixture(scope="module")
def graded(textures):
    """A window model with numeric classes: brick is grade 1, grass grade 3."""
    brick, grass = textures
    return TextureModel(CONFIG, augment=False, window=64, estimator=small_network()).fit(
        [brick[:256, :256], grass[:256, :256]], [1, 3])


def test_heat_maps_colour_each_window_and_draw_a_colour_bar(model, graded, scene, textures):
    tmap = model.score_map(scene)
    picture = tmap.heat_map("confidence")
    assert picture.dtype == np.uint8 and picture.shape[0] == 512 and picture.shape[1] > 512
    rows, cols = tmap.pixel_windows((512, 512))
    # Confidence on its full scale, 0 to 1 (inferno).
    expected = _colours(tmap.confidence[rows[:, None], cols[None, :]], cv2.COLORMAP_INFERNO)
    np.testing.assert_array_equal(picture[:, :512], expected)
    bar = picture[:, 512:]
    for end in (0.0, 1.0):  # the bar runs from one end of the scale to the other
        assert (bar == _colours(end, cv2.COLORMAP_INFERNO)).all(axis=-1).sum() >= 10
    assert (bar < 128).all(axis=-1).sum() > 200  # text: the title and the numbers of the scale
    with pytest.raises(texture.ConfigError, match="no value: its classes are not numbers"):
        tmap.heat_map("value")
    with pytest.raises(texture.ConfigError, match="quantity"):
        tmap.heat_map("labels")

    # A score on the scale of the class values, 1 to 3: a window scored 2 is half way.
    brick, grass = textures
    small = np.concatenate([brick[:96, :96], grass[:96, :96]], axis=1)
    smap = graded.score_map(small, step=16)
    picture = smap.heat_map("value")
    rows, cols = smap.pixel_windows(small.shape)
    expected = _colours((smap.value[rows[:, None], cols[None, :]] - 1) / 2, cv2.COLORMAP_VIRIDIS)
    np.testing.assert_array_equal(picture[:96, :192], expected)
    # A picture shorter than its colour bar gets white rows below it, the bar whole.
    assert picture.shape[0] > 200 and (picture[96:, :192] == 255).all()


def test_preview_of_a_large_image_is_shrunk(model):
    big = np.tile(data.brick(), (3, 3))  # 1536 px
    tmap = model.score_map(big, step=128)
    assert max(tmap.preview.shape) <= 1024
    assert tmap.overlay().shape[0] == tmap.preview.shape[0]


def paint(scene):
    """Two painted regions on the scene: 1 on the brick side, 2 on the grass side; the rest unlabelled."""
    labels = np.zeros(scene.shape, dtype=np.uint8)
    labels[40:300, 20:220] = 1
    labels[200:480, 300:500] = 2
    return labels


def test_fit_regions_trains_on_windows_inside_one_label(scene, tmp_path):
    labels = paint(scene)
    cv2.imwrite(str(tmp_path / "labels.png"), labels)
    (tmp_path / "legend.csv").write_text("value,label\n1,brick\n2,grass\n")
    model = TextureModel(CONFIG, estimator=small_network())
    model.fit_regions(scene, tmp_path / "labels.png", tmp_path / "legend.csv", window=48)
    assert model.window_ == 48
    assert list(model.classes_) == ["brick", "grass"]
    tmap = model.score_map(scene, step=24)
    x0 = tmap.grid.boxes[0, :, 1]
    left, right = x0 + 48 <= 256, x0 >= 256
    accuracy = np.concatenate([tmap.labels[:, left].ravel() == "brick", tmap.labels[:, right].ravel() == "grass"])
    assert accuracy.mean() >= 0.9


def test_pure_windows_are_those_inside_one_label(scene):
    labels = paint(scene)
    grid = texture.WindowGrid(scene.shape, 48, 12)
    pure = pure_windows(labels.astype(np.intp), grid)
    for (i, j), value in np.ndenumerate(pure):
        y0, x0, y1, x1 = grid.boxes[i, j]
        values = np.unique(labels[y0:y1, x0:x1])
        assert value == (values[0] if len(values) == 1 else 0)
    assert (pure == 1).sum() > 0 and (pure == 2).sum() > 0


def test_bad_annotations_are_refused(scene, tmp_path):
    labels = paint(scene)
    model = TextureModel(CONFIG, estimator=small_network())
    with pytest.raises(texture.DatasetError, match=r"\[2\].*no entry in the legend"):
        read_regions(labels, {1: "brick"})
    with pytest.raises(texture.DatasetError, match="0 means unlabelled"):
        read_regions(labels, {0: "none", 1: "brick", 2: "grass"})
    (tmp_path / "legend.csv").write_text("code,name\n1,brick\n")
    with pytest.raises(texture.DatasetError, match="value,label"):
        read_regions(labels, tmp_path / "legend.csv")
    with pytest.raises(texture.DatasetError, match="cannot read the label image"):
        read_regions(tmp_path / "missing.png", {1: "a"})
    with pytest.raises(texture.DatasetError, match="one integer per pixel"):
        read_regions(labels.astype(float), {1: "a"})
    with pytest.raises(texture.DatasetError, match="the label image is 100 x 512"):
        model.fit_regions(scene, labels[:100], {1: "brick", 2: "grass"}, window=48)
    one = np.where(labels == 2, 0, labels)
    with pytest.raises(texture.DatasetError, match="at least two are needed"):
        model.fit_regions(scene, one, {1: "brick", 2: "grass"}, window=48)
    with pytest.raises(texture.ConfigError, match="window must be a positive integer"):
        TextureModel(window=0).fit([scene], ["a"])


def test_score_map_is_deterministic(model, scene):
    a, b = model.score_map(scene), model.score_map(scene)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_cli_train_regions_saves_a_window_model(scene, tmp_path, capsys):
    from pipeline.cli import main

    cv2.imwrite(str(tmp_path / "scene.png"), scene)
    cv2.imwrite(str(tmp_path / "labels.png"), paint(scene))
    (tmp_path / "legend.csv").write_text("value,label\n1,brick\n2,grass\n")
    config = tmp_path / "config.json"
    config.write_text(__import__("json").dumps(CONFIG.to_dict()))
    argv = ["train", tmp_path / "scene.png", "--regions", tmp_path / "labels.png", "--legend", tmp_path / "legend.csv",
            "--window", "48", "--config", config, "--hidden", "16", "--epochs", "80", "-o", tmp_path / "m.npz", "-q"]
    assert main([str(a) for a in argv]) == 0
    assert "classes brick, grass, window 48 px" in capsys.readouterr().out
    model = TextureModel.load(tmp_path / "m.npz")
    assert model.window_ == 48 and model.feature_config_ == CONFIG
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv if a not in ("--legend", tmp_path / "legend.csv")])
    assert exc.value.code == 2 and "--regions needs --legend" in capsys.readouterr().err


def test_cli_train_window_trains_a_map_model_on_the_windows_of_class_folders(textures, tmp_path, capsys,
                                                                               monkeypatch):
    import pandas as pd

    from pipeline.cli import main

    src = tmp_path / "textures"
    for name, image in zip(("brick", "grass"), textures):
        (src / name).mkdir(parents=True)
        for k, (y, x) in enumerate([(0, 0), (0, 256), (256, 0), (256, 256)]):
            cv2.imwrite(str(src / name / f"{k}.png"), image[y : y + 128, x : x + 128])
    config = tmp_path / "config.json"
    config.write_text(__import__("json").dumps(CONFIG.to_dict()))
    trained_on = []
    original = TextureModel.fit_features

    def spy(self, X, labels, **kwargs):
        trained_on.append(len(X))
        return original(self, X, labels, **kwargs)

    monkeypatch.setattr(TextureModel, "fit_features", spy)
    argv = ["train", src, "--window", "48", "--config", config, "--hidden", "16", "--epochs", "80", "--no-augment",
            "--test-size", "0.25", "-o", tmp_path / "m.npz", "-q"]
    assert main([str(a) for a in argv]) == 0
    out = capsys.readouterr().out
    # 3 training images per class, 1 held out; windows of 48 px every 24 px: 4 x 4 per 128 px image.
    assert trained_on == [6 * 16]
    accuracy = float(out.split("held-out accuracy ")[1].split()[0])
    assert "on the 32 windows of 2 images" in out and 0.5 < accuracy <= 1.0
    model = TextureModel.load(tmp_path / "m.npz")
    assert model.window_ == 48 and model.feature_config_ == CONFIG and list(model.classes_) == ["brick", "grass"]
    # texture map takes the model's window (and half of it as the step) when not told.
    scene = np.concatenate([textures[0][:192, :192], textures[1][:192, :192]], axis=1)
    cv2.imwrite(str(tmp_path / "scene.png"), scene)
    assert main([str(a) for a in ["map", tmp_path / "scene.png", "--model", tmp_path / "m.npz", "-o",
                                  tmp_path / "maps", "-q", "-j", "1"]]) == 0
    summary = pd.read_csv(tmp_path / "maps" / "summary.csv")
    assert list(summary["window"]) == [48] and list(summary["step"]) == [24]
    # --step spaces the training windows: 2 x 2 per image at 48 px.
    assert main([str(a) for a in argv + ["--step", "48"]]) == 0
    assert trained_on[-1] == 6 * 4 and "on the 8 windows of 2 images" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv if a not in ("--window", "48")] + ["--step", "48"])
    assert exc.value.code == 2 and "--step needs --window" in capsys.readouterr().err


def test_cli_map_writes_pictures_maps_and_a_summary_row_per_image(model, scene, tmp_path, capsys):
    import pandas as pd

    from pipeline.cli import main

    model.save(tmp_path / "m.npz")
    images = tmp_path / "scenes"
    (images / "sub").mkdir(parents=True)
    cv2.imwrite(str(images / "a.png"), scene)
    cv2.imwrite(str(images / "sub" / "b.png"), scene[:, ::-1])
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    out = tmp_path / "maps"
    code = main([str(a) for a in ["map", images, "--model", tmp_path / "m.npz", "-o", out, "--step", "64", "-j", "1",
                                  "-q"]])
    assert code == 1  # one input failed: every input has its row, as for the other batch verbs
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 3
    assert sorted(summary["status"]) == ["error", "ok", "ok"]
    ok = summary[summary["status"] == "ok"].set_index("path")
    assert set(ok["window"]) == {64} and set(ok["step"]) == {64} and set(ok["rows"]) == {8}
    np.testing.assert_allclose(ok["area_brick"] + ok["area_grass"], 1.0)
    for name in ("a", "sub__b"):
        assert cv2.imread(str(out / f"{name}_labels.png")).shape[0] == 512
        confidence = cv2.imread(str(out / f"{name}_confidence.png"))
        assert confidence.shape[0] == 512 and confidence.shape[1] > 512  # the heat map and its colour bar
        assert not (out / f"{name}_score.png").exists()  # text classes: no score
        with np.load(out / f"{name}_map.npz", allow_pickle=False) as saved:
            assert saved["probabilities"].shape == (8, 8, 2) and str(saved["classes"]) == '["brick", "grass"]'
    saved = np.load(out / "a_map.npz")
    np.testing.assert_allclose(saved["probabilities"], model.score_map(scene, step=64).probabilities)
    # One image file maps alone.
    assert main([str(a) for a in ["map", images / "a.png", "--model", tmp_path / "m.npz", "-o", tmp_path / "one",
                                  "-q", "-j", "1"]]) == 0
    assert (tmp_path / "one" / "a_labels.png").exists()


def test_cli_map_draws_the_score_where_the_model_has_one(graded, scene, tmp_path):
    from pipeline.cli import main

    graded.save(tmp_path / "graded.npz")
    cv2.imwrite(str(tmp_path / "scene.png"), scene)
    assert main([str(a) for a in ["map", tmp_path / "scene.png", "--model", tmp_path / "graded.npz", "-o",
                                  tmp_path / "maps", "-q", "-j", "1"]]) == 0
    expected = {"confidence": graded.score_map(scene).heat_map("confidence"),
                "score": graded.score_map(scene).heat_map("value")}
    for name, picture in expected.items():
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / "maps" / f"scene_{name}.png"))[..., ::-1], picture)


def test_a_map_run_resumes_only_with_the_same_pixel_limit_and_geometry(model, scene, tmp_path, capsys):
    from interrupt import InterruptedAt
    from pipeline.batch import MapTask, run_batch
    from pipeline.run.engines.serial import SerialEngine

    images = tmp_path / "scenes"
    images.mkdir()
    for k in range(3):
        cv2.imwrite(str(images / f"s{k}.png"), scene[:, ::1 if k % 2 else -1])
    out = tmp_path / "maps" / "summary.csv"

    def interrupted(**settings):
        with pytest.raises(KeyboardInterrupt):
            run_batch(MapTask(model, out.parent, step=128, **settings), images, out,
                      engine=InterruptedAt(1), chunk_size=1, quiet=True)

    interrupted(max_pixels=100)  # the first image refused as too large
    capsys.readouterr()
    summary = run_batch(MapTask(model, out.parent, step=128), images, out, engine=SerialEngine(), chunk_size=1)
    err = capsys.readouterr().err
    assert "starting afresh" in err and "max_pixels: 100 -> null" in err
    assert (summary.resumed, summary.processed, summary.failed) == (0, 3, 0)
    # The model's own window given explicitly is the same geometry: the run resumes.
    interrupted()
    summary = run_batch(MapTask(model, out.parent, window=64, step=128), images, out, engine=SerialEngine(),
                        chunk_size=1, quiet=True)
    assert (summary.resumed, summary.processed) == (1, 3)
