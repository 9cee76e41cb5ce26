"""Tests for pipeline/calibration.py: temperature scaling fitted on out-of-fold predictions."""

import numpy as np
import pytest

from pipeline.calibration import (TEMPERATURE_RANGE, calibration_folds, fit_temperature, log_probabilities,
                                  out_of_fold_logits, scaled_probabilities)
from pipeline.nn import BPClassifier
from texture.errors import ConfigError


def sampled(temperature, n=20000, n_classes=4, seed=0):
    """Logits, and labels drawn from softmax(logits / temperature): that temperature is the calibrated one."""
    rng = np.random.default_rng(seed)
    logits = 3 * rng.normal(size=(n, n_classes))
    p = scaled_probabilities(np.exp(logits - logits.max(1, keepdims=True)), temperature)
    labels = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return logits, labels


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_that_generated_the_labels(temperature):
    logits, labels = sampled(temperature)
    assert fit_temperature(logits, labels) == pytest.approx(temperature, rel=0.05)


def test_fit_temperature_minimizes_the_cross_entropy():
    logits, labels = sampled(1.7, n=3000)

    def nll(T):
        p = scaled_probabilities(np.exp(logits - logits.max(1, keepdims=True)), T)
        return -np.mean(np.log(p[np.arange(len(labels)), labels]))

    best = fit_temperature(logits, labels)
    assert nll(best) <= min(nll(best * 0.98), nll(best * 1.02))
    grid = np.linspace(0.5, 4, 200)
    assert nll(best) <= min(nll(T) for T in grid) + 1e-9


def test_perfect_or_hopeless_validation_stops_at_the_bounds():
    logits = np.array([[5.0, 0.0], [0.0, 5.0]] * 10)
    assert fit_temperature(logits, np.array([0, 1] * 10)) == TEMPERATURE_RANGE[0]  # always right: sharpen
    assert fit_temperature(logits, np.array([1, 0] * 10)) == TEMPERATURE_RANGE[1]  # always wrong: flatten


def test_scaling_never_changes_the_most_probable_class():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(5), size=500)
    for T in (0.1, 0.7, 3.0, 20.0):
        scaled = scaled_probabilities(proba, T)
        np.testing.assert_array_equal(scaled.argmax(axis=1), proba.argmax(axis=1))
        np.testing.assert_allclose(scaled.sum(axis=1), 1)
    np.testing.assert_allclose(scaled_probabilities(proba, 1.0), proba)


def test_log_probabilities_stay_finite():
    assert np.isfinite(log_probabilities(np.array([[1.0, 0.0]]))).all()


def test_true_class_without_a_finite_logit_is_refused():
    with pytest.raises(ConfigError, match="finite"):
        fit_temperature(np.array([[0.0, -np.inf]]), np.array([1]))


class TestCalibrationFolds:
    def test_groups_stay_whole_and_folds_partition_the_rows(self):
        labels = np.repeat(["a", "b", "c"], 20)
        groups = np.arange(60) // 4  # 15 groups of 4 rows, each of one class
        folds = calibration_folds(labels, groups)
        assert len(folds) == 3
        np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(60))
        for fold in folds:
            others = np.setdiff1d(np.arange(60), fold)
            assert not set(groups[fold]) & set(groups[others])
            assert set(labels[fold]) == {"a", "b", "c"}  # each fold gets every class

    def test_coarse_groups_are_dealt_whole(self):
        groups = np.tile(np.arange(6), 10)  # e.g. six scales, each holding every class
        labels = np.repeat(np.arange(10), 6)
        folds = calibration_folds(labels, groups)
        assert sorted(len(set(groups[fold])) for fold in folds) == [2, 2, 2]

    def test_fewer_groups_fewer_folds_and_one_is_refused(self):
        assert len(calibration_folds([0, 1, 0, 1], [0, 0, 1, 1])) == 2
        with pytest.raises(ConfigError, match="2 groups"):
            calibration_folds([0, 1], [5, 5])

    def test_seeded(self):
        labels = np.arange(30) % 3
        assert all(np.array_equal(a, b) for a, b in zip(calibration_folds(labels, seed=1),
                                                        calibration_folds(labels, seed=1)))


def test_out_of_fold_logits_come_from_copies_that_never_saw_the_row():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    labels = np.array(["a", "b", "c"])[np.arange(60) % 3]
    X[labels == "b"] += 3
    folds = calibration_folds(labels)
    template = BPClassifier((4,), epochs=20, random_state=0)
    logits, known = out_of_fold_logits(template, X, labels, np.array(["a", "b", "c"]), folds)
    assert known.all() and not hasattr(template, "network_")  # the template stays unfitted
    held_out = folds[0]
    model = BPClassifier((4,), epochs=20, random_state=0).fit(np.delete(X, held_out, 0), np.delete(labels, held_out))
    np.testing.assert_allclose(logits[held_out], log_probabilities(model.predict_proba(X[held_out])))


def test_a_class_missing_from_a_training_part_is_minus_infinity_and_not_known():
    X = np.arange(12, dtype=float)[:, None]
    labels = np.array(["a", "b"] * 5 + ["c", "c"])
    folds = [np.array([10, 11]), np.arange(10)]  # the first copy never sees "c"
    logits, known = out_of_fold_logits(BPClassifier((3,), epochs=2, random_state=0), X, labels,
                                       np.array(["a", "b", "c"]), folds)
    assert np.all(np.isneginf(logits[10:, 2])) and not known[10:].any()
    assert not known[:10].any()  # trained on "c" alone: no classifier, nothing known
