"""The evaluation report as one self-contained HTML page.

:func:`write_html` turns the predictions of an evaluation into one file that a
person opens in a browser (``file://`` is enough): the model and the data it
was evaluated on, accuracy with its 95 % interval, a per-class table that
sorts by any column, the confusion matrix (counts and row-normalized), the
pictures the report drew (training curves, reliability diagram...) and, most
of all, **the mistakes**: thumbnails of the misclassified images, most
confident first, and for each class its least confident correct images.

Everything is embedded (pictures as base64 ``data:`` URLs) and nothing is
fetched: the page has no network access to need.  It reads without
JavaScript; a dozen lines of plain script only add sorting to the tables.
Every file name and label is HTML-escaped.  The size is bounded whatever the
number of images: at most `max_mistakes` mistakes and `per_class` correct
images per class (capped in all) get a thumbnail of at most `thumb_size`
pixels, with a count of those not shown.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline import report
from pipeline.atomic import atomic_write
from pipeline.names import printable
from texture.errors import TextureError
from texture.io import read_image

# After texture, which sets OpenCV's decoder caps before cv2 loads (texture.io).
import cv2  # noqa: E402

__all__ = ["write_html", "wilson_interval"]

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 6px;border:1px solid #ddd;text-align:right}
th{background:#f3f3f3}td.name,th.name{text-align:left}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:" \\2195";color:#aaa}
.kv td{text-align:left;border:none;padding:1px 8px 1px 0}.kv td:first-child{color:#666}
.big td:last-child{font-size:1.2em;font-weight:600}.cols{display:flex;flex-wrap:wrap;gap:0 3em}.muted{color:#666}
.cm td{min-width:2.2em;text-align:center}.cm td.zero{color:#bbb}.cm th.col{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left}
.scroll{overflow-x:auto}
.thumbs{display:flex;flex-wrap:wrap;gap:10px}
figure.thumb{margin:0;width:%(fig)dpx;font-size:12px;border:1px solid #ddd;padding:4px;break-inside:avoid}
figure.thumb img{display:block;margin:0 auto 3px;max-width:100%%;image-rendering:auto}
figure.thumb .path{word-break:break-all;color:#444}
.wrong{color:#b00020;font-weight:600}.right{color:#1b7f3b;font-weight:600}
img.plot{max-width:100%%;height:auto}
@media print{body{max-width:none}.scroll{overflow:visible}h2{break-after:avoid}table,figure{break-inside:avoid}}
"""

# Sorting is the page's only script: the tables read as they are without it.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      function key(row) {
        var cell = row.cells[column], v = cell.getAttribute("data-v");
        return v === null ? cell.textContent : parseFloat(v);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), c = (typeof x === "number") ? x - y : String(x).localeCompare(String(y));
        return up ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes, n : int
        Correct predictions and all predictions.
    z : float
        Normal quantile; the default gives a 95 % interval.

    Returns
    -------
    low, high : float
        Bounds in [0, 1].  Unlike the normal approximation, the interval
        stays inside [0, 1] and is not empty at an accuracy of 0 or 1.

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and
       statistical inference", J. Am. Stat. Assoc. 22 (1927) 209-212.

    Examples
    --------
    >>> [round(b, 4) for b in wilson_interval(95, 100)]
    [0.8883, 0.9785]
    """
    if n <= 0:
        raise ValueError("the interval needs at least one prediction")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At 0 or n successes one bound is exactly 0 or 1; rounding would leave it a hair inside.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def _e(value) -> str:
    # printable: a file name that is not UTF-8 is shown \xNN, and the page stays valid UTF-8.
    return html.escape(printable(str(value)), quote=True)


def _thumbnail(path, size: int) -> str | None:
    """A JPEG ``data:`` URL of the image shrunk to at most `size` pixels a side, or None if unreadable."""
    try:
        image = read_image(path)
    except (TextureError, OSError):
        return None
    scale = size / max(image.shape)
    if scale < 1:
        shape = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, shape, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", np.round(np.clip(image, 0, 1) * 255).astype(np.uint8),
                            [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode() if ok else None


def _png(path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _fmt(x, digits=3) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _table(header, rows, *, sortable=True, first_is_name=True) -> str:
    """An HTML table; a cell is text, or (text, sort value) for numbers."""
    head = "".join(f'<th class="name">{_e(h)}</th>' if i == 0 and first_is_name else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="name"' if i == 0 and first_is_name else ""
            if isinstance(cell, tuple):
                cells.append(f'<td{cls} data-v="{cell[1]:.10g}">{_e(cell[0])}</td>')
            else:
                cells.append(f"<td{cls}>{_e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    kind = ' class="sortable"' if sortable else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _confusion_html(cm, normalized: bool) -> str:
    """The confusion matrix as a table, cells shaded by their row fraction."""
    counts = cm.to_numpy()
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)
    names = [str(c) for c in cm.columns]
    head = '<th class="name">true \\ predicted</th>' + "".join(f'<th class="col">{_e(n)}</th>' for n in names)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            f = fractions[i, j]
            text = f"{f:.2f}" if normalized else str(counts[i, j])
            if counts[i, j] == 0:
                text = "" if normalized else "0"
            # Correct cells in blue, confusions in red: a confusion stands out at a glance.
            colour = (33, 102, 172) if i == j else (178, 24, 43)
            ink = "#fff" if f > 0.55 else "#222"
            style = f"background:rgba({colour[0]},{colour[1]},{colour[2]},{f:.3f});color:{ink}"
            tip = f"{name} as {names[j]}: {counts[i, j]} ({f:.1%})"
            zero = ' class="zero"' if counts[i, j] == 0 else ""
            cells.append(f'<td{zero} style="{style}" title="{_e(tip)}">{text}</td>')
        rows.append(f'<tr><th class="name">{_e(name)}</th>{"".join(cells)}</tr>')
    return f'<div class="scroll"><table class="cm"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def write_html(path, *, paths, y_true, y_pred, confidence, classes, model_info=None, data_info=None,
               command=None, history=None, best_epoch=None, pictures=None, metrics=None,
               values=None, max_mistakes: int = 60, per_class: int = 2, max_correct: int = 60,
               thumb_size: int = 96) -> Path:
    """Write the evaluation report page.

    Parameters
    ----------
    path : str or os.PathLike
        The HTML file, written atomically.
    paths : sequence of str
        The image of each prediction (thumbnails are read from here).
    y_true, y_pred : sequence
        True and predicted labels, typed alike.
    confidence : sequence of float
        Probability of each predicted label.
    classes : sequence
        The model's classes, in its order; labels of the data that the model
        does not know are added after them.
    model_info, data_info : dict, optional
        Shown as key/value lists in the header: the model (classes, features,
        network, training size, file digest) and the data evaluated.
    command : str, optional
        The command that produced the report.
    history : dict, optional
        The training history (kept for the header's epoch count).
    best_epoch : int, optional
        Epoch (from 0) whose weights were kept, shown beside the curves.
    pictures : dict of str to path, optional
        Titled PNG pictures the report drew (training curves, reliability
        diagram, grade scatter...), embedded in that order.
    metrics : dict of str to float, optional
        Further figures for the summary (expected calibration error, Brier score).
    values : sequence of float, optional
        The texture score of each image where the labels are ordinal grades:
        adds the mean absolute error per grade.
    max_mistakes, per_class, max_correct, thumb_size : int
        Bounds on the thumbnails (see the module docstring).

    Returns
    -------
    pathlib.Path
        The page written.
    """
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    confidence = np.asarray(confidence, dtype=np.float64)
    paths = [str(p) for p in paths]
    n = len(y_true)
    if not (len(y_pred) == len(confidence) == len(paths) == n) or n == 0:
        raise ValueError("paths, y_true, y_pred and confidence must be of one non-zero length")
    labels = list(classes) + sorted(set(y_true.tolist()) - set(classes), key=str)
    table = report.classification_report(y_true, y_pred, labels)
    by_class = table.drop(index=["macro avg", "accuracy"])
    predictions = _Predictions(paths, y_true, y_pred, confidence, thumb_size)

    # In the order a reader asks: how good, where it goes wrong, why, then the details.
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<h1>texture evaluation report</h1><p class=muted>{_e(date)}</p>",
             _header(model_info, data_info, command),
             _summary(table, by_class, predictions.correct, metrics),
             _mistakes(predictions, max_mistakes),
             _confusion(report.confusion_matrix(y_true, y_pred, labels)),
             _per_class(by_class),
             _pictures(pictures, history, best_epoch),
             _grades(y_true, values) if values is not None else "",
             _least_confident(predictions, labels, per_class, max_correct)]
    page = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<title>texture evaluation report</title><style>" + _STYLE % {"fig": thumb_size + 40}
            + "</style></head><body>" + "\n".join(p for p in parts if p)
            + "<script>" + _SCRIPT + "</script></body></html>")
    path = Path(path)
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


class _Predictions:
    """The evaluated images, with what the thumbnail galleries need."""

    def __init__(self, paths, y_true, y_pred, confidence, thumb_size):
        self.paths, self.y_true, self.y_pred, self.confidence = paths, y_true, y_pred, confidence
        self.correct = y_true == y_pred
        self.thumb_size = thumb_size

    def gallery(self, indices) -> str:
        return '<div class="thumbs">' + "".join(self._figure(i) for i in indices) + "</div>"

    def _figure(self, i) -> str:
        path = Path(self.paths[i])
        thumb = _thumbnail(path, self.thumb_size)
        image = (f'<img src="{thumb}" alt="{_e(path.name)}" width="{self.thumb_size + 30}">' if thumb
                 else '<div class="muted">(image not readable now)</div>')
        verdict = "right" if self.correct[i] else "wrong"
        # The name in full, its folder in grey; the whole path on hover (and in predictions.csv).
        return (f'<figure class="thumb" title="{_e(path)}">{image}<figcaption><div class="path">{_e(path.name)}'
                f'<br><span class="muted">in {_e(path.parent.name or path.parent)}/</span></div>'
                f'true <b>{_e(self.y_true[i])}</b><br>predicted <span class="{verdict}">{_e(self.y_pred[i])}</span>'
                f'<br>confidence {self.confidence[i]:.3f}</figcaption></figure>')


def _key_values(rows: dict, cls="kv") -> str:
    return f'<table class="{cls}">' + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>"
                                          for k, v in rows.items()) + "</table>"


def _header(model_info, data_info, command) -> str:
    blocks = [f"<div><h2>{title}</h2>{_key_values(info)}</div>"
              for title, info in (("Model", model_info), ("Data evaluated", data_info)) if info]
    text = f'<div class="cols">{"".join(blocks)}</div>' if blocks else ""
    return text + (f"<p>Command: <code>{_e(command)}</code></p>" if command else "")


def _summary(table, by_class, correct, metrics) -> str:
    n, k = len(correct), int(correct.sum())
    low, high = wilson_interval(k, n)
    present = by_class["support"] > 0
    rows = {"accuracy": f"{k / n:.4f} (95 % CI {low:.4f} - {high:.4f}, Wilson; {k} of {n})",
            "balanced accuracy": f"{by_class.loc[present, 'recall'].mean():.4f}",
            "macro F1": f"{table.loc['macro avg', 'f1']:.4f}",
            **{name: f"{value:.4f}" for name, value in (metrics or {}).items()}}
    absent = "" if present.all() else \
        f"<p class=muted>{int((~present).sum())} of the classes have no image in this data.</p>"
    return "<h2>Summary</h2>" + _key_values(rows, cls="kv big") + absent


def _mistakes(predictions, max_mistakes) -> str:
    wrong = np.flatnonzero(~predictions.correct)
    if not len(wrong):
        return "<h2>Mistakes (0)</h2><p>None: every image was labelled right.</p>"
    shown = wrong[np.argsort(-predictions.confidence[wrong], kind="stable")][:max_mistakes]
    rest = len(wrong) - len(shown)
    # The pairs that recur: a real confusion shows here, bad labels and bad images in the pictures.
    pairs = Counter(zip(predictions.y_true[wrong].tolist(), predictions.y_pred[wrong].tolist()))
    common = ", ".join(f"<b>{_e(t)}</b> as <b>{_e(p)}</b> {count}" for (t, p), count in pairs.most_common(8))
    return (f"<h2>Mistakes ({len(wrong)})</h2><p>Most frequent: {common}"
            f"{f' (and {len(pairs) - 8} more pairs)' if len(pairs) > 8 else ''}.</p>"
            "<p class=muted>Most confident first.</p>"
            + predictions.gallery(shown)
            + (f"<p>and {rest} more mistakes not shown (predictions.csv lists them all).</p>" if rest else ""))


def _confusion(cm) -> str:
    return ("<h2>Confusion matrix</h2><p class=muted>Rows: true class; columns: predicted class. "
            "Shading is the fraction of the row: blue on the diagonal, red off it.</p>"
            "<h3>Counts</h3>" + _confusion_html(cm, normalized=False)
            + "<h3>Row-normalized</h3>" + _confusion_html(cm, normalized=True))


def _per_class(by_class) -> str:
    return "<h2>Per class</h2><p class=muted>Click a column to sort.</p>" + _table(
        ["class", "precision", "recall", "F1", "support"],
        [[name, (_fmt(r.precision), r.precision), (_fmt(r.recall), r.recall), (_fmt(r.f1), r.f1),
          (str(int(r.support)), r.support)] for name, r in by_class.iterrows()])


def _pictures(pictures, history, best_epoch) -> str:
    if not pictures:
        return ""
    text = "<h2>Training and calibration</h2>"
    if best_epoch is not None:
        epochs = len((history or {}).get("loss", ()))
        text += (f"<p class=muted>Early stopping kept the weights of epoch {best_epoch + 1}"
                 f"{f' of {epochs}' if epochs else ''} (dashed line).</p>")
    return text + "".join(f'<h3>{_e(title)}</h3><img class=plot src="{_png(picture)}" alt="{_e(title)}">'
                          for title, picture in pictures.items())


def _grades(y_true, values) -> str:
    values, grades = np.asarray(values, dtype=np.float64), np.asarray(y_true, dtype=np.float64)
    rows = []
    for grade in np.unique(grades):
        at = grades == grade
        error, mean = np.mean(np.abs(values[at] - grade)), np.mean(values[at])
        rows.append([f"{grade:g}", (f"{error:.3f}", error), (f"{mean:.3f}", mean), (str(int(at.sum())), at.sum())])
    return "<h2>Score against grade</h2>" + _table(["true grade", "mean absolute error", "mean score", "images"], rows)


def _least_confident(predictions, labels, per_class, max_correct) -> str:
    chosen = []
    for label in labels:
        mine = np.flatnonzero(predictions.correct & (predictions.y_true == label))
        chosen.extend(mine[np.argsort(predictions.confidence[mine], kind="stable")][:per_class].tolist())
    chosen.sort(key=lambda i: predictions.confidence[i])
    rest = len(chosen) - max_correct
    return (f"<h2>Least confident correct images</h2><p class=muted>Up to {per_class} a class, "
            "least confident first.</p>" + predictions.gallery(chosen[:max_correct])
            + (f"<p>and {rest} more not shown.</p>" if rest > 0 else ""))
