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
from texture.io import open_image
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
        Geometry: image shape, window, step; :attr:`window`, :attr:`step`
        and :attr:`boxes` read it, as on :class:`texture.FeatureMap`.
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
    def window(self) -> int:
        """Window side in pixels (as :attr:`texture.FeatureMap.window`)."""
        return self.grid.window

    @property
    def step(self) -> int:
        """Distance between consecutive windows, in pixels."""
        return self.grid.step

    @property
    def boxes(self) -> np.ndarray:
        """``(rows, cols, 4)``: ``y0, x0, y1, x1`` of each window (see :attr:`texture.WindowGrid.boxes`)."""
        return self.grid.boxes

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
        a regression model's map is coloured by its value (viridis, with a
        colour bar of its range).

        Parameters
        ----------
        alpha : float, optional
            Weight of the class colour, 0 (grey image) to 1 (colours only).

        Returns
        -------
        (h, w + legend width, 3) ndarray of uint8
            At the preview's size, the legend panel on the right (white rows
            below the picture when the legend is taller than it).
        """
        if not 0 <= alpha <= 1:
            raise ConfigError(f"alpha must be in [0, 1], got {alpha!r}")
        rows, cols = self.pixel_windows(self.preview.shape)
        if self.labels is not None:
            colours = PALETTE[np.arange(len(self.classes)) % len(PALETTE)]
            per_window = colours[self.label_index]
            panel = _legend([(colours[k], str(c)) for k, c in enumerate(self.classes)])
        else:
            per_window, panel = self._colours("value", len(self.preview))
        colour = per_window[rows[:, None], cols[None, :]].astype(np.float32)
        grey = np.repeat(self.preview[..., None].astype(np.float32), 3, axis=2)
        blended = np.uint8(np.round((1 - alpha) * grey + alpha * colour))
        return _beside(blended, panel)

    def heat_map(self, quantity="value"):
        """RGB picture of one number per window, with a colour bar naming it and giving its scale.

        Each pixel takes the colour of the window whose centre is nearest.

        Parameters
        ----------
        quantity : {"value", "confidence"}
            ``"value"``: the texture score (viridis), on the scale of the
            class values (their smallest to their largest) for a model with
            numeric classes, or from the map's smallest to its largest value
            for a regression model.  ``"confidence"``: the probability of the
            predicted class (inferno), on its full scale 0 to 1.

        Returns
        -------
        (h, w + colour bar width, 3) ndarray of uint8
            At the preview's size (white rows below when the colour bar needs
            more height), the colour bar on the right.

        Raises
        ------
        ConfigError
            An unknown quantity, or one the map does not have (no value when
            the classes are not numbers, no confidence for a regression model).
        """
        per_window, panel = self._colours(quantity, len(self.preview))
        rows, cols = self.pixel_windows(self.preview.shape)
        return _beside(per_window[rows[:, None], cols[None, :]], panel)

    def _colours(self, quantity, height):
        """Each window's colour for `quantity` and the colour bar panel of its scale (`height` rows if it fits)."""
        if quantity not in ("value", "confidence"):
            raise ConfigError(f"quantity must be 'value' or 'confidence', got {quantity!r}")
        numbers = getattr(self, quantity)
        if numbers is None:
            why = "its classes are not numbers" if quantity == "value" else "it is a regression model"
            raise ConfigError(f"this map has no {quantity}: {why}")
        if quantity == "confidence":
            colormap, low, high, ticks = cv2.COLORMAP_INFERNO, 0.0, 1.0, None
            title = ["confidence", "(probability of", "the label)"]
        elif self.classes:
            colormap, (low, high) = cv2.COLORMAP_VIRIDIS, (min(map(float, self.classes)), max(map(float, self.classes)))
            ticks = sorted(map(float, self.classes)) if len(self.classes) <= 11 else None
            title = ["score", "(expected class", "value)"]
        else:
            colormap, low, high, ticks = cv2.COLORMAP_VIRIDIS, float(numbers.min()), float(numbers.max()), None
            title = ["score", "(model output;", f"map: {low:.3g} to {high:.3g})"]
        scaled = np.uint8(np.round(255 * np.clip((numbers - low) / ((high - low) or 1.0), 0, 1)))
        return _colormap(scaled, colormap), _colour_bar(colormap, low, high, title, ticks, height)


def _colormap(scaled, colormap):
    """RGB colours of uint8 values (any shape) in an OpenCV colour map."""
    bgr = cv2.applyColorMap(np.atleast_2d(scaled).astype(np.uint8), colormap)
    return bgr[..., ::-1].reshape(np.shape(scaled) + (3,))


#: Text of the legends and colour bars: OpenCV's Hershey font, anti-aliased.
_FONT, _SCALE, _THICKNESS = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1
_LINE = 22  # pixels per line of text


def _text(panel, text, x, y):
    cv2.putText(panel, text, (x, y), _FONT, _SCALE, (0, 0, 0), _THICKNESS, cv2.LINE_AA)


def _text_width(text):
    return cv2.getTextSize(text, _FONT, _SCALE, _THICKNESS)[0][0]


def _legend(entries):
    """A white panel with a colour swatch and a name per entry."""
    width = 40 + max(_text_width(name) for _, name in entries)
    panel = np.full((_LINE * len(entries) + 10, width, 3), 255, dtype=np.uint8)
    for k, (colour, name) in enumerate(entries):
        top = 8 + k * _LINE
        panel[top : top + 14, 8:26] = colour
        _text(panel, name, 32, top + 12)
    return panel


def _nice_ticks(low, high):
    """About five round numbers from `low` to `high` (1, 2, 2.5 or 5 times a power of ten apart)."""
    span = (high - low) or 1.0
    step = min((m * 10.0 ** np.floor(np.log10(span / 4)) for m in (1, 2, 2.5, 5, 10)),
               key=lambda step: abs(span / step - 4))
    first = np.ceil(low / step - 1e-9) * step
    return [t for t in np.arange(first, high + step * 1e-6, step)]


def _colour_bar(colormap, low, high, title, ticks, height):
    """A white panel: the title lines, then a vertical bar of `colormap` from `high` (top) to `low`, with ticks.

    The bar is 200 px long, shorter to fit in `height` rows, but at least
    120 px (the numbers of the scale stay apart).
    """
    ticks = _nice_ticks(low, high) if ticks is None else ticks
    labels = [f"{t + 0.0:.4g}" for t in ticks]  # + 0.0: no "-0"
    top = 10 + _LINE * len(title)
    bar_height = int(np.clip(height - top - 16, 120, 200))
    width = max(48 + max(map(_text_width, labels)), 24 + max(map(_text_width, title)))
    panel = np.full((top + bar_height + 16, width, 3), 255, dtype=np.uint8)
    for k, line in enumerate(title):
        _text(panel, line, 8, 8 + _LINE * k + 14)
    levels = np.uint8(np.round(np.linspace(255, 0, bar_height)))
    panel[top : top + bar_height, 10:30] = _colormap(levels, colormap)[:, None]
    for tick, label in zip(ticks, labels):
        y = top + int(round((high - tick) / ((high - low) or 1.0) * (bar_height - 1)))
        panel[y, 30:36] = 0
        _text(panel, label, 40, y + 5)
    return panel


def _beside(picture, panel):
    """`picture` with `panel` on its right, the shorter one padded with white rows below."""
    height = max(len(picture), len(panel))
    pad = [np.full((height - len(part), part.shape[1], 3), 255, np.uint8) for part in (picture, panel)]
    return np.concatenate([np.concatenate([picture, pad[0]]), np.concatenate([panel, pad[1]])], axis=1)


def preview_of(image, max_pixels=None):
    """The grey image as uint8, shrunk by block averaging to at most :data:`PREVIEW_SIDE` on its longest side.

    Read band by band from the stored pixels, like :func:`texture.feature_map`,
    so that a large image is never held as a whole working image.
    """
    stored = open_image(image, max_pixels=max_pixels)
    factor = -(-max(stored.shape) // PREVIEW_SIDE)
    height, width = stored.shape[0] // factor * factor or stored.shape[0], stored.shape[1] // factor * factor
    band = factor * max(1, (1 << 22) // max(width, 1) // factor)
    rows = []
    for start in range(0, height, band):
        grey = stored.grey(slice(start, min(start + band, height)))[:, :width]
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

