"""Accuracy of label maps on KTH-TIPS mosaics whose scales the model never saw.

Two mosaics are built from the images of the held-out scales: a grid of
square blocks, one class each, and irregular regions (a Voronoi partition of
random seeds).  Each class's region is cut from that class's "canvas", a
tiling of its held-out images, so every region is one texture.  Two models,
trained on the other scales only, map them:

* ``whole images``: ``TextureModel()`` trained on whole 200 px images, as
  ``texture train`` does;
* ``windows``: ``TextureModel(window=W)`` trained on the W px windows of the
  same images (and of their training copies).

Reported, for window W and step S: the accuracy over the windows that lie
inside one region, and over all pixels (each pixel takes the label of the
window whose centre is nearest; how sharp are the borders?).  Writes the
overlay of the irregular mosaic by the window model to ``--picture``.

Usage: python benchmarks/mosaic.py [--data DIR] [--window 64] [--step 16] [--picture overlay.jpg]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from pipeline import TextureModel  # noqa: E402
from pipeline.data import kth_tips_scale  # noqa: E402
from pipeline.maps import pure_windows  # noqa: E402

cv2.setNumThreads(1)
KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"
HELD_OUT = {3, 4}  # scales at which every class has 200 x 200 images
SIDE = 1000


def load(folder):
    """(path, class, scale) of every image."""
    paths = sorted(Path(folder).glob("*/*.png"))
    if not paths:
        raise SystemExit(f"KTH-TIPS not found in {folder} (pass --data)")
    return [(p, p.parent.name, int(kth_tips_scale(str(p)))) for p in paths]


def canvases(table, classes):
    """Per class, a SIDE x SIDE tiling of its held-out 200 px images (each image used in turn)."""
    out = []
    for name in classes:
        images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p, c, s in table if c == name and s in HELD_OUT]
        images = [im for im in images if im.shape == (200, 200)]
        n = SIDE // 200
        rows = [np.concatenate([images[(r * n + c) % len(images)] for c in range(n)], axis=1) for r in range(n)]
        out.append(np.concatenate(rows, axis=0))
    return out


def grid_layout(n_classes, block=250):
    """Label image of square blocks, the classes in turn (1-based; 0 is unlabelled)."""
    index = np.arange(SIDE) // block
    n = SIDE // block
    return (index[:, None] * n + index[None, :]) % n_classes + 1


def voronoi_layout(n_classes, seeds=14, seed=0):
    """Label image of the Voronoi cells of random seeds, each cell one class (every class at least once)."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, SIDE, size=(seeds, 2))
    labels = np.concatenate([np.arange(n_classes), rng.integers(n_classes, size=seeds - n_classes)])
    rng.shuffle(labels)
    y, x = np.mgrid[:SIDE, :SIDE]
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
    parser.add_argument("--data", default=str(KTH_TIPS))
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--step", type=int, default=16)
    parser.add_argument("--picture", default="", help="write the irregular mosaic's overlay (window model) here")
    parser.add_argument("--augment", type=int, default=1, help="train with training copies (1) or without (0)")
    args = parser.parse_args()
    table = load(args.data)
    classes = sorted({c for _, c, _ in table})
    train = [(str(p), c) for p, c, s in table if s not in HELD_OUT]
    canvas = canvases(table, classes)
    mosaics = {"grid of 250 px blocks": grid_layout(len(classes)), "irregular regions": voronoi_layout(len(classes))}
    print(f"KTH-TIPS: {len(classes)} classes; trained on scales {sorted(set(range(1, 10)) - HELD_OUT)} "
          f"({len(train)} images), mosaics {SIDE} x {SIDE} px from scales {sorted(HELD_OUT)}; "
          f"maps at window {args.window}, step {args.step}")
    paths, labels = zip(*train)
    models = {
        "whole images": TextureModel(augment=bool(args.augment)),
        f"windows of {args.window} px": TextureModel(augment=bool(args.augment), window=args.window),
    }
    print(f"{'model':22}{'mosaic':24}{'windows inside':>16}{'accuracy':>10}{'pixels':>9}{'train s':>9}")
    for name, model in models.items():
        start = time.process_time()
        model.fit(list(paths), list(labels))
        seconds = time.process_time() - start
        for mosaic_name, layout in mosaics.items():
            tmap = model.score_map(compose(layout, canvas), window=args.window, step=args.step)
            inside_accuracy, n_inside, pixel_accuracy = accuracy(tmap, layout, classes)
            print(f"{name:22}{mosaic_name:24}{n_inside:16d}{inside_accuracy:10.3f}{pixel_accuracy:9.3f}"
                  f"{seconds:9.0f}")
            if args.picture and model.window and mosaic_name.startswith("irregular"):
                picture = cv2.resize(tmap.overlay(), None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
                cv2.imwrite(args.picture, picture[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
