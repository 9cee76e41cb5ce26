r"""A multi-layer perceptron: Dense and activation layers stacked, trained by back-propagation.

All learned parameters (weights, biases, batch-norm scales and shifts) live
in one flat vector :attr:`Network.params` (the layers hold views into it)
and all gradients in :attr:`Network.grads`.  An optimizer therefore updates
the whole network with a handful of vectorized operations instead of a
Python loop over layers.  Batch normalization's running statistics, which
are estimated rather than learned by gradient, live likewise in
:attr:`Network.buffers`.
"""

from __future__ import annotations

import numpy as np

from pipeline.nn.activations import ACTIVATIONS
from pipeline.nn.init import INITIALIZERS
from pipeline.nn.layers import ActivationLayer, BatchNorm, Dense, Dropout

__all__ = ["Network"]


class Network:
    r"""Fully connected network ``Dense -> [BatchNorm] -> f -> [Dropout] -> ... -> Dense``.

    The last layer has no activation: its output is the logits (fed to
    softmax cross-entropy) or the regression values (fed to squared error).
    Every hidden layer may normalize its pre-activations (``batch_norm``)
    and drop units after its activation (``dropout``).

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, hidden_1, ..., hidden_k, n_outputs)``; ``k`` may be 0.
    activation : str
        Hidden-layer activation, a key of
        :data:`~pipeline.nn.activations.ACTIVATIONS`.
    dtype : {numpy.float32, numpy.float64}
        Dtype of parameters and computations.
    batch_norm : bool, default=False
        A :class:`~pipeline.nn.layers.BatchNorm` between each hidden Dense
        layer (then without bias) and its activation.
    dropout : float, default=0.0
        Rate of a :class:`~pipeline.nn.layers.Dropout` after each hidden
        activation; none when 0.
    rng : numpy.random.Generator, optional
        Random stream of the dropout masks; needed to train with dropout.

    Notes
    -----
    Parameters are allocated but not initialized; call :meth:`initialize`
    or copy saved values into :attr:`params` (and :attr:`buffers`).
    """

    def __init__(self, layer_sizes, activation, dtype=np.float32, *, batch_norm=False, dropout=0.0, rng=None):
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.batch_norm, self.dropout, self.rng = bool(batch_norm), float(dropout), rng
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        hidden = [True] * (len(shapes) - 1) + [False]
        # Per Dense layer: its weights, then its bias or, when it is
        # batch-normalized, the scale and shift that replace the bias.
        sizes = [n_in * n_out + n_out * (2 if self.batch_norm and h else 1)
                 for (n_in, n_out), h in zip(shapes, hidden)]
        #: Where each Dense layer's segment starts in the flat vectors.
        self.layer_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        self.params = np.zeros(sum(sizes), self.dtype)
        self.grads = np.zeros_like(self.params)
        n_normalized = sum(self.layer_sizes[1:-1]) if self.batch_norm else 0
        #: Running mean then running variance of each batch-norm layer, layer after layer.
        self.buffers = np.zeros(2 * n_normalized, self.dtype)

        self.dense, self.layers, self.norms = [], [], []
        #: Slices of each Dense layer's parameter arrays in :attr:`params`:
        #: ``(weights, bias)``, or ``(weights, scale, shift)`` when batch-normalized.
        self.slices = []
        buffer = 0
        for start, (n_in, n_out), is_hidden in zip(self.layer_starts, shapes, hidden):
            w = slice(start, start + n_in * n_out)
            W, dW = self.params[w].reshape(n_in, n_out), self.grads[w].reshape(n_in, n_out)
            if not (self.batch_norm and is_hidden):
                b = slice(w.stop, w.stop + n_out)
                self.dense.append(Dense(W, self.params[b], dW, self.grads[b]))
                self.slices.append((w, b))
                self.layers.append(self.dense[-1])
            else:
                g, s = slice(w.stop, w.stop + n_out), slice(w.stop + n_out, w.stop + 2 * n_out)
                running = self.buffers[buffer:buffer + 2 * n_out].reshape(2, n_out)
                buffer += 2 * n_out
                self.dense.append(Dense(W, None, dW, None))
                self.norms.append(BatchNorm(self.params[g], self.params[s], self.grads[g], self.grads[s], running))
                self.slices.append((w, g, s))
                self.layers += [self.dense[-1], self.norms[-1]]
            if is_hidden:
                self.layers.append(ActivationLayer(activation))
                if self.dropout:
                    self.layers.append(Dropout(self.dropout, rng))

    def initialize(self, init, rng):
        """Draw the weights with initializer ``init``; zero biases and shifts, unit scales.

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
            if layer.b is not None:
                layer.b[...] = 0
        for norm in self.norms:
            norm.gamma[...], norm.beta[...] = 1, 0
            norm.running_mean[...], norm.running_var[...] = 0, 1
        return self

    @property
    def activation_layers(self):
        """The hidden :class:`ActivationLayer` objects, input side first."""
        return [layer for layer in self.layers if isinstance(layer, ActivationLayer)]

    def forward(self, X, training=False):
        """Output of the last layer (logits or regression values) for ``X``.

        ``training=True`` normalizes with the batch's statistics (updating
        the running ones) and drops units; the default, prediction mode,
        uses the running statistics and keeps every unit, so each sample's
        output is deterministic and independent of the others.
        """
        for layer in self.layers:
            X = layer.forward(X, training)
        return X

    def backward(self, G, alpha=0.0):
        r"""Back-propagate ``G = dL/d(output)`` through the last :meth:`forward`, filling :attr:`grads`.

        With L2 weight decay the loss gains :math:`\frac{\alpha}{2}
        \sum_l \lVert W_l \rVert^2` (biases and batch-norm parameters are
        not penalized), whose gradient :math:`\alpha W_l` is added here.
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
        r"""Euclidean norm of each Dense layer's gradient, input side first.

        A layer's gradient covers its weights and its bias, or its weights
        and the scale and shift of its batch normalization.
        """
        return np.sqrt(np.add.reduceat(self.grads * self.grads, self.layer_starts))

    def named_arrays(self):
        """Every parameter and running statistic by name, as views: what a model file stores.

        ``W{i}`` and ``b{i}`` (or ``gamma{i}``, ``beta{i}``,
        ``running_mean{i}``, ``running_var{i}`` for a batch-normalized
        layer) for the ``i``-th Dense layer from the input.
        """
        arrays = {}
        norms = iter(self.norms)
        for i, dense in enumerate(self.dense):
            arrays[f"W{i}"] = dense.W
            if dense.b is not None:
                arrays[f"b{i}"] = dense.b
            else:
                norm = next(norms)
                arrays.update({f"gamma{i}": norm.gamma, f"beta{i}": norm.beta,
                               f"running_mean{i}": norm.running_mean, f"running_var{i}": norm.running_var})
        return arrays

    def astype(self, dtype, rng=None):
        """A copy of this network with parameters and running statistics cast to ``dtype``.

        ``rng`` is the copy's dropout stream (default: this network's).
        """
        other = Network(self.layer_sizes, self.activation, dtype, batch_norm=self.batch_norm,
                        dropout=self.dropout, rng=self.rng if rng is None else rng)
        other.params[...] = self.params
        other.buffers[...] = self.buffers
        return other
