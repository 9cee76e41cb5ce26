r"""Check back-propagation against finite differences.

For every parameter :math:`w_i` the central difference

.. math:: \hat g_i = \frac{L(w + h e_i) - L(w - h e_i)}{2h}

approximates :math:`\partial L / \partial w_i` with error :math:`O(h^2)`.
Back-propagation is correct when its gradient agrees with :math:`\hat g`
to many digits (in float64, with :math:`h = 10^{-6}`, about 1e-8 relative).
The estimators' ``check_gradients`` method runs this check on the network
and targets they train.
"""

from __future__ import annotations

import numpy as np

from pipeline.nn.losses import LOSSES

__all__ = ["gradient_check"]

#: Relative size below which a parameter array's gradient is taken as zero.
ZERO_GRADIENT = 1e-6


def gradient_check(network, X, Y, loss, *, alpha=0.0, step=1e-6):
    r"""Maximum relative error between back-propagated and finite-difference gradients.

    The loss is the full-batch training loss of ``network`` on ``(X, Y)``,
    including the weight-decay term, computed in float64 on a copy of the
    network, in training mode: batch normalization normalizes with the
    statistics of ``X`` (so the gradient flows through the batch mean and
    variance), and dropout draws its masks from a stream rewound before
    every evaluation (so every perturbed loss sees the same mask).  Every
    weight, bias and batch-norm scale and shift is perturbed.  For each
    parameter array :math:`p` (each layer's :math:`W` and :math:`b`) the
    relative error is

    .. math:: \frac{\lVert g_p - \hat g_p \rVert}{\lVert g_p \rVert + \lVert \hat g_p \rVert}

    and the largest over the arrays is returned.  An array whose gradient
    is zero up to rounding (both norms at most :data:`ZERO_GRADIENT` times
    the norm of the whole back-propagated gradient) counts as agreeing: its
    finite differences are rounding noise, and their relative error means
    nothing.  The shift of a batch-normalized layer followed by another
    through an identity activation is such an array (the next layer's mean
    subtraction cancels it exactly).

    Parameters
    ----------
    network : Network
        Checked at its current parameters; it is not modified.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets: one-hot rows for cross-entropy, values for squared error.
    loss : str
        A key of :data:`~pipeline.nn.losses.LOSSES`.
    alpha : float, default=0.0
        L2 weight-decay strength.
    step : float, default=1e-6
        Finite-difference step :math:`h`.

    Returns
    -------
    float
        Below about 1e-7 when back-propagation is right; a wrong derivative
        typically gives 1e-2 or more.

    Notes
    -----
    ReLU and leaky ReLU have a kink at 0 where the derivative is a
    convention.  A fresh network has zero biases, so a pre-activation can be
    exactly 0 (when every unit of the previous layer is off for a sample)
    and the finite difference straddles the kink; check such networks
    after a few training epochs.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.nn.network import Network
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(20, 3)), np.eye(3)[np.arange(20) % 3]
    >>> network = Network((3, 5, 3), "tanh", np.float64).initialize("auto", rng)
    >>> gradient_check(network, X, Y, "cross_entropy", alpha=0.1) < 1e-6
    True
    """
    masks = np.random.default_rng(0)
    network = network.astype(np.float64, rng=masks)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    loss_fn = LOSSES[loss]
    start = masks.bit_generator.state

    def forward():
        masks.bit_generator.state = start  # the same dropout masks at every evaluation
        return network.forward(X, training=True)

    def total_loss():
        return loss_fn(forward(), Y)[0] + network.penalty(alpha)

    network.backward(loss_fn(forward(), Y)[1], alpha)
    analytic = network.grads.copy()
    numeric = np.empty_like(analytic)
    w = network.params
    for i in range(w.size):
        original = w[i]
        w[i] = original + step
        plus = total_loss()
        w[i] = original - step
        minus = total_loss()
        w[i] = original
        numeric[i] = (plus - minus) / (2 * step)

    worst, floor = 0.0, ZERO_GRADIENT * np.linalg.norm(analytic)
    for layer_slices in network.slices:
        for part in layer_slices:
            a, n = analytic[part], numeric[part]
            if max(np.linalg.norm(a), np.linalg.norm(n)) > floor:
                scale = np.linalg.norm(a) + np.linalg.norm(n)
                worst = max(worst, float(np.linalg.norm(a - n) / scale))
    return worst
