"""The BP network under hostile numbers: it converges or stops, never holds NaN.

Huge (1e30) or tiny (1e-30) feature values, constant features, huge targets
and extreme learning rates must end in one of two ways: a fitted estimator
whose every weight and output is finite, or a TrainingError that says
training diverged (leaving the estimator as it was).  No path writes a model
file with NaN or infinite weights.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import BPClassifier, BPRegressor, GradientWarning
from texture import ModelFileError, NotFittedError, TextureError, TrainingError

# Diverging runs overflow on purpose, and bad scales upset the gradient flow:
# numpy's and the network's warnings about it are expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore", category=GradientWarning),
]

OPTIMIZERS = ["sgd", "momentum", "rmsprop", "adam"]
N_SAMPLES, N_FEATURES = 60, 5


def _blobs(seed, scale=1.0, n_classes=3):
    """Separable class blobs with features multiplied by `scale`."""
    rng = np.random.default_rng(seed)
    y = np.arange(N_SAMPLES) % n_classes
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)) + 3.0 * y[:, None]
    return X * scale, y


def _small(cls, **params):
    params = {"hidden_layer_sizes": (8,), "epochs": 15, "batch_size": 16, "random_state": 0, **params}
    return cls(**params)


def _fit_or_diverge(estimator, X, y):
    """Fit; return the TrainingError if it stopped, after checking the contract."""
    try:
        estimator.fit(X, y)
    except TrainingError as err:
        assert "diverged" in str(err) and "learning_rate" in str(err)
        with pytest.raises(NotFittedError):  # no half-trained network left behind
            estimator.predict(X)
        return err
    _assert_finite_model(estimator, X)
    return None


def _assert_finite_model(estimator, X):
    for array in [*estimator.coefs_, *estimator.intercepts_]:
        assert np.isfinite(array).all()
    assert np.isfinite(estimator.loss_curve_).all()
    if isinstance(estimator, BPClassifier):
        proba = estimator.predict_proba(X)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    else:
        assert np.isfinite(estimator.predict(X)).all()


@given(
    scale=st.sampled_from([1e-30, 1e-8, 1.0, 1e8, 1e30]),
    learning_rate=st.sampled_from([1e-9, 1e-3, 0.1, 10.0, 1e3, 1e6]),
    optimizer=st.sampled_from(OPTIMIZERS),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu"]),
    dtype=st.sampled_from(["float32", "float64"]),
    regressor=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_training_converges_or_stops_with_a_clear_error(
    scale, learning_rate, optimizer, activation, dtype, regressor, seed
):
    X, y = _blobs(seed, scale)
    cls = BPRegressor if regressor else BPClassifier
    estimator = _small(cls, learning_rate=learning_rate, optimizer=optimizer,
                       activation=activation, dtype=dtype)
    _fit_or_diverge(estimator, X, y.astype(float) if regressor else y)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop"])
def test_a_huge_learning_rate_on_huge_features_is_detected(optimizer):
    # 1e30 features with a learning rate of 1e6 cannot stay finite with
    # these optimizers (Adam's normalized steps may); the point is that it
    # is reported as divergence, not left as a NaN model.
    X, y = _blobs(1, 1e30)
    err = _fit_or_diverge(_small(BPClassifier, optimizer=optimizer, learning_rate=1e6), X, y)
    assert isinstance(err, TrainingError)


def test_huge_regression_targets_are_detected():
    X, _ = _blobs(2)
    y = np.full(N_SAMPLES, 1e30) * np.random.default_rng(2).random(N_SAMPLES)
    err = _fit_or_diverge(_small(BPRegressor, optimizer="sgd", learning_rate=0.1, dtype="float32"), X, y)
    assert isinstance(err, TrainingError)


@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
def test_an_all_constant_input_still_gives_a_finite_model(scale):
    # No feature carries information: the network can only learn the priors.
    X = np.full((N_SAMPLES, N_FEATURES), scale)
    y = np.arange(N_SAMPLES) % 2
    clf = _small(BPClassifier, learning_rate=1e-3)
    if _fit_or_diverge(clf, X, y) is None:
        np.testing.assert_allclose(clf.predict_proba(X[:1]).sum(), 1.0)


def test_a_constant_feature_among_informative_ones_is_harmless():
    X, y = _blobs(3)
    X[:, 2] = 7.0
    clf = _small(BPClassifier, learning_rate=0.01, epochs=60)
    assert _fit_or_diverge(clf, X, y) is None
    assert clf.score(X, y) > 0.9  # it still learns from the other features


def test_a_failed_refit_keeps_the_previous_model():
    X, y = _blobs(4)
    clf = _small(BPClassifier, learning_rate=0.01).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(learning_rate=1e6, optimizer="sgd")
    with pytest.raises(TrainingError, match="diverged"):
        clf.fit(X * 1e30, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_model_with_non_finite_weights_is_never_saved(tmp_path, bad):
    X, y = _blobs(5)
    clf = _small(BPClassifier, learning_rate=0.01).fit(X, y)
    clf.coefs_[0][0, 0] = bad  # e.g. weights edited in memory after training
    path = tmp_path / "model.npz"
    with pytest.raises(TextureError, match="NaN or inf"):
        clf.save(path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


def test_non_finite_weights_in_a_file_are_refused(tmp_path):
    # Bypasses save()'s own refusal: a file written by anything else.
    from pipeline import model_file

    X, y = _blobs(6)
    clf = _small(BPRegressor, learning_rate=0.01).fit(X, y.astype(float))
    meta, arrays = clf.get_state()
    arrays["b0"] = np.full_like(arrays["b0"], np.nan)
    model_file.save(tmp_path / "nan.npz", "texture-bp-network", meta, arrays)
    with pytest.raises(ModelFileError, match="NaN or inf"):
        BPRegressor.load(tmp_path / "nan.npz")
