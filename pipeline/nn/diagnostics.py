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
    of the epoch.

    Parameters
    ----------
    network : Network
        The network being trained.  With a ReLU-family activation its hidden
        units are watched: a unit that outputs 0 for every sample of an epoch
        is *dead* (its gradient is 0, so it may never recover).
    """

    def __init__(self, network):
        self.network = network
        watched = network.activation in ("relu", "leaky_relu")
        self.relu_layers = network.activation_layers if watched else []
        self.alive = [np.zeros(size, bool) for size in network.layer_sizes[1:-1]] if watched else []
        self.count, self.loss_sum, self.correct, self.norm_sum = 0, 0.0, 0, 0.0

    def add(self, loss, out, labels=None):
        """Record a mini-batch: its mean ``loss``, network output ``out`` and class indices ``labels``."""
        n = len(out)
        self.count += n
        self.loss_sum += loss * n
        self.norm_sum = self.norm_sum + self.network.gradient_norms() * n
        if labels is not None:
            self.correct += np.count_nonzero(out.argmax(axis=1) == labels)
        for alive, layer in zip(self.alive, self.relu_layers):
            alive |= (layer.A > 0).any(axis=0)

    def summary(self):
        """Mean loss, accuracy, per-layer mean gradient norms and dead-unit fractions of the epoch."""
        return {
            "loss": self.loss_sum / self.count,
            "accuracy": self.correct / self.count,
            "grad_norms": (self.norm_sum / self.count).tolist(),
            "dead_fraction": [1.0 - np.count_nonzero(alive) / alive.size for alive in self.alive],
        }
