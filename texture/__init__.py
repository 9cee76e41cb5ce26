"""texture: turn the texture of an image into numbers.

The data flow is image -> :func:`read_image` (2-D grey float array) ->
:func:`extract_features` (named feature vector).  Learning lives in the
sibling package :mod:`pipeline`.
"""

from texture.errors import (
    ConfigError,
    ImageNotFoundError,
    ImageReadError,
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
    ModelFileError,
    NotFittedError,
    TextureError,
    TrainingError,
)
from texture.io import DEFAULT_MAX_PIXELS, check_min_size, read_image

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "read_image",
    "check_min_size",
    "DEFAULT_MAX_PIXELS",
    "TextureError",
    "ImageReadError",
    "ImageNotFoundError",
    "InvalidImageError",
    "ImageTooSmallError",
    "ImageTooLargeError",
    "ConfigError",
    "NotFittedError",
    "TrainingError",
    "ModelFileError",
]
