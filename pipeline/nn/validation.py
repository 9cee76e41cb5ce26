"""Input validation of the estimators, at their boundary, with scikit-learn's messages.

Hyperparameters are checked by ``fit`` (``__init__`` stores them as given),
``X`` by every method that takes it, and ``y`` by the method that encodes
it.  Each check returns the value converted to what the network expects, or
raises :class:`~texture.errors.ConfigError` saying what is wrong; the
messages follow scikit-learn's where its estimator checks look for them.
"""

from __future__ import annotations

import numbers
import sys
import warnings

import numpy as np

from texture.errors import ConfigError

from pipeline.nn.activations import ACTIVATIONS
from pipeline.nn.init import INITIALIZERS
from pipeline.nn.optimizers import OPTIMIZERS, SCHEDULES

__all__ = ["DataConversionWarning", "check_params", "check_X", "check_y", "check_labels", "check_targets"]


class DataConversionWarning(UserWarning):
    """The input was converted to the expected form (named like scikit-learn's)."""


def check_params(estimator):
    """Validate an estimator's hyperparameters.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor

    Returns
    -------
    hidden_sizes : tuple of int
    dtype : numpy.dtype
        float32 or float64.
    rng : numpy.random.Generator
        Seeded by ``random_state``.
    """
    e = estimator
    sizes = e.hidden_layer_sizes
    sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
        raise ConfigError(f"hidden_layer_sizes must be positive integers, got {e.hidden_layer_sizes!r}")
    for name, choices in (("activation", ACTIVATIONS), ("optimizer", OPTIMIZERS),
                          ("lr_schedule", SCHEDULES), ("init", ["auto", *INITIALIZERS])):
        if getattr(e, name) not in choices:
            raise ConfigError(f"{name} must be one of {sorted(choices)}, got {getattr(e, name)!r}")
    for name in ("batch_size", "epochs", "n_iter_no_change"):
        value = getattr(e, name)
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    for name in ("learning_rate", "epsilon"):
        if not getattr(e, name) > 0:
            raise ConfigError(f"{name} must be > 0, got {getattr(e, name)!r}")
    for name in ("momentum", "beta_1", "beta_2"):
        if not 0 <= getattr(e, name) < 1:
            raise ConfigError(f"{name} must be in [0, 1), got {getattr(e, name)!r}")
    if not (e.alpha >= 0 and e.tol >= 0):
        raise ConfigError(f"alpha and tol must be >= 0, got {e.alpha!r} and {e.tol!r}")
    if not isinstance(e.batch_norm, (bool, np.bool_)):
        raise ConfigError(f"batch_norm must be True or False, got {e.batch_norm!r}")
    if not (isinstance(e.dropout, numbers.Real) and 0 <= e.dropout < 1):
        raise ConfigError(f"dropout must be a rate in [0, 1), got {e.dropout!r}")
    if not 0 < e.validation_fraction < 1:
        raise ConfigError(f"validation_fraction must be in (0, 1), got {e.validation_fraction!r}")
    try:
        dtype = np.dtype(e.dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {e.dtype!r}")
    seed = e.random_state
    if not (seed is None or isinstance(seed, (numbers.Integral, np.random.Generator))):
        raise ConfigError(f"random_state must be None, an int or a numpy Generator, got {seed!r}")
    return sizes, dtype, np.random.default_rng(seed)


def check_X(X, dtype, fitted=None):
    """Check ``X``; return it as a 2-D finite array of ``dtype``, and its feature names or None.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features)
    dtype : numpy.dtype
    fitted : BPClassifier or BPRegressor, optional
        A fitted estimator: ``X`` must then have its ``n_features_in_``
        features, named like its ``feature_names_in_`` when both have names.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    names : ndarray of str, or None
    """
    # A scipy sparse matrix implies scipy.sparse is imported: checking only
    # then keeps scipy.sparse out of every command's start-up.
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(X):
        raise ConfigError("sparse input is not supported; pass a dense array (X.toarray())")
    names = _feature_names(X)
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ConfigError("Complex data not supported")
    given = X
    with np.errstate(over="ignore"):  # an overflowing cast is reported below
        X = np.asarray(X, dtype=dtype)
    if X.ndim != 2:
        raise ConfigError(
            f"expected a 2-D array of shape (n_samples, n_features), got shape {X.shape}. "
            "Reshape your data either using array.reshape(-1, 1) if your data has a single "
            "feature or array.reshape(1, -1) if it contains a single sample."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        what = "sample(s)" if X.shape[0] == 0 else "feature(s)"
        raise ConfigError(f"found an array with 0 {what} (shape={X.shape}) while a minimum of 1 is required.")
    if not np.isfinite(X).all():
        as_float64 = np.asarray(given, dtype=np.float64)
        if np.isfinite(as_float64).all():
            raise ConfigError(
                f"X has values beyond the {X.dtype} range (largest magnitude {np.abs(as_float64).max():.3g}); "
                "standardize the inputs or use dtype='float64'"
            )
        raise ConfigError("X contains NaN or inf; remove or impute those values")
    if fitted is None:
        return X, names
    if X.shape[1] != fitted.n_features_in_:
        raise ConfigError(
            f"X has {X.shape[1]} features, but {type(fitted).__name__} is expecting "
            f"{fitted.n_features_in_} features as input (shape (n_samples, {fitted.n_features_in_}))."
        )
    fitted_names = getattr(fitted, "feature_names_in_", None)
    if names is not None and fitted_names is not None:
        mismatch = _name_mismatch(fitted_names, names)
        if mismatch:
            raise ConfigError(mismatch)
    return X, names


def _feature_names(X):
    """Column names of a DataFrame-like ``X`` as an object array, if they are all strings."""
    columns = getattr(X, "columns", None)
    if columns is None or not all(isinstance(c, str) for c in columns):
        return None
    return np.asarray(columns, dtype=object)


def _name_mismatch(fitted, given):
    """The scikit-learn message explaining how feature names differ, or None if they match."""
    if len(fitted) == len(given) and np.all(fitted == given):
        return None
    message = "The feature names should match those that were passed during fit.\n"
    unseen, missing = sorted(set(given) - set(fitted)), sorted(set(fitted) - set(given))
    if not unseen and not missing:
        return message + "Feature names must be in the same order as they were in fit.\n"
    for title, names in (("unseen at fit time", unseen), ("seen at fit time, yet now missing", missing)):
        if names:
            shown = names[:5] + (["..."] if len(names) > 5 else [])
            message += f"Feature names {title}:\n" + "".join(f"- {name}\n" for name in shown)
    return message


def check_y(X, y):
    """``y`` as an array with one entry per sample of ``X`` (any dtype but complex)."""
    if y is None:
        raise ConfigError("this estimator requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise ConfigError("Complex data not supported")
    if len(y) != len(X):
        raise ConfigError(f"X and y have inconsistent numbers of samples: {len(X)} and {len(y)}")
    return y


def check_labels(X, y):
    """Class labels: a 1-D array (a column vector is flattened, with a DataConversionWarning).

    Float labels must be finite whole numbers: continuous targets are refused.
    """
    y = check_y(X, y)
    if y.ndim == 2 and y.shape[1] == 1:
        # stacklevel: the warning names the estimator method's caller.
        warnings.warn("A column-vector y was passed when a 1d array was expected; "
                      "it was flattened to shape (n_samples,)", DataConversionWarning, stacklevel=4)
        y = y.ravel()
    if y.ndim != 1:
        raise ConfigError(f"y should be a 1d array of labels, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ConfigError("Input y contains NaN or inf")
        if np.any(y != np.round(y)):
            raise ConfigError("Unknown label type: continuous. BPClassifier needs class labels; "
                              "use BPRegressor for continuous targets")
    return y


def check_targets(X, y):
    """Regression targets: a finite float64 array of shape (n_samples,) or (n_samples, n_outputs)."""
    y = np.asarray(check_y(X, y), dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ConfigError(f"y should be a 1d or 2d array of targets, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ConfigError("Input y contains NaN or inf")
    return y
