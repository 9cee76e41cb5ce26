r"""Gradient-descent update rules and learning-rate schedules.

An optimizer updates the network's flat parameter vector :math:`w` in place
from its gradient :math:`g = \partial L / \partial w` on the current
mini-batch, given the learning rate :math:`\eta` of the current epoch.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["SGD", "Momentum", "RMSprop", "Adam", "OPTIMIZERS", "SCHEDULES"]


class SGD:
    r"""Plain stochastic gradient descent: :math:`w \leftarrow w - \eta g`.

    Parameters
    ----------
    size : int
        Number of parameters.
    dtype : numpy dtype
    """

    hyperparameters = ()

    def __init__(self, size, dtype):
        pass

    def step(self, w, g, lr):
        """Update ``w`` in place."""
        w -= lr * g


class Momentum:
    r"""SGD with (classic, heavy-ball) momentum.

    .. math::

        v \leftarrow \mu v - \eta g, \qquad w \leftarrow w + v

    The velocity :math:`v` averages recent steps, which damps oscillations
    across a ravine and speeds up progress along it.

    Parameters
    ----------
    size : int
    dtype : numpy dtype
    momentum : float
        The momentum factor :math:`\mu \in [0, 1)`.

    References
    ----------
    .. [1] D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning
       representations by back-propagating errors", Nature 323, 1986.
    """

    hyperparameters = ("momentum",)

    def __init__(self, size, dtype, momentum=0.9):
        self.momentum = momentum
        self.velocity = np.zeros(size, dtype)

    def step(self, w, g, lr):
        """Update ``w`` in place."""
        self.velocity *= self.momentum
        self.velocity -= lr * g
        w += self.velocity


class RMSprop:
    r"""RMSprop: divide each step by a running root mean square of the gradient.

    .. math::

        s \leftarrow \beta_2 s + (1 - \beta_2) g^2, \qquad
        w \leftarrow w - \eta \frac{g}{\sqrt{s} + \epsilon}

    Parameters
    ----------
    size : int
    dtype : numpy dtype
    beta_2 : float
        Decay of the running average of squared gradients.
    epsilon : float
        Guards the division.

    References
    ----------
    .. [1] T. Tieleman and G. Hinton, Lecture 6.5 of "Neural Networks for
       Machine Learning", Coursera, 2012.
    """

    hyperparameters = ("beta_2", "epsilon")

    def __init__(self, size, dtype, beta_2=0.999, epsilon=1e-8):
        self.beta_2, self.epsilon = beta_2, epsilon
        self.square_avg = np.zeros(size, dtype)

    def step(self, w, g, lr):
        """Update ``w`` in place."""
        self.square_avg *= self.beta_2
        self.square_avg += (1 - self.beta_2) * (g * g)
        w -= lr * g / (np.sqrt(self.square_avg) + self.epsilon)


class Adam:
    r"""Adam: momentum on the gradient and RMSprop scaling, both bias-corrected.

    .. math::

        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \\
        w \leftarrow w - \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
        \frac{m}{\sqrt{v} + \epsilon}

    at step :math:`t` (the bias correction undoes the zero start of
    :math:`m` and :math:`v`).

    Parameters
    ----------
    size : int
    dtype : numpy dtype
    beta_1, beta_2 : float
        Decay rates of the first and second moment averages.
    epsilon : float
        Guards the division.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A method for stochastic
       optimization", ICLR 2015 (section 2, the efficient version).
    """

    hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(self, size, dtype, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self.t = 0
        self._scratch = np.empty(size, dtype)  # reused every step: no allocation per batch

    def step(self, w, g, lr):
        """Update ``w`` in place."""
        self.t += 1
        m, v, tmp = self.m, self.v, self._scratch
        m *= self.beta_1
        m += np.multiply(g, 1 - self.beta_1, out=tmp)
        v *= self.beta_2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta_2
        v += tmp
        lr_t = lr * math.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)  # m / (sqrt(v) + eps)
        tmp *= lr_t
        w -= tmp


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}


def constant(lr, epoch, epochs):
    r""":math:`\eta_t = \eta_0`."""
    return lr


def step(lr, epoch, epochs):
    r"""Divide by 10 at 50 % and again at 75 % of the epochs: :math:`\eta_t = \eta_0 \cdot 10^{-k}`."""
    return lr * 0.1 ** ((epoch >= epochs // 2) + (epoch >= 3 * epochs // 4))


def cosine(lr, epoch, epochs):
    r"""Cosine annealing to 0: :math:`\eta_t = \frac{\eta_0}{2} (1 + \cos(\pi t / T))`.

    References
    ----------
    .. [1] I. Loshchilov and F. Hutter, "SGDR: Stochastic gradient descent
       with warm restarts", ICLR 2017.
    """
    return 0.5 * lr * (1 + math.cos(math.pi * epoch / epochs))


def invscaling(lr, epoch, epochs):
    r"""Inverse scaling: :math:`\eta_t = \eta_0 / \sqrt{t + 1}`."""
    return lr / math.sqrt(epoch + 1)


#: Learning-rate schedules ``schedule(lr0, epoch, epochs) -> lr``, ``epoch`` counted from 0.
SCHEDULES = {"constant": constant, "step": step, "cosine": cosine, "invscaling": invscaling}
