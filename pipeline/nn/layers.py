r"""The two layers a back-propagation network is stacked from.

A layer maps its input forward and, given :math:`\partial L / \partial
\text{output}`, returns :math:`\partial L / \partial \text{input}` (the chain
rule, one link at a time), storing the gradients of its own parameters.
"""

from __future__ import annotations

import numpy as np

from pipeline.nn.activations import ACTIVATIONS

__all__ = ["Dense", "ActivationLayer"]


class Dense:
    r"""Fully connected layer with a bias: :math:`Z = X W + \mathbf{1} b^\top`.

    The bias is the weight of an extra input that is always 1.  Given
    :math:`G = \partial L / \partial Z` (one row per sample), the chain rule
    gives

    .. math::

        \frac{\partial L}{\partial W} = X^\top G, \qquad
        \frac{\partial L}{\partial b} = \sum_i G_i, \qquad
        \frac{\partial L}{\partial X} = G W^\top.

    Parameters
    ----------
    W, b : ndarray
        Weights of shape (n_in, n_out) and bias of shape (n_out,).  They are
        views into the network's single parameter vector and are updated in
        place by the optimizer.
    dW, db : ndarray
        Where :meth:`backward` writes the gradients (views into the
        network's gradient vector).
    """

    def __init__(self, W, b, dW, db):
        self.W, self.b, self.dW, self.db = W, b, dW, db
        self.X = None

    def forward(self, X):
        """Return ``X @ W + b``, remembering ``X`` for :meth:`backward`."""
        self.X = X
        Z = X @ self.W
        Z += self.b
        return Z

    def backward(self, G, input_grad=True):
        """Store ``dW = X.T @ G`` and ``db = G.sum(0)``; return ``G @ W.T``.

        ``input_grad=False`` skips ``dL/dX`` (useless for the first layer).
        """
        np.matmul(self.X.T, G, out=self.dW)
        np.sum(G, axis=0, out=self.db)
        return G @ self.W.T if input_grad else None


class ActivationLayer:
    r"""Element-wise nonlinearity :math:`A = f(Z)`.

    Back-propagation multiplies element-wise by the derivative:
    :math:`\partial L / \partial Z = \partial L / \partial A \odot f'(Z)`,
    with :math:`f'` computed from the cached output :math:`A`.

    Parameters
    ----------
    name : str
        A key of :data:`pipeline.nn.activations.ACTIVATIONS`.
    """

    def __init__(self, name):
        self.name = name
        self.f, self.derivative, _ = ACTIVATIONS[name]
        self.A = None

    def forward(self, Z):
        """Return ``f(Z)`` (``Z`` may be overwritten), remembering it."""
        self.A = self.f(Z)
        return self.A

    def backward(self, G):
        """Return ``G * f'(Z)``."""
        return G * self.derivative(self.A)
