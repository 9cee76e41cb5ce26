"""Tests for pipeline/report.py: metrics against scikit-learn, plots as PNG files."""

import numpy as np
import pytest

from pipeline.report import (
    accuracy,
    classification_report,
    confusion_matrix,
    plot_confusion_matrix,
    plot_training_curves,
)
from texture.errors import ConfigError

metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def labels():
    rng = np.random.default_rng(1)
    y_true = rng.choice(["bark", "brick", "grass", "sand"], size=60)
    y_pred = np.where(rng.random(60) < 0.7, y_true, rng.choice(["bark", "brick", "grass"], size=60))
    return y_true, y_pred


def test_accuracy_matches_sklearn(labels):
    assert accuracy(*labels) == pytest.approx(metrics.accuracy_score(*labels))


def test_confusion_matrix_matches_sklearn(labels):
    cm = confusion_matrix(*labels)
    classes = sorted(set(labels[0]) | set(labels[1]))
    assert list(cm.index) == classes and list(cm.columns) == classes
    np.testing.assert_array_equal(cm.to_numpy(), metrics.confusion_matrix(*labels, labels=classes))
    assert cm.to_numpy().sum() == len(labels[0])


def test_classification_report_matches_sklearn(labels):
    table = classification_report(*labels)
    p, r, f, s = metrics.precision_recall_fscore_support(*labels, zero_division=0)
    classes = sorted(set(labels[0]) | set(labels[1]))
    np.testing.assert_allclose(table.loc[classes, "precision"], p)
    np.testing.assert_allclose(table.loc[classes, "recall"], r)
    np.testing.assert_allclose(table.loc[classes, "f1"], f)
    np.testing.assert_array_equal(table.loc[classes, "support"], s)
    P, R, F, _ = metrics.precision_recall_fscore_support(*labels, average="macro", zero_division=0)
    np.testing.assert_allclose(table.loc["macro avg", ["precision", "recall", "f1"]], [P, R, F])
    assert table.loc["accuracy", "f1"] == pytest.approx(metrics.accuracy_score(*labels))


def test_numeric_labels_and_explicit_order():
    cm = confusion_matrix([1, 2, 3, 3], [1, 3, 3, 2], labels=[3, 2, 1])
    assert list(cm.index) == [3, 2, 1]
    assert cm.loc[3, 2] == 1 and cm.loc[2, 3] == 1 and cm.loc[1, 1] == 1
    with pytest.raises(ConfigError, match="not in labels"):
        confusion_matrix([1, 4], [1, 1], labels=[1, 2])


def test_bad_input():
    with pytest.raises(ConfigError, match="equal length"):
        accuracy([1, 2], [1])
    with pytest.raises(ConfigError, match="no predictions"):
        accuracy([], [])


def test_plots_are_png_and_deterministic(tmp_path, labels):
    pytest.importorskip("matplotlib")
    cm = confusion_matrix(*labels)
    for name in ("a.png", "b.png"):
        plot_confusion_matrix(cm, tmp_path / name)
    data = (tmp_path / "a.png").read_bytes()
    assert data.startswith(b"\x89PNG") and data == (tmp_path / "b.png").read_bytes()
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.4, 0.7, 0.9]}
    plot_training_curves(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ConfigError, match="no training history"):
        plot_training_curves({}, tmp_path / "none.png")


def test_missing_matplotlib_gives_clear_message(tmp_path, monkeypatch, labels):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    with pytest.raises(ConfigError, match=r"need matplotlib: .*pip install .*\[plot\]"):
        plot_confusion_matrix(confusion_matrix(*labels), tmp_path / "cm.png")


def test_plots_leave_the_callers_matplotlib_alone(tmp_path, labels):
    # A notebook draws inline through pyplot; a report in between must not
    # switch its backend or leave figures in pyplot's registry.
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    plt = pytest.importorskip("matplotlib.pyplot")
    backend, open_figures = matplotlib.get_backend(), plt.get_fignums()
    figures = [plot_confusion_matrix(confusion_matrix(*labels)),
               plot_training_curves({"loss": [1.0, 0.5]}, tmp_path / "curves.png")]
    assert all(isinstance(fig, Figure) and fig.axes for fig in figures)
    assert matplotlib.get_backend() == backend and plt.get_fignums() == open_figures
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # path=None saves nothing


def test_plots_draw_on_the_callers_axes(labels):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure()
    ax_cm, ax_loss, ax_accuracy = fig.subplots(1, 3)
    cm = confusion_matrix(*labels)
    assert plot_confusion_matrix(cm, ax=ax_cm) is fig
    assert ax_cm.images and len(ax_cm.texts) == cm.size
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.4, 0.7, 0.9]}
    assert plot_training_curves(history, axes=[ax_loss, ax_accuracy]) is fig
    assert [len(ax_loss.lines), len(ax_accuracy.lines)] == [2, 1]
    assert list(ax_loss.lines[1].get_ydata()) == history["val_loss"]
    with pytest.raises(ConfigError, match="needs 2 axes"):
        plot_training_curves(history, axes=[ax_loss])
