"""A back-propagation neural network written from scratch in numpy.

Read it bottom-up: :mod:`~pipeline.nn.activations` and
:mod:`~pipeline.nn.losses` (functions and their derivatives),
:mod:`~pipeline.nn.init`, :mod:`~pipeline.nn.layers` (one link of the chain
rule each), :mod:`~pipeline.nn.network` (the stack),
:mod:`~pipeline.nn.optimizers`, :mod:`~pipeline.nn.training` (the loop),
:mod:`~pipeline.nn.diagnostics`, :mod:`~pipeline.nn.gradcheck` (back-propagation
against finite differences), then the scikit-learn style
:mod:`~pipeline.nn.estimators` with their input
:mod:`~pipeline.nn.validation` and their learned :mod:`~pipeline.nn.state`,
saved to files by :mod:`pipeline.model_file`; :mod:`~pipeline.nn.ensemble`
averages several of them.
"""

from pipeline.nn.diagnostics import GradientWarning
from pipeline.nn.ensemble import NetworkEnsemble
from pipeline.nn.estimators import BPClassifier, BPRegressor
from pipeline.nn.gradcheck import gradient_check
from pipeline.nn.layers import BatchNorm, Dropout

__all__ = ["BPClassifier", "BPRegressor", "NetworkEnsemble", "BatchNorm", "Dropout", "gradient_check", "GradientWarning"]
