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
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.augment import with_copies
from texture.errors import ConfigError

__all__ = ["FoldScore", "holdout_split", "stratified_kfold", "group_holdout", "cross_validate"]


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


def cross_validate(estimator, X, y, splits, *, scaler, copies=None, altered=None):
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
        X_train, y_train = (X[train], y[train]) if copies is None else with_copies(X[train], y[train], copies[train])
        start = time.perf_counter()
        model.fit(normalizer.fit_transform(X_train), y_train)
        seconds = time.perf_counter() - start
        accuracy, *others = (float(np.mean(np.asarray(model.predict(normalizer.transform(A[test]))) == y[test]))
                             for A in [X, *altered.values()])
        scores.append(FoldScore(accuracy, seconds, len(X_train), len(test), dict(zip(altered, others))))
    return scores
