"""Feature normalization: per-feature affine scalers fitted on training data only.

Texture features live on wildly different scales (GLCM contrast in the
hundreds, LBP histogram bins below one), and a gradient-trained network only
learns well when every input has a comparable range.  Each scaler here learns
one ``offset_`` and one ``scale_`` per feature and maps ``X -> (X - offset_) /
scale_``; fitting on the training split only keeps test statistics out of the
model.

Both follow the scikit-learn transformer API (``fit``/``transform``/
``inverse_transform``, learned attributes with a trailing underscore) and can
be saved without pickle via ``get_state``/``from_state``.
"""

from __future__ import annotations

import numpy as np

from texture.errors import ConfigError, NotFittedError

__all__ = ["StandardScaler", "MinMaxScaler", "make_scaler", "scaler_from_state"]


def _as_2d_finite(X, *, name: str = "X") -> np.ndarray:
    """Return `X` as a 2-D float64 array, refusing NaN and infinity."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ConfigError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ConfigError(f"{name} contains NaN or infinity; features must be finite")
    return X


class _AffineScaler:
    """Shared machinery of the scalers: ``X -> (X - offset_) / scale_``.

    Subclasses implement ``_fit_params(X) -> (offset, scale)`` and name the
    constructor parameters they save in ``_params``.
    """

    kind: str = ""
    _params: tuple[str, ...] = ()
    # Learned per-feature arrays saved by get_state (attribute name minus "_").
    _learned: tuple[str, ...] = ("offset", "scale")

    def fit(self, X, y=None):
        """Learn the per-feature offset and scale from `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; must be finite.
        y : None
            Ignored; present for scikit-learn API compatibility.

        Returns
        -------
        self
        """
        X = _as_2d_finite(X)
        if X.shape[0] == 0:
            raise ConfigError("cannot fit a scaler on 0 samples")
        offset, scale = self._fit_params(X)
        # A constant feature carries no information; scale 1 maps it to a
        # constant instead of dividing by zero.
        scale = np.where(scale > 0, scale, 1.0)
        self.offset_ = offset
        self.scale_ = scale
        self.n_features_in_ = X.shape[1]
        return self

    def _require_fitted(self) -> None:
        if not hasattr(self, "scale_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _check_fitted(self, X) -> np.ndarray:
        self._require_fitted()
        X = _as_2d_finite(X)
        if X.shape[1] != self.n_features_in_:
            raise ConfigError(
                f"X has {X.shape[1]} features, but {type(self).__name__} "
                f"was fitted with {self.n_features_in_}"
            )
        return X

    def transform(self, X):
        """Scale `X` with the learned parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features in their original units; must be finite.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
            ``(X - offset_) / scale_``.
        """
        X = self._check_fitted(X)
        return (X - self.offset_) / self.scale_

    def inverse_transform(self, X):
        """Undo :meth:`transform`: map scaled features back to their original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Scaled features, as :meth:`transform` returns them.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
            ``X * scale_ + offset_``.
        """
        X = self._check_fitted(X)
        return X * self.scale_ + self.offset_

    def fit_transform(self, X, y=None):
        """Fit to `X`, then transform it; see :meth:`fit` and :meth:`transform`."""
        return self.fit(X).transform(X)

    def get_params(self, deep: bool = True) -> dict:
        """Constructor parameters, as in scikit-learn."""
        return {name: getattr(self, name) for name in self._params}

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Everything needed to rebuild this fitted scaler, without pickle.

        Returns
        -------
        meta : dict
            JSON-serialisable: the scaler kind and its constructor parameters.
        arrays : dict of str to ndarray
            The learned per-feature arrays (``offset``, ``scale``, ...).
        """
        self._require_fitted()
        meta = {"kind": self.kind, "params": _jsonable(self.get_params())}
        return meta, {name: getattr(self, name + "_").copy() for name in self._learned}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]):
        """Rebuild a fitted scaler saved with :meth:`get_state`.

        Raises
        ------
        ConfigError
            If an array is missing or unexpected, not float, not finite, of
            inconsistent shape, or a scale is not positive.
        """
        scaler = cls(**meta.get("params", {}))
        missing, unexpected = set(cls._learned) - set(arrays), set(arrays) - set(cls._learned)
        if missing:
            raise ConfigError(f"scaler state lacks the arrays {sorted(missing)}")
        if unexpected:
            raise ConfigError(f"scaler state has unexpected arrays {sorted(unexpected)}")
        learned = {name: arrays[name] for name in cls._learned}
        if any(a.dtype.kind != "f" for a in learned.values()):
            raise ConfigError("inconsistent scaler state: arrays must hold floats")
        learned = {name: a.astype(np.float64) for name, a in learned.items()}
        shape = learned["offset"].shape
        if len(shape) != 1 or any(a.shape != shape for a in learned.values()):
            raise ConfigError("inconsistent scaler state: arrays of different shapes")
        if not all(np.isfinite(a).all() for a in learned.values()):
            raise ConfigError("inconsistent scaler state: NaN or infinite values")
        if not (learned["scale"] > 0).all():
            raise ConfigError("inconsistent scaler state: non-positive scale")
        for name, value in learned.items():
            setattr(scaler, name + "_", value)
        scaler.n_features_in_ = shape[0]
        return scaler

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _jsonable(params: dict) -> dict:
    # Tuples become lists in JSON; store them as lists so a round trip is exact.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


class StandardScaler(_AffineScaler):
    """Z-score each feature: subtract its mean, divide by its standard deviation.

    The standard deviation is the population one (``ddof=0``), as in
    scikit-learn; a constant feature gets ``scale_ = 1`` and maps to 0.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data (alias of ``offset_``).
    scale_ : ndarray of shape (n_features,)
        Per-feature standard deviation, 1 where it is 0.
    n_features_in_ : int
        Number of features seen in `fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.normalize import StandardScaler
    >>> StandardScaler().fit_transform(np.array([[0.0, 5.0], [2.0, 5.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """

    kind = "zscore"

    def _fit_params(self, X):
        return X.mean(axis=0), X.std(axis=0)

    @property
    def mean_(self) -> np.ndarray:
        return self.offset_


class MinMaxScaler(_AffineScaler):
    """Map each feature's training range linearly onto `feature_range`.

    Parameters
    ----------
    feature_range : tuple of (float, float), default (0.0, 1.0)
        Target interval of the training data; ``low < high``.

    Attributes
    ----------
    data_min_, data_max_ : ndarray of shape (n_features,)
        Per-feature minimum and maximum of the training data.
    scale_ : ndarray of shape (n_features,)
        Divisor applied after shifting: training range over target width.  A
        constant feature counts as having range 1 (as in scikit-learn) and
        maps to ``feature_range[0]``.
    n_features_in_ : int
        Number of features seen in `fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.normalize import MinMaxScaler
    >>> MinMaxScaler().fit_transform(np.array([[1.0, 3.0], [3.0, 3.0], [2.0, 3.0]]))
    array([[0. , 0. ],
           [1. , 0. ],
           [0.5, 0. ]])
    """

    kind = "minmax"
    _params = ("feature_range",)
    _learned = ("offset", "scale", "data_min", "data_max")

    def __init__(self, feature_range=(0.0, 1.0)):
        low, high = (float(v) for v in feature_range)
        if not low < high:
            raise ConfigError(f"feature_range must satisfy low < high, got {feature_range!r}")
        self.feature_range = (low, high)

    def _fit_params(self, X):
        low, high = self.feature_range
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        # A constant feature counts as having range 1, as in scikit-learn, so
        # it maps to `low` and new values shift from there at unit slope.
        data_range = self.data_max_ - self.data_min_
        scale = np.where(data_range > 0, data_range, 1.0) / (high - low)
        return self.data_min_ - low * scale, scale


_SCALERS = {cls.kind: cls for cls in (StandardScaler, MinMaxScaler)}


def make_scaler(name: str = "zscore") -> _AffineScaler:
    """Build an unfitted scaler by name.

    Parameters
    ----------
    name : {"zscore", "minmax"}
        ``"zscore"`` gives a :class:`StandardScaler`, ``"minmax"`` a
        :class:`MinMaxScaler` onto [0, 1].

    Returns
    -------
    scaler
    """
    try:
        return _SCALERS[name]()
    except KeyError:
        raise ConfigError(f"unknown scaler {name!r}; choose one of {sorted(_SCALERS)}") from None


def scaler_from_state(meta: dict, arrays: dict[str, np.ndarray]) -> _AffineScaler:
    """Rebuild a fitted scaler of any kind from ``get_state()`` output."""
    kind = meta.get("kind")
    if kind not in _SCALERS:
        raise ConfigError(f"unknown scaler kind {kind!r} in saved state")
    return _SCALERS[kind].from_state(meta, arrays)
