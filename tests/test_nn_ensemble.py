"""Tests for pipeline/nn/ensemble.py: networks trained with their own seeds, outputs averaged."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from pipeline import BPClassifier, BPRegressor, NetworkEnsemble
from pipeline.nn.ensemble import member_seeds
from texture.errors import ConfigError, ModelFileError, NotFittedError


def blobs(n=90, seed=0):
    """Three overlapping Gaussian classes in 4 dimensions: networks of other seeds disagree on a few points."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return rng.normal(size=(n, 4)) + 1.2 * np.eye(3, 4)[y], y


def small(cls=BPClassifier, seed=0):
    return cls((6,), activation="tanh", epochs=30, learning_rate=0.02, random_state=seed)


with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Estimator .* does not inherit", UserWarning)
    _SKLEARN_CHECKS = parametrize_with_checks(
        [NetworkEnsemble(BPClassifier(epochs=20, random_state=0), n_networks=2),
         NetworkEnsemble(BPRegressor(epochs=50, random_state=0), n_networks=2)],
        expected_failed_checks=lambda est: {
            "check_estimators_unfitted": "raises texture.NotFittedError, not sklearn.exceptions.NotFittedError"},
    )


@_SKLEARN_CHECKS
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_member_seeds_keep_the_given_seed_first_and_derive_the_others_deterministically():
    seeds = member_seeds(7, 4)
    assert seeds[0] == 7 and len(set(seeds)) == 4 and seeds == member_seeds(7, 4)
    assert member_seeds(7, 2) == seeds[:2]  # a smaller ensemble is the start of a larger one
    assert member_seeds(8, 4)[1:] != seeds[1:]
    assert member_seeds(None, 3) == [None] * 3


def test_one_network_is_the_estimator_alone_bit_for_bit():
    X, y = blobs()
    alone = small().fit(X, y)
    ensemble = NetworkEnsemble(small(), n_networks=1).fit(X, y)
    np.testing.assert_array_equal(ensemble.predict_proba(X), alone.predict_proba(X))


def test_probabilities_are_the_mean_of_networks_trained_with_their_own_seeds():
    X, y = blobs()
    ensemble = NetworkEnsemble(small(seed=3), n_networks=3).fit(X, y)
    assert [net.random_state for net in ensemble.estimators_] == member_seeds(3, 3)
    alone = [small(seed=s).fit(X, y).predict_proba(X) for s in member_seeds(3, 3)]
    assert not np.array_equal(alone[0], alone[1])  # the seeds make different networks
    np.testing.assert_allclose(ensemble.predict_proba(X), np.mean(alone, axis=0), rtol=1e-12)
    np.testing.assert_array_equal(ensemble.predict(X), ensemble.classes_[np.mean(alone, axis=0).argmax(axis=1)])
    assert ensemble.n_features_in_ == 4 and list(ensemble.classes_) == [0, 1, 2]
    assert ensemble.history_ is ensemble.estimators_[0].history_


def test_the_same_seed_gives_the_same_ensemble_bit_for_bit():
    X, y = blobs()
    a = NetworkEnsemble(small(), n_networks=3).fit(X, y).get_state()[1]
    b = NetworkEnsemble(small(), n_networks=3).fit(X, y).get_state()[1]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_the_estimator_given_is_left_unfitted_and_its_seed_untouched():
    X, y = blobs()
    network = small(seed=5)
    NetworkEnsemble(network, n_networks=2).fit(X, y)
    assert not hasattr(network, "network_") and network.random_state == 5


def test_an_ensemble_of_regressors_averages_their_predictions_and_has_no_probabilities():
    X, _ = blobs()
    target = X[:, 0] - X[:, 1]
    ensemble = NetworkEnsemble(small(BPRegressor), n_networks=2).fit(X, target)
    assert not hasattr(ensemble, "predict_proba")
    alone = [small(BPRegressor, s).fit(X, target).predict(X) for s in member_seeds(0, 2)]
    np.testing.assert_allclose(ensemble.predict(X), np.mean(alone, axis=0), rtol=1e-12)
    assert ensemble.score(X, target) > 0.8


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_a_bad_number_of_networks_is_refused(n):
    with pytest.raises(ConfigError, match="n_networks"):
        NetworkEnsemble(small(), n_networks=n).fit(*blobs())


def test_params_follow_the_scikit_learn_protocol():
    ensemble = NetworkEnsemble(small(), n_networks=2)
    assert ensemble.get_params(deep=False) == {"estimator": ensemble.estimator, "n_networks": 2}
    assert ensemble.get_params()["estimator__epochs"] == 30
    ensemble.set_params(n_networks=4, estimator__epochs=12)
    assert ensemble.n_networks == 4 and ensemble.estimator.epochs == 12
    copied = clone(ensemble)
    assert copied.n_networks == 4 and copied.estimator.epochs == 12 and copied.estimator is not ensemble.estimator
    with pytest.raises(ConfigError, match="no parameter 'networks'"):
        ensemble.set_params(networks=3)


def test_unfitted_ensemble_says_so():
    with pytest.raises(NotFittedError, match="not fitted"):
        NetworkEnsemble(small()).predict(np.zeros((1, 4)))


def test_state_round_trip_predicts_the_same():
    X, y = blobs()
    ensemble = NetworkEnsemble(small(), n_networks=3).fit(X, y)
    meta, arrays = ensemble.get_state()
    again = NetworkEnsemble.from_state(meta, arrays)
    np.testing.assert_array_equal(again.predict_proba(X), ensemble.predict_proba(X))
    assert again.n_networks == 3 and again.estimator.get_params() == small().get_params()


@pytest.mark.parametrize("damage, message", [
    (lambda meta, arrays: meta.update(n_networks=2), "3 networks|2 networks"),
    (lambda meta, arrays: meta.update(member_class="Pickle"), "unknown network class"),
    (lambda meta, arrays: arrays.update({"3.W0": arrays["0.W0"]}), "unexpected arrays"),
    (lambda meta, arrays: arrays.pop("2.W0"), "invalid"),
    (lambda meta, arrays: meta["members"][1].update(n_features_in_=5), "architecture|different numbers"),
    (lambda meta, arrays: arrays.update({"1.classes": np.array([0, 1, 3])}), "different classes"),
])
def test_an_inconsistent_state_is_refused(damage, message):
    X, y = blobs()
    meta, arrays = NetworkEnsemble(small(), n_networks=3).fit(X, y).get_state()
    damage(meta, arrays)
    with pytest.raises(ModelFileError, match=message):
        NetworkEnsemble.from_state(meta, arrays)
