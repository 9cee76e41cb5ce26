"""The texture model: feature extractor + normalizer + back-propagation network.

:class:`TextureModel` ties the three steps of the data flow together, is
trained once with :meth:`TextureModel.fit` and then labels and scores images
from Python (:meth:`TextureModel.score_image`) and from the ``texture``
command line.  It saves to one self-describing ``.npz`` file without pickle:
arrays plus a JSON metadata entry (versions, feature configuration and names,
class names, normalizer and network state) and a SHA-256 digest of all of it,
so a tampered, truncated or incompatible file is refused with
:class:`~texture.errors.ModelFileError` instead of silently mispredicting
(:mod:`pipeline.model_file` writes and checks the file).

The module is longer than most (about 550 lines) because it is one class:
the estimator API (fit, predict, predict_proba, score, save, load) of one
object, whose inputs (paths, arrays, tables, masks) are read by the small
helpers above it.
"""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np

from pipeline import model_file
from pipeline.augment import N_TRAINING_COPIES, choose_copies, copy_features, training_copies, with_copies
from pipeline.calibration import (TEMPERATURE_RANGE, calibration_folds, fit_temperature, out_of_fold_logits,
                                  scaled_probabilities)
from pipeline.maps import TextureMap, preview_of, pure_windows, read_regions
from pipeline.nn import BPClassifier, BPRegressor, NetworkEnsemble
from pipeline.normalize import make_scaler, scaler_from_state
from pipeline.run.file_warnings import FileWarnings
from texture import FeatureConfig, FeatureExtractor, feature_map
from texture.io import open_image
from texture.errors import ConfigError, DatasetError, ImageTooSmallError, MaskError, ModelFileError, NotFittedError, TextureError

__all__ = ["TextureModel", "TextureScore", "FORMAT_VERSION", "default_network", "ensemble_of", "DEFAULT_N_NETWORKS"]

_FORMAT = "texture-model"
#: Version of the saved-model layout (see :data:`pipeline.model_file.VERSIONS`).
FORMAT_VERSION = model_file.VERSIONS[_FORMAT]
# Training-history series shown by the training-curve plot.
_HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")

# BPClassifier parameters of the default network (`texture train` without
# --hidden/--epochs), but its width (see default_network).  Chosen by nested
# validation inside the training parts only, never the test parts (README,
# "Results"): tanh beat relu on KTH-TIPS.
DEFAULT_NETWORK = {"activation": "tanh"}
#: Fewest hidden units of the default network.
MIN_HIDDEN_UNITS = 64
#: Networks a TextureModel trains and averages by default (see `ensemble_of`).  Chosen by nested
#: validation (README, "Results"): three did as well as five or eight on the four grey data
#: sets (mean inner accuracy 95.5 against 95.2 for one), for three times one network's training.
DEFAULT_N_NETWORKS = 3


def default_network(n_classes):
    """BPClassifier parameters of the default network for `n_classes` classes.

    One tanh hidden layer of ``max(64, n_classes)`` units: 64 did as well as
    128 or 256 on KTH-TIPS's 10 classes, and one unit per class did better
    than 64 on Brodatz's 112 (README, "Results").

    Examples
    --------
    >>> default_network(10)["hidden_layer_sizes"], default_network(112)["hidden_layer_sizes"]
    ((64,), (112,))
    """
    return {"hidden_layer_sizes": (max(MIN_HIDDEN_UNITS, int(n_classes)),), **DEFAULT_NETWORK}


def ensemble_of(estimator, n_networks):
    """`estimator` itself for one network, else a :class:`pipeline.NetworkEnsemble` of `n_networks` copies.

    Examples
    --------
    >>> network = BPClassifier(random_state=0)
    >>> ensemble_of(network, 1) is network, type(ensemble_of(network, 3)).__name__
    (True, 'NetworkEnsemble')
    """
    return estimator if n_networks == 1 else NetworkEnsemble(estimator, n_networks)


@dataclass(frozen=True)
class TextureScore:
    """The texture score of one image.

    Attributes
    ----------
    label : str or int or float or None
        Predicted class (None for a regression model).
    confidence : float or None
        Probability of the predicted class (None for a regression model).
        Calibrated by default (see `TextureModel`'s `calibrate`): among
        held-out images scored with confidence near 0.9, about nine in ten
        are labelled right.
    probabilities : dict
        Class -> probability, in the model's class order (empty for a
        regressor); calibrated like `confidence`.
    value : float or None
        One number for the image: the expected class value under
        `probabilities` when every class label is a number (ordinal grades
        such as 1 to 5), the output of a regression model, else None.
    """

    label: object
    confidence: float | None
    probabilities: dict = field(default_factory=dict)
    value: float | None = None

    def to_dict(self) -> dict:
        """JSON-serialisable form (class names become strings)."""
        data = asdict(self)
        data["probabilities"] = {str(k): v for k, v in self.probabilities.items()}
        return data


#: Estimators a model file may name; nothing else is ever instantiated on load.
_ESTIMATORS = {cls.__name__: cls for cls in (BPClassifier, BPRegressor, NetworkEnsemble)}


def _numeric(classes) -> np.ndarray | None:
    """Class labels as floats when every one of them is a number, else None."""
    try:
        values = np.array([float(c) for c in classes], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return values if np.isfinite(values).all() else None


def _builtin_scalar(value):
    """numpy scalars -> Python scalars, for JSON and dict keys."""
    return value.item() if isinstance(value, np.generic) else value


def _as_images(images) -> list:
    """Accept one path, a sequence of paths/arrays, or a DataFrame with a ``path`` column."""
    if isinstance(images, (str, os.PathLike)):
        return [images]
    if hasattr(images, "columns") and "path" in images.columns:
        return list(images["path"])
    return list(images)


def _as_masks(masks, images, n) -> list:
    """One mask (or None: the whole image) per image.

    `masks` is a sequence beside the images, or None: then a ``mask`` column
    of an `images` DataFrame when there is one (blank cells: no mask).
    """
    if masks is None:
        if not (hasattr(images, "columns") and "mask" in images.columns):
            return [None] * n
        masks = [None if _blank(m) else m for m in images["mask"]]
    elif isinstance(masks, (str, os.PathLike)) or (isinstance(masks, np.ndarray) and masks.ndim == 2):
        masks = [masks]  # the one mask of one image
    masks = list(masks)
    if len(masks) != n:
        raise ConfigError(f"{len(masks)} masks for {n} images")
    return masks


def _blank(cell) -> bool:
    """A missing cell of a table column: None, NaN or an empty string."""
    return cell is None or (isinstance(cell, float) and np.isnan(cell)) or (isinstance(cell, str) and not cell.strip())


def _sources(images, masks=None):
    """Yield ``(image file or array, path or None, mask or None)`` of each image.

    The masks are read by the extractor, which checks them against their
    image.
    """
    paths = _as_images(images)
    for image, mask in zip(paths, _as_masks(masks, images, len(paths))):
        yield image, image if isinstance(image, (str, os.PathLike)) else None, mask


def _read(images, masks=None):
    """Yield ``(stored image, path or None, mask or None)`` of each image, one at a time.

    The image as stored (:func:`texture.io.open_image`): the extractor and
    the training copies make the working image, grey or colour, as they
    need it, so that a large colour file is held in its 3 bytes per pixel
    rather than 24.
    """
    for image, path, mask in _sources(images, masks):
        yield open_image(image), path, mask


def _stack(rows) -> np.ndarray:
    """The feature matrix of per-image rows; at least one image is needed."""
    if not rows:
        raise ConfigError("no images given")
    return np.vstack(rows)


class TextureModel:
    """Texture labelling and scoring: features -> normalizer -> network.

    Parameters
    ----------
    feature_config : texture.FeatureConfig, optional
        Extractor settings; the default configuration when None.
    scaler : {"zscore", "minmax"}, default "zscore"
        Normalizer fitted on the training features only.
    estimator : estimator, optional
        The network, unfitted: a :class:`pipeline.BPClassifier` (labels) or
        :class:`pipeline.BPRegressor` (numeric targets).  A copy is fitted.
        Default: ``BPClassifier(random_state=random_state,
        **default_network(n_classes))``, one hidden layer of at least 64
        units and at least one per class.
    random_state : int, default 0
        Seed of the default network.
    augment : bool, default True
        :meth:`fit` also trains on altered copies of every image
        (:func:`pipeline.augment.training_copies`: rescaled by half an
        octave each way, blurred, with noise at 10 dB SNR, and four corner
        crops), which makes the model robust to the distance, focus and
        noise of the photograph and shows it how a texture varies from
        sample to sample.  A classifier keeps the rescaled and blurred
        copies only where they help (:func:`pipeline.augment.choose_copies`:
        six more trainings on two thirds of the images decide,
        :attr:`copies_kept_` records it); where the scale is itself a cue it
        trains on the noisy copy and the crops alone.  Multiplies the
        extraction time of training by about eight (the upscaled copy has
        twice the pixels, each crop 56 %); prediction is unaffected.  With
        `window`, the crops are not made (their windows are the image's).  An image whose shrunk copy
        is too small for the extractor is trained on without copies, with a
        ``UserWarning`` naming it.
    calibrate : bool, default True
        After training a classifier, fit a temperature (:mod:`pipeline.calibration`)
        so that its confidence matches how often it is right: copies of the
        network are trained on two thirds of the training images and predict
        the third they did not see (never a test image; an image's training
        copies stay on its side, and so do whole groups when given), and the
        temperature minimizing their cross-entropy is kept.  It never
        changes the predicted label.  Costs three more (smaller) trainings.
        ``False`` keeps the network's raw softmax.
    window : int, optional
        A model meant for maps (:meth:`score_map`): :meth:`fit` trains on
        the windows of this size cut from each training image (and from its
        copies), every ``window // 2`` pixels, rather than on whole images;
        the features of a small window are noisier than a whole image's, and
        the network learns them as they are.  The window is recorded in the
        model file and is :meth:`score_map`'s default.
    step : int, optional
        With `window`: the distance between the training windows, in pixels
        (:meth:`fit`: default ``window // 2``; :meth:`fit_regions`: default
        ``window // 4``).  Not recorded: maps choose their own step.
    n_networks : int, default 3 (DEFAULT_N_NETWORKS)
        Networks trained and averaged (:class:`pipeline.NetworkEnsemble`):
        copies of the network, each with its own seed derived from the
        network's (the first keeps it), whose class probabilities are
        averaged before the temperature.  Training, calibration included,
        costs about `n_networks` times one network's; the choice of copies
        is made with one network (:func:`pipeline.augment.choose_copies`).

    Attributes
    ----------
    feature_config_ : texture.FeatureConfig
    feature_names_ : list of str
    scaler_ : StandardScaler or MinMaxScaler
    estimator_ : fitted estimator
        The network, or a :class:`pipeline.NetworkEnsemble` of `n_networks`
        of them (its ``estimators_``).
    classes_ : ndarray
        Class labels (classifier only).
    trained_with_masks_ : bool
        Whether the training features were those of masked regions.
    temperature_ : float
        Every logit is divided by it before the softmax (classifier only);
        1.0 when not calibrated.
    calibration_ : dict or None
        How the temperature was fitted: ``temperature``, ``n_validation``
        (held-out training rows), ``n_folds``, and on those rows, before and
        after scaling: ``ece_before``/``ece_after`` (expected calibration
        error), ``nll_before``/``nll_after`` (cross-entropy) and
        ``reliability_before``/``reliability_after`` (the columns of
        :func:`pipeline.evaluation.reliability_bins` as lists); None without
        calibration.
    window_ : int or None
        Side of the windows the model was trained on (:meth:`fit` with
        `window`, :meth:`fit_regions`), None for whole images.
    copies_kept_ : tuple of int or None
        The training copies trained on, as indices into
        :func:`pipeline.augment.training_copies`' output (an element of
        :data:`pipeline.augment.COPY_CHOICES` for a classifier); None when
        trained without copies.

    Examples
    --------
    >>> from pipeline import TextureModel                       # doctest: +SKIP
    >>> model = TextureModel().fit(paths, labels)                # doctest: +SKIP
    >>> model.save("bark.npz")                                   # doctest: +SKIP
    >>> TextureModel.load("bark.npz").score_image("new.png")     # doctest: +SKIP
    TextureScore(label='rough', confidence=0.93, probabilities={...}, value=None)
    """

    def __init__(self, feature_config=None, scaler: str = "zscore", estimator=None,
                 random_state: int = 0, augment: bool = True, calibrate: bool = True,
                 window: int | None = None, n_networks: int = DEFAULT_N_NETWORKS, step: int | None = None):
        self.feature_config = feature_config
        self.scaler = scaler
        self.estimator = estimator
        self.random_state = random_state
        self.augment = augment
        self.calibrate = calibrate
        self.window = window
        self.n_networks = n_networks
        self.step = step

    # ---- features -------------------------------------------------------

    def _extractor(self):
        if getattr(self, "_extractor_cache", None) is None:
            config = getattr(self, "feature_config_", None) or self.feature_config or FeatureConfig()
            self._extractor_cache = FeatureExtractor(config)
        return self._extractor_cache

    def featurize(self, images, *, masks=None, max_pixels=None) -> np.ndarray:
        """Feature matrix of `images` (unnormalized), or of the regions inside their masks.

        Parameters
        ----------
        images : path, or sequence of paths or 2-D arrays, or DataFrame with a ``path`` column
        masks : sequence, optional
            One region of interest per image (see
            :func:`texture.extract_features`), None for a whole image.
            Default: the ``mask`` column of an `images` DataFrame when it has
            one, else none.
        max_pixels : int, optional
            Largest image read, in pixels (see :func:`texture.read_image`).

        Returns
        -------
        ndarray of shape (n_images, n_features)

        Raises
        ------
        TextureError
            For the first image whose features cannot be computed; the
            message names the file (the mask file, for a bad mask).

        Warns
        -----
        texture.errors.TextureWarning
            Each kind once per call, standing for all its files (grey images
            given to a colour model: ``FlatChromaWarning``).
        """
        extractor, warned = self._extractor(), FileWarnings()
        with warned.collect():
            # The extractor reads each file itself: it drops the stored pixels once the colour features are made.
            X = _stack([extractor.transform(image, path=path, mask=mask, max_pixels=max_pixels)
                        for image, path, mask in _sources(images, masks)])
        warned.warn()
        return X

    # ---- training ---------------------------------------------------------

    def fit(self, images, labels=None, masks=None, groups=None):
        """Extract features of `images`, fit the normalizer and train the network.

        Parameters
        ----------
        images : sequence of paths or arrays, or DataFrame with ``path`` and ``label`` columns
        labels : sequence, optional
            One label (class name or number) per image; taken from the
            DataFrame's ``label`` column when omitted.
        masks : sequence, optional
            One region of interest per image, None for a whole image (see
            :meth:`featurize`).  A model trained with masks records it
            (:attr:`trained_with_masks_`) and warns when asked to predict
            without them.  Training copies (`augment`) rescale the mask with
            their image.
        groups : sequence, optional
            One group per image (taken from the DataFrame's ``group`` column
            when it has one without gaps): images of one group are never
            split by the calibration (see `calibrate`).  Give groups when
            new images will differ from the training ones the way the groups
            differ (another scale, another photo session).

        Returns
        -------
        self
        """
        if labels is None:
            if not (hasattr(images, "columns") and "label" in images.columns):
                raise ConfigError("labels are required (or pass a DataFrame with a 'label' column)")
            labels = images["label"]
        if groups is None and hasattr(images, "columns") and "group" in images.columns:
            if images["group"].notna().all():
                groups = images["group"]
        masks = _as_masks(masks, images, len(_as_images(images)))
        masked = any(mask is not None for mask in masks)
        if self.window is not None:
            if masked:
                raise ConfigError("a model trained on windows (window=...) takes no masks")
            return self._fit_windows(images, np.asarray(labels))
        if not self.augment:
            return self.fit_features(self.featurize(images, masks=masks), labels, groups=groups, masked=masked)
        # Each image is read once, for its own features and for its copies'.
        extractor, rows, copies, warned = self._extractor(), [], [], FileWarnings()
        with warned.collect():
            for image, path, mask in _read(images, masks=masks):
                rows.append(extractor.transform(image, path=path, mask=mask))
                copies.append(self._copy_features(image, path, mask))
        warned.warn()
        X = _stack(rows)
        has_copies = [block is not None for block in copies]
        copies = np.array([np.zeros((N_TRAINING_COPIES, X.shape[1])) if block is None else block
                           for block in copies])
        return self.fit_features(X, labels, groups=groups, copies=copies, has_copies=has_copies, masked=masked)

    def _fit_windows(self, images, labels):
        """:meth:`fit` on the windows of each image (and of its training copies) rather than whole images."""
        window = self.window
        _check_window(window)
        step = self.step or max(1, window // 2)
        _check_window(step, "step")
        n_images = len(_as_images(images))
        if len(labels) != n_images:
            raise ConfigError(f"{len(labels)} labels for {n_images} images")
        config = self.feature_config or FeatureConfig()
        rows, targets, sources_of, warned = [], [], [], FileWarnings()
        for index, ((stored, path, _), label) in enumerate(zip(_read(images), labels)):
            image = stored.colour() if config.reads_colour else stored.grey()
            # No crops: their windows are the image's own, shifted.
            sources = [image] + (training_copies(image, crop_fraction=None) if self.augment else [])
            with FileWarnings().collect() as caught:  # about the image's arrays: said as about its file
                for k, source in enumerate(sources):
                    if min(source.shape) < window:
                        if k == 0:
                            raise ImageTooSmallError(f"image is {image.shape[0]} x {image.shape[1]} pixels, "
                                                     f"smaller than the {window} pixel training window", path)
                        continue  # a shrunk copy below the window: the others still train
                    values = feature_map(source, window, step, config).values
                    rows.append(values.reshape(-1, values.shape[-1]))
                    targets.append(np.repeat(label, len(rows[-1])))
                    sources_of.append(np.repeat(index, len(rows[-1])))
            for category in caught.pop(None):
                warned.add(category, [path])
        warned.warn(stacklevel=3)  # for the caller of fit
        # Overlapping windows of one image are near-duplicates: the calibration keeps them together.
        self.fit_features(_stack(rows), np.concatenate(targets), groups=np.concatenate(sources_of))
        self.window_ = window
        return self

    def fit_regions(self, image, label_image, legend, window=None, step=None):
        """Train on the windows of one annotated image: those whose pixels all carry one label.

        This is what a user does who has one large image and a few painted
        regions.  No training copies are made (`augment` does not apply).

        Parameters
        ----------
        image : str, os.PathLike or array_like
            The image (see :func:`texture.read_image`).
        label_image : str, os.PathLike or array_like
            One integer per pixel of `image` (a PNG), 0 for unlabelled (see
            :func:`pipeline.maps.read_regions`).
        legend : str, os.PathLike, dict or DataFrame
            Pixel value -> label: a CSV ``value,label`` or a dict.
        window : int, optional
            Window side; default the model's `window`, else 64.  Recorded as
            :attr:`window_`, :meth:`score_map`'s default.
        step : int, optional
            Distance between training windows; default the model's `step`,
            else ``window // 4`` (painted regions are small: overlapping
            windows give more samples).

        Returns
        -------
        self

        Raises
        ------
        DatasetError
            Unreadable annotations, a shape different from the image's, or
            fewer than two labels with a window lying wholly inside them.
        """
        window = window or self.window or 64
        _check_window(window)
        step = step or self.step or max(1, window // 4)
        _check_window(step, "step")
        values, names = read_regions(label_image, legend)
        fmap = feature_map(image, window, step, self.feature_config or FeatureConfig())
        if values.shape != fmap.grid.shape:
            raise DatasetError(f"the label image is {values.shape[0]} x {values.shape[1]} pixels, the image "
                               f"{fmap.grid.shape[0]} x {fmap.grid.shape[1]}")
        pure = pure_windows(values, fmap.grid)
        inside = pure > 0
        labels = np.array([names[v] for v in pure[inside].tolist()], dtype=object)
        found = sorted(set(labels.tolist()), key=str)
        if len(found) < 2:
            raise DatasetError(f"windows of {window} px lying wholly inside one labelled region were found for "
                               f"{len(found)} label(s) ({', '.join(map(str, found)) or 'none'}); at least two are "
                               f"needed: paint larger regions or use a smaller window")
        if all(isinstance(v, (int, np.integer)) for v in names.values()):
            labels = labels.astype(np.int64)
        else:
            labels = labels.astype(str)
        self.fit_features(fmap.values[inside].astype(np.float64), labels)
        self.window_ = window
        return self

    def _copy_features(self, image, path, mask=None) -> np.ndarray | None:
        """Features of the training copies of one image (as stored, or working); None, with a warning, when a shrunk
        copy (or its mask) is too small (all or none, as in ``texture train``)."""
        try:
            return copy_features(self._extractor(), image, path=path, mask=mask)
        except (ImageTooSmallError, MaskError) as exc:
            warnings.warn(f"training copies left out (the image itself is trained on): {exc}", UserWarning,
                          stacklevel=3)
            return None

    def fit_features(self, X, labels, groups=None, *, copies=None, has_copies=None, masked=False):
        """Fit the normalizer and the network (and calibrate it) on precomputed features.

        Parameters
        ----------
        X : array-like of shape (n_images, n_features)
            Features in the order of ``FeatureExtractor(feature_config).names``.
        labels : sequence of length n_images
        groups : sequence of length n_images, optional
            Images of one group stay on one side of the calibration's splits
            (see `calibrate`), and so do an image and its copies.  Each image
            is its own group when None.
        copies : array-like of shape (n_images, n_copies, n_features), optional
            The features of each image's training copies (see `augment` and
            :func:`pipeline.augment.with_copies`), trained on as more rows
            labelled as their image.
        has_copies : array-like of bool of shape (n_images,), optional
            The images whose `copies` are used; all of them when None.
        masked : bool, default False
            Whether the features are those of masked regions (recorded as
            :attr:`trained_with_masks_`).

        Returns
        -------
        self
        """
        self.feature_config_ = self.feature_config or FeatureConfig()
        self._extractor_cache = None
        self.feature_names_ = list(self._extractor().names)
        X = np.asarray(X, dtype=np.float64)
        labels = np.asarray(labels)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names_):
            raise ConfigError(f"X must have shape (n_samples, {len(self.feature_names_)}), got {X.shape}")
        if len(labels) != len(X):
            raise ConfigError(f"{len(labels)} labels for {len(X)} images")
        groups = np.arange(len(X)).astype(str) if groups is None else np.asarray(groups, dtype=str)
        if len(groups) != len(X):
            raise ConfigError(f"{len(groups)} groups for {len(X)} images")
        template = self._template(labels)
        self.copies_kept_ = None
        if copies is not None:
            n_images = len(X)
            if hasattr(template, "predict_proba") and np.shape(copies)[1] == N_TRAINING_COPIES:
                self.copies_kept_ = choose_copies(template, partial(make_scaler, self.scaler), X, labels, copies,
                                                  has_copies, groups, seed=self.random_state)
                copies = np.asarray(copies)[:, self.copies_kept_]
            else:
                self.copies_kept_ = tuple(range(np.shape(copies)[1]))
            X, labels = with_copies(X, labels, copies, has_copies)
            with_rows = np.ones(n_images, bool) if has_copies is None else np.asarray(has_copies, bool)
            # with_copies' row order: the images, then each image's copies in turn; a copy is in its image's group.
            groups = np.concatenate([groups, np.repeat(groups[with_rows], np.shape(copies)[1])])
        self.scaler_ = make_scaler(self.scaler)
        Xs = self.scaler_.fit_transform(X)
        self.estimator_ = copy.deepcopy(template)
        self.estimator_.fit(Xs, labels)
        self.calibration_ = None
        if self.is_classifier:
            self.classes_ = np.asarray(self.estimator_.classes_)
            self.temperature_ = 1.0
            if self.calibrate:
                self._calibrate(Xs, labels, groups)
        self.trained_with_masks_ = bool(masked)
        self._warned_unmasked = False
        self.window_ = None
        return self

    def _template(self, labels):
        """The unfitted estimator: `estimator` or the default network, averaged over `n_networks` seeds."""
        n = self.n_networks
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"n_networks must be a positive integer, got {n!r}")
        network = self.estimator if self.estimator is not None else \
            BPClassifier(random_state=self.random_state, **default_network(len(np.unique(labels))))
        return ensemble_of(network, int(n))

    def _calibrate(self, Xs, labels, groups):
        """Fit :attr:`temperature_` on out-of-fold predictions of the training rows (see `calibrate`)."""
        from pipeline.evaluation import expected_calibration_error, reliability_bins  # pandas: only when fitting

        folds = calibration_folds(labels, groups, seed=self.random_state)
        template = self._template(labels)
        logits, known = out_of_fold_logits(template, Xs, labels, self.classes_, folds)
        if not known.any():
            warnings.warn("calibration left out: no training part held every class", UserWarning, stacklevel=3)
            return
        logits, y = logits[known], np.searchsorted(self.classes_, labels[known])
        self.temperature_ = fit_temperature(logits, y)
        self.calibration_ = {"temperature": self.temperature_, "n_validation": len(y), "n_folds": len(folds)}
        for when, temperature in (("before", 1.0), ("after", self.temperature_)):
            proba = scaled_probabilities(np.exp(logits), temperature)
            bins = reliability_bins(y, proba)
            self.calibration_.update({
                f"ece_{when}": expected_calibration_error(y, proba),
                f"nll_{when}": float(-np.mean(np.log(np.maximum(proba[np.arange(len(y)), y], 1e-300)))),
                # JSON has no NaN: an empty bin's confidence and accuracy are null.
                f"reliability_{when}": {column: [None if np.isnan(v) else float(v) for v in bins[column]]
                                        for column in bins.columns},
            })

    @property
    def is_classifier(self) -> bool:
        """True when the network outputs class probabilities."""
        self._check_fitted()
        return hasattr(self.estimator_, "predict_proba")

    def _check_fitted(self):
        if not hasattr(self, "estimator_"):
            raise NotFittedError("this TextureModel is not fitted yet; call fit or TextureModel.load")

    # ---- prediction -------------------------------------------------------

    def _normalized(self, X) -> np.ndarray:
        self._check_fitted()
        return self.scaler_.transform(X)

    def _normalized_images(self, images, masks=None, max_pixels=None) -> np.ndarray:
        self._check_fitted()  # before the costly extraction
        masks = _as_masks(masks, images, len(_as_images(images)))
        self.warn_if_unmasked(masks)
        return self.scaler_.transform(self.featurize(images, masks=masks, max_pixels=max_pixels))

    def warn_if_unmasked(self, masks) -> None:
        """Warn, once per model, when a model trained on masked regions is given an image without a mask.

        Its features would describe the whole image, not the kind of region
        the network learned from.

        Parameters
        ----------
        masks : sequence
            The masks of the images about to be predicted, None where absent.
        """
        if self.trained_with_masks_ and not self._warned_unmasked and any(mask is None for mask in masks):
            self._warned_unmasked = True
            warnings.warn("this model was trained on masked regions, and an image is predicted without a mask: "
                          "its features describe the whole image", UserWarning, stacklevel=3)

    def predict(self, images, masks=None) -> np.ndarray:
        """Predicted label (classifier) or value (regressor) of each image (see :meth:`fit` for `masks`)."""
        Xs = self._normalized_images(images, masks)
        return self.estimator_.predict(Xs)

    def predict_proba(self, images, masks=None) -> np.ndarray:
        """Class probabilities of each image, columns in :attr:`classes_` order.

        Parameters
        ----------
        images : sequence of paths or arrays, or DataFrame with a ``path`` column
        masks : sequence, optional
            One region of interest per image (see :meth:`fit`).

        Returns
        -------
        ndarray of shape (n_images, n_classes)
        """
        if not self.is_classifier:
            raise ConfigError("predict_proba needs a classification model; this one is a regressor")
        return self._proba(self._normalized_images(images, masks))

    def _proba(self, Xs) -> np.ndarray:
        """Class probabilities of normalized rows, at the calibrated temperature."""
        proba = self.estimator_.predict_proba(Xs)
        return proba if self.temperature_ == 1.0 else scaled_probabilities(proba, self.temperature_)

    def score_features(self, X) -> list[TextureScore]:
        """Texture scores from a precomputed feature matrix (the batch fast path).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        list of TextureScore
        """
        Xs = self._normalized(X)
        if not self.is_classifier:
            return [TextureScore(None, None, {}, float(v)) for v in np.ravel(self.estimator_.predict(Xs))]
        proba = self._proba(Xs)
        classes = [_builtin_scalar(c) for c in self.classes_]
        numeric = _numeric(classes)
        best = proba.argmax(axis=1)
        values = proba @ numeric if numeric is not None else [None] * len(proba)
        return [
            TextureScore(classes[k], float(p[k]), dict(zip(classes, map(float, p))),
                         None if v is None else float(v))
            for p, k, v in zip(proba, best, values)
        ]

    def score_image(self, image, *, mask=None, max_pixels=None) -> TextureScore:
        """The texture score of one image, or of the region inside its mask.

        Parameters
        ----------
        image : str or os.PathLike or ndarray
            An image file or array, grey or colour (see :func:`texture.read_image`).
        mask : str or os.PathLike or ndarray, optional
            Region of interest (see :func:`texture.extract_features`).
        max_pixels : int, optional
            Largest image read, in pixels (see :func:`texture.read_image`).

        Returns
        -------
        TextureScore
            Predicted label, its confidence, all class probabilities and one
            number (:attr:`TextureScore.value`).
        """
        if isinstance(image, np.ndarray):
            image = [image]
        self._check_fitted()
        masks = _as_masks([mask], image, 1)
        self.warn_if_unmasked(masks)
        return self.score_features(self.featurize(image, masks=masks, max_pixels=max_pixels))[0]

    def map_geometry(self, window=None, step=None):
        """The window and step :meth:`score_map` uses when given `window` and `step` (None for the defaults).

        Returns
        -------
        window, step : int
            `window`, else the window the model was trained on (:attr:`window_`),
            else 64; `step`, else half the window.
        """
        window = window or getattr(self, "window_", None) or 64
        return window, step or max(1, window // 2)

    def score_map(self, image, window=None, step=None, *, max_pixels=None):
        """Label, confidence, probabilities and score of every window of a grid over the image.

        Parameters
        ----------
        image : str, os.PathLike or array_like
            An image file or array (see :func:`texture.read_image`).
        window : int, optional
            Window side; default the window the model was trained on
            (:attr:`window_`), else 64.
        step : int, optional
            Distance between windows; default ``window // 2``.
        max_pixels : int, optional
            Largest image accepted (see :func:`texture.read_image`).

        Returns
        -------
        pipeline.TextureMap

        Examples
        --------
        >>> tmap = model.score_map("wall.png")               # doctest: +SKIP
        >>> tmap.labels.shape, tmap.area_fractions()         # doctest: +SKIP
        ((15, 15), {'brick': 0.71, 'mortar': 0.29})
        """
        self._check_fitted()
        window, step = self.map_geometry(window, step)
        fmap = feature_map(image, window, step, self.feature_config_, max_pixels=max_pixels)
        rows, cols = fmap.values.shape[:2]
        Xs = self._normalized(fmap.values.reshape(rows * cols, -1).astype(np.float64))
        classes, labels, confidence, proba, value = [], None, None, None, None
        if self.is_classifier:
            classes = [_builtin_scalar(c) for c in self.classes_]
            proba = self.estimator_.predict_proba(Xs).reshape(rows, cols, -1)
            labels = np.asarray(self.classes_)[proba.argmax(axis=-1)]
            confidence = proba.max(axis=-1)
            numeric = _numeric(classes)
            value = None if numeric is None else proba @ numeric
        else:
            value = np.ravel(self.estimator_.predict(Xs)).reshape(rows, cols)
        return TextureMap(classes, labels, confidence, proba, value, fmap.grid, preview_of(image, max_pixels))

    def score_columns(self) -> list[str]:
        """Column names of :meth:`score_row`, for tabular prediction output."""
        if not self.is_classifier:
            return ["value"]
        return ["predicted", "confidence", "value"] + [f"proba_{_builtin_scalar(c)}" for c in self.classes_]

    def score_row(self, score: TextureScore) -> list:
        """A :class:`TextureScore` as values for :meth:`score_columns`."""
        if not self.is_classifier:
            return [score.value]
        return [score.label, score.confidence, score.value, *score.probabilities.values()]

    @property
    def history_(self) -> dict:
        """Per-epoch training history of the network (loss, accuracy...)."""
        self._check_fitted()
        history = getattr(self.estimator_, "history_", None) or {}
        return {k: list(history[k]) for k in _HISTORY_KEYS if history.get(k)}

    # ---- persistence ------------------------------------------------------

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Everything that defines the fitted model: JSON metadata and named arrays."""
        self._check_fitted()
        scaler_meta, scaler_arrays = self.scaler_.get_state()
        est_meta, est_arrays = self.estimator_.get_state()
        meta = {
            "feature_config": self.feature_config_.to_dict(),
            "feature_names": self.feature_names_,
            "classes": [_builtin_scalar(c) for c in self.classes_] if self.is_classifier else None,
            "scaler": scaler_meta,
            "estimator": {"class": type(self.estimator_).__name__, "state": est_meta},
            "trained_with_masks": self.trained_with_masks_,
            "temperature": self.temperature_ if self.is_classifier else None,
            "calibration": self.calibration_,
            "window": getattr(self, "window_", None),
            "copies_kept": None if self.copies_kept_ is None else list(self.copies_kept_),
        }
        arrays = {f"scaler.{k}": v for k, v in scaler_arrays.items()}
        arrays.update({f"estimator.{k}": v for k, v in est_arrays.items()})
        return meta, arrays

    def digest(self) -> str:
        """SHA-256 of the fitted model's content (what :meth:`save` records)."""
        return model_file.digest(_FORMAT, *self._state())

    def save(self, path) -> None:
        """Save the fitted model to one ``.npz`` file, atomically and without pickle.

        Parameters
        ----------
        path : str or os.PathLike
            Destination; written as given (no extension is added).
        """
        model_file.save(path, _FORMAT, *self._state())

    @classmethod
    def load(cls, path) -> "TextureModel":
        """Load a model saved by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        TextureModel

        Raises
        ------
        ModelFileError
            The file is missing, not a model, truncated, modified after
            saving, from an incompatible format version, or its features no
            longer match this version of `texture`.
        """
        meta, arrays = model_file.load(path, _FORMAT)
        try:
            return cls._from_arrays(meta, arrays)
        except ModelFileError as exc:
            raise ModelFileError(exc.message, path=path) from None
        except (TextureError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"inconsistent model file ({type(exc).__name__}: {exc})",
                                 path=path) from None

    @classmethod
    def _from_arrays(cls, meta: dict, arrays: dict) -> "TextureModel":
        def group(prefix):
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        config = FeatureConfig.from_dict(meta["feature_config"])
        calibration = meta.get("calibration")  # absent from format 1: not calibrated
        model = cls(feature_config=config, scaler=meta["scaler"]["kind"], calibrate=calibration is not None)
        model.feature_config_ = config
        model.feature_names_ = list(meta["feature_names"])
        if list(model._extractor().names) != model.feature_names_:
            raise ModelFileError(
                f"the model's features (texture {meta['texture_version']}) differ from "
                f"what this texture computes; retrain the model")
        model.scaler_ = scaler_from_state(meta["scaler"], group("scaler."))
        name = meta["estimator"]["class"]
        if name not in _ESTIMATORS:
            raise ModelFileError(f"unknown estimator {name!r}")
        model.estimator_ = _ESTIMATORS[name].from_state(meta["estimator"]["state"], group("estimator."))
        model.n_networks = len(getattr(model.estimator_, "estimators_", [model.estimator_]))
        n_features = len(model.feature_names_)
        if not model.scaler_.n_features_in_ == model.estimator_.n_features_in_ == n_features:
            raise ModelFileError(
                f"the normalizer takes {model.scaler_.n_features_in_} features and the network "
                f"{model.estimator_.n_features_in_}, not the model's {n_features}")
        network_classes = getattr(model.estimator_, "classes_", None)
        if meta["classes"] != (None if network_classes is None else [_builtin_scalar(c) for c in network_classes]):
            raise ModelFileError("the class names do not match the network's outputs")
        model.calibration_ = calibration
        if meta["classes"] is not None:
            model.classes_ = np.asarray(meta["classes"])
            temperature = meta.get("temperature", 1.0)
            low, high = TEMPERATURE_RANGE
            if not (isinstance(temperature, (int, float)) and (temperature == 1.0 or low <= temperature <= high)):
                raise ModelFileError(f"invalid calibration temperature {temperature!r}")
            model.temperature_ = float(temperature)
        # Files saved before masks existed were trained on whole images.
        model.trained_with_masks_ = bool(meta.get("trained_with_masks", False))
        model._warned_unmasked = False
        # Files saved before maps existed were trained on whole images.
        model.window_ = meta.get("window")
        # Files saved before the copies were chosen do not say which were trained on.
        kept = meta.get("copies_kept")
        model.copies_kept_ = None if kept is None else tuple(int(k) for k in kept)
        if model.window_ is not None:
            _check_window(model.window_)
        return model

    def __repr__(self) -> str:
        return (f"TextureModel(feature_config={self.feature_config!r}, scaler={self.scaler!r}, "
                f"estimator={self.estimator!r}, random_state={self.random_state!r}, "
                f"augment={self.augment!r}, calibrate={self.calibrate!r}, window={self.window!r}, "
                f"n_networks={self.n_networks!r}, step={self.step!r})")


def _check_window(window, name="window"):
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ConfigError(f"{name} must be a positive integer, got {window!r}")
