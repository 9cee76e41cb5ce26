r"""scikit-learn style estimators around the from-scratch network.

:class:`BPClassifier` (softmax output, cross-entropy loss) and
:class:`BPRegressor` (identity output, squared error) share everything but
how targets are encoded and outputs decoded.  They follow the scikit-learn
conventions without depending on it: hyperparameters are stored untouched
by ``__init__`` and validated by ``fit``; learned state ends with ``_``.
"""

from __future__ import annotations

import inspect
import numbers
import sys
import warnings

import numpy as np

from texture.errors import ConfigError, ModelFileError, NotFittedError

from pipeline.nn.activations import ACTIVATIONS
from pipeline.nn.init import INITIALIZERS
from pipeline.nn.losses import softmax
from pipeline.nn.network import Network
from pipeline.nn.optimizers import OPTIMIZERS, SCHEDULES
from pipeline.nn.persistence import load_npz, save_npz
from pipeline.nn.training import train

__all__ = ["BPClassifier", "BPRegressor", "DataConversionWarning"]


class DataConversionWarning(UserWarning):
    """The input was converted to the expected form (named like scikit-learn's)."""


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


class _BaseBP:
    """Shared hyperparameters, validation, training and persistence (see subclasses)."""

    _loss: str  # key of pipeline.nn.losses.LOSSES
    _state_arrays: tuple = ()  # arrays of get_state() besides the weights

    def __init__(self, hidden_layer_sizes=(64,), activation="relu", *, optimizer="adam",
                 learning_rate=1e-3, lr_schedule="constant", batch_size=64, epochs=200,
                 alpha=1e-4, momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 init="auto", early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-4, shuffle=True, batch_norm=False, dropout=0.0,
                 dtype="float32", random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.alpha = alpha
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.init = init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.dtype = dtype
        self.random_state = random_state

    # -- scikit-learn protocol ------------------------------------------------

    @classmethod
    def _param_names(cls):
        return [p for p in inspect.signature(_BaseBP.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        """Hyperparameters as given to ``__init__`` (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set hyperparameters; unknown names raise :class:`~texture.errors.ConfigError`."""
        for name, value in params.items():
            if name not in self._param_names():
                raise ConfigError(f"{type(self).__name__} has no parameter {name!r}; "
                                  f"valid parameters are {self._param_names()}")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = _BaseBP().get_params()
        changed = {k: v for k, v in self.get_params().items() if repr(v) != repr(defaults[k])}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def _sklearn_tags(self, estimator_type, **kinds):
        # Only scikit-learn calls __sklearn_tags__, so importing it here keeps it
        # an optional, test-time dependency.
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=estimator_type, target_tags=TargetTags(required=True), **kinds)

    # -- validation -------------------------------------------------------------

    def _check_params(self):
        """Validate hyperparameters; return (layer sizes, dtype, rng)."""
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            raise ConfigError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        for name, choices in (("activation", ACTIVATIONS), ("optimizer", OPTIMIZERS),
                              ("lr_schedule", SCHEDULES), ("init", ["auto", *INITIALIZERS])):
            if getattr(self, name) not in choices:
                raise ConfigError(f"{name} must be one of {sorted(choices)}, got {getattr(self, name)!r}")
        for name in ("batch_size", "epochs", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("learning_rate", "epsilon"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("momentum", "beta_1", "beta_2"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not (self.alpha >= 0 and self.tol >= 0):
            raise ConfigError(f"alpha and tol must be >= 0, got {self.alpha!r} and {self.tol!r}")
        if not isinstance(self.batch_norm, (bool, np.bool_)):
            raise ConfigError(f"batch_norm must be True or False, got {self.batch_norm!r}")
        if not (isinstance(self.dropout, numbers.Real) and 0 <= self.dropout < 1):
            raise ConfigError(f"dropout must be a rate in [0, 1), got {self.dropout!r}")
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        seed = self.random_state
        if not (seed is None or isinstance(seed, (numbers.Integral, np.random.Generator))):
            raise ConfigError(f"random_state must be None, an int or a numpy Generator, got {seed!r}")
        return sizes, dtype, np.random.default_rng(seed)

    def _validate_X(self, X, dtype, *, fitted=True):
        """Check ``X``; return it as a 2-D finite array of ``dtype``, and its feature names or None.

        With ``fitted=True`` its features must also match those seen by ``fit``.
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
        if not fitted:
            return X, names
        if X.shape[1] != self.n_features_in_:
            raise ConfigError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (shape (n_samples, {self.n_features_in_}))."
            )
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None:
            mismatch = _name_mismatch(fitted_names, names)
            if mismatch:
                raise ConfigError(mismatch)
        return X, names

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    @staticmethod
    def _check_y(X, y):
        if y is None:
            raise ConfigError("this estimator requires y to be passed, but the target y is None")
        y = np.asarray(y)
        if np.iscomplexobj(y):
            raise ConfigError("Complex data not supported")
        if len(y) != len(X):
            raise ConfigError(f"X and y have inconsistent numbers of samples: {len(X)} and {len(y)}")
        return y

    # -- training -----------------------------------------------------------------

    def _fit(self, X, names, Y, labels, sizes, dtype, rng):
        """Train a fresh network on validated inputs and set the learned attributes."""
        Y = Y.astype(dtype, copy=False)
        network = self._network((X.shape[1], *sizes, Y.shape[1]), dtype, rng).initialize(self.init, rng)
        optimizer_class = OPTIMIZERS[self.optimizer]
        optimizer = optimizer_class(network.params.size, dtype,
                                    **{k: getattr(self, k) for k in optimizer_class.hyperparameters})
        validation = None
        if self.early_stopping:
            n_val = int(round(self.validation_fraction * len(X)))
            if n_val < 1 or n_val >= len(X):
                raise ConfigError(f"validation_fraction={self.validation_fraction} of {len(X)} samples "
                                  "leaves no validation or no training sample")
            order = rng.permutation(len(X))
            val, fit = order[:n_val], order[n_val:]
            validation = (X[val], Y[val], None if labels is None else labels[val])
            X, Y, labels = X[fit], Y[fit], None if labels is None else labels[fit]
        history, best_epoch = train(
            network, X, Y, loss=self._loss, optimizer=optimizer,
            learning_rate=self.learning_rate, schedule=SCHEDULES[self.lr_schedule],
            epochs=self.epochs, batch_size=self.batch_size, alpha=self.alpha, shuffle=self.shuffle,
            rng=rng, n_iter_no_change=self.n_iter_no_change, tol=self.tol, labels=labels,
            validation=validation,
        )
        # Assigned only now: a fit that raised leaves the previous state untouched.
        self.n_features_in_ = X.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.network_ = network
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.n_iter_ = len(history["loss"])
        self.n_outputs_ = Y.shape[1]
        return self

    def _network(self, layer_sizes, dtype, rng):
        """An uninitialized network of these hyperparameters.

        The dropout masks get a stream of their own, spawned from ``rng``
        without drawing from it: initialization and shuffling are the same
        with and without dropout.
        """
        return Network(layer_sizes, self.activation, dtype, batch_norm=self.batch_norm,
                       dropout=self.dropout, rng=rng.spawn(1)[0])

    def _output(self, X):
        """Raw network output for ``X``.

        Computed in float64 even for a float32 network: a float32 sample's
        output would otherwise depend, in its last digits, on which other
        samples share its matrix product.
        """
        self._check_fitted()
        X, _ = self._validate_X(X, np.float64)
        return self.network_.astype(np.float64).forward(X, training=False)

    # -- learned attributes ---------------------------------------------------------

    @property
    def coefs_(self):
        """List of weight matrices, one per layer (views into the network)."""
        self._check_fitted()
        return [layer.W for layer in self.network_.dense]

    @property
    def intercepts_(self):
        """List of bias vectors, one per layer (views into the network).

        None for a batch-normalized layer: its shift ``gamma``/``beta`` is
        in ``network_.norms``.
        """
        self._check_fitted()
        return [layer.b for layer in self.network_.dense]

    @property
    def loss_curve_(self):
        """Training loss per epoch (``history_["loss"]``)."""
        self._check_fitted()
        return self.history_["loss"]

    # -- persistence ------------------------------------------------------------------

    def get_state(self):
        """Everything needed to rebuild this fitted estimator, without pickle.

        Returns
        -------
        meta : dict
            JSON-serialisable: class name, hyperparameters, architecture,
            training history.
        arrays : dict of str to ndarray
            ``W0, b0, W1, b1, ...`` (with batch normalization, a hidden
            layer's ``gamma``, ``beta``, ``running_mean`` and ``running_var``
            instead of its bias; :meth:`Network.named_arrays`) and, for a
            classifier, ``classes``.

        Raises
        ------
        ModelFileError
            If a weight is NaN or infinite (never saved).
        """
        self._check_fitted()
        if not np.isfinite(self.network_.params).all():  # fit never leaves these; edits can
            raise ModelFileError("refusing to save a model whose weights contain NaN or inf")
        params = self.get_params()
        params["hidden_layer_sizes"] = list(self._check_params()[0])
        params["dtype"] = self.network_.dtype.name
        params["batch_norm"], params["dropout"] = bool(self.batch_norm), float(self.dropout)
        if not isinstance(params["random_state"], (numbers.Integral, type(None))):
            params["random_state"] = None  # a Generator's state is not part of the model
        elif params["random_state"] is not None:
            params["random_state"] = int(params["random_state"])
        meta = {
            "estimator": type(self).__name__,
            "params": params,
            "layer_sizes": list(self.network_.layer_sizes),
            "n_features_in_": int(self.n_features_in_),
            "feature_names_in_": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
            "n_outputs_": int(self.n_outputs_),
            "history_": self.history_,
            "best_epoch_": int(self.best_epoch_),
        }
        if not np.isfinite(self.network_.buffers).all():
            raise ModelFileError("refusing to save a model whose running statistics contain NaN or inf")
        arrays = {name: array.copy() for name, array in self.network_.named_arrays().items()}
        return meta, arrays

    @classmethod
    def from_state(cls, meta, arrays):
        """Rebuild an estimator saved by :meth:`get_state`, validating shapes and dtypes.

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
            sizes, dtype, _ = estimator._check_params()
            layer_sizes = tuple(meta["layer_sizes"])
            # Files saved before batch normalization and dropout existed lack both
            # parameters: the defaults (neither) are what they hold.
            network = estimator._network(layer_sizes, dtype, np.random.default_rng(params["random_state"]))
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
            if not (np.isfinite(network.buffers).all() and (network.buffers[network.buffers.size // 2:] >= 0).all()):
                raise ModelFileError("the running statistics contain NaN, inf or a negative variance")
            # An array nobody reads means the file is not what it claims to be.
            unexpected = set(arrays) - set(expected) - set(cls._state_arrays)
            if unexpected:
                raise ModelFileError(f"unexpected arrays {sorted(unexpected)}")
            estimator._restore(meta, arrays)
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

    def _restore(self, meta, arrays):
        """Restore subclass-specific learned state from a saved state."""

    def save(self, path):
        """Save the fitted estimator to ``path`` (``.npz`` + JSON header, no pickle)."""
        save_npz(path, *self.get_state())

    @classmethod
    def load(cls, path):
        """Load an estimator saved by :meth:`save`.

        Raises
        ------
        ModelFileError
            If the file is missing, truncated, tampered with, of another
            format version, or does not hold a valid ``cls``.
        """
        try:
            return cls.from_state(*load_npz(path))
        except ModelFileError as exc:
            if exc.path is not None:
                raise
            raise ModelFileError(exc.message, path=path) from exc


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(64,)
        Units per hidden layer; ``()`` gives a network without hidden layer.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid", "identity"}, default="relu"
        Hidden-layer activation.
    optimizer : {"adam", "sgd", "momentum", "rmsprop"}, default="adam"
    learning_rate : float, default=1e-3
        Initial step size.
    lr_schedule : {"constant", "step", "cosine", "invscaling"}, default="constant"
        How the step size changes per epoch (see :data:`pipeline.nn.optimizers.SCHEDULES`).
    batch_size : int, default=64
        Samples per mini-batch (the last batch of an epoch may be smaller).
    epochs : int, default=200
        Maximum number of passes over the training set.
    alpha : float, default=1e-4
        L2 weight decay: the loss gains :math:`\\frac{\\alpha}{2} \\sum_l \\lVert W_l \\rVert^2`.
    momentum : float, default=0.9
        Momentum factor of ``optimizer="momentum"``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decay rates of Adam; ``beta_2`` is also RMSprop's decay.
    epsilon : float, default=1e-8
        Numerical guard of Adam and RMSprop.
    init : {"auto", "xavier", "he"}, default="auto"
        Weight initialization; ``"auto"`` is He for the ReLU family, Xavier otherwise.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training set, stop when its
        loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, and
        keep the weights of the best epoch.  Without it, training stops when
        the training loss stalls the same way.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    shuffle : bool, default=True
        Reshuffle the training set every epoch.
    batch_norm : bool, default=False
        Normalize each hidden layer's pre-activations over the mini-batch
        (:class:`pipeline.nn.BatchNorm`, running statistics for
        prediction); makes deep sigmoid and tanh stacks trainable.
    dropout : float, default=0.0
        Rate of the :class:`pipeline.nn.Dropout` after each hidden layer;
        0 for none.  ``fit`` trains with batch statistics and dropped units;
        ``predict`` always uses the running statistics and every unit, so
        predictions are deterministic.
    dtype : {"float32", "float64"}, default="float32"
        Precision of weights and computations.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds initialization, shuffling and the validation split; the same
        seed on the same data gives bit-identical weights.

    Attributes
    ----------
    network_ : pipeline.nn.network.Network
        The trained network.
    coefs_, intercepts_ : list of ndarray
        Weights and biases per layer.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.
    n_outputs_ : int
    history_ : dict of lists
        Per epoch: ``loss``, ``learning_rate``, ``grad_norms`` (per layer),
        ``dead_fraction`` (per ReLU-family hidden layer), and when available
        ``accuracy``, ``val_loss``, ``val_accuracy``.
    best_epoch_ : int
        Epoch (from 0) whose weights were kept: the best validation loss with
        ``early_stopping``, else the last one.
    loss_curve_ : list of float
        ``history_["loss"]``.
    n_iter_ : int
        Epochs run.
"""


class BPClassifier(_BaseBP):
    __doc__ = r"""Back-propagation network classifier: softmax output, cross-entropy loss.
""" + _PARAMETERS_DOC + """
    classes_ : ndarray
        The labels seen at fit time, sorted.

    Warns
    -----
    pipeline.nn.diagnostics.GradientWarning
        When gradients vanish or explode for several epochs.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25, dtype=float)
    >>> y = np.array([0, 1, 1, 0] * 25)
    >>> clf = BPClassifier((8,), activation="tanh", learning_rate=0.05, random_state=0).fit(X, y)
    >>> clf.predict([[0, 1], [1, 1]])
    array([1, 0])
    """

    _loss = "cross_entropy"
    _state_arrays = ("classes",)

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        return self._sklearn_tags("classifier", classifier_tags=ClassifierTags())

    def fit(self, X, y):
        """Train on ``X`` of shape (n_samples, n_features) and labels ``y``."""
        sizes, dtype, rng = self._check_params()
        X, names = self._validate_X(X, dtype, fitted=False)
        y = self._check_labels(X, y)
        classes, labels = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ConfigError(f"y holds one class, '{classes[0]}'; a classifier needs at least 2 classes")
        self._fit(X, names, np.eye(len(classes))[labels], labels, sizes, dtype, rng)
        self.classes_ = classes
        return self

    def _check_labels(self, X, y):
        y = self._check_y(X, y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; "
                          "it was flattened to shape (n_samples,)", DataConversionWarning, stacklevel=3)
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

    def _encode(self, X, y):
        """Class indices of ``y`` in ``classes_``; unseen labels raise."""
        y = self._check_labels(X, y)
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ConfigError(f"y contains labels not seen at fit time: {unseen.tolist()}; "
                              f"known labels are {self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y)

    def _target_matrix(self, X, y):
        """One-hot float64 targets over ``classes_`` (or over the labels of ``y`` when not fitted)."""
        if hasattr(self, "classes_"):
            return np.eye(len(self.classes_))[self._encode(X, y)]
        classes, labels = np.unique(self._check_labels(X, y), return_inverse=True)
        return np.eye(len(classes))[labels]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
        return softmax(self._output(X))

    def predict(self, X):
        """Most probable label of each sample."""
        labels = self._output(X).argmax(axis=1)
        return self.classes_[labels]

    def score(self, X, y):
        """Accuracy of :meth:`predict` on ``(X, y)``; labels unseen at fit time raise."""
        labels = self._output(X).argmax(axis=1)
        return float(np.mean(labels == self._encode(X, y)))

    def get_state(self):
        meta, arrays = super().get_state()
        classes = self.classes_
        if classes.dtype == object:
            if not all(isinstance(c, str) for c in classes):
                raise ConfigError("only numeric or string class labels can be saved")
            classes = classes.astype(str)
        arrays["classes"] = classes
        return meta, arrays

    get_state.__doc__ = _BaseBP.get_state.__doc__

    def _restore(self, meta, arrays):
        classes = arrays["classes"]
        if classes.shape != (meta["layer_sizes"][-1],):
            raise ModelFileError(f"classes of shape {classes.shape} saved for {meta['layer_sizes'][-1]} outputs")
        self.classes_ = classes


class BPRegressor(_BaseBP):
    __doc__ = r"""Back-propagation network regressor: identity output, squared-error loss.

    Fits one or several continuous targets (e.g. a texture score).
""" + _PARAMETERS_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 200)[:, None]
    >>> reg = BPRegressor((16,), activation="tanh", learning_rate=0.01, random_state=0)
    >>> reg.fit(X, X.ravel() ** 2).score(X, X.ravel() ** 2) > 0.9
    True
    """

    _loss = "squared_error"

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags

        tags = self._sklearn_tags("regressor", regressor_tags=RegressorTags())
        tags.target_tags.multi_output = True
        return tags

    def _targets(self, X, y):
        y = self._check_y(X, y)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim not in (1, 2):
            raise ConfigError(f"y should be a 1d or 2d array of targets, got shape {y.shape}")
        if not np.isfinite(y).all():
            raise ConfigError("Input y contains NaN or inf")
        return y

    def _target_matrix(self, X, y):
        """Targets as a float64 matrix of shape (n_samples, n_outputs)."""
        return self._targets(X, y).reshape(len(X), -1)

    def fit(self, X, y):
        """Train on ``X`` of shape (n_samples, n_features) and targets ``y``.

        ``y`` has shape (n_samples,) or (n_samples, n_outputs).
        """
        sizes, dtype, rng = self._check_params()
        X, names = self._validate_X(X, dtype, fitted=False)
        y = self._targets(X, y)
        self._fit(X, names, y.reshape(len(y), -1), None, sizes, dtype, rng)
        self._y_ndim = y.ndim
        return self

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs) like ``y`` at fit time."""
        out = self._output(X)
        return out.ravel() if self._y_ndim == 1 else out

    def score(self, X, y):
        r"""Coefficient of determination, averaged over outputs.

        .. math:: R^2 = 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2}
        """
        y = self._targets(X, y).reshape(len(X), -1)
        residual = ((y - self._output(X)) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        safe = np.where(total > 0, total, 1)
        r2 = np.where(total > 0, 1 - residual / safe, np.where(residual == 0, 1.0, 0.0))
        return float(r2.mean())

    def get_state(self):
        meta, arrays = super().get_state()
        meta["y_ndim"] = self._y_ndim
        return meta, arrays

    get_state.__doc__ = _BaseBP.get_state.__doc__

    def _restore(self, meta, arrays):
        if meta["y_ndim"] not in (1, 2):
            raise ModelFileError(f"invalid y_ndim {meta['y_ndim']!r}")
        self._y_ndim = meta["y_ndim"]
