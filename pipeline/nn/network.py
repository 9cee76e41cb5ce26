r"""A multi-layer perceptron: Dense and activation layers stacked, trained by back-propagation.

All weights and biases live in one flat vector :attr:`Network.params` (the
layers hold views into it) and all gradients in :attr:`Network.grads`.  An
optimizer therefore updates the whole network with a handful of vectorized
operations instead of a Python loop over layers.
"""

from __future__ import annotations

import numpy as np

from pipeline.nn.activations import ACTIVATIONS
from pipeline.nn.init import INITIALIZERS
from pipeline.nn.layers import ActivationLayer, Dense

__all__ = ["Network"]


class Network:
    r"""Fully connected network ``Dense -> f -> Dense -> f -> ... -> Dense``.

    The last layer has no activation: its output is the logits (fed to
    softmax cross-entropy) or the regression values (fed to squared error).

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, hidden_1, ..., hidden_k, n_outputs)``; ``k`` may be 0.
    activation : str
        Hidden-layer activation, a key of
        :data:`~pipeline.nn.activations.ACTIVATIONS`.
    dtype : {numpy.float32, numpy.float64}
        Dtype of parameters and computations.

    Notes
    -----
    Parameters are allocated but not initialized; call :meth:`initialize`
    or copy saved values into :attr:`params`.
    """

    def __init__(self, layer_sizes, activation, dtype=np.float32):
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        self.dtype = np.dtype(dtype)
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        sizes = [n_in * n_out + n_out for n_in, n_out in shapes]
        # Where each Dense layer's (W, b) segment starts in the flat vectors.
        self.layer_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        self.params = np.zeros(sum(sizes), self.dtype)
        self.grads = np.zeros_like(self.params)

        self.dense = []
        self.layers = []
        #: ``(weights, bias)`` slices of each Dense layer in :attr:`params`.
        self.slices = []
        for start, (n_in, n_out) in zip(self.layer_starts, shapes):
            middle = start + n_in * n_out
            w, b = slice(start, middle), slice(middle, middle + n_out)
            dense = Dense(
                self.params[w].reshape(n_in, n_out), self.params[b],
                self.grads[w].reshape(n_in, n_out), self.grads[b],
            )
            self.dense.append(dense)
            self.slices.append((w, b))
            self.layers += [dense, ActivationLayer(activation)]
        self.layers.pop()  # the output layer is linear

    def initialize(self, init, rng):
        """Draw the weights with initializer ``init`` and zero the biases.

        Parameters
        ----------
        init : {"auto", "xavier", "he"}
            ``"auto"`` picks the activation's natural initializer (He for
            the ReLU family, Xavier otherwise).
        rng : numpy.random.Generator
        """
        if init == "auto":
            init = ACTIVATIONS[self.activation].init
        for layer in self.dense:
            layer.W[...] = INITIALIZERS[init](*layer.W.shape, rng)
            layer.b[...] = 0
        return self

    @property
    def activation_layers(self):
        """The hidden :class:`ActivationLayer` objects, input side first."""
        return self.layers[1::2]

    def forward(self, X):
        """Output of the last layer (logits or regression values) for ``X``."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, G, alpha=0.0):
        r"""Back-propagate ``G = dL/d(output)``, filling :attr:`grads`.

        With L2 weight decay the loss gains :math:`\frac{\alpha}{2}
        \sum_l \lVert W_l \rVert^2` (biases are not penalized), whose
        gradient :math:`\alpha W_l` is added here.
        """
        for layer in reversed(self.layers[1:]):
            G = layer.backward(G)
        self.layers[0].backward(G, input_grad=False)  # dL/dX of the data is not needed
        if alpha:
            for layer in self.dense:
                layer.dW += alpha * layer.W

    def penalty(self, alpha):
        r"""The weight-decay term :math:`\frac{\alpha}{2} \sum_l \lVert W_l \rVert^2`."""
        return 0.5 * alpha * sum(float(np.vdot(layer.W, layer.W)) for layer in self.dense) if alpha else 0.0

    def gradient_norms(self):
        r"""Euclidean norm of each Dense layer's gradient :math:`(\partial W, \partial b)`, input side first."""
        return np.sqrt(np.add.reduceat(self.grads * self.grads, self.layer_starts))

    def astype(self, dtype):
        """A copy of this network with parameters cast to ``dtype``."""
        other = Network(self.layer_sizes, self.activation, dtype)
        other.params[...] = self.params
        return other
