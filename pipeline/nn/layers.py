r"""The layers a back-propagation network is stacked from.

A layer maps its input forward and, given :math:`\partial L / \partial
\text{output}`, returns :math:`\partial L / \partial \text{input}` (the chain
rule, one link at a time), storing the gradients of its own parameters.
``forward(X, training)`` takes the mode: :class:`BatchNorm` and
:class:`Dropout` behave differently while training and when predicting; the
others compute the same in both.
"""

from __future__ import annotations

import functools

import numpy as np

from pipeline.nn.activations import ACTIVATIONS

__all__ = ["Dense", "ActivationLayer", "BatchNorm", "Dropout"]


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
        place by the optimizer.  ``b`` is None below a :class:`BatchNorm`
        layer, whose mean subtraction would cancel it (its shift
        :math:`\beta` takes the bias's place).
    dW, db : ndarray
        Where :meth:`backward` writes the gradients (views into the
        network's gradient vector); ``db`` is None when ``b`` is.
    """

    def __init__(self, W, b, dW, db):
        self.W, self.b, self.dW, self.db = W, b, dW, db
        self.X = None

    def forward(self, X, training=False):
        """Return ``X @ W + b``, remembering ``X`` for :meth:`backward` (same in both modes)."""
        self.X = X
        Z = np.dot(X, self.W)  # X @ W: the same BLAS product, with less overhead per mini-batch
        if self.b is not None:
            Z += self.b
        return Z

    def backward(self, G, input_grad=True):
        """Store ``dW = X.T @ G`` and ``db = G.sum(0)``; return ``G @ W.T``.

        ``input_grad=False`` skips ``dL/dX`` (useless for the first layer).
        """
        np.dot(self.X.T, G, out=self.dW)
        if self.db is not None:
            np.add.reduce(G, axis=0, out=self.db)  # G.sum(0) without np.sum's Python wrapper
        return np.dot(G, self.W.T) if input_grad else None


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

    def forward(self, Z, training=False):
        """Return ``f(Z)`` (``Z`` may be overwritten), remembering it (same in both modes)."""
        self.A = self.f(Z)
        return self.A

    def backward(self, G):
        """Return ``G * f'(Z)``."""
        return G * self.derivative(self.A)


@functools.lru_cache(maxsize=16)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones, to sum columns with a matrix product."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


class BatchNorm:
    r"""Batch normalization: each feature standardized over the mini-batch, then scaled and shifted.

    In training, for a mini-batch :math:`X` of :math:`n` rows, each column
    (feature) :math:`j` is normalized with the batch's own statistics

    .. math::

        \mu_j = \frac{1}{n} \sum_i x_{ij}, \qquad
        \sigma_j^2 = \frac{1}{n} \sum_i (x_{ij} - \mu_j)^2, \qquad
        \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \qquad
        y_{ij} = \gamma_j \hat x_{ij} + \beta_j,

    so whatever the scale of the weights below, the next layer's
    pre-activations keep mean :math:`\beta` and spread :math:`\gamma`: a
    sigmoid stays on its slope instead of saturating, and the gradient keeps
    its size down a deep stack [1]_.  The running estimates used for
    prediction follow each batch:
    :math:`m \leftarrow (1 - \rho) m + \rho \mu`,
    :math:`v \leftarrow (1 - \rho) v + \rho \frac{n}{n - 1} \sigma^2`
    (momentum :math:`\rho`, unbiased variance).  In prediction mode the
    layer is the fixed affine map
    :math:`y = \gamma (x - m) / \sqrt{v + \epsilon} + \beta`, so a sample's
    output never depends on the other samples.

    Back-propagation.  Given :math:`G = \partial L / \partial Y`, the
    parameters get :math:`\partial L / \partial \beta_j = \sum_i G_{ij}` and
    :math:`\partial L / \partial \gamma_j = \sum_i G_{ij} \hat x_{ij}`.  The
    input gradient must also flow through :math:`\mu` and :math:`\sigma`,
    which depend on every row.  With :math:`s_j = (\sigma_j^2 +
    \epsilon)^{-1/2}`, :math:`\partial \hat x_{kj} / \partial x_{ij} =
    s_j (\delta_{ik} - \frac{1}{n} - \frac{1}{n} \hat x_{ij} \hat x_{kj})`
    (from :math:`\partial \mu_j / \partial x_{ij} = 1/n` and
    :math:`\partial \sigma_j^2 / \partial x_{ij} = 2 (x_{ij} - \mu_j) / n`),
    and summing over :math:`k` with weights :math:`\gamma_j G_{kj}`:

    .. math::

        \frac{\partial L}{\partial x_{ij}} = \gamma_j s_j \Big( G_{ij}
        - \frac{1}{n} \frac{\partial L}{\partial \beta_j}
        - \frac{1}{n} \hat x_{ij} \frac{\partial L}{\partial \gamma_j} \Big).

    The input gradient is the output gradient with its batch mean and its
    component along :math:`\hat x` removed: shifting or scaling a whole
    column of :math:`X` changes nothing after normalization.  In prediction
    mode, :math:`\mu` and :math:`\sigma` are constants and
    :math:`\partial L / \partial x_{ij} = \gamma_j s_j G_{ij}`.

    Parameters
    ----------
    gamma, beta : ndarray of shape (n_features,)
        Scale and shift: views into the network's parameter vector, updated
        in place by the optimizer.
    dgamma, dbeta : ndarray of shape (n_features,)
        Where :meth:`backward` writes their gradients.
    running : ndarray of shape (2, n_features)
        The running estimates, mean (row 0, :attr:`running_mean`) and
        variance (row 1, :attr:`running_var`), updated in place in training
        mode (a view into the network's buffer vector, saved with the model).
    momentum : float, default=0.1
        Weight :math:`\rho` of the current batch in the running estimates.
    epsilon : float, default=1e-5
        Added to the variance so that a constant feature divides by
        :math:`\sqrt{\epsilon}`, not by 0.

    References
    ----------
    .. [1] S. Ioffe and C. Szegedy, "Batch normalization: accelerating deep
       network training by reducing internal covariate shift", ICML 2015,
       arXiv:1502.03167 (sec. 3, algorithms 1 and 2).
    """

    def __init__(self, gamma, beta, dgamma, dbeta, running, momentum=0.1, epsilon=1e-5):
        self.gamma, self.beta, self.dgamma, self.dbeta = gamma, beta, dgamma, dbeta
        self.running = running
        self.running_mean, self.running_var = running  # views of its two rows
        self.momentum, self.epsilon = momentum, epsilon
        # Kept for backward: X - mu, 1 / sqrt(var + eps) and gamma / sqrt(var + eps).
        self.centred = self.inv_std = self.scale = None
        self.batch_statistics = False

    @property
    def X_hat(self):
        r"""The normalized input :math:`\hat x` of the last :meth:`forward`."""
        return self.centred * self.inv_std

    def forward(self, X, training=False):
        """Normalize ``X`` with the batch statistics (training) or the running ones (prediction)."""
        if training:
            n = len(X)
            # Column sums as (1 ... 1) @ X: a BLAS product, several times faster than
            # numpy's axis-0 reductions on a mini-batch.
            mean = np.dot(_ones(n, X.dtype), X)
            mean *= 1 / n
            self.centred = X - mean
            var = np.dot(_ones(n, X.dtype), self.centred * self.centred)
            var *= 1 / n
            rho = self.momentum
            self.running *= 1 - rho
            self.running_mean += rho * mean
            self.running_var += (rho * n / max(n - 1, 1)) * var
        else:
            self.centred = X - self.running_mean
            var = self.running_var
        self.inv_std = 1 / np.sqrt(var + self.epsilon)
        self.scale = self.gamma * self.inv_std
        self.batch_statistics = training
        # gamma * X_hat + beta, without forming X_hat.
        Y = self.centred * self.scale
        Y += self.beta
        return Y

    def backward(self, G, input_grad=True):
        """Store ``dgamma`` and ``dbeta``; return ``dL/dX`` (through the batch statistics after training)."""
        ones = _ones(len(G), G.dtype)
        np.dot(ones, G, out=self.dbeta)
        np.dot(ones, G * self.centred, out=self.dgamma)
        self.dgamma *= self.inv_std  # sum of G * X_hat
        if not input_grad:
            return None
        if not self.batch_statistics:
            return G * self.scale
        n = len(G)
        dX = G - self.dbeta * (1 / n)
        dX -= self.centred * (self.dgamma * (self.inv_std * (1 / n)))
        dX *= self.scale
        return dX


class Dropout:
    r"""Inverted dropout: in training, each unit is zeroed with probability ``rate``.

    In training the layer draws a mask :math:`M` with
    :math:`M_{ij} = 1 / (1 - p)` with probability :math:`1 - p` and 0
    otherwise, and returns :math:`Y = X \odot M`.  Scaling the kept units
    by :math:`1 / (1 - p)` keeps :math:`\mathbb{E}[Y] = X`, so in
    prediction the layer is the identity and a prediction is deterministic.
    A unit cannot rely on any particular other unit being present, which
    discourages co-adapted features (a regularizer) [1]_.

    Back-propagation: :math:`Y` is linear in :math:`X` for a fixed mask, so
    :math:`\partial L / \partial X = G \odot M` (and :math:`G` in
    prediction mode).  There are no parameters.

    Parameters
    ----------
    rate : float
        Probability :math:`p` of dropping a unit, in [0, 1) (used rounded
        to a multiple of :math:`2^{-16}`).
    rng : numpy.random.Generator
        The masks' random stream.  Rewinding it (restoring its
        ``bit_generator.state``) replays the same masks, which is how the
        gradient check holds the mask fixed.

    References
    ----------
    .. [1] N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and
       R. Salakhutdinov, "Dropout: a simple way to prevent neural networks
       from overfitting", JMLR 15, 2014 (sec. 4 and 10).
    """

    def __init__(self, rate, rng):
        self.rate, self.rng = rate, rng
        # A unit is kept when 16 random bits reach this threshold: four units per
        # 64-bit draw, several times cheaper than a float each.  The rate is thus
        # rounded to a multiple of 2**-16, and the scale is that of the rounded rate.
        self.threshold = np.uint16(round(rate * 2**16))
        self.keep_scale = 2**16 / (2**16 - int(self.threshold))
        self.mask = None

    def forward(self, X, training=False):
        """``X`` times a fresh random mask (training), or ``X`` itself (prediction)."""
        if not training:
            self.mask = None
            return X
        bits = self.rng.bit_generator.random_raw(-(-X.size // 4)).view(np.uint16)[:X.size].reshape(X.shape)
        self.mask = np.greater_equal(bits, self.threshold, out=np.empty(X.shape, X.dtype))  # 1 kept, 0 dropped
        self.mask *= self.keep_scale
        return X * self.mask

    def backward(self, G):
        """Return ``G * mask`` (``G`` after a prediction-mode forward)."""
        return G if self.mask is None else G * self.mask
