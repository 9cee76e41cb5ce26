r"""Training diagnostics: is the gradient reaching the first layers?

In a deep network the gradient of layer 1 is a product of one factor per
layer above it, :math:`\partial L / \partial W_1 \propto \prod_l W_l^\top
f'(Z_l)`.  With sigmoid (:math:`f' \le 1/4`) the product shrinks
geometrically with depth (*vanishing gradients*); with too large weights it
grows (*exploding gradients*).  Comparing the first layer's gradient norm
with the last layer's, epoch after epoch, shows both.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GradientWarning", "gradient_flow_problem", "dead_fraction"]

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
            "use activation='relu' or 'tanh' with init='auto', or fewer layers"
        )
    if np.all(ratios > EXPLODING_RATIO):
        return (
            f"gradients explode: the first layer's gradient norm stayed above {EXPLODING_RATIO:g} "
            f"times the last layer's (now {ratios[-1]:.1e}) for {PATIENCE} epochs; "
            "lower learning_rate or use init='auto'"
        )
    return None


def dead_fraction(alive):
    """Fraction of units that never fired (output <= 0 for every sample of the epoch).

    Parameters
    ----------
    alive : ndarray of bool, shape (n_units,)
        Whether each unit was positive for at least one sample.
    """
    return 1.0 - float(np.count_nonzero(alive)) / alive.size
