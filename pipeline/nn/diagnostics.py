r"""Training diagnostics: is the gradient reaching the first layers?

In a deep network the gradient of layer 1 is a product of one factor per
layer above it, :math:`\partial L / \partial W_1 \propto \prod_l W_l^\top
f'(Z_l)`.  With sigmoid (:math:`f' \le 1/4`) the product shrinks
geometrically with depth (*vanishing gradients*); with too large weights it
grows (*exploding gradients*).  Comparing the first layer's gradient norm
with the last layer's, epoch after epoch, shows both.

Batch normalization breaks that product: each normalized layer divides the
backward signal by the spread of its pre-activations, so the factors stay
near 1 however deep the stack.  A layer's gradient norm then covers its
weights and its batch-norm scale and shift (it has no bias), and the
watched activations are found by type, wherever the normalization and
dropout layers sit in the stack.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GradientWarning", "gradient_flow_problem", "EpochMeter"]

#: First/last layer gradient-norm ratio below which gradients are said to vanish.
VANISHING_RATIO = 1e-3
#: First/last layer gradient-norm ratio above which gradients are said to explode.
EXPLODING_RATIO = 1e3
#: Number of consecutive epochs the ratio must stay out of range before warning.
PATIENCE = 3


class GradientWarning(UserWarning):
    """Gradients vanish or explode between the last and the first layer."""


def gradient_flow_problem(grad_norms):
    """Describe a sustained vanishing or exploding gradient, if any.

    Parameters
    ----------
    grad_norms : sequence of sequence of float
        Per epoch, the gradient norm of each Dense layer, input side first
        (``history_["grad_norms"]``).

    Returns
    -------
    str or None
        A sentence for a :class:`GradientWarning` when the ratio of the first
        to the last layer's norm stayed below :data:`VANISHING_RATIO` (or
        above :data:`EXPLODING_RATIO`) for the last :data:`PATIENCE` epochs;
        otherwise None.

    Examples
    --------
    >>> gradient_flow_problem([[1e-7, 1.0]] * 3).split(":")[0]
    'gradients vanish'
    >>> gradient_flow_problem([[0.5, 1.0]] * 3) is None
    True
    """
    recent = np.asarray(grad_norms[-PATIENCE:], dtype=float)
    if len(recent) < PATIENCE or recent.shape[1] < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = recent[:, 0] / recent[:, -1]
    if np.all(ratios < VANISHING_RATIO):
        return (
            f"gradients vanish: the first layer's gradient norm stayed below {VANISHING_RATIO:g} "
            f"of the last layer's (now {ratios[-1]:.1e}) for {PATIENCE} epochs; "
            "use activation='relu' or 'tanh' with init='auto', batch_norm=True, or fewer layers"
        )
    if np.all(ratios > EXPLODING_RATIO):
        return (
            f"gradients explode: the first layer's gradient norm stayed above {EXPLODING_RATIO:g} "
            f"times the last layer's (now {ratios[-1]:.1e}) for {PATIENCE} epochs; "
            "lower learning_rate or use init='auto'"
        )
    return None


class EpochMeter:
    """Accumulate one epoch's training loss, accuracy, gradient norms and ReLU activity.

    Call :meth:`add` after each mini-batch update, :meth:`summary` at the end
    of the epoch.  A mini-batch costs a few array operations here (its
    figures are written into arrays sized for the epoch); the means are
    taken once, in :meth:`summary`.

    Parameters
    ----------
    network : Network
        The network being trained.  With a ReLU-family activation its hidden
        units are watched: a unit that outputs 0 for every sample of an epoch
        is *dead* (its gradient is 0, so it may never recover).
    batches : list of slice
        The epoch's mini-batches, in order.
    """

    def __init__(self, network, batches):
        self.network = network
        watched = network.activation in ("relu", "leaky_relu")
        self.relu_layers = network.activation_layers if watched else []
        self.sizes = np.array([b.stop - b.start for b in batches], dtype=float)
        self.losses = np.zeros(len(batches))
        # Squared gradient norm of each Dense layer after each mini-batch.
        self.squared_norms = np.zeros((len(batches), len(network.layer_starts)), network.dtype)
        self._squares = np.empty_like(network.grads)
        self.predicted = []  # per mini-batch, the class of each sample's largest output
        # Per watched layer, the largest output of each unit at each row
        # position of a mini-batch (an element-wise maximum per mini-batch is
        # cheaper than a column maximum); a unit is alive if one is > 0.
        self.peaks = [np.full((int(self.sizes.max()), width), -np.inf, network.dtype)
                      for width in network.layer_sizes[1:-1]] if watched else []
        self.count = 0

    def add(self, loss, out):
        """Record the next mini-batch: its mean ``loss`` and network output ``out``."""
        k = self.count
        self.losses[k] = loss
        grads = self.network.grads
        np.add.reduceat(np.multiply(grads, grads, out=self._squares), self.network.layer_starts,
                        out=self.squared_norms[k])
        self.predicted.append(out.argmax(axis=1))
        for peaks, layer in zip(self.peaks, self.relu_layers):
            rows = peaks[:len(layer.A)]
            np.maximum(rows, layer.A, out=rows)
        self.count += 1

    def summary(self, labels=None):
        """Mean loss, accuracy (given the epoch's class indices ``labels``), gradient norms and dead fractions.

        Means are over samples: a mini-batch counts by its size.
        """
        n = self.sizes.sum()
        summary = {
            "loss": float(self.sizes @ self.losses / n),
            "grad_norms": (self.sizes @ np.sqrt(self.squared_norms, dtype=float) / n).tolist(),
            "dead_fraction": [float(np.mean(peaks.max(axis=0) <= 0)) for peaks in self.peaks],
        }
        if labels is not None:
            summary["accuracy"] = np.count_nonzero(np.concatenate(self.predicted) == labels) / len(labels)
        return summary
