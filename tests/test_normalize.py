"""Tests for pipeline/normalize.py: scalers against manual numpy and scikit-learn."""

import json

import numpy as np
import pytest

from pipeline.normalize import MinMaxScaler, StandardScaler, make_scaler, scaler_from_state
from texture.errors import ConfigError, NotFittedError, TextureError

sk_pre = pytest.importorskip("sklearn.preprocessing")


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[0.0, 100.0, -3.0, 7.0], scale=[1.0, 50.0, 0.01, 1.0], size=(40, 4))
    X[:, 3] = 7.0  # a constant feature
    return X


def test_zscore_matches_manual_numpy(X):
    scaler = StandardScaler().fit(X)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    np.testing.assert_allclose(scaler.transform(X), (X - X.mean(axis=0)) / std)
    np.testing.assert_allclose(scaler.mean_, X.mean(axis=0))


def test_zscore_matches_sklearn(X):
    ours = StandardScaler().fit_transform(X)
    ref = sk_pre.StandardScaler().fit_transform(X)
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # Non-constant columns end with mean 0 and unit variance.
    np.testing.assert_allclose(ours[:, :3].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ours[:, :3].std(axis=0), 1.0)


@pytest.mark.parametrize("feature_range", [(0.0, 1.0), (-1.0, 1.0), (2.0, 5.0)])
def test_minmax_matches_sklearn(X, feature_range):
    ours = MinMaxScaler(feature_range).fit(X)
    ref = sk_pre.MinMaxScaler(feature_range=feature_range).fit(X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
    np.testing.assert_array_equal(ours.data_min_, ref.data_min_)
    np.testing.assert_array_equal(ours.data_max_, ref.data_max_)
    new = X[:5] * 1.5
    np.testing.assert_allclose(ours.transform(new), ref.transform(new), atol=1e-12)


def test_constant_feature_no_division_by_zero(X):
    for scaler in (StandardScaler(), MinMaxScaler((-1.0, 1.0))):
        with np.errstate(all="raise"):
            out = scaler.fit_transform(X)
        assert np.isfinite(out).all()
    assert StandardScaler().fit(X).scale_[3] == 1.0
    np.testing.assert_array_equal(StandardScaler().fit_transform(X)[:, 3], 0.0)
    np.testing.assert_array_equal(MinMaxScaler((-1.0, 1.0)).fit_transform(X)[:, 3], -1.0)


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_inverse_transform_round_trip(X, cls):
    scaler = cls().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_rejected(X, bad):
    X[2, 1] = bad
    with pytest.raises(ConfigError, match="NaN or infinity"):
        StandardScaler().fit(X)
    scaler = MinMaxScaler().fit(np.ones((3, 4)))
    with pytest.raises(ValueError):  # ConfigError is a ValueError too
        scaler.transform(X)


def test_shape_and_fit_checks(X):
    with pytest.raises(NotFittedError):
        StandardScaler().transform(X)
    with pytest.raises(ConfigError, match="2-D"):
        StandardScaler().fit(X[0])
    with pytest.raises(ConfigError, match="0 samples"):
        StandardScaler().fit(np.empty((0, 3)))
    with pytest.raises(ConfigError, match="fitted with 4"):
        StandardScaler().fit(X).transform(X[:, :3])
    with pytest.raises(ConfigError, match="low < high"):
        MinMaxScaler((1.0, 1.0))


@pytest.mark.parametrize("name", ["zscore", "minmax"])
def test_state_round_trip_is_json_and_exact(X, name):
    scaler = make_scaler(name).fit(X)
    meta, arrays = scaler.get_state()
    meta = json.loads(json.dumps(meta))  # must survive JSON
    clone = scaler_from_state(meta, {k: v.copy() for k, v in arrays.items()})
    assert type(clone) is type(scaler)
    assert clone.get_params() == scaler.get_params()
    np.testing.assert_array_equal(clone.transform(X), scaler.transform(X))
    for attr in scaler._learned:
        np.testing.assert_array_equal(getattr(clone, attr + "_"), getattr(scaler, attr + "_"))


def test_state_errors(X):
    meta, arrays = StandardScaler().fit(X).get_state()
    with pytest.raises(ConfigError, match="unknown scaler kind"):
        scaler_from_state({"kind": "robust"}, arrays)
    with pytest.raises(ConfigError, match="non-positive"):
        scaler_from_state(meta, {**arrays, "scale": -arrays["scale"]})
    with pytest.raises(ConfigError, match="lacks"):
        scaler_from_state(meta, {"offset": arrays["offset"]})
    with pytest.raises(NotFittedError):
        MinMaxScaler().get_state()


def test_make_scaler_unknown_name():
    with pytest.raises(TextureError, match="unknown scaler"):
        make_scaler("l2")
