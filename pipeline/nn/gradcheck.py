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


def gradient_check(network, X, Y, loss, *, alpha=0.0, step=1e-6):
    r"""Maximum relative error between back-propagated and finite-difference gradients.

    The loss is the full-batch training loss of ``network`` on ``(X, Y)``,
    including the weight-decay term, computed in float64 on a copy of the
    network.  Every weight and bias is perturbed.  For each parameter array
    :math:`p` (each layer's :math:`W` and :math:`b`) the relative error is

    .. math:: \frac{\lVert g_p - \hat g_p \rVert}{\lVert g_p \rVert + \lVert \hat g_p \rVert}

    (0 when both are zero) and the largest over the arrays is returned.

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
    network = network.astype(np.float64)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    loss_fn = LOSSES[loss]

    def total_loss():
        return loss_fn(network.forward(X), Y)[0] + network.penalty(alpha)

    network.backward(loss_fn(network.forward(X), Y)[1], alpha)
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

    worst = 0.0
    for layer_slices in network.slices:
        for part in layer_slices:
            a, n = analytic[part], numeric[part]
            scale = np.linalg.norm(a) + np.linalg.norm(n)
            if scale > 0:
                worst = max(worst, float(np.linalg.norm(a - n) / scale))
    return worst
