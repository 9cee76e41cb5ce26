"""pipeline/evaluation.py: the train/test splits and the accuracy protocol, on the bundled sample data."""

import numpy as np
import pytest

from pipeline import BPClassifier
from pipeline.evaluation import (brier_score, cross_validate, expected_calibration_error, group_holdout, holdout_split,
                                 reliability_bins, stratified_kfold)
from pipeline.sample import sample_root
from texture import ConfigError, read_image
from texture.lbp import lbp_feature_vector

SCALE_FOLDS = ({1, 4, 7}, {2, 5, 8}, {3, 6, 9})


@pytest.fixture(scope="module")
def sample():
    """Bundled texture classes: a small LBP matrix, labels, and a pseudo group (image number mod 9 + 1)."""
    paths = sorted((sample_root() / "textures").glob("*/*.png"))
    X = np.array([lbp_feature_vector(read_image(p), ((8, 1), (16, 2))) for p in paths])
    labels = np.array([p.parent.name for p in paths])
    groups = np.array([int(p.stem.rsplit("_", 1)[1]) % 9 + 1 for p in paths])
    return X, labels, groups


def test_stratified_kfold_partitions_and_keeps_class_proportions(sample):
    _, labels, _ = sample
    splits = stratified_kfold(labels, n_splits=5, seed=3)
    tests = np.concatenate([test for _, test in splits])
    assert np.array_equal(np.sort(tests), np.arange(len(labels)))
    classes, totals = np.unique(labels, return_counts=True)
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        assert len(train) + len(test) == len(labels)
        counts = np.array([np.sum(labels[test] == c) for c in classes])
        assert np.all(np.abs(counts - totals / 5) <= 1)


def test_stratified_kfold_is_seeded():
    labels = np.repeat(["a", "b", "c"], [10, 7, 13])
    first = stratified_kfold(labels, 3, seed=1)
    again = stratified_kfold(labels, 3, seed=1)
    other = stratified_kfold(labels, 3, seed=2)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other))


def test_stratified_kfold_balances_fold_sizes_across_odd_classes():
    labels = np.repeat(["a", "b", "c"], [6, 6, 6])  # 18 images, 4 folds: sizes 5, 5, 4, 4
    sizes = sorted(len(test) for _, test in stratified_kfold(labels, 4))
    assert sizes == [4, 4, 5, 5]


@pytest.mark.parametrize("n_splits", [1, 26, 2.5])
def test_stratified_kfold_refuses_impossible_folds(sample, n_splits):
    with pytest.raises(ConfigError):
        stratified_kfold(sample[1], n_splits)


def test_group_holdout_never_mixes_groups(sample):
    _, _, groups = sample
    splits = group_holdout(groups, SCALE_FOLDS)
    assert len(splits) == 3
    for (train, test), held in zip(splits, SCALE_FOLDS):
        assert set(groups[test]) == held
        assert not set(groups[train]) & held
        assert len(train) + len(test) == len(groups)
    # The three scale folds test every image exactly once.
    tests = np.concatenate([test for _, test in splits])
    assert np.array_equal(np.sort(tests), np.arange(len(groups)))


@pytest.mark.parametrize("held_out", [[{10}], [set()], [set(range(1, 10))]])
def test_group_holdout_refuses_unknown_empty_or_total_test_sets(sample, held_out):
    with pytest.raises(ConfigError):
        group_holdout(sample[2], held_out)


class RecordingScaler:
    """A z-score scaler that remembers which rows it was fitted on."""

    fitted_on = []

    def fit_transform(self, X):
        RecordingScaler.fitted_on.append(X.copy())
        self.mean, self.std = X.mean(axis=0), X.std(axis=0) + 1e-12
        return self.transform(X)

    def transform(self, X):
        return (X - self.mean) / self.std


class RecordingEstimator:
    """Nearest class mean; remembers the rows it was trained on."""

    trained_on = []

    def fit(self, X, y):
        RecordingEstimator.trained_on.append(X.copy())
        self.classes = np.unique(y)
        self.means = np.array([X[y == c].mean(axis=0) for c in self.classes])
        return self

    def predict(self, X):
        return self.classes[((X[:, None, :] - self.means) ** 2).sum(axis=2).argmin(axis=1)]


def test_cross_validate_fits_normalizer_and_model_on_training_rows_only(sample):
    X, labels, groups = sample
    RecordingScaler.fitted_on.clear()
    RecordingEstimator.trained_on.clear()
    splits = group_holdout(groups, SCALE_FOLDS)
    estimator = RecordingEstimator()
    scores = cross_validate(estimator, X, labels, splits, scaler=RecordingScaler)
    assert not hasattr(estimator, "means")  # each split fitted its own copy
    assert len(RecordingScaler.fitted_on) == len(RecordingEstimator.trained_on) == len(splits)
    for (train, test), fitted, trained, score in zip(
        splits, RecordingScaler.fitted_on, RecordingEstimator.trained_on, scores
    ):
        assert np.array_equal(fitted, X[train])
        # The model saw the training rows normalized by their own statistics.
        expected = (X[train] - X[train].mean(axis=0)) / (X[train].std(axis=0) + 1e-12)
        np.testing.assert_allclose(trained, expected)
        assert (score.n_train, score.n_test) == (len(train), len(test))
        assert 0.0 <= score.accuracy <= 1.0 and score.fit_seconds >= 0.0


def test_cross_validate_accuracy_is_the_share_of_correct_test_predictions(sample):
    X, labels, _ = sample
    splits = stratified_kfold(labels, 5, seed=0)
    scores = cross_validate(RecordingEstimator(), X, labels, splits, scaler=RecordingScaler)
    for (train, test), score in zip(splits, scores):
        scaler = RecordingScaler()
        model = RecordingEstimator().fit(scaler.fit_transform(X[train]), labels[train])
        expected = np.mean(model.predict(scaler.transform(X[test])) == labels[test])
        assert score.accuracy == pytest.approx(expected)


def test_cross_validate_with_the_bp_network_beats_chance_and_is_deterministic(sample):
    X, labels, _ = sample
    splits = stratified_kfold(labels, 3, seed=0)
    net = BPClassifier((32,), epochs=60, random_state=0)
    first = cross_validate(net, X, labels, splits, scaler=RecordingScaler)
    again = cross_validate(net, X, labels, splits, scaler=RecordingScaler)
    assert [s.accuracy for s in first] == [s.accuracy for s in again]
    # Six balanced classes: chance is 1/6.
    assert np.mean([s.accuracy for s in first]) > 0.5


def test_cross_validate_refuses_mismatched_rows():
    with pytest.raises(ConfigError):
        cross_validate(RecordingEstimator(), np.zeros((4, 2)), ["a", "b", "a"], [], scaler=RecordingScaler)


def test_cross_validate_adds_augmented_training_rows_but_never_augmented_test_rows(sample):
    X, labels, groups = sample
    # Copies marked by an offset no original row has, so that any leak shows.
    copies = np.stack([X + 1000.0, X + 2000.0], axis=1)  # (images, copies, features)
    RecordingScaler.fitted_on.clear()
    splits = group_holdout(groups, SCALE_FOLDS)
    scores = cross_validate(RecordingEstimator(), X, labels, splits, scaler=RecordingScaler, copies=copies)
    for (train, test), fitted, score in zip(splits, RecordingScaler.fitted_on, scores):
        # The images, then each training image's two copies.
        each = np.stack([X[train] + 1000.0, X[train] + 2000.0], axis=1).reshape(-1, X.shape[1])
        assert np.array_equal(fitted, np.concatenate([X[train], each]))
        assert score.n_train == 3 * len(train) and score.n_test == len(test)


def test_cross_validate_refuses_augmented_matrices_of_another_shape(sample):
    X, labels, _ = sample
    with pytest.raises(ConfigError):
        cross_validate(RecordingEstimator(), X, labels, stratified_kfold(labels, 2), scaler=RecordingScaler,
                       copies=X[:-1, None, :])


def test_holdout_split_is_stratified_or_group_wise():
    labels = ["a"] * 8 + ["b"] * 4
    train, test = holdout_split(labels, test_size=0.25, seed=0)
    assert sorted([*train, *test]) == list(range(12))
    assert sum(labels[i] == "a" for i in test) == 2 and sum(labels[i] == "b" for i in test) == 1
    assert (holdout_split(labels, seed=0)[1] == test).all()  # seeded
    test_stratified = test
    groups = ["g1", "g1", "g2", "g2", "g3", "g3", "g4", "g4", "g1", "g2", "g3", "g4"]
    train, test = holdout_split(labels, groups, test_size=0.25, seed=0)
    assert not {groups[i] for i in train} & {groups[i] for i in test}
    assert len({groups[i] for i in test}) == 1
    # A data table's group column without groups (None, or NaN from a CSV) means no groups.
    for missing in ([None] * 12, [np.nan] * 12):
        assert (holdout_split(labels, missing, test_size=0.25, seed=0)[1] == test_stratified).all()


def test_cross_validate_scores_altered_test_rows_with_the_model_fitted_on_unaltered_rows(sample):
    X, labels, _ = sample
    splits = stratified_kfold(labels, 3, seed=0)
    RecordingEstimator.trained_on.clear()
    # "same" must score as X does; "shuffled" (each row another image's) near chance, never used for training.
    rng = np.random.default_rng(0)
    shuffled = X[rng.permutation(len(X))]
    scores = cross_validate(RecordingEstimator(), X, labels, splits, scaler=RecordingScaler,
                            altered={"same": X.copy(), "shuffled": shuffled})
    for (train, _), trained, score in zip(splits, RecordingEstimator.trained_on, scores):
        assert trained.shape == (len(train), X.shape[1])
        assert set(score.altered) == {"same", "shuffled"}
        assert score.altered["same"] == score.accuracy
        assert score.altered["shuffled"] < score.accuracy
    with pytest.raises(ConfigError):
        cross_validate(RecordingEstimator(), X, labels, splits, scaler=RecordingScaler, altered={"bad": X[:-1]})


# -- calibration metrics ------------------------------------------------------------


def _ece_by_loop(y_true, proba, n_bins):
    """The textbook definition, one sample at a time, bins (k/M, (k+1)/M]."""
    confidence, predicted = proba.max(axis=1), proba.argmax(axis=1)
    total = 0.0
    for k in range(n_bins):
        lower, upper = k / n_bins, (k + 1) / n_bins
        inside = [i for i in range(len(proba)) if lower < confidence[i] <= upper or (k == 0 and confidence[i] == 0)]
        if inside:
            accuracy = np.mean([predicted[i] == y_true[i] for i in inside])
            total += len(inside) / len(proba) * abs(accuracy - np.mean(confidence[inside]))
    return total


@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_expected_calibration_error_matches_its_definition(n_bins):
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4) * 0.3, size=300)
    y = rng.integers(0, 4, 300)
    assert expected_calibration_error(y, proba, n_bins) == pytest.approx(_ece_by_loop(y, proba, n_bins), abs=1e-12)


def test_calibrated_predictions_have_a_small_error_and_over_confident_ones_a_large_one():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.5, 1, 20000)
    right = rng.random(20000) < confidence  # right exactly as often as claimed
    proba = np.c_[confidence, 1 - confidence]
    y = np.where(right, 0, 1)
    assert expected_calibration_error(y, proba) < 0.02
    sure = np.c_[np.full(20000, 0.99), np.full(20000, 0.01)]
    assert expected_calibration_error(y, sure) == pytest.approx(0.99 - right.mean(), abs=1e-9)


def test_reliability_bins_count_every_prediction_in_its_bin():
    proba = np.array([[1.0, 0.0], [0.5, 0.5], [0.7, 0.3], [0.2, 0.8]])
    bins = reliability_bins([0, 1, 1, 1], proba, n_bins=5)
    assert bins["count"].tolist() == [0, 0, 1, 2, 1]  # 0.5 in (0.4, 0.6], 0.7 and 0.8 in (0.6, 0.8]
    assert bins.loc[3, "accuracy"] == 0.5 and bins.loc[3, "confidence"] == pytest.approx(0.75)
    assert np.isnan(bins.loc[0, "accuracy"])


def test_brier_score_matches_its_definition():
    rng = np.random.default_rng(2)
    proba = rng.dirichlet(np.ones(3), size=50)
    y = rng.integers(0, 3, 50)
    assert brier_score(y, proba) == pytest.approx(np.mean(np.sum((proba - np.eye(3)[y]) ** 2, axis=1)))
    assert brier_score([0, 1], np.eye(2)) == 0.0


@pytest.mark.parametrize("y, proba, match", [
    ([0, 2], [[0.5, 0.5], [0.5, 0.5]], "column indices"),
    ([0.0, 1.0], [[0.5, 0.5], [0.5, 0.5]], "column indices"),
    ([0], [[0.5, 0.5], [0.5, 0.5]], "one class index per row"),
    ([0, 1], [[1.5, -0.5], [0.5, 0.5]], r"\[0, 1\]"),
    ([0], [0.5, 0.5], "shape"),
])
def test_calibration_metrics_refuse_bad_input(y, proba, match):
    for metric in (expected_calibration_error, brier_score):
        with pytest.raises(ConfigError, match=match):
            metric(np.asarray(y), np.asarray(proba))


def test_cross_validate_can_train_on_the_copies_that_choose_copies_keeps(sample, monkeypatch):
    import pipeline.evaluation as evaluation
    from pipeline.augment import N_TRAINING_COPIES

    X, labels, _ = sample
    copies = np.stack([X + 1000.0 * (k + 1) for k in range(N_TRAINING_COPIES)], axis=1)
    asked = []

    def only_the_last(estimator, scaler, X_train, y_train, copies_train):
        asked.append((len(X_train), copies_train.shape))
        return (N_TRAINING_COPIES - 1,)

    monkeypatch.setattr(evaluation, "choose_copies", only_the_last)
    RecordingScaler.fitted_on.clear()
    splits = stratified_kfold(labels, 2, seed=0)
    cross_validate(RecordingEstimator(), X, labels, splits, scaler=RecordingScaler, copies=copies, choose=True)
    # Asked once per training part, with that part only; trained on its images and their last copies.
    assert asked == [(len(train), (len(train), N_TRAINING_COPIES, X.shape[1])) for train, _ in splits]
    for (train, _), fitted in zip(splits, RecordingScaler.fitted_on):
        assert np.array_equal(fitted, np.concatenate([X[train], X[train] + 1000.0 * N_TRAINING_COPIES]))
