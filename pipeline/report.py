"""Evaluation reports: accuracy, per-class precision/recall/F1, confusion matrix, plots.

The metric functions are pure (labels in, pandas tables out).  Plotting needs
the ``[plot]`` extra; matplotlib is imported only when a plot is drawn.  Plots
are bare :class:`matplotlib.figure.Figure` objects, never pyplot figures: they
need no display, and they leave the caller's backend and open figures alone (a
notebook keeps drawing inline after a report).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from texture.errors import ConfigError

__all__ = ["accuracy", "confusion_matrix", "classification_report", "plot_confusion_matrix",
           "plot_training_curves", "plot_reliability_diagram"]


def _labels(y_true, y_pred, labels=None) -> tuple[np.ndarray, np.ndarray, list]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ConfigError(f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}")
    if len(y_true) == 0:
        raise ConfigError("no predictions to evaluate")
    if labels is None:
        labels = sorted(set(y_true.tolist()) | set(y_pred.tolist()), key=str)
    return y_true, y_pred, list(labels)


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the true label.

    Examples
    --------
    >>> accuracy(["a", "b", "b"], ["a", "b", "a"])
    0.6666666666666666
    """
    y_true, y_pred, _ = _labels(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, labels=None) -> pd.DataFrame:
    """Counts of (true, predicted) label pairs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : sequence, optional
        Row/column order; the sorted union of both label sets by default.

    Returns
    -------
    pandas.DataFrame
        Rows are true labels (index named ``true``), columns predicted labels
        (named ``predicted``); entry ``[i, j]`` counts samples of class ``i``
        predicted as ``j``.
    """
    y_true, y_pred, labels = _labels(y_true, y_pred, labels)
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    try:
        np.add.at(counts, ([index[t] for t in y_true.tolist()], [index[p] for p in y_pred.tolist()]), 1)
    except KeyError as exc:
        raise ConfigError(f"label '{exc.args[0]}' is not in labels") from None
    return pd.DataFrame(counts, index=pd.Index(labels, name="true"),
                        columns=pd.Index(labels, name="predicted"))


def classification_report(y_true, y_pred, labels=None) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support, plus macro averages and accuracy.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : sequence, optional
        Classes to report, as in :func:`confusion_matrix`.

    Returns
    -------
    pandas.DataFrame
        One row per class and the rows ``macro avg`` and ``accuracy``;
        columns ``precision``, ``recall``, ``f1``, ``support``.  A ratio with
        a zero denominator is 0, as scikit-learn's ``zero_division=0``.
    """
    table = confusion_matrix(y_true, y_pred, labels)
    cm = table.to_numpy()
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    table = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support},
                         index=pd.Index([str(label) for label in table.index], name="class"))
    n = support.sum()
    table.loc["macro avg"] = [precision.mean(), recall.mean(), f1.mean(), n]
    table.loc["accuracy"] = [np.nan, np.nan, tp.sum() / n, n]
    table["support"] = table["support"].astype(np.int64)
    return table


def _figure(figsize):
    try:
        import matplotlib  # noqa: F401  (the package itself: its submodules may be cached)
    except ImportError:
        from pipeline.extras import install_hint
        raise ConfigError(f"plots need matplotlib: {install_hint('plot')}") from None
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _save(fig, path):
    if path is not None:
        # Fixed metadata keeps the PNG byte-identical across runs.
        fig.savefig(path, format="png", dpi=100, metadata={"Software": None})


def plot_confusion_matrix(cm: pd.DataFrame, path=None, *, ax=None):
    """Draw a confusion matrix (as from :func:`confusion_matrix`), optionally saved as a PNG picture.

    Parameters
    ----------
    cm : pandas.DataFrame
    path : str or os.PathLike or binary file object, optional
        Where to save the picture; not saved when None.
    ax : matplotlib.axes.Axes, optional
        Draw here, e.g. ``plt.subplots()[1]`` in a notebook; a new figure
        of its own size when None.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.
    """
    n = len(cm)
    if ax is None:
        ax = _figure((1.5 + 0.6 * n, 1.2 + 0.6 * n)).subplots()
        ax.figure.set_layout_engine("tight")
    ax.imshow(cm.to_numpy(), cmap="Blues")
    ax.set_xticks(range(n), [str(c) for c in cm.columns], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(c) for c in cm.index])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = cm.to_numpy().max() / 2
    for (i, j), count in np.ndenumerate(cm.to_numpy()):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > threshold else "black")
    _save(ax.figure, path)
    return ax.figure


def plot_training_curves(history: dict, path=None, *, axes=None, best_epoch=None):
    """Draw per-epoch loss (and accuracy, when recorded) curves, optionally saved as a PNG picture.

    Parameters
    ----------
    history : dict of str to list of float
        ``loss`` and optionally ``val_loss``, ``accuracy``, ``val_accuracy``.
    path : str or os.PathLike or binary file object, optional
        Where to save the picture; not saved when None.
    axes : sequence of matplotlib.axes.Axes, optional
        Where to draw the loss, then the accuracy (when recorded); a new
        figure when None.
    best_epoch : int, optional
        Epoch (from 0) whose weights early stopping kept: marked by a
        dashed line.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.
    """
    if not history.get("loss"):
        raise ConfigError("the model has no training history to plot")
    metrics = ("loss", "accuracy") if history.get("accuracy") else ("loss",)
    if axes is None:
        fig = _figure((5 * len(metrics), 3.5))
        fig.set_layout_engine("tight")
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    axes = np.ravel(axes)
    if len(axes) < len(metrics):
        raise ConfigError(f"plotting {' and '.join(metrics)} needs {len(metrics)} axes, got {len(axes)}")
    for ax, metric in zip(axes, metrics):
        for key in (metric, f"val_{metric}"):
            if history.get(key):
                ax.plot(range(1, len(history[key]) + 1), history[key], label=key.replace("_", " "))
        if best_epoch is not None:
            ax.axvline(best_epoch + 1, color="0.4", linestyle="--", linewidth=1, label="weights kept")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    _save(axes[0].figure, path)
    return axes[0].figure


def plot_reliability_diagram(bins: pd.DataFrame, path=None, *, ax=None, title=None):
    """Draw accuracy against confidence per confidence bin, with the count of each, optionally saved as a PNG.

    A calibrated model's bars reach the diagonal: predictions made with
    confidence 0.8 are right 80 % of the time.  Bars below it are
    over-confident, above it under-confident.

    Parameters
    ----------
    bins : pandas.DataFrame
        From :func:`pipeline.evaluation.reliability_bins` (columns
        ``lower``, ``upper``, ``count``, ``confidence``, ``accuracy``).
    path : str or os.PathLike or binary file object, optional
        Where to save the picture; not saved when None.
    ax : matplotlib.axes.Axes, optional
        Draw here; a new figure when None.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.
    """
    if ax is None:
        ax = _figure((5.5, 5)).subplots()
        ax.figure.set_layout_engine("tight")
    filled = bins[bins["count"] > 0]
    widths = filled["upper"] - filled["lower"]
    ax.bar(filled["lower"], filled["accuracy"], width=widths, align="edge", color="tab:blue",
           edgecolor="white", label="accuracy of the bin")
    # The gap between what the bin claims (its mean confidence) and what it achieves.
    ax.bar(filled["lower"], filled["confidence"] - filled["accuracy"], bottom=filled["accuracy"], width=widths,
           align="edge", color="tab:red", alpha=0.3, edgecolor="tab:red", label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="calibrated")
    for lower, width, accuracy, confidence, count in zip(filled["lower"], widths, filled["accuracy"],
                                                         filled["confidence"], filled["count"]):
        ax.text(lower + width / 2, max(accuracy, confidence) + 0.01, str(count), ha="center", va="bottom",
                fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.12)
    ax.set_xlabel("confidence (probability of the predicted class)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"reliability ({int(bins['count'].sum())} predictions; counts above the bars)")
    # Below the axes: a bar can stand anywhere from 1 / n_classes to 1, at any height.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8, frameon=False)
    _save(ax.figure, path)
    return ax.figure
