"""The network's state round trip (the file format's checks are in test_model_files.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline import BPClassifier, BPRegressor
from texture.errors import ConfigError, ModelFileError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 5))
Y_LABELS = np.array(["bark", "cork", "felt"])[np.arange(60) % 3]


@pytest.fixture
def clf():
    return BPClassifier((6, 4), epochs=3, random_state=0).fit(X, Y_LABELS)


def test_round_trip_gives_identical_predictions(clf, tmp_path):
    path = tmp_path / "model.npz"
    clf.save(path)
    again = BPClassifier.load(path)
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert list(again.classes_) == list(clf.classes_)
    assert again.get_params() == clf.get_params()
    assert again.history_["loss"] == clf.history_["loss"]


def test_regressor_round_trip_in_memory_state():
    y = X @ RNG.normal(size=(5, 2))
    reg = BPRegressor((8,), dtype="float64", epochs=3, random_state=0).fit(X, y)
    meta, arrays = reg.get_state()
    json.dumps(meta)  # the metadata is plain JSON
    again = BPRegressor.from_state(json.loads(json.dumps(meta)), arrays)
    assert np.array_equal(again.predict(X), reg.predict(X))


def test_no_pickle_in_the_file(clf, tmp_path):
    path = tmp_path / "model.npz"
    clf.save(path)
    with np.load(path, allow_pickle=False) as npz:  # would raise on any object array
        assert {"W0", "b0", "W2", "b2", "classes"} <= set(npz.files)


def test_one_class_is_named_as_text():
    with pytest.raises(ConfigError, match="y holds one class, 'cotton'; a classifier needs at least 2"):
        BPClassifier(epochs=1).fit(np.zeros((3, 2)), np.array(["cotton"] * 3))


def test_batch_norm_running_statistics_and_dropout_are_saved(tmp_path):
    clf = BPClassifier((6, 4), batch_norm=True, dropout=0.2, epochs=3, random_state=0).fit(X, Y_LABELS)
    path = tmp_path / "model.npz"
    clf.save(path)
    with np.load(path, allow_pickle=False) as npz:
        assert {"running_mean0", "running_var1", "gamma0", "beta1", "W2", "b2"} <= set(npz.files)
        assert "b0" not in npz.files  # batch norm's shift replaces the bias
    again = BPClassifier.load(path)
    assert (again.batch_norm, again.dropout) == (True, 0.2)
    assert np.array_equal(again.network_.buffers, clf.network_.buffers)
    assert not np.array_equal(clf.network_.buffers[:10], np.zeros(10))  # training moved them
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_negative_running_variance_is_refused(tmp_path):
    clf = BPClassifier((4,), batch_norm=True, epochs=2, random_state=0).fit(X, Y_LABELS)
    meta, arrays = clf.get_state()
    arrays["running_var0"][0] = -1
    with pytest.raises(ModelFileError, match="negative variance"):
        BPClassifier.from_state(meta, arrays)


DATA = Path(__file__).parent / "data"


def test_a_file_saved_before_batch_norm_and_dropout_still_loads():
    # Written by the code of before batch normalization and dropout (format 1,
    # no such parameters): BPClassifier((4,), activation="tanh", epochs=5, random_state=0).
    path = DATA / "bp_classifier_format1.npz"
    clf = BPClassifier.load(path)
    assert (clf.batch_norm, clf.dropout) == (False, 0.0)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in ("W0", "b0", "W1", "b1")}
    x = RNG.normal(size=(7, 3))
    logits = np.tanh(x @ arrays["W0"].astype(float) + arrays["b0"]) @ arrays["W1"].astype(float) + arrays["b1"]
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(x), expected / expected.sum(1, keepdims=True), rtol=1e-6)
    assert list(clf.classes_) == ["a", "b", "c"]
