"""One exception hierarchy for everything `texture` and `pipeline` refuse, and the warnings about files.

Every error is a :class:`TextureError`, so ``except TextureError`` catches all
of them; each also subclasses the matching built-in (``FileNotFoundError``,
``ValueError``...) so that generic handlers keep working.  When an error is
about a file, its message starts with the file's path.

A file that is used but deserves a word (a grey image given to a colour
extractor) raises a :class:`TextureWarning`, which names its files: a batch
run gathers them from its workers and says each kind once per run, naming
the first file and counting the others (:mod:`pipeline.run.file_warnings`).
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
    "TextureWarning",
    "FlatChromaWarning",
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


class TextureWarning(UserWarning):
    """Base class of the warnings about input files: each names the files it is about.

    One warning may stand for several files (a batch run's summary of one
    kind of warning); its message then names the first and counts them.

    Parameters
    ----------
    *paths : str
        The files, in the order met; repeats are dropped.  None stands for an
        image given as an array.
    """

    def __init__(self, *paths):
        self.paths = tuple(dict.fromkeys(None if path is None else os.fspath(path) for path in paths))
        super().__init__(*self.paths)  # what pickling rebuilds the warning from

    @property
    def path(self) -> str | None:
        """The first file, or None."""
        return self.paths[0] if self.paths else None

    def __str__(self) -> str:
        if len(self.paths) > 1:
            return f"{len(self.paths)} {self.plural} (first: {self.path}): {self.consequence}"
        source = f"{self.path}: " if self.path is not None else ""
        return f"{source}{self.singular}: {self.consequence}"

    #: What one file is, what several are, and what follows, as the message says them.
    singular = plural = consequence = ""


class FlatChromaWarning(TextureWarning):
    """A grey image (2-D, or R = G = B) was given to a colour extractor: its chroma features are constant.

    They are those of flat chroma (:mod:`texture.colour`), the same for every
    grey image.  Raised once per image, naming its file; filter it like any
    warning (``warnings.simplefilter("ignore", FlatChromaWarning)``).
    """

    singular = "grey image in colour mode (FeatureConfig(colour='opponent'))"
    plural = "grey images read in colour mode"
    consequence = "chroma features are constant (those of flat chroma, the same for every grey image)"
