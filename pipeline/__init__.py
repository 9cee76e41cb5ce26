"""pipeline: from named feature vectors to labels and texture scores.

normalized vector -> from-scratch back-propagation network -> probabilities ->
texture score; plus batch runs over folders and the ``texture`` command line.

The classes below are imported on first use, not with the package (PEP 562):
``texture extract`` imports ``pipeline.cli``, and through it this package,
and must start without the model and network code and what they import.
"""

import importlib

_EXPORTS = {
    "TextureModel": "pipeline.model",
    "TextureScore": "pipeline.model",
    "TextureMap": "pipeline.maps",
    "BPClassifier": "pipeline.nn",
    "BPRegressor": "pipeline.nn",
    "NetworkEnsemble": "pipeline.nn",
    "GradientWarning": "pipeline.nn",
    "gradient_check": "pipeline.nn",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
