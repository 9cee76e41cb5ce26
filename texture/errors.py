"""One exception hierarchy for everything `texture` and `pipeline` refuse.

Every error is a :class:`TextureError`, so ``except TextureError`` catches all
of them; each also subclasses the matching built-in (``FileNotFoundError``,
``ValueError``...) so that generic handlers keep working.  When an error is
about a file, its message starts with the file's path.
"""

from __future__ import annotations

import os

__all__ = [
    "TextureError",
    "ImageReadError",
    "ImageNotFoundError",
    "InvalidImageError",
    "ImageTooSmallError",
    "ImageTooLargeError",
    "ConfigError",
    "DatasetError",
    "NotFittedError",
    "TrainingError",
    "ModelFileError",
    "MaskError",
]


class TextureError(Exception):
    """Base class of every error raised by `texture` and `pipeline`.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    path : str or os.PathLike, optional
        The file the error is about; it prefixes the message.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.message = message
        self.path = None if path is None else os.fspath(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)

    def __reduce__(self):
        # Keep (message, path) when crossing a process boundary in batch runs.
        return (type(self), (self.message, self.path))


class ImageReadError(TextureError, OSError):
    """A file could not be read or decoded as an image (not an image, truncated, corrupt)."""


class ImageNotFoundError(ImageReadError, FileNotFoundError):
    """The image file does not exist (or is a broken link)."""


class InvalidImageError(TextureError, ValueError):
    """The image was read but cannot be used: wrong dimensions, empty, NaN/inf values."""


class ImageTooSmallError(InvalidImageError):
    """The image is smaller than the largest feature radius needs."""


class ImageTooLargeError(InvalidImageError):
    """The image has more pixels than the configured limit (decompression-bomb guard)."""


class ConfigError(TextureError, ValueError):
    """A parameter or configuration value is out of range or inconsistent."""


class DatasetError(TextureError, ValueError):
    """A data set cannot be loaded: no images, CSV columns missing, listed files missing."""


class NotFittedError(TextureError, ValueError, AttributeError):
    """A model or estimator was used before it was fitted.

    Subclasses ``ValueError`` and ``AttributeError`` like scikit-learn's
    ``NotFittedError``, so scikit-learn's checks recognise it.
    """


class TrainingError(TextureError, RuntimeError):
    """Training cannot go on: bad training data or a diverging optimisation."""


class ModelFileError(TextureError, ValueError):
    """A saved model is missing, truncated, tampered with or from an incompatible version."""


class MaskError(TextureError, ValueError):
    """A region-of-interest mask cannot be used.

    Unreadable, of another shape than its image, empty, or too small or too
    thin for the largest GLCM offset or LBP radius.  The message names the
    mask file when the mask came from one, else the image file.
    """
