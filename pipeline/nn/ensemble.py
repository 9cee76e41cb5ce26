"""Several networks trained alike but for their seeds, their outputs averaged.

A network trained on a few hundred images lands in one of many minima
depending on its initial weights and the order of its mini-batches; its
mistakes are partly those of that minimum.  :class:`NetworkEnsemble` trains
`n_networks` copies of one unfitted estimator, each with its own seed
derived from the estimator's ``random_state`` (:func:`member_seeds`), and
averages what they output: the class probabilities of classifiers, the
predictions of regressors.  With few training images per class the average
is more accurate than any one network (README, "Results").
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from texture.errors import ConfigError, ModelFileError, NotFittedError

from pipeline.nn.estimators import BPClassifier, BPRegressor

__all__ = ["NetworkEnsemble", "member_seeds"]

#: Estimator classes an ensemble may hold; nothing else is ever instantiated on load.
_MEMBERS = {cls.__name__: cls for cls in (BPClassifier, BPRegressor)}


def member_seeds(random_state, n_networks):
    """The ``random_state`` of each network of an ensemble.

    The first network keeps `random_state` itself, so that an ensemble of
    one is the estimator alone, bit for bit; the others get seeds derived
    from it (an integer gives integers, the same ones every time; a
    Generator gives independent child Generators; None gives None, fresh
    entropy for each).

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
    n_networks : int

    Returns
    -------
    list
        `n_networks` seeds.

    Examples
    --------
    >>> seeds = member_seeds(0, 3)
    >>> seeds[0], len(set(seeds)), seeds == member_seeds(0, 3)
    (0, 3, True)
    """
    if random_state is None:
        return [None] * n_networks
    if isinstance(random_state, np.random.Generator):
        return [random_state, *random_state.spawn(n_networks - 1)]
    children = np.random.SeedSequence(int(random_state)).spawn(n_networks - 1)
    return [random_state, *(int(child.generate_state(1)[0]) for child in children)]


class NetworkEnsemble:
    """`n_networks` copies of one network, each trained with its own seed, their outputs averaged.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor, optional
        Unfitted; each network is a copy of it whose ``random_state`` is
        replaced by one of :func:`member_seeds` of its own.  Default:
        ``BPClassifier()``.
    n_networks : int, default=5
        Networks trained; 1 is `estimator` alone.

    Attributes
    ----------
    estimators_ : list of fitted estimators
        The networks, the first trained with `estimator`'s own seed.
    classes_ : ndarray
        The labels seen at fit time, sorted (classifier only).
    n_features_in_ : int
    history_ : dict of lists
        The first network's training history (every network trains on the
        same rows for about as long; one curve is plotted).
    best_epoch_ : int
        The first network's.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline import BPClassifier
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25, dtype=float)
    >>> y = np.array([0, 1, 1, 0] * 25)
    >>> network = BPClassifier((8,), activation="tanh", learning_rate=0.05, random_state=0)
    >>> NetworkEnsemble(network, n_networks=3).fit(X, y).predict([[0, 1], [1, 1]])
    array([1, 0])
    """

    def __init__(self, estimator=None, n_networks=5):
        self.estimator = estimator
        self.n_networks = n_networks

    # -- scikit-learn protocol ------------------------------------------------

    def get_params(self, deep=True):
        """``estimator`` and ``n_networks``; with `deep`, also the estimator's as ``estimator__<name>``."""
        params = {"estimator": self.estimator, "n_networks": self.n_networks}
        if deep and self.estimator is not None:
            params.update({f"estimator__{k}": v for k, v in self.estimator.get_params().items()})
        return params

    def set_params(self, **params):
        """Set ``estimator``, ``n_networks`` or ``estimator__<name>``; unknown names raise ConfigError."""
        nested = {k.removeprefix("estimator__"): v for k, v in params.items() if k.startswith("estimator__")}
        for name, value in params.items():
            if name.startswith("estimator__"):
                continue
            if name not in ("estimator", "n_networks"):
                raise ConfigError(f"NetworkEnsemble has no parameter {name!r}; valid parameters are "
                                  "['estimator', 'n_networks'] and estimator__<name>")
            setattr(self, name, value)
        if nested:
            self.estimator.set_params(**nested)
        return self

    def __repr__(self):
        return f"NetworkEnsemble(estimator={self.estimator!r}, n_networks={self.n_networks!r})"

    def __sklearn_tags__(self):
        return self._template().__sklearn_tags__()

    def _template(self):
        if self.estimator is None:
            return BPClassifier()
        if type(self.estimator) not in _MEMBERS.values():
            raise ConfigError(f"estimator must be a BPClassifier or a BPRegressor, got {self.estimator!r}")
        return self.estimator

    def _check_fitted(self):
        if not hasattr(self, "estimators_"):
            raise NotFittedError("this NetworkEnsemble is not fitted yet; call fit(X, y) first")

    # -- training and prediction -------------------------------------------------

    def fit(self, X, y):
        """Train `n_networks` fresh copies of `estimator` on ``X`` and ``y``, each with its own seed."""
        template = self._template()
        n = self.n_networks
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ConfigError(f"n_networks must be a positive integer, got {n!r}")
        fitted = []
        for seed in member_seeds(template.random_state, int(n)):
            network = copy.deepcopy(template)
            network.random_state = seed
            fitted.append(network.fit(X, y))
        # Assigned only now: a fit that raised leaves the previous state untouched.
        self.estimators_ = fitted
        self._set_learned()
        return self

    def _set_learned(self):
        first = self.estimators_[0]
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "classes_"):
            self.classes_ = first.classes_
        elif hasattr(self, "classes_"):
            del self.classes_

    @property
    def history_(self):
        self._check_fitted()
        return self.estimators_[0].history_

    @property
    def best_epoch_(self):
        self._check_fitted()
        return self.estimators_[0].best_epoch_

    def _mean(self, outputs):
        """The mean of the networks' outputs, summed in member order (the same bits every time)."""
        return np.sum(np.stack([np.asarray(o, dtype=np.float64) for o in outputs]), axis=0) / len(outputs)

    @property
    def predict_proba(self):
        """Mean class probabilities of the networks, shape (n_samples, n_classes); rows sum to 1.

        Only an ensemble of classifiers has it (as ``hasattr`` tells):
        :class:`pipeline.TextureModel` tells classifiers from regressors by it.
        """
        if not hasattr(self._template(), "predict_proba"):
            raise AttributeError("an ensemble of regressors has no predict_proba")
        return self._predict_proba

    def _predict_proba(self, X):
        self._check_fitted()
        return self._mean([network.predict_proba(X) for network in self.estimators_])

    def predict(self, X):
        """The label of highest mean probability (classifier) or the mean prediction (regressor)."""
        self._check_fitted()
        if hasattr(self.estimators_[0], "predict_proba"):
            return self.classes_[self._predict_proba(X).argmax(axis=1)]
        return self._mean([network.predict(X) for network in self.estimators_])

    def score(self, X, y):
        """Accuracy of :meth:`predict` (classifier) or the coefficient of determination (regressor)."""
        self._check_fitted()
        if hasattr(self.estimators_[0], "predict_proba"):
            return float(np.mean(self.predict(X) == np.asarray(y)))
        y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        residual = ((y - np.asarray(self.predict(X)).reshape(len(X), -1)) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        return float(np.mean(1 - residual / np.where(total > 0, total, 1)))

    # -- persistence ------------------------------------------------------------------

    def get_state(self):
        """Everything needed to rebuild this fitted ensemble, without pickle.

        Returns
        -------
        meta : dict
            ``n_networks``, the networks' class and each network's metadata
            (:meth:`BPClassifier.get_state`).
        arrays : dict of str to ndarray
            Each network's arrays, prefixed ``<k>.`` (its position).
        """
        self._check_fitted()
        meta = {"n_networks": len(self.estimators_), "member_class": type(self.estimators_[0]).__name__,
                "members": []}
        arrays = {}
        for k, network in enumerate(self.estimators_):
            member_meta, member_arrays = network.get_state()
            meta["members"].append(member_meta)
            arrays.update({f"{k}.{name}": a for name, a in member_arrays.items()})
        return meta, arrays

    @classmethod
    def from_state(cls, meta, arrays):
        """Rebuild an ensemble saved by :meth:`get_state`, validating every network.

        Raises
        ------
        ModelFileError
            If ``meta`` or ``arrays`` do not describe a valid ensemble: an
            unknown network class, a count that does not match, networks
            that disagree on their inputs or classes, or arrays no network
            reads.
        """
        try:
            member_class = _MEMBERS.get(meta["member_class"])
            members = meta["members"]
            if member_class is None:
                raise ModelFileError(f"unknown network class {meta['member_class']!r} in an ensemble")
            if not isinstance(members, list) or not members or len(members) != meta["n_networks"]:
                raise ModelFileError(f"an ensemble of {meta['n_networks']!r} networks holding "
                                     f"{len(members) if isinstance(members, list) else members!r}")
            fitted, read = [], set()
            for k, member_meta in enumerate(members):
                prefix = f"{k}."
                own = {name[len(prefix):]: a for name, a in arrays.items() if name.startswith(prefix)}
                read.update(prefix + name for name in own)
                fitted.append(member_class.from_state(member_meta, own))
            unexpected = set(arrays) - read
            if unexpected:
                raise ModelFileError(f"unexpected arrays {sorted(unexpected)} in an ensemble")
            first = fitted[0]
            if any(network.n_features_in_ != first.n_features_in_ for network in fitted):
                raise ModelFileError("the networks of an ensemble take different numbers of features")
            if hasattr(first, "classes_") and any(not np.array_equal(network.classes_, first.classes_)
                                                  for network in fitted):
                raise ModelFileError("the networks of an ensemble have different classes")
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"invalid ensemble state ({type(exc).__name__}: {exc})") from exc
        ensemble = cls(estimator=member_class(**first.get_params()), n_networks=len(fitted))
        ensemble.estimators_ = fitted
        ensemble._set_learned()
        return ensemble
