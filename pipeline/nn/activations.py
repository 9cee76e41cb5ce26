r"""Activation functions, each written next to the derivative back-propagation uses.

Every derivative is expressed through the activation's *output*
:math:`a = f(z)` rather than its input :math:`z`.  For the functions here
that is always possible (e.g. :math:`\sigma'(z) = a (1 - a)`), and it lets a
layer keep only :math:`a` in memory and compute :math:`f` in place.

Each activation is an :class:`Activation` triple ``(f, derivative, init)``;
``init`` names the weight initialization that keeps the signal's variance
stable through that nonlinearity (see :mod:`pipeline.nn.init`).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Activation", "ACTIVATIONS", "LEAKY_SLOPE"]

#: Slope of leaky ReLU for negative inputs.
LEAKY_SLOPE = 0.01


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, in place.

    ``scipy.special.expit`` is used because it never overflows for large
    :math:`|z|`.
    """
    # Imported here, not at the top: scipy.special takes ~0.3 s to import and
    # only networks with sigmoid units need it (not the texture CLI start-up).
    from scipy.special import expit

    return expit(z, out=z)


def sigmoid_derivative(a):
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = a (1 - a)`."""
    return a * (1 - a)


def tanh(z):
    r"""Hyperbolic tangent :math:`\tanh z`, in place."""
    return np.tanh(z, out=z)


def tanh_derivative(a):
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = 1 - a^2`."""
    return 1 - a * a


def relu(z):
    r"""Rectified linear unit :math:`\max(z, 0)`, in place."""
    return np.maximum(z, 0, out=z)


def relu_derivative(a):
    r""":math:`\mathrm{relu}'(z) = [z > 0] = [a > 0]`, as a boolean array (multiplies as 1 and 0).

    The derivative at exactly 0 is taken as 0 (a subgradient).
    """
    return a > 0


def leaky_relu(z):
    r"""Leaky ReLU: :math:`z` if :math:`z > 0` else :math:`s z`, with :math:`s` = ``LEAKY_SLOPE``."""
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_derivative(a):
    r""":math:`1` where :math:`a > 0`, else :math:`s`; the sign of :math:`a` is that of :math:`z`."""
    return np.where(a > 0, 1, LEAKY_SLOPE).astype(a.dtype)


def identity(z):
    r"""Identity :math:`f(z) = z` (the output layer's activation: logits or regression values)."""
    return z


def identity_derivative(a):
    r""":math:`f'(z) = 1`."""
    return np.ones_like(a)


class Activation(NamedTuple):
    """An activation function with its derivative and its natural initialization.

    Attributes
    ----------
    f : callable
        ``f(z) -> a``; may overwrite ``z``.
    derivative : callable
        ``derivative(a) -> f'(z)`` as a function of the output ``a = f(z)``.
    init : {"xavier", "he"}
        Initialization chosen by ``init="auto"``.
    """

    f: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    init: str


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(sigmoid, sigmoid_derivative, "xavier"),
    "tanh": Activation(tanh, tanh_derivative, "xavier"),
    "relu": Activation(relu, relu_derivative, "he"),
    "leaky_relu": Activation(leaky_relu, leaky_relu_derivative, "he"),
    "identity": Activation(identity, identity_derivative, "xavier"),
}
