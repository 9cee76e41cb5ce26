"""Tests for pipeline/model.py: TextureModel fit/predict/score, pickle-free save/load."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from pipeline.augment import training_copies
from pipeline.calibration import TEMPERATURE_RANGE, calibration_folds, scaled_probabilities
from pipeline.model import DEFAULT_N_NETWORKS, FORMAT_VERSION, TextureModel, TextureScore, default_network
from pipeline.nn import BPClassifier, BPRegressor, NetworkEnsemble
from pipeline.nn.ensemble import member_seeds
from texture import FeatureExtractor
from texture.errors import ConfigError, NotFittedError, TextureError


def synthetic_images(n_per_class=8, size=48, seed=0):
    """Three texture classes: white noise, smoothed noise, stripes with noise."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_per_class):
        noise = rng.random((size, size))
        smooth = ndimage.gaussian_filter(rng.random((size, size)), 3)
        smooth = (smooth - smooth.min()) / np.ptp(smooth)
        stripes = 0.5 + 0.4 * np.sin(np.arange(size) * rng.uniform(0.5, 0.9))[None, :] + 0.05 * rng.random((size, size))
        for label, image in zip(("noise", "smooth", "stripes"), (noise, smooth, stripes)):
            images.append(np.clip(image, 0, 1))
            labels.append(label)
    return images, np.array(labels)


def small_net(seed=0, cls=BPClassifier):
    return cls(hidden_layer_sizes=(8,), epochs=40, batch_size=8, learning_rate=0.01, random_state=seed)


@pytest.fixture(scope="module")
def data():
    return synthetic_images()


@pytest.fixture(scope="module")
def model(data):
    return TextureModel(estimator=small_net()).fit(*data)


def test_fit_predict_and_proba(model, data):
    images, labels = data
    proba = model.predict_proba(images)
    assert proba.shape == (len(images), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    predicted = model.predict(images)
    np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    assert np.mean(predicted == labels) > 0.9  # three easy classes
    assert list(model.classes_) == ["noise", "smooth", "stripes"]


@pytest.mark.parametrize("n_classes, width", [(3, 64), (70, 70)])
def test_the_default_network_has_at_least_64_hidden_units_and_one_per_class(n_classes, width):
    rng = np.random.default_rng(0)
    n_features = len(FeatureExtractor().names)
    labels = np.repeat([f"c{k}" for k in range(n_classes)], 2)
    model = TextureModel().fit_features(rng.random((len(labels), n_features)), labels)
    assert len(model.estimator_.estimators_) == model.n_networks == DEFAULT_N_NETWORKS
    for network in model.estimator_.estimators_:
        assert network.hidden_layer_sizes == (width,) == default_network(n_classes)["hidden_layer_sizes"]
        assert network.activation == "tanh"


def test_scaler_is_fitted_on_training_features_only(data):
    plain = TextureModel(estimator=small_net(), augment=False).fit(*data)
    X = plain.featurize(data[0])
    np.testing.assert_allclose(plain.scaler_.mean_, X.mean(axis=0))
    assert plain.feature_names_ and len(plain.feature_names_) == X.shape[1]


def test_augmented_fit_trains_on_the_images_and_their_training_copies(model, data):
    images, labels = data
    extractor = FeatureExtractor()
    kept = model.copies_kept_  # the copies that help (pipeline.augment.choose_copies)
    copies = [extractor.transform(copy) for image in images for k, copy in enumerate(training_copies(image))
              if k in kept]
    X = np.vstack([model.featurize(images), copies])
    assert len(training_copies(images[0])) == 8  # two rescaled, one blurred, one noisy, four crops
    np.testing.assert_allclose(model.scaler_.mean_, X.mean(axis=0))
    # The same rows through fit_features give the same network.
    y = np.concatenate([labels, np.repeat(labels, len(kept))])
    by_hand = TextureModel(estimator=small_net()).fit_features(X, y)
    np.testing.assert_array_equal(by_hand.predict_proba(images), model.predict_proba(images))


def test_fit_trains_on_the_copies_that_help_and_records_them(tmp_path):
    from pipeline.augment import COPY_CHOICES, N_CROPS, SCALE_FACTORS

    rng = np.random.default_rng(0)
    n_features = len(FeatureExtractor().names)
    y = np.repeat(["a", "b"], 12)
    X = 0.1 * rng.normal(size=(len(y), n_features))  # feature 0 tells the classes apart, the others hardly vary
    X[:, 0] += np.where(y == "a", -3.0, 3.0)
    flipped = X.copy()
    flipped[:, 0] *= -1  # rescaled and blurred copies that look like the other class
    # The noisy copy and the crops like their image.
    copies = np.stack([flipped] * (len(SCALE_FACTORS) + 1) + [X + 0.1] * (1 + N_CROPS), axis=1)
    model = TextureModel(estimator=small_net()).fit_features(X, y, copies=copies)
    assert model.copies_kept_ == COPY_CHOICES[1]
    np.testing.assert_allclose(model.scaler_.mean_, np.concatenate([X] + [X + 0.1] * (1 + N_CROPS)).mean(axis=0))
    model.save(tmp_path / "m.npz")
    assert TextureModel.load(tmp_path / "m.npz").copies_kept_ == COPY_CHOICES[1]
    # Without copies there is nothing to choose.
    assert TextureModel(estimator=small_net()).fit_features(X, y).copies_kept_ is None


def test_an_image_whose_shrunk_copy_is_too_small_adds_no_copies():
    # 9 px images pass LBP's 7 px minimum; their 6 px shrunk copies do not.
    images, labels = synthetic_images(n_per_class=3, size=9)
    with pytest.warns(UserWarning, match=r"training copies left out \(the image itself is trained on\)"):
        model = TextureModel(estimator=small_net()).fit(images, labels)
    plain = TextureModel(estimator=small_net(), augment=False).fit(images, labels)
    np.testing.assert_array_equal(model.scaler_.mean_, plain.scaler_.mean_)


def test_fit_names_each_file_whose_copies_are_left_out(tmp_path):
    import cv2

    images, labels = synthetic_images(n_per_class=2, size=9)
    paths = [tmp_path / f"{k}.png" for k in range(len(images))]
    for path, image in zip(paths, images):
        cv2.imwrite(str(path), np.round(image * 255).astype(np.uint8))
    with pytest.warns(UserWarning) as warned:
        TextureModel(estimator=small_net()).fit(paths, labels)
    assert len(warned) == len(paths)
    assert all(str(path) in str(w.message) for path, w in zip(paths, warned))
    assert all(w.filename == __file__ for w in warned)  # points at the caller's fit


def test_score_image(model, data):
    image = data[0][1]
    score = model.score_image(image)
    assert isinstance(score, TextureScore)
    proba = model.predict_proba([image])[0]
    assert list(score.probabilities) == list(model.classes_)
    np.testing.assert_allclose(list(score.probabilities.values()), proba)
    assert score.label == model.classes_[proba.argmax()] and score.confidence == pytest.approx(proba.max())
    assert score.value is None  # class names are not numbers
    json.dumps(score.to_dict())


def test_numeric_classes_give_the_expected_value(data):
    images, labels = data
    grades = np.select([labels == "noise", labels == "smooth"], [1, 3], 5)
    model = TextureModel(estimator=small_net()).fit(images, grades)
    score = model.score_image(images[0])
    expected = sum(float(c) * p for c, p in score.probabilities.items())
    assert score.value == pytest.approx(expected)
    assert 1.0 <= score.value <= 5.0
    # Grades read from folder names or CSV are text; they are numbers all the same.
    model = TextureModel(estimator=small_net()).fit(images, grades.astype(str))
    assert model.score_image(images[0]).value == pytest.approx(
        sum(float(c) * p for c, p in model.score_image(images[0]).probabilities.items()))


def test_regressor_value_is_its_output(data):
    images, labels = data
    target = (labels == "noise").astype(float) * 2.0
    model = TextureModel(estimator=small_net(cls=BPRegressor)).fit(images, target)
    score = model.score_image(images[0])
    assert score.label is None and score.probabilities == {}
    assert score.value == pytest.approx(float(model.predict([images[0]])[0]))
    with pytest.raises(TextureError, match="regressor"):
        model.predict_proba(images[:1])


def test_fit_on_paths_and_dataframe(tmp_path, data):
    pd = pytest.importorskip("pandas")
    from skimage.io import imsave

    images, labels = data
    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        imsave(paths[-1], (image * 255).round().astype(np.uint8), check_contrast=False)
    from_paths = TextureModel(estimator=small_net()).fit([str(p) for p in paths], labels)
    from_frame = TextureModel(estimator=small_net()).fit(pd.DataFrame({"path": paths, "label": labels}))
    np.testing.assert_array_equal(from_paths.predict_proba(paths[:4]), from_frame.predict_proba(paths[:4]))


def test_not_fitted():
    with pytest.raises(NotFittedError):
        TextureModel().predict([np.zeros((40, 40))])
    with pytest.raises(NotFittedError):
        TextureModel().save("x.npz")


def test_bad_image_error_names_the_file(model, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(TextureError, match="broken.png"):
        model.score_image(bad)
    with pytest.raises(TextureError, match="missing.png"):
        model.predict([tmp_path / "missing.png"])
    from skimage.io import imsave

    from texture.errors import ImageTooSmallError

    imsave(tmp_path / "tiny.png", np.full((4, 4), 128, np.uint8), check_contrast=False)
    with pytest.raises(ImageTooSmallError, match="tiny.png"):  # decodes, but too small for the radii
        model.score_image(tmp_path / "tiny.png")


def test_score_image_honours_a_pixel_limit(model, data, tmp_path):
    from skimage.io import imsave

    from texture.errors import ImageTooLargeError

    image = (data[0][0] * 255).astype(np.uint8)
    imsave(tmp_path / "big.png", image, check_contrast=False)
    with pytest.raises(ImageTooLargeError, match=f"big.png.*limit of {image.size - 1}"):
        model.score_image(tmp_path / "big.png", max_pixels=image.size - 1)
    assert model.score_image(tmp_path / "big.png", max_pixels=image.size).label in model.classes_


def test_save_load_round_trip(model, data, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = TextureModel.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(data[0][:5]), model.predict_proba(data[0][:5]))
    assert loaded.feature_names_ == model.feature_names_
    assert list(loaded.classes_) == list(model.classes_)
    assert loaded.history_["loss"] == model.history_["loss"]
    assert loaded.digest() == model.digest()
    # Saved without pickle: every member loads with allow_pickle=False.
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["metadata"]))
    assert meta["format_version"] == FORMAT_VERSION and meta["classes"] == list(model.classes_)


def test_same_seed_gives_bit_identical_file(data, tmp_path):
    for name in ("a.npz", "b.npz"):
        TextureModel(estimator=small_net(seed=3)).fit(*data).save(tmp_path / name)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    TextureModel(estimator=small_net(seed=4)).fit(*data).save(tmp_path / "c.npz")
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "c.npz").read_bytes()


def test_saved_file_is_a_plain_zip_without_pickles(model, tmp_path):
    model.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        names = z.namelist()
    assert "metadata.npy" in names and "sha256.npy" in names
    assert any(n.startswith("estimator.") for n in names) and any(n.startswith("scaler.") for n in names)


@pytest.mark.slow
def test_readme_score_example_runs(tmp_path, monkeypatch, capsys):
    """The README's Python example is documentation users copy: it must run as written."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Score one image (Python)", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    label, confidence = capsys.readouterr().out.splitlines()[0].split()
    assert 0.0 <= float(confidence) <= 1.0 and (tmp_path / "model.npz").is_file()


def colour_pairs(n_per_class=6, size=40, seed=0):
    """Two classes of one grey texture, reddish or greenish at equal luminance: only colour tells them apart."""
    rng = np.random.default_rng(seed)
    a = 0.15
    b = a * 0.2125 / 0.7154  # R + a, G - b keeps 0.2125 R + 0.7154 G + 0.0721 B
    images, labels = [], []
    for _ in range(n_per_class):
        t = 0.3 + 0.4 * ndimage.gaussian_filter(rng.random((size, size)), 1.5) / 0.6
        for label, sign in (("red", 1), ("green", -1)):
            images.append(np.clip(np.stack([t + sign * a, t - sign * b, t], axis=-1), 0, 1))
            labels.append(label)
    return images, np.array(labels)


def test_colour_model_sees_what_grey_cannot_and_its_file_records_the_mode(tmp_path):
    from texture import FeatureConfig

    images, labels = colour_pairs()
    grey = FeatureExtractor()
    # Same luminance: the grey features of a red image and its green twin agree.
    np.testing.assert_allclose(grey.transform(images[0]), grey.transform(images[1]), rtol=1e-6, atol=1e-9)
    config = FeatureConfig(colour="opponent")
    model = TextureModel(feature_config=config, estimator=small_net(), augment=False)
    model.fit(images[:8], labels[:8])
    assert model.feature_names_ == FeatureExtractor(config).names
    assert list(model.predict(images[8:])) == list(labels[8:])
    path = tmp_path / "colour.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as npz:
        assert json.loads(str(npz["metadata"]))["feature_config"]["colour"] == "opponent"
    loaded = TextureModel.load(path)
    assert loaded.feature_config_.colour == "opponent"
    # predict reads files in the recorded mode: a PNG gives the array's probabilities (8-bit rounding aside).
    import cv2

    png = tmp_path / "red.png"
    rgb8 = np.round(images[8] * 255).astype(np.uint8)
    cv2.imwrite(str(png), rgb8[..., ::-1])
    np.testing.assert_array_equal(loaded.predict_proba([png]), model.predict_proba([rgb8]))
    assert loaded.score_image(png).label == model.predict([rgb8])[0]


def test_colour_model_trains_on_colour_training_copies():
    from texture import FeatureConfig

    images, labels = colour_pairs(n_per_class=3)
    model = TextureModel(feature_config=FeatureConfig(colour="opponent", families=("lbp",)),
                         estimator=small_net())
    model.fit(images, labels)
    extractor = FeatureExtractor(model.feature_config_)
    expected = np.vstack([extractor.transform(im) for im in images]
                         + [extractor.transform(copy) for im in images for copy in training_copies(im)])
    np.testing.assert_array_equal(model.scaler_.transform(expected).mean(axis=0).round(12), 0)


# -- calibrated confidence ---------------------------------------------------------------


def test_calibration_changes_the_probabilities_not_the_labels(model, data):
    images, _ = data
    raw = TextureModel(estimator=small_net(), calibrate=False).fit(*data)
    for a, b in zip(raw.estimator_.estimators_, model.estimator_.estimators_, strict=True):
        np.testing.assert_array_equal(a.network_.params, b.network_.params)  # the same networks
    assert raw.temperature_ == 1.0 and raw.calibration_ is None
    low, high = TEMPERATURE_RANGE
    assert low <= model.temperature_ <= high and model.temperature_ != 1.0
    np.testing.assert_array_equal(model.predict(images), raw.predict(images))
    calibrated, plain = model.predict_proba(images), raw.predict_proba(images)
    np.testing.assert_array_equal(calibrated.argmax(axis=1), plain.argmax(axis=1))
    np.testing.assert_allclose(calibrated, scaled_probabilities(plain, model.temperature_), rtol=1e-6, atol=1e-12)
    score = model.score_features(model.featurize(images[:1]))[0]
    assert score.confidence == pytest.approx(calibrated[0].max())


def test_calibration_record_says_how_the_temperature_was_fitted(model, data):
    record = model.calibration_
    # Every training row (24 images, each with its 4 copies) was predicted once by a copy that never saw it.
    assert record["n_validation"] == (1 + len(model.copies_kept_)) * len(data[1]) and record["n_folds"] == 3
    assert record["temperature"] == model.temperature_
    assert record["nll_after"] <= record["nll_before"]  # the temperature minimizes it
    assert sum(record["reliability_after"]["count"]) == record["n_validation"]
    json.dumps(record, allow_nan=False)  # plain JSON, saved with the model


def test_an_image_and_its_copies_or_a_group_stay_on_one_side(data, monkeypatch):
    import pipeline.model as model_module

    seen = {}

    def spy(labels, groups=None, **kw):
        seen["groups"] = np.asarray(groups)
        return calibration_folds(labels, groups, **kw)

    monkeypatch.setattr(model_module, "calibration_folds", spy)
    images, labels = data
    model = TextureModel(estimator=small_net()).fit(images, labels)
    n, kept = len(images), len(model.copies_kept_)
    # The images, then each image's copies (those kept): they share its group.
    np.testing.assert_array_equal(seen["groups"], np.r_[np.arange(n), np.repeat(np.arange(n), kept)].astype(str))
    sessions = np.array(["one", "two"] * (n // 2))
    model = TextureModel(estimator=small_net()).fit(images, labels, groups=sessions)
    np.testing.assert_array_equal(seen["groups"], np.r_[sessions, np.repeat(sessions, len(model.copies_kept_))])


def test_calibration_is_saved_and_loaded(model, data, tmp_path):
    model.save(tmp_path / "m.npz")
    loaded = TextureModel.load(tmp_path / "m.npz")
    assert loaded.temperature_ == model.temperature_ and loaded.calibration_ == model.calibration_
    assert loaded.calibrate
    np.testing.assert_array_equal(loaded.predict_proba(data[0][:4]), model.predict_proba(data[0][:4]))


def test_a_model_file_saved_before_calibration_loads_uncalibrated():
    # Written by the code of before calibration (format 1): TextureModel(estimator=BPClassifier((3,),
    # activation="tanh", epochs=5, random_state=0)).fit_features(features, classes 1 and 2).
    model = TextureModel.load(Path(__file__).parent / "data" / "texture_model_format1.npz")
    assert model.temperature_ == 1.0 and model.calibration_ is None and not model.calibrate
    X = np.random.default_rng(0).normal(size=(5, len(model.feature_names_)))
    scores, Xs = model.score_features(X), model.scaler_.transform(X)
    np.testing.assert_array_equal([s.confidence for s in scores], model.estimator_.predict_proba(Xs).max(axis=1))
    assert [s.label for s in scores] == list(model.estimator_.predict(Xs))


def test_a_model_file_of_format_2_loads_as_one_calibrated_network():
    # Written by the code of before ensembles (format 2): TextureModel(estimator=BPClassifier((3,),
    # activation="tanh", epochs=5, random_state=0)).fit_features(24 random rows, classes 1 and 2).
    model = TextureModel.load(Path(__file__).parent / "data" / "texture_model_format2.npz")
    assert model.n_networks == 1 and isinstance(model.estimator_, BPClassifier)
    assert model.calibrate and model.temperature_ != 1.0
    X = np.random.default_rng(0).normal(size=(5, len(model.feature_names_)))
    proba = model.estimator_.predict_proba(model.scaler_.transform(X))
    np.testing.assert_allclose([s.confidence for s in model.score_features(X)],
                               scaled_probabilities(proba, model.temperature_).max(axis=1), rtol=1e-12)


# -- several networks averaged ---------------------------------------------------------


@pytest.fixture(scope="module")
def features(model, data):
    return model.featurize(data[0]), data[1]


def proba_of(model, X):
    """The class probabilities of feature rows, as the batch path scores them."""
    return np.array([list(score.probabilities.values()) for score in model.score_features(X)])


def test_n_networks_trains_and_averages_that_many_networks(features):
    X, labels = features
    model = TextureModel(estimator=small_net(seed=2), n_networks=3, calibrate=False).fit_features(X, labels)
    assert isinstance(model.estimator_, NetworkEnsemble) and len(model.estimator_.estimators_) == 3
    Xs = model.scaler_.transform(X)
    seeds = member_seeds(2, 3)
    assert seeds[0] == 2  # the first network is the one the estimator's seed gives
    networks = [small_net(seed=s).fit(Xs, labels) for s in seeds]
    np.testing.assert_allclose(proba_of(model, X), np.mean([n.predict_proba(Xs) for n in networks], axis=0),
                               rtol=1e-12)
    single = TextureModel(estimator=small_net(seed=2), n_networks=1, calibrate=False).fit_features(X, labels)
    assert isinstance(single.estimator_, BPClassifier)
    np.testing.assert_array_equal(proba_of(single, X), networks[0].predict_proba(Xs))


def test_the_default_network_is_averaged_too(features):
    X, labels = features
    model = TextureModel(n_networks=2, calibrate=False).fit_features(X, labels)
    assert [net.hidden_layer_sizes for net in model.estimator_.estimators_] == [default_network(3)["hidden_layer_sizes"]] * 2
    assert model.estimator_.estimators_[0].random_state == model.random_state


def test_the_temperature_is_fitted_on_the_averaged_probabilities(features, monkeypatch):
    import pipeline.model as model_module

    templates = []

    def spy(estimator, *args):
        templates.append(estimator)
        return out_of_fold_logits(estimator, *args)

    from pipeline.calibration import out_of_fold_logits

    monkeypatch.setattr(model_module, "out_of_fold_logits", spy)
    X, labels = features
    model = TextureModel(estimator=small_net(), n_networks=2).fit_features(X, labels)
    assert isinstance(templates[0], NetworkEnsemble) and templates[0].n_networks == 2
    low, high = TEMPERATURE_RANGE
    assert low <= model.temperature_ <= high and model.calibration_["temperature"] == model.temperature_
    raw = model.estimator_.predict_proba(model.scaler_.transform(X))
    np.testing.assert_allclose(proba_of(model, X), scaled_probabilities(raw, model.temperature_), rtol=1e-12)


def test_an_ensemble_is_saved_loaded_and_bit_identical_for_a_seed(features, data, tmp_path):
    X, labels = features
    for name in ("a.npz", "b.npz"):
        TextureModel(estimator=small_net(), n_networks=3).fit_features(X, labels).save(tmp_path / name)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    model = TextureModel(estimator=small_net(), n_networks=3).fit_features(X, labels)
    loaded = TextureModel.load(tmp_path / "a.npz")
    assert loaded.n_networks == 3 and loaded.digest() == model.digest()
    np.testing.assert_array_equal(loaded.predict_proba(data[0][:4]), model.predict_proba(data[0][:4]))
    assert loaded.temperature_ == model.temperature_ and loaded.history_ == model.history_
    with np.load(tmp_path / "a.npz", allow_pickle=False) as npz:
        assert json.loads(str(npz["metadata"]))["format_version"] == FORMAT_VERSION == 3


@pytest.mark.parametrize("n", [0, 1.5, None])
def test_a_bad_number_of_networks_is_refused(features, n):
    with pytest.raises(ConfigError, match="n_networks"):
        TextureModel(n_networks=n).fit_features(*features)


@pytest.fixture(scope="module")
def masked_data(data):
    """Each class's texture inside a disk, another class's texture around it: only the mask tells them apart."""
    images, labels = data
    r, c = np.mgrid[:48, :48]
    disk = (r - 24) ** 2 + (c - 22) ** 2 < 17**2
    composed = [np.where(disk, image, images[(k + 1) % len(images)]) for k, image in enumerate(images)]
    return composed, labels, [disk] * len(images)


@pytest.fixture(scope="module")
def masked_model(masked_data):
    images, labels, masks = masked_data
    return TextureModel(estimator=small_net()).fit(images, labels, masks=masks)


def test_masked_fit_trains_on_the_regions_and_their_copies(masked_model, masked_data):
    from pipeline.augment import mask_copies

    images, labels, masks = masked_data
    extractor = FeatureExtractor()
    rows = [extractor.transform(image, mask=mask) for image, mask in zip(images, masks)]
    kept = masked_model.copies_kept_  # the copies that help (pipeline.augment.choose_copies)
    copies = [extractor.transform(copy, mask=inside) for image, mask in zip(images, masks)
              for k, (copy, inside) in enumerate(zip(training_copies(image), mask_copies(mask))) if k in kept]
    np.testing.assert_allclose(masked_model.scaler_.mean_, np.vstack([rows, copies]).mean(axis=0))
    assert masked_model.trained_with_masks_
    assert np.mean(masked_model.predict(images, masks=masks) == labels) > 0.9


def test_masked_predictions_agree_across_the_api(masked_model, masked_data):
    import pandas as pd

    images, _, masks = masked_data
    proba = masked_model.predict_proba(images[:4], masks=masks[:4])
    frame = pd.DataFrame({"path": pd.Series(images[:4], dtype=object), "mask": pd.Series(masks[:4], dtype=object)})
    np.testing.assert_array_equal(masked_model.predict_proba(frame), proba)
    score = masked_model.score_image(images[2], mask=masks[2])
    np.testing.assert_allclose(list(score.probabilities.values()), proba[2])
    outside = masked_model.score_image(images[2], mask=~masks[2])
    assert not np.allclose(list(outside.probabilities.values()), list(score.probabilities.values()))


def test_masked_training_is_saved_and_predicting_without_masks_warns_once(masked_model, masked_data, tmp_path):
    import warnings

    images, _, masks = masked_data
    masked_model.save(tmp_path / "masked.npz")
    loaded = TextureModel.load(tmp_path / "masked.npz")
    assert loaded.trained_with_masks_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.predict(images[:2], masks=masks[:2])  # with masks: silent
    with pytest.warns(UserWarning, match="trained on masked regions") as warned:
        loaded.predict(images[:2])
        loaded.score_image(images[0])
        loaded.predict_proba(images[:2])
    assert len(warned) == 1


def test_a_model_trained_on_whole_images_does_not_warn(model, data, tmp_path):
    import warnings

    model.save(tmp_path / "plain.npz")
    loaded = TextureModel.load(tmp_path / "plain.npz")
    assert not loaded.trained_with_masks_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.predict(data[0][:2])


def test_masks_must_match_the_images_and_bad_masks_name_their_file(masked_model, masked_data, tmp_path):
    images, _, masks = masked_data
    with pytest.raises(TextureError, match="2 masks for 3 images"):
        masked_model.predict(images[:3], masks=masks[:2])
    (tmp_path / "mask.png").write_bytes(b"garbage")
    with pytest.raises(TextureError, match=rf"^{tmp_path / 'mask.png'}: cannot read the mask"):
        masked_model.score_image(images[0], mask=tmp_path / "mask.png")
