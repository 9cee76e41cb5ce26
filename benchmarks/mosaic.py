"""Accuracy of label maps on mosaics of textures whose images the model never saw.

Two mosaics are built from held-out images: a grid of square blocks, one
class each, and irregular regions (a Voronoi partition of random seeds).
Each class's region is cut from that class's "canvas", a tiling of its
held-out images, so every region is one texture.  Two models, trained on the
other images only, map them:

* ``whole images``: ``TextureModel()`` trained on whole images, as
  ``texture train`` does;
* ``windows``: ``TextureModel(window=W)`` trained on the W px windows of the
  same images (and of their training copies).

Two sources of images:

* KTH-TIPS (``--data``, default ../shared/datasets/kth_tips_grey): 10
  classes, trained on scales 1, 2, 5-9, mosaics of 1000 px from the 200 px
  images of scales 3 and 4 (scales the model never saw);
* ``--sample``: the bundled sample data (datasets/textures, CC0): 6 classes,
  trained on the first 13 of each class's 25 images, mosaics of 480 px tiled
  from the other 12; windows of 48 px by default (the images are 96 px).

Reported, for window W and step S: the accuracy over the windows that lie
inside one region, and over all pixels (each pixel takes the label of the
window whose centre is nearest; how sharp are the borders?).  Writes the
overlay of the irregular mosaic by the window model to ``--picture``, with
the true regions' borders in white.

Usage: python benchmarks/mosaic.py [--data DIR | --sample] [--window 64] [--step 16] [--picture overlay.jpg]
The README's picture: python benchmarks/mosaic.py --sample --picture docs/sample_mosaic_overlay.png
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from pipeline import TextureModel  # noqa: E402
from pipeline.data import kth_tips_scale  # noqa: E402
from pipeline.maps import pure_windows  # noqa: E402
from pipeline.sample import sample_root  # noqa: E402

cv2.setNumThreads(1)
KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"
HELD_OUT = {3, 4}  # KTH-TIPS scales at which every class has 200 x 200 images
SAMPLE_TRAIN = 13  # bundled sample: the first 13 images of each class train, the other 12 make the mosaics


@dataclass
class Source:
    """What a mosaic run needs: the training images and, per class, the held-out images of its canvas."""

    classes: list
    train: list  # (path, class)
    held_out: dict  # class -> list of 2-D uint8 arrays, all of one size
    side: int  # mosaic side in pixels, a multiple of the held-out images' side
    block: int  # block side of the grid mosaic
    seeds: int  # regions of the irregular mosaic
    window: int  # default window
    description: str


def kth_tips(folder) -> Source:
    """KTH-TIPS: trained on scales other than :data:`HELD_OUT`, mosaics from the 200 px images of those."""
    paths = sorted(Path(folder).glob("*/*.png"))
    if not paths:
        raise SystemExit(f"KTH-TIPS not found in {folder} (pass --data, or --sample for the bundled data)")
    table = [(p, p.parent.name, int(kth_tips_scale(str(p)))) for p in paths]
    classes = sorted({c for _, c, _ in table})
    held_out = {}
    for name in classes:
        images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p, c, s in table if c == name and s in HELD_OUT]
        held_out[name] = [im for im in images if im.shape == (200, 200)]
    train = [(str(p), c) for p, c, s in table if s not in HELD_OUT]
    return Source(classes, train, held_out, side=1000, block=250, seeds=14, window=64,
                  description=f"KTH-TIPS: {len(classes)} classes; trained on scales "
                              f"{sorted(set(range(1, 10)) - HELD_OUT)} ({len(train)} images), mosaics from "
                              f"scales {sorted(HELD_OUT)}")


def bundled_sample() -> Source:
    """The bundled sample data: the first :data:`SAMPLE_TRAIN` images of each class train, the rest tile."""
    root = sample_root() / "textures"
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    train, held_out = [], {}
    for name in classes:
        paths = sorted((root / name).glob("*.png"))
        train += [(str(p), name) for p in paths[:SAMPLE_TRAIN]]
        held_out[name] = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths[SAMPLE_TRAIN:]]
    # 12 regions: the fewest from 10 up with every class on at least 5 % of the mosaic (seed 0).
    return Source(classes, train, held_out, side=480, block=160, seeds=12, window=48,
                  description=f"bundled sample: {len(classes)} classes; trained on {len(train)} images, "
                              f"mosaics from the other {sum(map(len, held_out.values()))}")


def canvases(source):
    """Per class, a side x side tiling of its held-out images (each image used in turn)."""
    out = []
    for name in source.classes:
        images = source.held_out[name]
        n = source.side // images[0].shape[0]
        rows = [np.concatenate([images[(r * n + c) % len(images)] for c in range(n)], axis=1) for r in range(n)]
        out.append(np.concatenate(rows, axis=0))
    return out


def grid_layout(n_classes, side, block):
    """Label image of square blocks, the classes in turn (1-based; 0 is unlabelled)."""
    index = np.arange(side) // block
    n = side // block
    return (index[:, None] * n + index[None, :]) % n_classes + 1


def voronoi_layout(n_classes, side, seeds, seed=0):
    """Label image of the Voronoi cells of random seeds, each cell one class (every class at least once)."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, side, size=(seeds, 2))
    labels = np.concatenate([np.arange(n_classes), rng.integers(n_classes, size=seeds - n_classes)])
    rng.shuffle(labels)
    y, x = np.mgrid[:side, :side]
    nearest = np.argmin((y[..., None] - points[:, 0]) ** 2 + (x[..., None] - points[:, 1]) ** 2, axis=-1)
    return labels[nearest] + 1


def compose(layout, canvas):
    return np.choose(layout - 1, canvas).astype(np.uint8)


def accuracy(tmap, layout, classes):
    """(accuracy over windows inside one region, number of them, accuracy over all pixels)."""
    truth = pure_windows(layout, tmap.grid)
    predicted = np.searchsorted(classes, tmap.labels) + 1
    inside = truth > 0
    rows, cols = tmap.pixel_windows()
    pixels = predicted[rows[:, None], cols[None, :]] == layout
    return (predicted[inside] == truth[inside]).mean(), int(inside.sum()), pixels.mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(KTH_TIPS), help="KTH-TIPS folder")
    parser.add_argument("--sample", action="store_true", help="use the bundled sample data instead of KTH-TIPS")
    parser.add_argument("--window", type=int, default=None, help="default: 64 (KTH-TIPS), 48 (--sample)")
    parser.add_argument("--step", type=int, default=16)
    parser.add_argument("--picture", default="", help="write the irregular mosaic's overlay (window model) here")
    parser.add_argument("--augment", type=int, default=1, help="train with training copies (1) or without (0)")
    args = parser.parse_args()
    source = bundled_sample() if args.sample else kth_tips(args.data)
    window = args.window or source.window
    classes, canvas, n = source.classes, canvases(source), len(source.classes)
    mosaics = {f"grid of {source.block} px blocks": grid_layout(n, source.side, source.block),
               "irregular regions": voronoi_layout(n, source.side, source.seeds)}
    print(f"{source.description}; mosaics {source.side} x {source.side} px; maps at window {window}, step {args.step}")
    paths, labels = zip(*source.train)
    models = {
        "whole images": TextureModel(augment=bool(args.augment)),
        f"windows of {window} px": TextureModel(augment=bool(args.augment), window=window),
    }
    print(f"{'model':22}{'mosaic':24}{'windows inside':>16}{'accuracy':>10}{'pixels':>9}{'train s':>9}")
    for name, model in models.items():
        start = time.process_time()
        model.fit(list(paths), list(labels))
        seconds = time.process_time() - start
        for mosaic_name, layout in mosaics.items():
            tmap = model.score_map(compose(layout, canvas), window=window, step=args.step)
            inside_accuracy, n_inside, pixel_accuracy = accuracy(tmap, layout, classes)
            print(f"{name:22}{mosaic_name:24}{n_inside:16d}{inside_accuracy:10.3f}{pixel_accuracy:9.3f}"
                  f"{seconds:9.0f}")
            if args.picture and model.window and mosaic_name.startswith("irregular"):
                write_picture(args.picture, with_borders(tmap.overlay(), layout), source.side)


def with_borders(overlay, layout):
    """The overlay with the true regions' borders drawn in white (the overlay is at the mosaic's size)."""
    border = np.zeros(layout.shape, dtype=bool)
    border[:, 1:] |= layout[:, 1:] != layout[:, :-1]
    border[1:, :] |= layout[1:, :] != layout[:-1, :]
    picture = overlay.copy()
    picture[:layout.shape[0], :layout.shape[1]][border] = 255
    return picture


def write_picture(path, picture, width, side=400):
    """The overlay (its map `width` px wide, then the legend) as PNG or JPEG by the path's suffix.

    The map is shrunk to `side` pixels (a PNG of textures is large: ~380 KB
    at 480 px, ~250 KB at 400 px), the legend kept sharp beside it.
    """
    scale = min(1.0, side / width)
    small = cv2.resize(picture[:, :width], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    legend = picture[: len(small), width:]
    picture = np.concatenate([small, legend], axis=1)
    if Path(path).suffix.lower() == ".png":
        cv2.imwrite(path, picture[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    else:
        cv2.imwrite(path, picture[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
