import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from pipeline import BPClassifier, BPRegressor, GradientWarning
from texture.errors import ConfigError, NotFittedError, TextureError, TrainingError

# texture.NotFittedError subclasses ValueError and AttributeError like scikit-learn's,
# but the library cannot subclass scikit-learn's own class without importing it.
EXPECTED_FAILURES = {
    "check_estimators_unfitted": "raises texture.NotFittedError, not sklearn.exceptions.NotFittedError",
}


with warnings.catch_warnings():
    # Deliberate: the estimators follow scikit-learn's API without inheriting
    # its BaseEstimator, since the library does not import scikit-learn.
    warnings.filterwarnings("ignore", "Estimator .* does not inherit", UserWarning)
    _SKLEARN_CHECKS = parametrize_with_checks(
        [BPClassifier(epochs=50, random_state=0), BPRegressor(epochs=50, random_state=0)],
        expected_failed_checks=lambda est: EXPECTED_FAILURES,
    )


@_SKLEARN_CHECKS
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_not_fitted_error_is_ours():
    with pytest.raises(NotFittedError, match="not fitted"):
        BPClassifier().predict(np.zeros((1, 2)))


def xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25, dtype=float)
    return X, np.array([0, 1, 1, 0] * 25)


def two_spirals(n=200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1, n)) * 3 * np.pi
    arm = np.arange(n) % 2
    sign = np.where(arm == 0, 1, -1)
    X = np.c_[sign * t * np.cos(t), sign * t * np.sin(t)] / (3 * np.pi)
    return X + rng.normal(0, 0.01, X.shape), arm


def test_learns_xor():
    X, y = xor()
    clf = BPClassifier((8,), activation="tanh", learning_rate=0.05, random_state=0).fit(X, y)
    assert clf.score(X, y) == 1.0


def test_learns_two_spirals():
    X, y = two_spirals()
    clf = BPClassifier((64, 64), learning_rate=0.01, batch_size=32, epochs=400, tol=0,
                       n_iter_no_change=400, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95


def blobs(n=200, seed=1):
    """Four linearly separable Gaussian blobs."""
    rng = np.random.default_rng(seed)
    centers = np.array([[4, 0], [-4, 0], [0, 4], [0, -4]])
    y = np.arange(n) % 4
    return centers[y] + rng.normal(size=(n, 2)), y


def test_learns_linearly_separable_multiclass_without_hidden_layer():
    X, y = blobs()
    labels = np.array(["bark", "cork", "felt", "wool"])[y]
    clf = BPClassifier((), learning_rate=0.05, random_state=0).fit(X, labels)
    assert clf.score(X, labels) > 0.97
    assert list(clf.classes_) == ["bark", "cork", "felt", "wool"]
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 4) and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("schedule", ["constant", "step", "cosine", "invscaling"])
def test_every_optimizer_and_schedule_lowers_the_loss(optimizer, schedule):
    X, y = blobs()
    lr = 0.1 if optimizer in ("sgd", "momentum") else 0.01
    clf = BPClassifier((16,), optimizer=optimizer, learning_rate=lr, lr_schedule=schedule,
                       epochs=20, tol=0, n_iter_no_change=20, random_state=0).fit(X, y)
    assert clf.loss_curve_[-1] < 0.9 * clf.loss_curve_[0]
    assert clf.history_["learning_rate"][0] == lr


def test_regressor_fits_multi_output():
    X = np.linspace(-1, 1, 200)[:, None]
    Y = np.c_[X[:, 0] ** 2, np.sin(3 * X[:, 0])]
    reg = BPRegressor((32,), activation="tanh", learning_rate=0.01, epochs=500, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (200, 2)
    assert reg.score(X, Y) > 0.95


def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not():
    X, y = two_spirals(100)
    fit = lambda seed: BPClassifier((16, 8), epochs=5, random_state=seed).fit(X, y)  # noqa: E731
    a, b, c = fit(3), fit(3), fit(4)
    assert a.network_.params.tobytes() == b.network_.params.tobytes()
    assert not np.array_equal(a.network_.params, c.network_.params)


def test_float64_is_available():
    X, y = xor()
    clf = BPClassifier((8,), dtype="float64", epochs=3, random_state=0).fit(X, y)
    assert all(w.dtype == np.float64 for w in clf.coefs_)


def test_init_is_automatic_and_overridable():
    X = np.zeros((4, 400))
    y = [0, 1, 0, 1]
    spread = lambda **kw: BPClassifier((400,), epochs=1, learning_rate=1e-9, random_state=0,  # noqa: E731
                                       **kw).fit(X, y).coefs_[0].std()
    assert spread(activation="relu") == pytest.approx(np.sqrt(2 / 400), rel=0.02)  # He
    assert spread(activation="tanh") == pytest.approx(np.sqrt(2 / 800), rel=0.02)  # Xavier
    assert spread(activation="relu", init="xavier") == pytest.approx(np.sqrt(2 / 800), rel=0.02)


def test_early_stopping_restores_the_best_validation_weights():
    X, y = two_spirals(200)
    clf = BPClassifier((64,), learning_rate=0.05, early_stopping=True, validation_fraction=0.2,
                       n_iter_no_change=5, epochs=300, random_state=0).fit(X, y)
    history = clf.history_
    assert clf.n_iter_ < 300 and len(history["val_loss"]) == clf.n_iter_
    best = clf.best_epoch_
    assert history["val_loss"][best] == min(history["val_loss"])
    assert best < clf.n_iter_ - 1  # it went on past the best epoch, then stepped back


def test_history_records_diagnostics_per_epoch():
    X, y = two_spirals(100)
    clf = BPClassifier((8, 8), epochs=4, tol=0, early_stopping=True, random_state=0).fit(X, y)
    h = clf.history_
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "grad_norms", "dead_fraction"):
        assert len(h[key]) == 4, key
    assert all(len(norms) == 3 and min(norms) > 0 for norms in h["grad_norms"])
    assert all(len(d) == 2 and all(0 <= f <= 1 for f in d) for d in h["dead_fraction"])
    assert all(0 <= a <= 1 for a in h["accuracy"])


def test_dead_relu_units_are_counted():
    # Every sample is the same point, so each unit is either always on or always off.
    X, y = np.tile([[1.0, -2.0, 0.5]], (20, 1)), np.arange(20) % 2
    clf = BPClassifier((50,), epochs=1, learning_rate=1e-12, random_state=0).fit(X, y)
    off = (X[:1] @ clf.coefs_[0] + clf.intercepts_[0] <= 0).mean()
    assert 0 < off < 1
    assert clf.history_["dead_fraction"][0] == [pytest.approx(off)]


def deep_net(activation, **kw):
    X, y = two_spirals(200)
    return BPClassifier((16,) * 8, activation=activation, epochs=6, tol=0, random_state=0, **kw), X, y


def test_deep_sigmoid_network_warns_that_gradients_vanish():
    clf, X, y = deep_net("sigmoid")
    with pytest.warns(GradientWarning, match="vanish"):
        clf.fit(X, y)
    norms = np.array(clf.history_["grad_norms"])
    assert np.all(norms[:3, 0] < 1e-3 * norms[:3, -1])  # the first layer learns ~1000x slower


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_deep_relu_or_tanh_network_with_auto_init_does_not_warn(activation):
    clf, X, y = deep_net(activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        clf.fit(X, y)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # the error says it all, no overflow warnings
def test_divergence_raises_and_leaves_no_nan_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)) * 100
    y = X @ [1.0, 2.0, 3.0]
    reg = BPRegressor((8,), optimizer="sgd", learning_rate=10.0, random_state=0)
    with pytest.raises(TrainingError, match="diverged"):
        reg.fit(X, y)
    assert not hasattr(reg, "network_")
    ok = BPRegressor((8,), epochs=2, random_state=0).fit(X / 100, y / 100)
    before = ok.network_.params.copy()
    with pytest.raises(TrainingError):
        ok.set_params(optimizer="sgd", learning_rate=10.0, epochs=200).fit(X, y)
    assert np.array_equal(ok.network_.params, before)  # the previous fit is kept


@pytest.fixture
def fitted():
    X, y = xor()
    return BPClassifier((4,), epochs=2, random_state=0).fit(X, y), X, y


@pytest.mark.parametrize("bad, match", [
    (np.zeros((3, 5)), "X has 5 features, but BPClassifier is expecting 2"),
    (np.array([[np.nan, 0.0]]), "NaN or inf"),
    (np.array([[np.inf, 0.0]]), "NaN or inf"),
    (np.zeros(2), "2-D array"),
])
def test_bad_inputs_at_predict_are_named(fitted, bad, match):
    clf, _, _ = fitted
    with pytest.raises(ConfigError, match=match):
        clf.predict(bad)


def test_labels_unseen_at_fit_time_are_refused(fitted):
    clf, X, _ = fitted
    with pytest.raises(ConfigError, match=r"not seen at fit time: \[7\]"):
        clf.score(X[:2], [0, 7])


@pytest.mark.parametrize("X, y, match", [
    (np.empty((0, 3)), [], "0 sample"),
    (np.ones((4, 2)), [1, 1, 1, 1], "one class, '1'"),
    (np.ones((4, 2)), [0, 1, 0], "inconsistent numbers of samples"),
    (np.ones((4, 2)), [0.5, 1.5, 0.2, 0.1], "continuous"),
    (np.array([[1e300, 0.0], [0.0, 1.0]]), [0, 1], r"beyond the float32 range \(largest magnitude 1e\+300\)"),
])
def test_bad_training_sets_are_refused(X, y, match):
    with pytest.raises(TextureError, match=match):
        BPClassifier().fit(X, y)


@pytest.mark.parametrize("param, value", [
    ("activation", "softplus"), ("optimizer", "lbfgs"), ("hidden_layer_sizes", (4, 0)),
    ("batch_size", 0), ("dtype", "float16"), ("lr_schedule", "cyclic"), ("init", "zeros"),
])
def test_bad_hyperparameters_are_refused_at_fit(param, value):
    X, y = xor()
    clf = BPClassifier(**{param: value})  # stored untouched by __init__
    with pytest.raises(ConfigError, match=param):
        clf.fit(X, y)


def test_in_a_pipeline_with_grid_search():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = two_spirals(120)
    pipe = make_pipeline(StandardScaler(), BPClassifier(epochs=30, random_state=0))
    search = GridSearchCV(pipe, {"bpclassifier__hidden_layer_sizes": [(8,), (32,)],
                                 "bpclassifier__learning_rate": [1e-3, 1e-2]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["bpclassifier__hidden_layer_sizes"] in [(8,), (32,)]
    assert search.score(X, y) > 0.5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # a few epochs on purpose
def test_same_weights_as_sklearn_mlp_from_the_same_start(monkeypatch):
    """Same initial weights, no shuffling, float64: Adam training ends on sklearn's weights."""
    from sklearn.neural_network import MLPClassifier

    from pipeline.nn.network import Network

    def sklearn_glorot(network, init, rng):
        # MLPClassifier's draws for one seed: Glorot-uniform W then b, layer by layer.
        state = np.random.RandomState(0)
        for layer in network.dense:
            bound = np.sqrt(6 / sum(layer.W.shape))
            layer.W[...] = state.uniform(-bound, bound, layer.W.shape)
            layer.b[...] = state.uniform(-bound, bound, layer.b.shape)
        return network

    monkeypatch.setattr(Network, "initialize", sklearn_glorot)
    X, y = blobs(160)  # 5 full batches of 32
    settings = dict(batch_size=32, tol=0.0, n_iter_no_change=5, shuffle=False, random_state=0)
    # sklearn scales its penalty by 1 / batch size; ours does not.
    ours = BPClassifier((16,), epochs=5, dtype="float64", alpha=1e-3 / 32, **settings).fit(X, y)
    reference = MLPClassifier((16,), solver="adam", max_iter=5, alpha=1e-3, **settings).fit(X, y)
    for mine, theirs in zip(ours.coefs_ + ours.intercepts_, reference.coefs_ + reference.intercepts_):
        assert np.allclose(mine, theirs, rtol=1e-10, atol=1e-12)


# -- batch normalization and dropout ----------------------------------------------


def test_deep_sigmoid_network_with_batch_norm_does_not_warn_and_learns():
    clf, X, y = deep_net("sigmoid", batch_norm=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        clf.fit(X, y)
    norms = np.array(clf.history_["grad_norms"])
    assert np.all(norms[:, 0] > 0.1 * norms[:, -1])  # the first layer's gradient keeps its size
    assert clf.history_["loss"][-1] < 0.9 * clf.history_["loss"][0]


@pytest.mark.parametrize("Estimator, make", [(BPClassifier, xor), (BPRegressor, lambda: (xor()[0], xor()[1] * 1.0))])
def test_batch_norm_and_dropout_predictions_are_deterministic_and_per_sample(Estimator, make):
    X, y = make()
    est = Estimator((8, 8), activation="tanh", batch_norm=True, dropout=0.3, epochs=5, random_state=0).fit(X, y)
    first = est.predict(X)
    assert np.array_equal(est.predict(X), first)  # no dropout, no batch statistics at prediction
    # One sample alone: the same output (to the last digits BLAS may order differently).
    np.testing.assert_allclose(est.predict(X[5:6]), first[5:6], rtol=1e-12)
    a = Estimator(**est.get_params()).fit(X, y)
    assert a.network_.params.tobytes() == est.network_.params.tobytes()  # same seed, same model
    assert a.network_.buffers.tobytes() == est.network_.buffers.tobytes()


def test_fit_trains_with_batch_statistics_and_updates_the_running_ones():
    X, y = two_spirals(100)
    # A vanishing learning rate keeps the weights; 40 epochs of 2 batches let the
    # running estimates (momentum 0.1) forget their start (0 and 1).
    clf = BPClassifier((8,), batch_norm=True, epochs=40, tol=0, learning_rate=1e-9,
                       random_state=0).fit(X * 10 + 5, y)
    mean, var = clf.network_.norms[0].running_mean, clf.network_.norms[0].running_var
    h = (X * 10 + 5) @ clf.coefs_[0]  # the pre-activations the statistics estimate
    # Within a tenth of a standard deviation: an average over the last few batches.
    assert np.all(np.abs(mean - h.mean(axis=0)) < 0.1 * h.std(axis=0))
    np.testing.assert_allclose(var, h.var(axis=0), rtol=0.15)
    assert clf.intercepts_[0] is None and clf.intercepts_[1] is not None  # batch norm replaces the bias


def test_dropout_widens_the_gap_less_than_none_on_a_small_training_set():
    # 40 noisy samples, a wide network: without dropout it memorizes them.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 20))
    y = (X[:, 0] + rng.normal(0, 1.0, 240) > 0).astype(int)
    gaps = []
    for rate in (0.0, 0.5):
        clf = BPClassifier((256,), dropout=rate, epochs=200, tol=0, learning_rate=3e-3,
                           random_state=0).fit(X[:40], y[:40])
        gaps.append(clf.score(X[:40], y[:40]) - clf.score(X[40:], y[40:]))
    assert gaps[1] < gaps[0]


def test_dropout_does_not_change_initialization_or_shuffling():
    X, y = xor()
    plain = BPClassifier((4,), epochs=1, learning_rate=1e-12, random_state=0).fit(X, y)
    dropped = BPClassifier((4,), epochs=1, learning_rate=1e-12, dropout=0.5, random_state=0).fit(X, y)
    assert np.allclose(plain.network_.params, dropped.network_.params)


@pytest.mark.parametrize("param, value", [("batch_norm", "yes"), ("dropout", 1.0), ("dropout", -0.1)])
def test_bad_batch_norm_or_dropout_is_refused_at_fit(param, value):
    X, y = xor()
    with pytest.raises(ConfigError, match=param):
        BPClassifier(**{param: value}).fit(X, y)


def test_diagnostics_of_a_batch_normalized_dropout_network_cover_every_layer():
    X, y = two_spirals(100)
    clf = BPClassifier((8, 6), batch_norm=True, dropout=0.3, epochs=2, random_state=0).fit(X, y)
    h = clf.history_
    assert all(len(norms) == 3 and min(norms) > 0 for norms in h["grad_norms"])
    assert all(len(dead) == 2 for dead in h["dead_fraction"])  # the two ReLU layers, found among the others
