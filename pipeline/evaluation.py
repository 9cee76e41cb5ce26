"""Honest accuracy estimates: train/test splits and per-fold scoring.

:func:`holdout_split` makes the one train/test split of ``texture train``
(stratified, or by whole groups).  For estimates, two kinds of split, both
given as lists of ``(train, test)`` index arrays:

* :func:`stratified_kfold` -- every image is tested once, each fold keeps the
  class proportions of the whole set;
* :func:`group_holdout` -- whole groups (e.g. the KTH-TIPS scales) are held
  out together, so that near-duplicate images never straddle the split.

:func:`cross_validate` fits a fresh normalizer and a fresh copy of the
estimator on each training part only, then scores the held-out part: nothing
of the test images, not even their mean and spread, reaches the model.

Whether the probabilities can be trusted is measured on held-out images by
:func:`expected_calibration_error` (over the confidence bins of
:func:`reliability_bins`, drawn by
:func:`pipeline.report.plot_reliability_diagram`) and :func:`brier_score`.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.augment import choose_copies, with_copies
from texture.errors import ConfigError

__all__ = ["FoldScore", "holdout_split", "stratified_kfold", "group_holdout", "cross_validate",
           "reliability_bins", "expected_calibration_error", "brier_score"]


def holdout_split(labels, groups=None, test_size: float = 0.25, seed: int = 0):
    """Indices of a seeded train/test split, stratified by label or by whole groups.

    Parameters
    ----------
    labels : sequence of length n
    groups : sequence of length n, optional
        When given (and not all missing: None, NaN or ""), whole groups go to
        one side, so that related images (same scale, same photo) never
        straddle the split.  A ``pipeline.data`` table's ``group`` column fits.
    test_size : float
        Fraction of samples (or of groups) held out.
    seed : int

    Returns
    -------
    train, test : ndarray of int
        Sorted indices.
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    test = np.zeros(len(labels), dtype=bool)
    if groups is not None:
        # pipeline.data marks a missing group None (NaN after a CSV), list_inputs "".
        groups = pd.Series(list(groups), dtype=object).fillna("").astype(str).to_numpy()
    if groups is not None and any(groups):
        names = np.unique(groups)
        if len(names) < 2:
            raise ConfigError("a group-wise split needs at least 2 groups")
        n_test = min(len(names) - 1, max(1, round(test_size * len(names))))
        test = np.isin(groups, rng.permutation(names)[:n_test])
    else:
        for label in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == label))
            if len(members) < 2:
                raise ConfigError(f"class '{label}' has {len(members)} image; need at least 2 to hold one out")
            n_test = min(len(members) - 1, max(1, round(test_size * len(members))))
            test[members[:n_test]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)


def stratified_kfold(labels, n_splits=5, seed=0):
    """Split into `n_splits` folds that keep the class proportions.

    Each class is shuffled and dealt round-robin to the folds, one class after
    the other, so fold sizes differ by at most one image and per-class counts
    by at most one too.

    Parameters
    ----------
    labels : array_like of shape (n,)
    n_splits : int, default 5
    seed : int, default 0
        Seed of the shuffles; the same seed gives the same folds.

    Returns
    -------
    splits : list of (train, test)
        Sorted ``int`` index arrays; the test parts partition ``range(n)``.

    Raises
    ------
    ConfigError
        `n_splits` is below 2 or above the size of the smallest class.

    Examples
    --------
    >>> labels = np.array(["a"] * 4 + ["b"] * 2)
    >>> splits = stratified_kfold(labels, n_splits=2)
    >>> [labels[test].tolist() for _, test in splits]
    [['a', 'a', 'b'], ['a', 'a', 'b']]
    """
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ConfigError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    if counts.min() < n_splits:
        small = classes[counts.argmin()]
        raise ConfigError(f"class '{small}' has {counts.min()} images, fewer than n_splits={n_splits}")
    rng = np.random.default_rng(seed)
    # Dealing the concatenation of shuffled classes round-robin balances both
    # the classes within each fold and the fold sizes.
    order = np.concatenate([rng.permutation(np.flatnonzero(labels == c)) for c in classes])
    fold = np.empty(len(labels), dtype=np.intp)
    fold[order] = np.arange(len(labels)) % n_splits
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]


def group_holdout(groups, held_out):
    """Hold out whole groups: one split per set of test groups.

    Parameters
    ----------
    groups : array_like of shape (n,)
        Group of each image (e.g. the KTH-TIPS scale).
    held_out : sequence of collections
        For each split, the groups to test on; every other image trains.

    Returns
    -------
    splits : list of (train, test)
        Sorted ``int`` index arrays.

    Raises
    ------
    ConfigError
        A test set names a group that no image has, or leaves nothing to
        train on.

    Examples
    --------
    >>> scales = [1, 1, 2, 2, 3, 3]
    >>> [test.tolist() for _, test in group_holdout(scales, [{1}, {2, 3}])]
    [[0, 1], [2, 3, 4, 5]]
    """
    groups = np.asarray(groups)
    present = set(groups.tolist())
    splits = []
    for test_groups in held_out:
        test_groups = list(test_groups)
        missing = [g for g in test_groups if g not in present]
        if not test_groups or missing:
            raise ConfigError(f"held-out groups {test_groups!r} name groups no image has: {missing!r}")
        test = np.isin(groups, test_groups)
        if test.all():
            raise ConfigError(f"holding out groups {test_groups!r} leaves no image to train on")
        splits.append((np.flatnonzero(~test), np.flatnonzero(test)))
    return splits


@dataclass(frozen=True)
class FoldScore:
    """Outcome of one split: held-out accuracy and the time to fit."""

    accuracy: float
    fit_seconds: float
    n_train: int  # training rows, augmented copies included
    n_test: int
    altered: dict = field(default_factory=dict)  # name -> accuracy on the altered test rows


def cross_validate(estimator, X, y, splits, *, scaler, copies=None, altered=None, choose=False):
    """Fit on each training part, score on its test part.

    Parameters
    ----------
    estimator : object with ``fit(X, y)`` and ``predict(X)``
        Left untouched: each split fits a deep copy.
    X : array_like of shape (n, n_features)
        Unnormalized features.
    y : array_like of shape (n,)
    splits : list of (train, test)
        From :func:`stratified_kfold` or :func:`group_holdout`.
    scaler : callable
        Returns a new unfitted normalizer (``fit_transform``/``transform``),
        e.g. ``pipeline.normalize.StandardScaler``; it is fitted on the
        training rows only.
    copies : array_like of shape (n, n_copies, n_features), optional
        The features of each image's training copies (``copies[i]``: the
        :func:`pipeline.augment.copy_features` of image ``i``).  Those of the
        training images are added to each training part
        (:func:`pipeline.augment.with_copies`); those of the test images are
        never used, since a copy of a test image would leak it.
    altered : dict of str to array_like, optional
        Feature matrices shaped like `X` whose row ``i`` comes from an
        altered copy of image ``i`` (noise added, rotated...).  Each fitted
        model also scores their test rows, to measure how well a model
        trained on unaltered images copes with altered ones; their training
        rows are never used.
    choose : bool, default False
        Train each part on the copies :func:`pipeline.augment.choose_copies`
        picks from its own training images, as :meth:`pipeline.TextureModel.fit`
        does (`copies` then holds the default copies, in their order).

    Returns
    -------
    scores : list of FoldScore
        One per split, in order; ``fit_seconds`` covers the normalizer and
        the estimator; ``altered`` maps each name of `altered` to the
        accuracy on its test rows.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ConfigError(f"X must be 2-D with one row per label, got {X.shape} for {len(y)} labels")
    if copies is not None:
        copies = np.asarray(copies, dtype=np.float64)
        if copies.ndim != 3 or copies.shape[0] != len(X) or copies.shape[2] != X.shape[1]:
            raise ConfigError(f"copies must have shape ({len(X)}, n_copies, {X.shape[1]}), got {copies.shape}")
    altered = {name: np.asarray(A, dtype=np.float64) for name, A in (altered or {}).items()}
    if any(A.shape != X.shape for A in altered.values()):
        raise ConfigError(f"altered feature matrices must have the shape of X, {X.shape}")
    scores = []
    for train, test in splits:
        model, normalizer = copy.deepcopy(estimator), scaler()
        start = time.perf_counter()
        if copies is None:
            X_train, y_train = X[train], y[train]
        else:
            kept = choose_copies(estimator, scaler, X[train], y[train], copies[train]) if choose else slice(None)
            X_train, y_train = with_copies(X[train], y[train], copies[train][:, kept])
        model.fit(normalizer.fit_transform(X_train), y_train)
        seconds = time.perf_counter() - start
        accuracy, *others = (float(np.mean(np.asarray(model.predict(normalizer.transform(A[test]))) == y[test]))
                             for A in [X, *altered.values()])
        scores.append(FoldScore(accuracy, seconds, len(X_train), len(test), dict(zip(altered, others))))
    return scores


def _check_proba(y_true, proba):
    """Validate class indices `y_true` against probability rows `proba`; return both as arrays."""
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true)
    if proba.ndim != 2 or proba.shape[0] == 0 or proba.shape[1] < 2:
        raise ConfigError(f"proba must have shape (n_samples, n_classes) with n_classes >= 2, got {proba.shape}")
    if y_true.shape != (len(proba),):
        raise ConfigError(f"y_true must hold one class index per row of proba ({len(proba)}), got shape {y_true.shape}")
    if y_true.dtype.kind not in "iu" or y_true.min() < 0 or y_true.max() >= proba.shape[1]:
        raise ConfigError(f"y_true must be column indices of proba, integers in [0, {proba.shape[1]})")
    if not (np.isfinite(proba).all() and proba.min() >= 0 and proba.max() <= 1):
        raise ConfigError("proba must hold probabilities in [0, 1]")
    return y_true, proba


def reliability_bins(y_true, proba, n_bins: int = 15) -> pd.DataFrame:
    """How often the predicted class is right, per band of confidence.

    Each prediction's confidence, the largest probability of its row, falls
    in one of `n_bins` equal-width bins ``(lower, upper]`` of [0, 1] (a
    confidence of exactly 0 in the first).

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        Column of the true class of each row of `proba`.
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.
    n_bins : int, default 15

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper``, ``count``, ``confidence``
        (mean confidence in the bin) and ``accuracy`` (fraction right); the
        last two are NaN in an empty bin.
    """
    y_true, proba = _check_proba(y_true, proba)
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ConfigError(f"n_bins must be a positive integer, got {n_bins!r}")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    which = np.clip(np.ceil(confidence * n_bins).astype(np.intp) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, confidence, minlength=n_bins) / count
        accuracy = np.bincount(which, correct, minlength=n_bins) / count
    edges = np.linspace(0, 1, n_bins + 1)
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "count": count,
                         "confidence": mean_confidence, "accuracy": accuracy})


def expected_calibration_error(y_true, proba, n_bins: int = 15) -> float:
    r"""Expected calibration error: how far confidence is from accuracy, on average.

    .. math:: \mathrm{ECE} = \sum_b \frac{n_b}{n} \left| \mathrm{acc}_b - \mathrm{conf}_b \right|

    over the equal-width confidence bins of :func:`reliability_bins`.  0
    when, in every bin, the predicted class is right as often as its mean
    confidence says ("0.9" right nine times in ten).

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        Column of the true class of each row of `proba`.
    proba : array-like of shape (n_samples, n_classes)
    n_bins : int, default 15

    Returns
    -------
    float
        In [0, 1].

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of
       modern neural networks", ICML 2017, arXiv:1706.04599 (eq. 3).

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    >>> # 0.9 right half the time, 0.6 always right: gaps of 0.4, each for half the rows
    >>> round(expected_calibration_error([0, 1, 0, 1], proba), 3)
    0.4
    """
    bins = reliability_bins(y_true, proba, n_bins)
    filled = bins[bins["count"] > 0]
    gaps = np.abs(filled["accuracy"] - filled["confidence"])
    return float(np.sum(filled["count"] * gaps) / bins["count"].sum())


def brier_score(y_true, proba) -> float:
    r"""Mean squared distance between the probabilities and the one-hot truth.

    .. math:: \mathrm{BS} = \frac{1}{n} \sum_i \sum_k (p_{ik} - [y_i = k])^2

    (Brier's original multi-class score: 0 is perfect, 2 the worst).  Unlike
    the calibration error it also rewards sharpness: a right prediction
    made with probability 1 scores better than one made with 0.6.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        Column of the true class of each row of `proba`.
    proba : array-like of shape (n_samples, n_classes)

    Returns
    -------
    float

    References
    ----------
    .. [1] G. W. Brier, "Verification of forecasts expressed in terms of
       probability", Monthly Weather Review 78(1), 1950.

    Examples
    --------
    >>> brier_score([0, 1], np.array([[1.0, 0.0], [0.5, 0.5]]))
    0.25
    """
    y_true, proba = _check_proba(y_true, proba)
    residual = proba.copy()
    residual[np.arange(len(y_true)), y_true] -= 1
    return float(np.mean(np.einsum("ik,ik->i", residual, residual)))
