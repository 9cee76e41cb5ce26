"""Label and score maps: a texture model applied to every window of a large image.

:meth:`pipeline.TextureModel.score_map` turns a :class:`texture.FeatureMap`
into a :class:`TextureMap` (per window: label, confidence, probabilities and
the one-number score); :meth:`TextureMap.overlay` draws it over the image.
:func:`read_regions` reads the annotations that
:meth:`pipeline.TextureModel.fit_regions` trains from: a label image and its
legend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from texture.errors import ConfigError, DatasetError
from texture.io import _decode, _to_working
from texture.maps import WindowGrid

# After texture, which sets OpenCV's decoder caps before cv2 loads (texture.io).
import cv2  # noqa: E402

__all__ = ["TextureMap", "PALETTE", "preview_of", "read_regions", "pure_windows"]

#: Qualitative class colours (RGB): Tableau's 10 (matplotlib's "tab10") without
#: its grey, which would vanish over a grey image, then the lighter "tab20"
#: tints; beyond 15 classes the colours repeat.
PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120), (152, 223, 138),
    (255, 152, 150), (197, 176, 213), (219, 219, 141),
], dtype=np.uint8)
#: Longest side of the grey preview a map keeps for its pictures.
PREVIEW_SIDE = 1024


@dataclass(frozen=True)
class TextureMap:
    """A texture model's output for every window of a grid over one image.

    Attributes
    ----------
    classes : list
        Class labels in the model's order (empty for a regression model).
    labels : (rows, cols) ndarray or None
        Predicted class of each window (None for a regression model).
    confidence : (rows, cols) ndarray of float64 or None
        Probability of the predicted class.
    probabilities : (rows, cols, n_classes) ndarray of float64 or None
    value : (rows, cols) ndarray of float64 or None
        The texture score of each window where the model has one (numeric
        classes: the expected class value; regression: the output), else None.
    grid : texture.WindowGrid
        Geometry: image shape, window, step (``grid.boxes`` for the boxes).
    preview : (h, w) ndarray of uint8
        The grey image, shrunk to at most :data:`PREVIEW_SIDE` pixels on its
        longest side, for the pictures.
    """

    classes: list
    labels: np.ndarray | None
    confidence: np.ndarray | None
    probabilities: np.ndarray | None
    value: np.ndarray | None
    grid: WindowGrid
    preview: np.ndarray

    @property
    def label_index(self) -> np.ndarray | None:
        """Index into :attr:`classes` of each window's label (None for a regression model)."""
        return None if self.probabilities is None else self.probabilities.argmax(axis=-1)

    def pixel_windows(self, shape=None):
        """For every pixel of an image of ``shape`` (default: the mapped image), the window it belongs to.

        Each pixel belongs to the window whose centre is nearest
        (:meth:`texture.WindowGrid.nearest`); ``shape`` may be smaller
        (a preview), its pixels standing for the proportional full-size ones.

        Returns
        -------
        rows, cols : ndarray of intp
            Window row of each pixel row and window column of each pixel column.
        """
        height, width = self.grid.shape
        shape = (height, width) if shape is None else shape
        rows = self.grid.nearest(height, axis=0)[(np.arange(shape[0]) * height) // shape[0]]
        cols = self.grid.nearest(width, axis=1)[(np.arange(shape[1]) * width) // shape[1]]
        return rows, cols

    def area_fractions(self) -> dict:
        """Share of the image's pixels given to each class (windows weighted by the pixels nearest them)."""
        if self.labels is None:
            return {}
        rows, cols = self.pixel_windows()
        row_weight = np.bincount(rows, minlength=self.grid.rows)
        col_weight = np.bincount(cols, minlength=self.grid.cols)
        weights = np.outer(row_weight, col_weight).ravel()
        shares = np.bincount(self.label_index.ravel(), weights=weights, minlength=len(self.classes))
        return dict(zip(self.classes, (shares / weights.sum()).tolist()))

    def overlay(self, alpha=0.45):
        """RGB picture: the grey image with each window's class colour blended in, and a legend.

        Each pixel takes the colour of the window whose centre is nearest;
        a regression model's map is coloured by its value (viridis, with its
        range in the legend).

        Parameters
        ----------
        alpha : float, optional
            Weight of the class colour, 0 (grey image) to 1 (colours only).

        Returns
        -------
        (h, w + legend width, 3) ndarray of uint8
            At the preview's size, the legend panel on the right.
        """
        if not 0 <= alpha <= 1:
            raise ConfigError(f"alpha must be in [0, 1], got {alpha!r}")
        rows, cols = self.pixel_windows(self.preview.shape)
        if self.labels is not None:
            colours = PALETTE[np.arange(len(self.classes)) % len(PALETTE)]
            per_window = colours[self.label_index]
            entries = [(colours[k], str(c)) for k, c in enumerate(self.classes)]
        else:
            low, high = float(self.value.min()), float(self.value.max())
            scaled = np.uint8(np.round(255 * (self.value - low) / ((high - low) or 1.0)))
            per_window = _viridis(scaled)
            entries = [(_viridis(np.uint8(255))[()], f"{high:.3g}"), (_viridis(np.uint8(0))[()], f"{low:.3g}")]
        colour = per_window[rows[:, None], cols[None, :]].astype(np.float32)
        grey = np.repeat(self.preview[..., None].astype(np.float32), 3, axis=2)
        blended = np.uint8(np.round((1 - alpha) * grey + alpha * colour))
        return np.concatenate([blended, _legend(entries, blended.shape[0])], axis=1)


def _viridis(scaled):
    """RGB viridis colours of uint8 values (any shape)."""
    bgr = cv2.applyColorMap(np.atleast_2d(scaled).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    return bgr[..., ::-1].reshape(np.shape(scaled) + (3,))


def _legend(entries, height):
    """A white panel of ``height`` rows with a colour swatch and a name per entry."""
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1
    line = 22
    width = 40 + max(cv2.getTextSize(name, font, scale, thickness)[0][0] for _, name in entries)
    panel = np.full((max(height, line * len(entries) + 10), width, 3), 255, dtype=np.uint8)
    for k, (colour, name) in enumerate(entries):
        top = 8 + k * line
        panel[top : top + 14, 8:26] = colour
        cv2.putText(panel, name, (32, top + 12), font, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    if panel.shape[0] < height:
        panel = np.concatenate([panel, np.full((height - panel.shape[0], width, 3), 255, np.uint8)])
    return panel[:height]


def preview_of(image, max_pixels=None):
    """The grey image as uint8, shrunk by block averaging to at most :data:`PREVIEW_SIDE` on its longest side.

    Read band by band from the stored pixels, like :func:`texture.feature_map`,
    so that a large image is never held as a whole working image.
    """
    pixels, bgr, limit, path = _decode(image, max_pixels)
    factor = -(-max(pixels.shape[:2]) // PREVIEW_SIDE)
    height, width = pixels.shape[0] // factor * factor or pixels.shape[0], pixels.shape[1] // factor * factor
    band = factor * max(1, (1 << 22) // max(width, 1) // factor)
    rows = []
    for start in range(0, height, band):
        grey = _to_working(pixels[start : min(start + band, height), :width], bgr, limit, path)
        rows.append(grey.reshape(grey.shape[0] // factor, factor, -1, factor).mean(axis=(1, 3)))
    return np.uint8(np.round(np.concatenate(rows) * 255))


def read_regions(label_image, legend):
    """Read an annotated image's labels: a label image and its legend.

    Parameters
    ----------
    label_image : str, os.PathLike or array_like
        One non-negative integer per pixel (8- or 16-bit PNG, or an integer
        array); 0 is unlabelled.
    legend : str, os.PathLike, dict or DataFrame
        Pixel value -> label: a CSV with columns ``value,label``, or a dict.

    Returns
    -------
    values : (M, N) ndarray of intp
        The label image's values.
    names : dict
        Pixel value -> label, for every value the legend names.

    Raises
    ------
    DatasetError
        Naming the file: unreadable, not integer, a value without a legend
        entry, a legend without the two columns or with repeated values.
    """
    values = _label_values(label_image)
    names = _legend_entries(legend)
    missing = sorted(set(np.unique(values).tolist()) - set(names) - {0})
    if missing:
        where = f" in {label_image}" if not isinstance(label_image, np.ndarray) else ""
        raise DatasetError(f"label value(s) {missing}{where} have no entry in the legend")
    return values, names


def _label_values(label_image):
    if isinstance(label_image, np.ndarray):
        values = label_image
    else:
        values = cv2.imread(str(label_image), cv2.IMREAD_UNCHANGED)
        if values is None:
            raise DatasetError(f"cannot read the label image {label_image}")
    if values.ndim != 2 or values.dtype.kind not in "ui":
        raise DatasetError(f"a label image must be one integer per pixel (2-D, integer), got {values.dtype} "
                           f"{values.shape}" + ("" if isinstance(label_image, np.ndarray) else f": {label_image}"))
    if values.min() < 0:
        raise DatasetError("label values must not be negative")
    return values.astype(np.intp)


def _legend_entries(legend):
    if isinstance(legend, dict):
        entries = legend
    else:
        import pandas as pd

        frame = legend if isinstance(legend, pd.DataFrame) else pd.read_csv(legend, dtype={"label": str},
                                                                             keep_default_na=False)
        if not {"value", "label"} <= set(frame.columns):
            raise DatasetError(f"the legend needs columns value,label; got {list(frame.columns)}")
        if frame["value"].duplicated().any():
            raise DatasetError("the legend repeats a value")
        entries = dict(zip(frame["value"].astype(int), frame["label"]))
    entries = {int(v): label for v, label in entries.items()}
    if 0 in entries:
        raise DatasetError("label value 0 means unlabelled; the legend must not name it")
    return entries


def pure_windows(values, grid):
    """Per window, the one label value all its pixels carry, or 0 (unlabelled or mixed).

    Counts of each value per window, by the same summed-area machinery as
    the feature maps (:meth:`texture.WindowGrid.window_counts`).
    """
    n_values = int(values.max()) + 1
    counts = grid.window_counts(values, n_values)
    best = counts.argmax(axis=-1)
    pure = counts.max(axis=-1) == grid.window**2
    return np.where(pure, best, 0)

