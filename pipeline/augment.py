"""Training-set augmentation: each texture seen at more scales and focus than photographed.

GLCM, LBP and Gabor features all look at fixed pixel distances, so the same
material photographed from further away, or out of focus, gives different
features.  Training on altered copies of every training image (the test
images are never touched) teaches the network that those features belong to
the same class.  :func:`training_copies` makes the copies ``texture train``
adds by default: two rescaled by half an octave each way and one blurred.
On KTH-TIPS, where whole scales are held out, they raise the held-out-scale
accuracy of the default network from 93.6 to 95.9 % (README, "Results").

The features of the copies of n images have one layout everywhere: an array
of shape ``(images, copies, features)``, row ``i`` holding the
:func:`copy_features` of image ``i``; :func:`with_copies` turns it into
training rows for :meth:`pipeline.TextureModel.fit_features`, ``texture
train`` and :func:`pipeline.evaluation.cross_validate` alike.
"""

from __future__ import annotations

import numpy as np

from texture.errors import ConfigError
from texture.masks import read_mask

__all__ = ["SCALE_FACTORS", "BLUR_SIGMA", "N_TRAINING_COPIES", "rescaled_copies", "training_copies",
           "mask_copies", "copy_features", "with_copies"]

# Half an octave each way and a Gaussian blur of 1.4 pixels: the nested
# validation of benchmarks/accuracy.py chose them (README, "Results") among
# factors of a quarter to three quarters of an octave and blurs of 0.7 to
# 2.8 pixels; KTH-TIPS scales are a quarter octave apart and its closest
# scale is out of focus.
SCALE_FACTORS = (2**-0.5, 2**0.5)
BLUR_SIGMA = 1.4
#: Number of copies :func:`training_copies` makes with its defaults.
N_TRAINING_COPIES = len(SCALE_FACTORS) + (BLUR_SIGMA is not None)


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
    # Imported here: scikit-image's filters and transforms take a third of a
    # second to import, which every `texture` command would otherwise pay.
    from skimage.transform import rescale

    factors = np.asarray(factors, dtype=np.float64)
    if factors.ndim != 1 or not np.all(np.isfinite(factors) & (factors > 0)):
        raise ConfigError(f"scale factors must be positive numbers, got {factors.tolist()!r}")
    planes = _channel_axis(image)
    return [
        np.clip(rescale(image, factor, order=1, anti_aliasing=factor < 1, channel_axis=planes), 0.0, 1.0)
        for factor in factors
    ]


def _channel_axis(image):
    """scikit-image's ``channel_axis`` of a working image: the last axis of a colour one, none of a grey one."""
    return -1 if image.ndim == 3 else None


def training_copies(image, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA):
    """The altered copies of a training image that ``texture train`` adds.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) ndarray of float64
        Working grey or colour image in [0, 1].
    factors : sequence of float, default ``SCALE_FACTORS``
        Zoom factors of the rescaled copies (see :func:`rescaled_copies`).
    blur_sigma : float or None, default ``BLUR_SIGMA``
        Standard deviation, in pixels, of the Gaussian blur of the last
        copy, which imitates a photograph out of focus; None for no blurred
        copy.

    Returns
    -------
    copies : list of ndarray of float64
        The rescaled copies, in the order of `factors`, then the blurred one.

    Raises
    ------
    ConfigError
        A factor or `blur_sigma` is not positive and finite.

    Examples
    --------
    >>> import numpy as np
    >>> [copy.shape for copy in training_copies(np.zeros((100, 60)))]
    [(71, 42), (141, 85), (100, 60)]
    """
    from skimage.filters import gaussian  # see rescaled_copies

    copies = rescaled_copies(image, factors)
    if blur_sigma is not None:
        if not (np.isfinite(blur_sigma) and blur_sigma > 0):
            raise ConfigError(f"blur_sigma must be a positive number or None, got {blur_sigma!r}")
        copies.append(gaussian(image, blur_sigma, channel_axis=_channel_axis(image)))
    return copies


def mask_copies(inside, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA):
    """The region of interest of each of :func:`training_copies`' copies of an image.

    Rescaled by nearest neighbour to the shape of the rescaled image (a
    pixel stays inside or outside, no blend); the blurred copy keeps the
    mask as it is.

    Parameters
    ----------
    inside : (M, N) ndarray of bool
        The image's mask (see :func:`texture.read_mask`).
    factors, blur_sigma
        As in :func:`training_copies`.

    Returns
    -------
    masks : list of ndarray of bool

    Examples
    --------
    >>> import numpy as np
    >>> [mask.shape for mask in mask_copies(np.ones((100, 60), bool))]
    [(71, 42), (141, 85), (100, 60)]
    """
    from skimage.transform import rescale  # see rescaled_copies

    masks = [rescale(inside, factor, order=0, anti_aliasing=False) for factor in np.asarray(factors, dtype=float)]
    if blur_sigma is not None:
        masks.append(inside)
    return masks


def copy_features(extractor, image, path=None, mask=None):
    """Feature vectors of the :func:`training_copies` of one image, or of the region inside its mask.

    Parameters
    ----------
    extractor : texture.FeatureExtractor
    image : (M, N) or (M, N, 3) ndarray of float64
        Working image (colour for a colour extractor).
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
    copies = training_copies(image)
    if mask is None:
        return np.array([extractor.transform(copy, path=path) for copy in copies])
    masks = mask_copies(read_mask(mask, image.shape[:2], path))
    return np.array([extractor.transform(copy, path=path, mask=inside) for copy, inside in zip(copies, masks)])


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
