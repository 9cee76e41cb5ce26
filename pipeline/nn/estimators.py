r"""scikit-learn style estimators around the from-scratch network.

:class:`BPClassifier` (softmax output, cross-entropy loss) and
:class:`BPRegressor` (identity output, squared error) share everything but
how targets are encoded and outputs decoded.  They follow the scikit-learn
conventions without depending on it: hyperparameters are stored untouched
by ``__init__`` and validated by ``fit`` (:mod:`pipeline.nn.validation`);
learned state ends with ``_`` and is saved by :mod:`pipeline.nn.state`.
Over 400 lines because a quarter of it is documentation: the parameters and
attributes both classes share.
"""

from __future__ import annotations

import inspect

import numpy as np

from texture.errors import ConfigError, ModelFileError, NotFittedError

from pipeline import model_file
from pipeline.nn.gradcheck import gradient_check
from pipeline.nn.losses import softmax
from pipeline.nn.network import Network
from pipeline.nn.optimizers import OPTIMIZERS, SCHEDULES
from pipeline.nn.state import estimator_from_state, estimator_state
from pipeline.nn.training import train
from pipeline.nn.validation import DataConversionWarning, check_labels, check_params, check_X, check_targets

__all__ = ["BPClassifier", "BPRegressor", "DataConversionWarning"]

#: The format of the files :meth:`~BPClassifier.save` writes (see :mod:`pipeline.model_file`).
_FILE_FORMAT = "texture-bp-network"


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

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    # -- training -----------------------------------------------------------------

    def fit(self, X, y):
        """Train a fresh network on ``X`` of shape (n_samples, n_features) and ``y``.

        ``y`` holds class labels (:class:`BPClassifier`) or targets of shape
        (n_samples,) or (n_samples, n_outputs) (:class:`BPRegressor`).
        """
        sizes, dtype, rng = check_params(self)
        X, names = check_X(X, dtype)
        Y, labels, learned = self._targets(X, y, fitted=False)
        Y = Y.astype(dtype, copy=False)
        network = self._network(X.shape[1], sizes, Y.shape[1], dtype, rng)
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
            held_out, kept = order[:n_val], order[n_val:]
            validation = (X[held_out], Y[held_out], None if labels is None else labels[held_out])
            X, Y, labels = X[kept], Y[kept], None if labels is None else labels[kept]
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
        for name, value in learned.items():
            setattr(self, name, value)
        return self

    def _network(self, n_features, hidden_sizes, n_outputs, dtype, rng):
        """A fresh network of these hyperparameters, initialized from ``rng``.

        The dropout masks get a stream of their own, spawned from ``rng``
        without drawing from it: initialization and shuffling are the same
        with and without dropout.
        """
        network = Network((n_features, *hidden_sizes, n_outputs), self.activation, dtype,
                          batch_norm=self.batch_norm, dropout=self.dropout, rng=rng.spawn(1)[0])
        return network.initialize(self.init, rng)

    def _targets(self, X, y, *, fitted):
        """Encode ``y`` for the loss: ``(Y, labels, learned)``.

        ``Y`` is the float64 target matrix (one row per sample of ``X``),
        ``labels`` the class index per sample (None for a regressor) and
        ``learned`` the attributes a fit on ``y`` learns from it.  With
        ``fitted=True`` ``y`` is encoded the way the fitted estimator
        encodes targets.
        """
        raise NotImplementedError

    def _output(self, X):
        """Raw network output for ``X``.

        Computed in float64 even for a float32 network: a float32 sample's
        output would otherwise depend, in its last digits, on which other
        samples share its matrix product.
        """
        self._check_fitted()
        X, _ = check_X(X, np.float64, fitted=self)
        return self.network_.astype(np.float64).forward(X, training=False)

    def check_gradients(self, X, y, *, step=1e-6):
        """:func:`~pipeline.nn.gradcheck.gradient_check` of the network this estimator trains on ``(X, y)``.

        The loss is the estimator's full-batch training loss, weight decay
        included, in float64.  A fitted estimator is checked at its weights
        (it is not modified); a fresh one at the weights ``fit`` would start
        from (its ``init`` and ``random_state``), and stays unfitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        step : float, default=1e-6
            Finite-difference step.

        Returns
        -------
        float
            The largest relative error over the weight and bias arrays:
            below about 1e-7 when back-propagation is right.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(20, 3)), np.arange(20) % 3
        >>> BPClassifier((5,), activation="tanh", random_state=0).check_gradients(X, y) < 1e-6
        True
        """
        fitted = hasattr(self, "network_")
        sizes, _, rng = check_params(self)
        X, _ = check_X(X, np.float64, fitted=self if fitted else None)
        Y, _, _ = self._targets(X, y, fitted=fitted)
        if fitted:
            network = self.network_
        else:
            network = self._network(X.shape[1], sizes, Y.shape[1], np.float64, rng)
        return gradient_check(network, X, Y, self._loss, alpha=self.alpha, step=step)

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
        meta, arrays
            Those of :func:`pipeline.nn.state.estimator_state`, plus the
            classifier's ``classes`` array or the regressor's ``y_ndim``.
        """
        self._check_fitted()
        meta, arrays = estimator_state(self)
        self._add_state(meta, arrays)
        return meta, arrays

    def _add_state(self, meta, arrays):
        """Add what only this class learns to :meth:`get_state`'s output."""

    @classmethod
    def from_state(cls, meta, arrays):
        """Rebuild an estimator saved by :meth:`get_state`, validating shapes and dtypes.

        Raises
        ------
        ModelFileError
            If ``meta`` or ``arrays`` do not describe a valid ``cls``.
        """
        return estimator_from_state(cls, meta, arrays, extra_arrays=cls._state_arrays, restore=cls._restore)

    @staticmethod
    def _restore(estimator, meta, arrays):
        """Restore what :meth:`_add_state` saved."""

    def save(self, path):
        """Save the fitted estimator to ``path`` (``.npz`` + JSON metadata, no pickle; see
        :mod:`pipeline.model_file`)."""
        model_file.save(path, _FILE_FORMAT, *self.get_state())

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
            return cls.from_state(*model_file.load(path, _FILE_FORMAT))
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

    def _targets(self, X, y, *, fitted):
        """One-hot rows over ``classes_`` when ``fitted``, else over the sorted labels of ``y``."""
        y = check_labels(X, y)
        if not fitted:
            classes, labels = np.unique(y, return_inverse=True)
            if len(classes) < 2:
                raise ConfigError(f"y holds one class, '{classes[0]}'; a classifier needs at least 2 classes")
        else:
            classes = self.classes_
            unseen = np.setdiff1d(y, classes)
            if unseen.size:
                raise ConfigError(f"y contains labels not seen at fit time: {unseen.tolist()}; "
                                  f"known labels are {classes.tolist()}")
            labels = np.searchsorted(classes, y)
        return np.eye(len(classes))[labels], labels, {"classes_": classes}

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
        return softmax(self._output(X))

    def predict(self, X):
        """Most probable label of each sample."""
        labels = self._output(X).argmax(axis=1)
        return self.classes_[labels]

    def score(self, X, y):
        """Accuracy of :meth:`predict` on ``(X, y)``; labels unseen at fit time raise."""
        predicted = self._output(X).argmax(axis=1)
        _, labels, _ = self._targets(X, y, fitted=True)
        return float(np.mean(predicted == labels))

    def _add_state(self, meta, arrays):
        classes = self.classes_
        if classes.dtype == object:
            if not all(isinstance(c, str) for c in classes):
                raise ConfigError("only numeric or string class labels can be saved")
            classes = classes.astype(str)
        arrays["classes"] = classes

    @staticmethod
    def _restore(estimator, meta, arrays):
        classes = arrays["classes"]
        if classes.shape != (meta["layer_sizes"][-1],):
            raise ModelFileError(f"classes of shape {classes.shape} saved for {meta['layer_sizes'][-1]} outputs")
        estimator.classes_ = classes


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

    def _targets(self, X, y, *, fitted):
        """Targets as a float64 matrix of shape (n_samples, n_outputs)."""
        y = check_targets(X, y)
        return y.reshape(len(X), -1), None, {"y_ndim_": y.ndim}

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs) like ``y`` at fit time."""
        out = self._output(X)
        return out.ravel() if self.y_ndim_ == 1 else out

    def score(self, X, y):
        r"""Coefficient of determination, averaged over outputs.

        .. math:: R^2 = 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2}
        """
        y, _, _ = self._targets(X, y, fitted=True)
        residual = ((y - self._output(X)) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        safe = np.where(total > 0, total, 1)
        r2 = np.where(total > 0, 1 - residual / safe, np.where(residual == 0, 1.0, 0.0))
        return float(r2.mean())

    def _add_state(self, meta, arrays):
        meta["y_ndim"] = self.y_ndim_

    @staticmethod
    def _restore(estimator, meta, arrays):
        if meta["y_ndim"] not in (1, 2):
            raise ModelFileError(f"invalid y_ndim {meta['y_ndim']!r}")
        estimator.y_ndim_ = meta["y_ndim"]
