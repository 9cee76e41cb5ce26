"""An estimator's learned state as JSON metadata and named arrays, and back.

:func:`estimator_state` turns a fitted :class:`~pipeline.nn.estimators.BPClassifier`
or :class:`~pipeline.nn.estimators.BPRegressor` into ``(meta, arrays)``:
hyperparameters, architecture and training history as JSON-ready values,
the network's named arrays (weights ``W0, b0, W1, b1, ...``, batch-norm
scales, shifts and running statistics) as arrays; each estimator class adds
what only it learns (the classifier's ``classes``).
:func:`estimator_from_state` rebuilds the estimator and refuses, with
:class:`~texture.errors.ModelFileError`, anything that does not describe a
valid one.  Writing them to a file is the model-file module's job.
"""

from __future__ import annotations

import numbers

import numpy as np

from texture.errors import ModelFileError

from pipeline.nn.network import Network
from pipeline.nn.validation import check_params

__all__ = ["estimator_state", "estimator_from_state"]


def estimator_state(estimator):
    """Everything needed to rebuild a fitted estimator, without pickle.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        Fitted.

    Returns
    -------
    meta : dict
        JSON-serialisable: class name, hyperparameters, architecture,
        training history.
    arrays : dict of str to ndarray
        ``W0, b0, W1, b1, ...`` (with batch normalization, a hidden layer's
        ``gamma``, ``beta``, ``running_mean`` and ``running_var`` instead of
        its bias; :meth:`~pipeline.nn.network.Network.named_arrays`).

    Raises
    ------
    ModelFileError
        If a weight or running statistic is NaN or infinite (never saved).
    """
    network = estimator.network_
    if not np.isfinite(network.params).all():  # fit never leaves these; edits can
        raise ModelFileError("refusing to save a model whose weights contain NaN or inf")
    params = estimator.get_params()
    params["hidden_layer_sizes"] = list(check_params(estimator)[0])
    params["dtype"] = network.dtype.name
    params["batch_norm"], params["dropout"] = bool(estimator.batch_norm), float(estimator.dropout)
    if not isinstance(params["random_state"], (numbers.Integral, type(None))):
        params["random_state"] = None  # a Generator's state is not part of the model
    elif params["random_state"] is not None:
        params["random_state"] = int(params["random_state"])
    meta = {
        "estimator": type(estimator).__name__,
        "params": params,
        "layer_sizes": list(network.layer_sizes),
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": (
            list(estimator.feature_names_in_) if hasattr(estimator, "feature_names_in_") else None
        ),
        "n_outputs_": int(estimator.n_outputs_),
        "history_": estimator.history_,
        "best_epoch_": int(estimator.best_epoch_),
    }
    if not np.isfinite(network.buffers).all():
        raise ModelFileError("refusing to save a model whose running statistics contain NaN or inf")
    arrays = {name: array.copy() for name, array in network.named_arrays().items()}
    return meta, arrays


def estimator_from_state(cls, meta, arrays, *, extra_arrays=(), restore=None):
    """Rebuild an estimator of class ``cls`` saved by :func:`estimator_state`, validating shapes and dtypes.

    Parameters
    ----------
    cls : type
        BPClassifier or BPRegressor.
    meta, arrays
        As returned by :func:`estimator_state`, plus the class's own entries.
    extra_arrays : tuple of str
        Names of the class's own arrays (any other unknown array is refused).
    restore : callable ``(estimator, meta, arrays)``, optional
        Sets the class's own learned attributes; raises ModelFileError,
        KeyError, TypeError or ValueError on invalid entries.

    Raises
    ------
    ModelFileError
        If ``meta`` or ``arrays`` do not describe a valid ``cls``.
    """
    try:
        if meta["estimator"] != cls.__name__:
            raise ModelFileError(f"holds a {meta['estimator']}, not a {cls.__name__}")
        params = dict(meta["params"])
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])  # JSON made it a list
        estimator = cls(**params)
        sizes, dtype, _ = check_params(estimator)
        layer_sizes = tuple(meta["layer_sizes"])
        # Files saved before batch normalization and dropout existed lack both
        # parameters: the defaults (neither) are what they hold.  No dropout
        # stream: a loaded network predicts, and fit builds a new one.
        network = Network(layer_sizes, estimator.activation, dtype,
                          batch_norm=estimator.batch_norm, dropout=estimator.dropout)
        if layer_sizes[1:-1] != sizes or layer_sizes[0] != meta["n_features_in_"]:
            raise ModelFileError("the architecture does not match the hyperparameters")
        expected = network.named_arrays()
        for name, target in expected.items():
            array = arrays[name]
            if array.shape != target.shape or array.dtype != target.dtype:
                raise ModelFileError(f"array {name} has shape {array.shape} and dtype {array.dtype}, "
                                     f"expected {target.shape} and {target.dtype}")
            target[...] = array
        if not np.isfinite(network.params).all():
            raise ModelFileError("the weights contain NaN or inf")
        if not (np.isfinite(network.buffers).all() and all((norm.running_var >= 0).all() for norm in network.norms)):
            raise ModelFileError("the running statistics contain NaN, inf or a negative variance")
        # An array nobody reads means the file is not what it claims to be.
        unexpected = set(arrays) - set(expected) - set(extra_arrays)
        if unexpected:
            raise ModelFileError(f"unexpected arrays {sorted(unexpected)}")
        if restore is not None:
            restore(estimator, meta, arrays)
        estimator.network_ = network
        estimator.n_features_in_ = meta["n_features_in_"]
        if meta["feature_names_in_"] is not None:
            estimator.feature_names_in_ = np.asarray(meta["feature_names_in_"], dtype=object)
        estimator.n_outputs_ = meta["n_outputs_"]
        estimator.history_ = meta["history_"]
        estimator.best_epoch_ = meta["best_epoch_"]
        estimator.n_iter_ = len(estimator.history_["loss"])
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid model state ({type(exc).__name__}: {exc})") from exc
    return estimator
