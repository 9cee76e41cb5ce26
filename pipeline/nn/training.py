r"""The training loop: mini-batch gradient descent with diagnostics and early stopping.

One epoch shuffles the training set, then for each mini-batch runs

1. forward: :math:`Z = \text{network}(X_b)` in training mode (batch
   statistics, dropout),
2. loss: :math:`L, G = \text{loss}(Z, Y_b)` with :math:`G = \partial L / \partial Z`,
3. backward: fill the network's gradient vector from :math:`G`,
4. update: the optimizer moves the parameters against the gradient.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from texture.errors import TrainingError

from pipeline.nn.diagnostics import EpochMeter, GradientWarning, gradient_flow_problem
from pipeline.nn.losses import LOSSES

__all__ = ["train"]

#: The loss is declared diverging when an epoch's loss exceeds the first epoch's by this factor.
DIVERGENCE_FACTOR = 1e4


# A diverging run overflows before its loss turns non-finite; that raises
# TrainingError below, so numpy's overflow warnings would only repeat it.
@np.errstate(over="ignore", invalid="ignore")
def train(network, X, Y, *, loss, optimizer, learning_rate, schedule, epochs, batch_size,
          alpha, shuffle, rng, n_iter_no_change, tol, labels=None, validation=None):
    """Train ``network`` in place and return its per-epoch history.

    Parameters
    ----------
    network : Network
    X : ndarray of shape (n_samples, n_features)
        Training inputs, in the network's dtype.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets: one-hot rows for cross-entropy, values for squared error.
    loss : str
        A key of :data:`~pipeline.nn.losses.LOSSES`.
    optimizer : object
        An optimizer from :mod:`pipeline.nn.optimizers`, sized for the network.
    learning_rate : float
        Initial learning rate.
    schedule : callable
        ``schedule(learning_rate, epoch, epochs) -> lr`` for each epoch.
    epochs, batch_size : int
        With batch normalization, a last mini-batch of a single sample joins
        the one before (its variance would be 0).
    alpha : float
        L2 weight-decay strength.
    shuffle : bool
        Shuffle the samples (with ``rng``) at the start of every epoch.
    rng : numpy.random.Generator
    n_iter_no_change : int
        Stop after this many epochs without an improvement of more than
        ``tol`` of the monitored loss (the validation loss if ``validation``
        is given, else the training loss).
    tol : float
    labels : ndarray of int, optional
        Class index of each sample, to record the training accuracy.
    validation : tuple (X_val, Y_val, labels_val), optional
        Held-out data; ``labels_val`` may be None.  When given, the
        parameters of the epoch with the lowest validation loss are restored
        at the end.

    Returns
    -------
    history : dict of lists
        Per epoch: ``loss`` (mean mini-batch loss plus the weight-decay
        term), ``learning_rate``, ``grad_norms`` (mean gradient norm of each
        Dense layer), ``dead_fraction`` (per hidden ReLU-family layer) and,
        when available, ``accuracy``, ``val_loss``, ``val_accuracy``.
    best_epoch : int
        Index of the epoch whose parameters the network ends with.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite, or grows by
        :data:`DIVERGENCE_FACTOR` over the first epoch's.  The network's
        parameters are then unusable and the caller must discard them.
    """
    loss_fn = LOSSES[loss]
    n = len(X)
    history = {"loss": [], "learning_rate": [], "grad_norms": [], "dead_fraction": []}
    if labels is not None:
        history["accuracy"] = []
    if validation is not None:
        history["val_loss"] = []
        if validation[2] is not None:
            history["val_accuracy"] = []

    bounds = list(range(0, n, batch_size)) + [n]
    if network.batch_norm and len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]  # one sample has no spread to normalize by: it joins the batch before
    batches = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    X_epoch, Y_epoch = np.empty_like(X), np.empty_like(Y)
    labels_epoch = None if labels is None else np.empty_like(labels)
    # mode="clip" because np.take with out= and the default mode="raise" copies
    # through a buffer (2-3x slower); a permutation never needs clipping.
    take = functools.partial(np.take, axis=0, mode="clip")
    best_loss, best_params, best_epoch, stale = math.inf, None, 0, 0
    warned = False
    for epoch in range(epochs):
        lr = schedule(learning_rate, epoch, epochs)
        order = rng.permutation(n) if shuffle else np.arange(n)
        take(X, order, out=X_epoch)
        take(Y, order, out=Y_epoch)
        if labels is not None:
            take(labels, order, out=labels_epoch)

        meter = EpochMeter(network, batches)
        for batch in batches:
            out = network.forward(X_epoch[batch], training=True)
            batch_loss, G = loss_fn(out, Y_epoch[batch])
            if not math.isfinite(batch_loss):
                raise TrainingError(
                    f"training diverged at epoch {epoch + 1}: the loss became {batch_loss}; "
                    "lower learning_rate or standardize the inputs"
                )
            network.backward(G, alpha)
            optimizer.step(network.params, network.grads, lr)
            meter.add(batch_loss, out)

        stats = meter.summary(labels_epoch)
        epoch_loss = stats["loss"] + network.penalty(alpha)
        exploded = bool(history["loss"]) and epoch_loss > DIVERGENCE_FACTOR * history["loss"][0]
        if exploded or not np.isfinite(network.params).all():
            raise TrainingError(
                f"training diverged at epoch {epoch + 1}: the loss grew to {epoch_loss:.3g}; "
                "lower learning_rate or standardize the inputs"
            )
        history["loss"].append(epoch_loss)
        history["learning_rate"].append(lr)
        history["grad_norms"].append(stats["grad_norms"])
        history["dead_fraction"].append(stats["dead_fraction"])
        if labels is not None:
            history["accuracy"].append(stats["accuracy"])

        monitored = epoch_loss
        if validation is not None:
            X_val, Y_val, labels_val = validation
            out = network.forward(X_val)
            monitored = loss_fn(out, Y_val)[0] + network.penalty(alpha)
            history["val_loss"].append(monitored)
            if labels_val is not None:
                history["val_accuracy"].append(float(np.mean(out.argmax(axis=1) == labels_val)))

        problem = None if warned else gradient_flow_problem(history["grad_norms"])
        if problem:
            warnings.warn(problem, GradientWarning, stacklevel=4)
            warned = True

        stale = 0 if monitored < best_loss - tol else stale + 1
        if monitored < best_loss:
            best_loss, best_epoch = monitored, epoch
            if validation is not None:
                best_params, best_buffers = network.params.copy(), network.buffers.copy()
        if stale >= n_iter_no_change:
            break

    if best_params is None:
        return history, len(history["loss"]) - 1
    network.params[...] = best_params
    network.buffers[...] = best_buffers
    return history, best_epoch
