r"""Temperature scaling: one number that makes the network's confidence mean what it says.

A network trained to a small cross-entropy on its training set is usually
*over-confident* on new images: among the images it labels with
probability 0.99, fewer than 99 % are right.  Temperature scaling [1]_
divides every logit by one learned number :math:`T > 0`,

.. math:: p_k = \frac{e^{z_k / T}}{\sum_j e^{z_j / T}},

which softens (:math:`T > 1`) or sharpens (:math:`T < 1`) all predictions
alike and never changes which class is most probable, so accuracy is
untouched.  Logits are only defined up to a constant per row, so the
log-probabilities :math:`\log p_k = z_k - \log \sum_j e^{z_j}` serve as
logits: any classifier with ``predict_proba`` can be calibrated.  :math:`T` minimizes the cross-entropy of logits the network
produced for images it was *not* trained on: :func:`out_of_fold_logits`
trains copies of the network on parts of the training set and predicts the
part each one left out.
"""

from __future__ import annotations

import copy

import numpy as np

from texture.errors import ConfigError

__all__ = ["TEMPERATURE_RANGE", "CALIBRATION_FOLDS", "calibration_folds", "log_probabilities",
           "out_of_fold_logits", "fit_temperature", "scaled_probabilities"]

#: Bounds of the fitted temperature.  A validation set that the network
#: classifies perfectly asks for ever sharper probabilities (T -> 0);
#: the bound stops that at probabilities it can still tell apart.
TEMPERATURE_RANGE = (0.05, 20.0)
#: Parts the training set is split into to get the validation logits.
CALIBRATION_FOLDS = 3


def calibration_folds(labels, groups=None, n_splits=CALIBRATION_FOLDS, seed=0):
    """Split training rows into folds that keep each group whole and the classes balanced.

    Parameters
    ----------
    labels : array_like of shape (n,)
    groups : array_like of shape (n,), optional
        Rows with equal group are always in the same fold: an image and its
        training copies, or images that are near-duplicates (the same
        sample at the same scale).  Every row is its own group when None.
    n_splits : int
        Number of folds; fewer when there are fewer groups.
    seed : int

    Returns
    -------
    folds : list of ndarray of int
        Row indices of each fold; together they partition ``range(n)``.

    Raises
    ------
    ConfigError
        Fewer than two groups.
    """
    labels = np.asarray(labels)
    keys = np.arange(len(labels)) if groups is None else np.asarray(groups)
    units, first, unit_of_row = np.unique(keys, return_index=True, return_inverse=True)
    if len(units) < 2:
        raise ConfigError(f"calibration needs at least 2 groups of training images, got {len(units)}")
    n_splits = min(n_splits, len(units))
    # Shuffle the units, then order them by (a) label, stably, and deal them
    # round-robin: each fold gets its share of every class.
    order = np.random.default_rng(seed).permutation(len(units))
    order = order[np.argsort(labels[first][order], kind="stable")]
    fold_of_unit = np.empty(len(units), np.intp)
    fold_of_unit[order] = np.arange(len(units)) % n_splits
    fold = fold_of_unit[unit_of_row]
    return [np.flatnonzero(fold == k) for k in range(n_splits)]


def log_probabilities(proba):
    """Logits equivalent to probabilities `proba`: their logarithms, floored at the smallest normal float.

    The floor (about -708) keeps a probability that underflowed to 0
    finite; it stays negligible at any temperature of :data:`TEMPERATURE_RANGE`.
    """
    return np.log(np.maximum(proba, np.finfo(np.float64).tiny))


def scaled_probabilities(proba, temperature):
    """``softmax(log(proba) / temperature)``: the probabilities at another temperature.

    Examples
    --------
    >>> scaled_probabilities(np.array([[0.8, 0.2]]), 1.0).round(3)
    array([[0.8, 0.2]])
    >>> scaled_probabilities(np.array([[0.8, 0.2]]), 2.0).round(3)  # sqrt(0.8) : sqrt(0.2)
    array([[0.667, 0.333]])
    """
    z = log_probabilities(np.asarray(proba, dtype=np.float64)) / temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return p


def out_of_fold_logits(estimator, X, labels, classes, folds):
    """Logits of each row from a copy of `estimator` trained without its fold.

    Parameters
    ----------
    estimator : classifier with ``fit``, ``predict_proba`` and ``classes_``
        Unfitted; each fold trains a deep copy.
    X : ndarray of shape (n, n_features)
        Normalized training features.
    labels : ndarray of shape (n,)
    classes : ndarray of shape (n_classes,)
        The classes of the full model, in its column order.
    folds : list of ndarray of int
        From :func:`calibration_folds`.

    Returns
    -------
    logits : ndarray of shape (n, n_classes)
        Log-probabilities (:func:`log_probabilities`); ``-inf`` in the
        columns of classes a fold's copy never saw.
    known : ndarray of bool, shape (n,)
        Rows whose class was among those their copy was trained on (the
        others say nothing about the temperature).
    """
    logits = np.full((len(X), len(classes)), -np.inf)
    known = np.zeros(len(X), bool)
    for held_out in folds:
        train = np.setdiff1d(np.arange(len(X)), held_out)
        if len(np.unique(labels[train])) < 2:
            continue  # nothing to train a classifier on; these rows stay unknown
        model = copy.deepcopy(estimator).fit(X[train], labels[train])
        columns = np.searchsorted(classes, model.classes_)
        logits[np.ix_(held_out, columns)] = log_probabilities(model.predict_proba(X[held_out]))
        known[held_out] = np.isin(labels[held_out], model.classes_)
    return logits, known


def _nll_slope(s, logits, true_logit):
    r"""Derivative in :math:`s = 1/T` of the mean cross-entropy of ``softmax(s z)``.

    :math:`\frac{d}{ds} \frac{1}{n} \sum_i \big(\log \sum_k e^{s z_{ik}} - s z_{i y_i}\big)
    = \frac{1}{n} \sum_i \big(\mathbb{E}_{p_i}[z_i] - z_{i y_i}\big)`,
    increasing in :math:`s` (its derivative is a variance): the loss is
    convex in :math:`s` and its minimum is where the slope changes sign.
    """
    scaled = s * logits
    p = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = np.einsum("ik,ik->i", p, np.where(np.isfinite(logits), logits, 0.0))
    return float(np.mean(expected - true_logit))


def fit_temperature(logits, y):
    r"""The temperature :math:`T` minimizing the cross-entropy of ``softmax(logits / T)``.

    Parameters
    ----------
    logits : ndarray of shape (n, n_classes)
        Validation logits (``-inf`` for a class the network could not output).
    y : ndarray of int, shape (n,)
        Column of the true class of each row (its logit must be finite).

    Returns
    -------
    float
        In :data:`TEMPERATURE_RANGE`.

    Notes
    -----
    The cross-entropy is convex in :math:`s = 1/T`, so bisection on its
    derivative finds the minimum (60 halvings of the log-range: to machine
    precision), without an optimizer library.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of
       modern neural networks", ICML 2017, arXiv:1706.04599 (sec. 4.2).

    Examples
    --------
    >>> logits = np.array([[4.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])
    >>> T = fit_temperature(logits, np.array([0, 0, 1, 1]))  # one in four wrong: soften
    >>> round(float(1 / (1 + np.exp(-4 / T))), 3)             # confidence == accuracy
    0.75
    """
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    true_logit = logits[np.arange(len(y)), y]
    if len(y) == 0 or not np.isfinite(true_logit).all():
        raise ConfigError("fitting a temperature needs validation rows whose true class has a finite logit")
    low, high = np.log(1 / TEMPERATURE_RANGE[1]), np.log(1 / TEMPERATURE_RANGE[0])  # bounds of log s
    if _nll_slope(np.exp(low), logits, true_logit) >= 0:
        return TEMPERATURE_RANGE[1]
    if _nll_slope(np.exp(high), logits, true_logit) <= 0:
        return TEMPERATURE_RANGE[0]
    for _ in range(60):
        middle = 0.5 * (low + high)
        if _nll_slope(np.exp(middle), logits, true_logit) < 0:
            low = middle
        else:
            high = middle
    return float(np.exp(-0.5 * (low + high)))
