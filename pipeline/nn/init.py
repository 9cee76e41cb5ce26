r"""Weight initialization that keeps activations and gradients at a stable scale.

If the weights of a layer with :math:`n_{in}` inputs have variance
:math:`\mathrm{Var}(W)`, each pre-activation has variance about
:math:`n_{in} \mathrm{Var}(W) \mathrm{Var}(x)`.  Choosing
:math:`\mathrm{Var}(W)` to make that factor 1 stops the signal from shrinking
or growing layer after layer.  Biases start at 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["xavier", "he", "INITIALIZERS"]


def xavier(fan_in, fan_out, rng):
    r"""Xavier/Glorot uniform initialization, for sigmoid and tanh.

    .. math:: W \sim U\left(-\sqrt{6 / (n_{in} + n_{out})},\ \sqrt{6 / (n_{in} + n_{out})}\right)

    so that :math:`\mathrm{Var}(W) = 2 / (n_{in} + n_{out})`, a compromise
    between the forward (:math:`1/n_{in}`) and backward (:math:`1/n_{out}`)
    conditions.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (fan_in, fan_out), float64

    References
    ----------
    .. [1] X. Glorot and Y. Bengio, "Understanding the difficulty of training
       deep feedforward neural networks", AISTATS 2010.
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def he(fan_in, fan_out, rng):
    r"""He (Kaiming) normal initialization, for the ReLU family.

    .. math:: W \sim \mathcal{N}(0,\ 2 / n_{in})

    ReLU zeroes half of its inputs on average, halving the variance; the
    factor 2 restores it.  Parameters and return value are those of
    :func:`xavier`.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
       ICCV 2015.
    """
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


INITIALIZERS = {"xavier": xavier, "he": he}
