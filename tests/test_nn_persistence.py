"""The network's state round trip (the file format's checks are in test_model_files.py)."""

import json

import numpy as np
import pytest

from pipeline import BPClassifier, BPRegressor

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
