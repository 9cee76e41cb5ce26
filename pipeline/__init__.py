"""pipeline: from named feature vectors to labels and texture scores.

normalized vector -> from-scratch back-propagation network -> probabilities ->
texture score; plus batch runs over folders and the ``texture`` command line.
"""

from pipeline.model import TextureModel, TextureScore
from pipeline.nn import BPClassifier, BPRegressor, GradientWarning, gradient_check

__all__ = ["TextureModel", "TextureScore", "BPClassifier", "BPRegressor", "GradientWarning",
           "gradient_check"]
