r"""Loss functions, each returning its value and its gradient with respect to the network output.

Both losses take the raw output :math:`Z` of the last (identity) layer for
:math:`n` samples and the targets :math:`Y`, and return

.. math:: L(Z, Y) \quad\text{and}\quad \frac{\partial L}{\partial Z},

which is where back-propagation starts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "cross_entropy", "squared_error", "LOSSES"]


def _row_max(z):
    """``z.max(axis=1, keepdims=True)``, faster for a mini-batch of few columns.

    numpy reduces each short row in its own inner loop; a reduction down the
    columns of the transposed copy runs one vectorized loop per class.  A
    maximum does not depend on the order of comparison: the result is the same.
    """
    return np.maximum.reduce(np.ascontiguousarray(z.T), axis=0)[:, np.newaxis]


def softmax(z):
    r"""Row-wise softmax, computed without overflow.

    .. math:: P_{ik} = \frac{e^{z_{ik} - m_i}}{\sum_j e^{z_{ij} - m_i}},
              \qquad m_i = \max_j z_{ij}

    Subtracting the row maximum changes nothing mathematically but keeps
    every exponent :math:`\le 0`, so ``exp`` cannot overflow.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)
        Logits.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Probabilities; every row sums to 1.

    Examples
    --------
    >>> softmax(np.array([[1e4, 0.0]])).round(3)
    array([[1., 0.]])
    """
    e = np.exp(z - _row_max(z))
    e /= e.sum(axis=1, keepdims=True)
    return e


def cross_entropy(z, Y):
    r"""Softmax cross-entropy of logits ``z`` against one-hot targets ``Y``.

    .. math::

        L = -\frac{1}{n} \sum_i \sum_k Y_{ik} \log P_{ik},
        \qquad \log P_{ik} = (z_{ik} - m_i) - \log \sum_j e^{z_{ij} - m_i}

    (log-sum-exp, so no ``log(0)`` even for logits of :math:`\pm 10^4`).
    Differentiating through the softmax, everything cancels except

    .. math:: \frac{\partial L}{\partial z} = \frac{P - Y}{n}.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)
        Logits (output of the last layer).
    Y : ndarray of shape (n_samples, n_classes)
        One-hot targets.

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_samples, n_classes)

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, 2006,
       sec. 4.3.4 (eq. 4.109).
    """
    shifted = z - _row_max(z)
    e = np.exp(shifted)
    sum_e = np.add.reduce(e, axis=1, keepdims=True)
    n = len(z)
    loss = -np.vdot(Y, shifted - np.log(sum_e)) / n
    e /= sum_e  # e is now P
    e -= Y
    e /= n
    return float(loss), e


def squared_error(z, Y):
    r"""Half mean squared error of outputs ``z`` against targets ``Y``.

    .. math::

        L = \frac{1}{2n} \sum_i \lVert z_i - y_i \rVert^2,
        \qquad \frac{\partial L}{\partial z} = \frac{z - Y}{n}

    Paired with an identity output layer this is least-squares regression;
    the factor 1/2 cancels the 2 of the derivative.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
    Y : ndarray of shape (n_samples, n_outputs)

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_samples, n_outputs)
    """
    diff = z - Y
    n = len(z)
    loss = 0.5 * np.vdot(diff, diff) / n
    diff /= n
    return float(loss), diff


LOSSES = {"cross_entropy": cross_entropy, "squared_error": squared_error}
