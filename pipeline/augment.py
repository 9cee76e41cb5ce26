"""Training-set augmentation: each texture seen at more scales, focus and noise than photographed.

GLCM, LBP and Gabor features all look at fixed pixel distances, so the same
material photographed from further away, out of focus or with a noisy
sensor gives different features.  Training on altered copies of every
training image (the test images are never touched) teaches the network that
those features belong to the same class.  :func:`training_copies` makes the
copies ``texture train`` adds by default: two rescaled by half an octave each
way, one blurred, one with white noise, and four crops (the corners, three
quarters of the side).  On KTH-TIPS, where whole scales
are held out, the first three raise the held-out-scale accuracy of the
default network from 93.6 to 95.9 %; the noisy copy keeps the accuracy on
images with noise at 10 dB SNR within about 1.5 points of the clean one,
instead of 5 (README, "Results").  The crops keep scale, focus and
orientation: each is another sample of the same texture, so the network
learns how much a texture's statistics vary between samples of it, which
few training images per class (Brodatz's eight) do not show.
Where the scale is itself a cue (Brodatz's plates) the rescaled and blurred
copies hurt instead: :func:`choose_copies` decides, per training set,
whether a classifier trains on all the copies or on the noisy one and the
crops alone.

The features of the copies of n images have one layout everywhere: an array
of shape ``(images, copies, features)``, row ``i`` holding the
:func:`copy_features` of image ``i``; :func:`with_copies` turns it into
training rows for :meth:`pipeline.TextureModel.fit_features`, ``texture
train`` and :func:`pipeline.evaluation.cross_validate` alike.
"""

from __future__ import annotations

import copy
import zlib

import numpy as np

from pipeline.calibration import calibration_folds, log_probabilities
from texture.errors import ConfigError
from texture.io import StoredImage
from texture.masks import read_mask

__all__ = ["SCALE_FACTORS", "BLUR_SIGMA", "NOISE_SNR_DB", "CROP_FRACTION", "N_CROPS", "N_TRAINING_COPIES", "COPIES",
           "COPY_CHOICES", "rescaled_copies", "cropped_copies",
           "add_noise", "training_copies", "mask_copies", "copy_features", "with_copies",
           "choose_copies"]

# Half an octave each way and a Gaussian blur of 1.4 pixels: the nested
# validation of benchmarks/accuracy.py chose them (README, "Results") among
# factors of a quarter to three quarters of an octave and blurs of 0.7 to
# 2.8 pixels; KTH-TIPS scales are a quarter octave apart and its closest
# scale is out of focus.
SCALE_FACTORS = (2**-0.5, 2**0.5)
BLUR_SIGMA = 1.4
# Signal-to-noise ratio of the noisy copy, in dB: noise of a tenth of the
# image's variance, the heaviest of the usual evaluation levels (30 to 5 dB,
# Kylberg and Sintorn 2013) that still leaves the clean accuracy unchanged
# in nested validation; a 20 dB copy protected less (README, "Results").
NOISE_SNR_DB = 10.0
# Side of the crops, as a fraction of the image's: four corner crops of three
# quarters overlap by half, differ by a quarter of the image each way, and
# stay larger than the shrunk copy (so the smallest image accepted is
# unchanged).  Nested validation (README, "How the defaults were chosen"):
# +1.7 points on Brodatz, +1.9 on UIUC.
CROP_FRACTION = 0.75
#: Crops :func:`training_copies` makes: the four corners.
N_CROPS = 4
#: Number of copies :func:`training_copies` makes with its defaults.
N_TRAINING_COPIES = len(SCALE_FACTORS) + (BLUR_SIGMA is not None) + (NOISE_SNR_DB is not None) + N_CROPS
#: The default copies, as stored with cached copy features.
COPIES = {"factors": list(SCALE_FACTORS), "blur_sigma": BLUR_SIGMA, "noise_snr_db": NOISE_SNR_DB,
          "crop_fraction": CROP_FRACTION}
_NOISY = len(SCALE_FACTORS) + 1  # the noisy copy's index, after the rescaled and blurred ones
#: The sets of default copies :func:`choose_copies` weighs, as indices into :func:`training_copies`'
#: output: all of them, or the noisy copy and the crops (which keep the scale: noise robustness and
#: the crops' variety are kept either way).
COPY_CHOICES = (tuple(range(N_TRAINING_COPIES)), tuple(range(_NOISY, N_TRAINING_COPIES)))


def rescaled_copies(image, factors=SCALE_FACTORS):
    """Rescaled copies of a working grey or colour image.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) ndarray of float64
        Working grey or colour image in [0, 1] (see :func:`texture.read_image`).
    factors : sequence of float, default ``SCALE_FACTORS``
        Zoom factors, each positive; below 1 shrinks (with anti-aliasing).

    Returns
    -------
    copies : list of ndarray of float64
        One image per factor, of shape ``round(factor * (M, N))`` (and the
        colour planes), values clipped to [0, 1] (interpolation can
        overshoot slightly).

    Raises
    ------
    ConfigError
        A factor is not positive and finite.

    Examples
    --------
    >>> import numpy as np
    >>> [copy.shape for copy in rescaled_copies(np.zeros((100, 60)))]
    [(71, 42), (141, 85)]
    """
    return [_rescaled(image, factor) for factor in _checked_factors(factors)]


def _checked_factors(factors):
    factors = np.asarray(factors, dtype=np.float64)
    if factors.ndim != 1 or not np.all(np.isfinite(factors) & (factors > 0)):
        raise ConfigError(f"scale factors must be positive numbers, got {factors.tolist()!r}")
    return factors


def _rescaled(image, factor):
    """One of :func:`rescaled_copies`' copies."""
    # Imported here: scikit-image's filters and transforms take a third of a
    # second to import, which every `texture` command would otherwise pay.
    from skimage.transform import rescale

    return _clipped(rescale(image, factor, order=1, anti_aliasing=factor < 1, channel_axis=_channel_axis(image)))


def _clipped(image):
    """`image` clipped to [0, 1] in place: a copy twice the image's pixels costs no second one."""
    return np.clip(image, 0.0, 1.0, out=image)


def cropped_copies(image, fraction=CROP_FRACTION):
    """The four corner crops of a working grey or colour image (or of a mask).

    Parameters
    ----------
    image : (M, N) or (M, N, ...) ndarray
    fraction : float, default ``CROP_FRACTION``
        Side of each crop as a fraction of the image's, in (0, 1].

    Returns
    -------
    crops : list of ndarray
        Top left, top right, bottom left, bottom right; each
        ``round(fraction * (M, N))`` pixels, contiguous copies.

    Raises
    ------
    ConfigError
        `fraction` is not in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> crops = cropped_copies(np.arange(16.0).reshape(4, 4), 0.5)
    >>> [float(c[0, 0]) for c in crops], crops[0].shape
    ([0.0, 2.0, 8.0, 10.0], (2, 2))
    """
    fraction = _checked_fraction(fraction)
    return [_crop(image, fraction, corner) for corner in range(N_CROPS)]


def _checked_fraction(fraction):
    if not (isinstance(fraction, (int, float, np.number)) and np.isfinite(fraction) and 0 < fraction <= 1):
        raise ConfigError(f"crop_fraction must be a number in (0, 1] or None, got {fraction!r}")
    return fraction


def _crop(image, fraction, corner):
    """Crop number `corner` of :func:`cropped_copies` (0 to 3: top left, top right, bottom left, bottom right),
    a copy (a view would keep the whole image alive)."""
    rows, cols = image.shape[:2]
    height, width = max(1, round(fraction * rows)), max(1, round(fraction * cols))
    top, left = (0, rows - height)[corner // 2], (0, cols - width)[corner % 2]
    return np.ascontiguousarray(image[top:top + height, left:left + width])


def add_noise(image, snr_db, rng):
    """`image` plus white Gaussian noise at a signal-to-noise ratio of `snr_db`.

    The noise variance is ``image.var() / 10 ** (snr_db / 10)`` (the
    definition of Kylberg and Sintorn [1]_); values are clipped to [0, 1],
    as an 8-bit photograph's would be.

    Parameters
    ----------
    image : (M, N) ndarray of float64
        Working grey image in [0, 1].
    snr_db : float
        Signal-to-noise ratio in decibels.
    rng : numpy.random.Generator
        Source of the noise.

    Returns
    -------
    noisy : (M, N) ndarray of float64

    References
    ----------
    .. [1] G. Kylberg and I.-M. Sintorn, "Evaluation of noise robustness for
           local binary pattern descriptors in texture classification",
           EURASIP Journal on Image and Video Processing 2013:17.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.linspace(0.2, 0.8, 10000).reshape(100, 100)
    >>> noisy = add_noise(image, 10.0, np.random.default_rng(0))
    >>> bool(abs((noisy - image).var() / image.var() - 0.1) < 0.01)
    True
    """
    sigma = np.sqrt(image.var() / 10 ** (snr_db / 10))
    noisy = rng.normal(0.0, sigma, image.shape)
    noisy += image
    return _clipped(noisy)


def _channel_axis(image):
    """scikit-image's ``channel_axis`` of a working image: the last axis of a colour one, none of a grey one."""
    return -1 if image.ndim == 3 else None


def training_copies(image, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA, noise_snr_db=NOISE_SNR_DB,
                    crop_fraction=CROP_FRACTION):
    """The altered copies of a training image that ``texture train`` adds.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) ndarray of float64
        Working grey or colour image in [0, 1].
    factors : sequence of float, default ``SCALE_FACTORS``
        Zoom factors of the rescaled copies (see :func:`rescaled_copies`).
    blur_sigma : float or None, default ``BLUR_SIGMA``
        Standard deviation, in pixels, of the Gaussian blur of the blurred
        copy, which imitates a photograph out of focus; None for no blurred
        copy.
    noise_snr_db : float or None, default ``NOISE_SNR_DB``
        Signal-to-noise ratio in dB of the noisy copy (:func:`add_noise`),
        which imitates a noisy sensor; None for no noisy copy.  The noise is
        seeded by the image's pixels: the same image always gets the same
        copy, whichever process makes it.
    crop_fraction : float or None, default ``CROP_FRACTION``
        Side of the four corner crops (:func:`cropped_copies`) as a fraction
        of the image's; None for no crops.

    Returns
    -------
    copies : list of ndarray of float64
        The rescaled copies, in the order of `factors`, then the blurred
        one, then the noisy one, then the crops.

    Raises
    ------
    ConfigError
        A factor or `blur_sigma` is not positive and finite,
        `noise_snr_db` is not finite, or `crop_fraction` is not in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> [copy.shape for copy in training_copies(np.zeros((100, 60)))]
    [(71, 42), (141, 85), (100, 60), (100, 60), (75, 45), (75, 45), (75, 45), (75, 45)]
    """
    return list(_each_copy(lambda: image, factors, blur_sigma, noise_snr_db, crop_fraction))


def _each_copy(working, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA, noise_snr_db=NOISE_SNR_DB,
               crop_fraction=CROP_FRACTION):
    """Yield :func:`training_copies`' copies one at a time: on a large image, one copy is in memory at once.

    ``working()`` gives the working image each copy is made from; it may make it afresh each time (from
    the stored pixels, :func:`copy_features`), so that it is held only while a copy is made of it.
    """
    factors = _checked_factors(factors)
    if blur_sigma is not None and not (np.isfinite(blur_sigma) and blur_sigma > 0):
        raise ConfigError(f"blur_sigma must be a positive number or None, got {blur_sigma!r}")
    if noise_snr_db is not None and not np.isfinite(noise_snr_db):
        raise ConfigError(f"noise_snr_db must be a finite number or None, got {noise_snr_db!r}")
    if crop_fraction is not None:
        _checked_fraction(crop_fraction)
    # Each copy made by a call of its own, with no name left holding it (nor its working image) here
    # while the next one is made.
    for factor in factors:
        yield _rescaled(working(), factor)
    if blur_sigma is not None:
        yield _blurred(working(), blur_sigma)
    if noise_snr_db is not None:
        yield _noisy(working(), noise_snr_db)
    if crop_fraction is not None:
        for corner in range(N_CROPS):
            yield _crop(working(), crop_fraction, corner)


def _blurred(image, sigma):
    """:func:`training_copies`' blurred copy."""
    from skimage.filters import gaussian  # see rescaled_copies

    return gaussian(image, sigma, channel_axis=_channel_axis(image))


def _noisy(image, snr_db):
    """:func:`training_copies`' noisy copy, its noise seeded by the image's pixels."""
    # The pixels' bytes, without a copy of them when they are already contiguous float64.
    rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(image, dtype=np.float64)))
    return add_noise(image, snr_db, rng)


def mask_copies(inside, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA, noise_snr_db=NOISE_SNR_DB,
                crop_fraction=CROP_FRACTION):
    """The region of interest of each of :func:`training_copies`' copies of an image.

    Rescaled by nearest neighbour to the shape of the rescaled image (a
    pixel stays inside or outside, no blend); the blurred and the noisy copy
    keep the mask as it is.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        The image's mask (see :func:`texture.read_mask`).
    factors, blur_sigma, noise_snr_db
        As in :func:`training_copies`.

    Returns
    -------
    masks : list of ndarray of bool

    Examples
    --------
    >>> import numpy as np
    >>> [mask.shape for mask in mask_copies(np.ones((100, 60), bool))]
    [(71, 42), (141, 85), (100, 60), (100, 60), (75, 45), (75, 45), (75, 45), (75, 45)]
    """
    from skimage.transform import rescale  # see rescaled_copies

    masks = [rescale(inside, factor, order=0, anti_aliasing=False) for factor in np.asarray(factors, dtype=float)]
    if blur_sigma is not None:
        masks.append(inside)
    if noise_snr_db is not None:
        masks.append(inside)
    if crop_fraction is not None:
        masks += cropped_copies(inside, crop_fraction)
    return masks


def copy_features(extractor, image, path=None, mask=None):
    """Feature vectors of the :func:`training_copies` of one image, or of the region inside its mask.

    Parameters
    ----------
    extractor : texture.FeatureExtractor
    image : (M, N) or (M, N, 3) ndarray of float64, or texture.io.StoredImage
        Working image (colour for a colour extractor), or the image as
        stored (:func:`texture.io.open_image`): the working image is then
        made for each copy and dropped once the copy is made, so that a
        large colour image is held in its 3 bytes per pixel, not 24.
    path : str, optional
        File the image came from, named in error messages.
    mask : optional
        Region of interest of `image` (see :func:`texture.extract_features`);
        each copy gets its :func:`mask_copies` copy.

    Returns
    -------
    rows : (n_copies, n_features) ndarray of float64

    Raises
    ------
    ImageTooSmallError
        A shrunk copy is below the extractor's minimum image size.
    MaskError
        The mask is unusable, or a shrunk copy of it is too thin.
    """
    if isinstance(image, StoredImage):
        working = image.colour if extractor.config.reads_colour else image.grey
    else:
        working = lambda: image  # noqa: E731 - the image itself, each time
    masks = [None] * N_TRAINING_COPIES if mask is None else mask_copies(read_mask(mask, image.shape[:2], path))
    copies, rows = _each_copy(working), []
    # One copy at a time: each is dropped once its features are computed, before the next is made
    # (not zip: its reused tuple would hold the last copy while the next is made).
    for inside in masks:
        copy = next(copies)
        rows.append(extractor.transform(copy, path=path, mask=inside))
        del copy
    return np.array(rows)


def with_copies(X, labels, copies, has_copies=None):
    """Training rows: the images' features, then the features of each image's copies.

    Parameters
    ----------
    X : (n_images, n_features) array_like
    labels : (n_images,) array_like
    copies : (n_images, n_copies, n_features) array_like
        ``copies[i]`` are the :func:`copy_features` of image ``i``.
    has_copies : (n_images,) array_like of bool, optional
        The images whose copies are used (a shrunk copy can be too small, or
        the file can change between the two reads); the others' rows of
        `copies` are ignored.  All of them when None.

    Returns
    -------
    X_train : (n_images + n_copies * n_with_copies, n_features) ndarray of float64
        `X`, then the copies of the first image with copies, of the second...
    labels_train : ndarray
        Each copy's row labelled as its image.

    Raises
    ------
    ConfigError
        The shapes do not match.

    Examples
    --------
    >>> X_train, y_train = with_copies(np.zeros((2, 3)), ["a", "b"], np.ones((2, 4, 3)), [False, True])
    >>> X_train.shape, y_train.tolist()
    ((6, 3), ['a', 'b', 'b', 'b', 'b', 'b'])
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    copies = np.asarray(copies, dtype=np.float64)
    if X.ndim != 2 or copies.ndim != 3 or copies.shape[0] != len(X) or copies.shape[2] != X.shape[1] \
            or len(labels) != len(X):
        raise ConfigError(f"copies must have shape (images, copies, features) = ({len(X)}, k, {X.shape[1]}) "
                          f"for {X.shape} features and {len(labels)} labels, got {copies.shape}")
    has_copies = np.ones(len(X), dtype=bool) if has_copies is None else np.asarray(has_copies, dtype=bool)
    return (np.concatenate([X, copies[has_copies].reshape(-1, X.shape[1])]),
            np.concatenate([labels, np.repeat(labels[has_copies], copies.shape[1])]))


def choose_copies(estimator, scaler, X, labels, copies, has_copies=None, groups=None, seed=0):
    """The training copies that help on these training images: all of them, or the noisy copy and the crops.

    Rescaled and blurred copies teach the network that a texture stays the
    same at another distance or focus.  That holds for photographed
    materials (KTH-TIPS, UIUC) but not where the scale is itself a cue:
    Brodatz's plates, where one material at two zooms makes two classes,
    lose 1.4 points of nested accuracy to them, and USPTex 0.7 (README,
    "Results").  So the data decide: the training images are split in
    three (:func:`pipeline.calibration.calibration_folds`: classes
    balanced, groups kept whole); for each third held out, a copy of
    `estimator` is trained on the other two with each choice of
    :data:`COPY_CHOICES` and scored on the held-out images (never on their
    copies) by the mean log-probability it gives their true labels; the
    choice with the higher mean over the three thirds wins, a tie goes to
    all the copies.  The log-probability, not the accuracy: on a few
    hundred held-out images accuracy moves by whole images and picked
    wrongly on KTH-TIPS, where the copies are needed.  Three thirds, not
    one: with one, the richer features of the completed LBP picked the
    noisy copy on two of nine KTH-TIPS scale hold-out parts, 3 points of
    accuracy lost there (README, "How the defaults were chosen").

    Parameters
    ----------
    estimator : classifier with ``fit(X, y)``, ``predict_proba(X)`` and ``classes_``, unfitted
        Left untouched: each choice trains a deep copy.  A
        :class:`pipeline.NetworkEnsemble` is judged by one of its networks,
        its `estimator`: the choice is about the images, and each network
        more would cost six more trainings.
    scaler : callable
        Returns a new unfitted normalizer (``fit_transform``/``transform``),
        fitted on each choice's training rows.
    X : (n_images, n_features) array_like
        Unnormalized features of the training images.
    labels : (n_images,) array_like
    copies : (n_images, N_TRAINING_COPIES, n_features) array_like
        The :func:`copy_features` of each image, in :func:`training_copies`' order.
    has_copies : (n_images,) array_like of bool, optional
        As in :func:`with_copies`.
    groups : (n_images,) array_like, optional
        Images of one group stay on one side of the split.
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    kept : tuple of int
        Indices into the second axis of `copies`: an element of
        :data:`COPY_CHOICES`.  All the copies when a class has fewer than
        three images (nothing to hold out).

    Examples
    --------
    >>> from pipeline import BPClassifier
    >>> from pipeline.normalize import StandardScaler
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(12, 3)), np.repeat(["a", "b"], 6)
    >>> choose_copies(BPClassifier(epochs=5), StandardScaler, X, y, np.stack([X] * 8, axis=1)) in COPY_CHOICES
    True
    """
    # Imported here: the extraction workers import this module for copy_features, not the networks.
    from pipeline.nn.ensemble import NetworkEnsemble

    if isinstance(estimator, NetworkEnsemble):
        estimator = estimator.estimator
    X, labels, copies = np.asarray(X, dtype=np.float64), np.asarray(labels), np.asarray(copies, dtype=np.float64)
    if copies.ndim != 3 or copies.shape[:1] + copies.shape[2:] != X.shape or copies.shape[1] != N_TRAINING_COPIES:
        raise ConfigError(f"copies must have shape ({len(X)}, {N_TRAINING_COPIES}, {X.shape[1]}), got {copies.shape}")
    has_copies = np.ones(len(X), dtype=bool) if has_copies is None else np.asarray(has_copies, dtype=bool)
    if np.unique(labels, return_counts=True)[1].min() < 3:
        return COPY_CHOICES[0]
    likelihoods = np.zeros(len(COPY_CHOICES))
    folds = calibration_folds(labels, groups, n_splits=3, seed=seed)
    for held_out in folds:
        train = np.setdiff1d(np.arange(len(X)), held_out)
        for k, kept in enumerate(COPY_CHOICES):
            rows, targets = with_copies(X[train], labels[train], copies[train][:, kept], has_copies[train])
            normalizer, model = scaler(), copy.deepcopy(estimator)
            model.fit(normalizer.fit_transform(rows), targets)
            likelihoods[k] += _log_likelihood(model, normalizer.transform(X[held_out]), labels[held_out]) / len(folds)
    return COPY_CHOICES[int(np.argmax(likelihoods))]


def _log_likelihood(model, X, labels):
    """Mean log-probability that a fitted classifier gives the true label of each row (a label it never
    saw counts as probability 0, floored like :func:`pipeline.calibration.log_probabilities`)."""
    classes = np.asarray(model.classes_)
    column = np.minimum(np.searchsorted(classes, labels), len(classes) - 1)
    known = classes[column] == labels
    proba = np.asarray(model.predict_proba(X))[np.arange(len(labels)), column]
    return float(np.mean(log_probabilities(np.where(known, proba, 0.0))))
