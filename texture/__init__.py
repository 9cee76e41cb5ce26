"""texture: turn the texture of an image into numbers.

The data flow is image -> :func:`read_image` (2-D grey float array) ->
:func:`extract_features` (named feature vector), or :func:`feature_map` (the
vector of every window of a grid over a large image).  Learning lives in the
sibling package :mod:`pipeline`.
"""

from texture.errors import (
    ConfigError,
    DatasetError,
    FlatChromaWarning,
    ImageNotFoundError,
    ImageReadError,
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
    MaskError,
    ModelFileError,
    NotFittedError,
    TextureError,
    TextureWarning,
    TrainingError,
)
from texture.io import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, check_min_size, read_image
from texture.features import FeatureConfig, FeatureExtractor, extract_features
from texture.gabor import gabor_bank, gabor_features, gabor_kernel, gabor_responses
from texture.glcm import GLCM_PROPERTIES, glcm_features, glcm_matrices, glcm_properties, quantize
from texture.lbp import lbp_codes, lbp_features, lbp_histogram
from texture.maps import FeatureMap, WindowGrid, feature_map
from texture.masks import read_mask

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "read_image",
    "read_mask",
    "check_min_size",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
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
    "FeatureConfig",
    "FeatureExtractor",
    "extract_features",
    "feature_map",
    "FeatureMap",
    "WindowGrid",
    "GLCM_PROPERTIES",
    "quantize",
    "glcm_matrices",
    "glcm_properties",
    "glcm_features",
    "lbp_codes",
    "lbp_histogram",
    "lbp_features",
    "gabor_kernel",
    "gabor_bank",
    "gabor_responses",
    "gabor_features",
]
