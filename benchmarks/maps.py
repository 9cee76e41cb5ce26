"""Dense feature maps against the loop over extract_features on the same windows.

Single-threaded.  For each size and step, the dense ``texture.feature_map``
is timed in a fresh process (which also reports the process's peak memory);
the reference, ``FeatureExtractor.transform`` of each window's crop (what
one writes without a dense map), is timed right after it on a random sample
of the windows and scaled to all of them.  With ``--repeat N`` each pair is
timed N times in turn and the medians are reported (the ratio: the median of
the pairs' ratios), which tames a shared machine's noise.  The image is a
mosaic of real textures (KTH-TIPS when present, else scikit-image's), stored
as 8-bit grey.

Usage: python benchmarks/maps.py [--sizes 1024 2048 4096] [--steps 32 16 8] [--window 64] [--repeat N]
                                 [--sample N] [--big SIDE] [--big-steps 32 ...] [--data DIR]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

from texture import FeatureExtractor, feature_map, read_image  # noqa: E402
from texture.maps import WindowGrid  # noqa: E402

cv2.setNumThreads(1)
KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"


def textures(folder):
    """200 x 200 8-bit textures to tile the benchmark image with, and where they come from."""
    paths = sorted(Path(folder).glob("*/*.png"))[::40]
    tiles = [im for im in (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths) if im.shape == (200, 200)]
    if tiles:
        return tiles, f"KTH-TIPS ({folder})"
    photos = [getattr(data, name)() for name in ("brick", "grass", "gravel")]
    return [p[r : r + 200, c : c + 200] for p in photos for r in (0, 300) for c in (0, 300)], "scikit-image crops"


def mosaic(side, tiles, seed=0):
    """A side x side uint8 image of randomly chosen tiles."""
    rng = np.random.default_rng(seed)
    n = -(-side // 200)
    rows = [np.concatenate([tiles[k] for k in rng.integers(len(tiles), size=n)], axis=1) for _ in range(n)]
    return np.ascontiguousarray(np.concatenate(rows, axis=0)[:side, :side])


def _dense(side, window, step, folder, queue):
    cv2.setNumThreads(1)
    image = mosaic(side, textures(folder)[0])
    start = time.process_time()
    fmap = feature_map(image, window, step, max_pixels=side * side)
    seconds = time.process_time() - start
    queue.put((seconds, fmap.values.shape[0] * fmap.values.shape[1],
               resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def dense(side, window, step, folder):
    """CPU seconds of feature_map in a fresh process, windows, and the process's peak RSS in MiB."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_dense, args=(side, window, step, folder, queue))
    process.start()
    process.join()  # the result is three numbers: the queue never fills
    if process.exitcode != 0:
        raise SystemExit(f"the dense map of {side} px, step {step} failed in its process (exit {process.exitcode})")
    return queue.get(timeout=60)


def loop_per_window(image, grid, n, seed=0):
    """CPU seconds per window of FeatureExtractor.transform on crops of n random windows of the grid."""
    extractor = FeatureExtractor()
    grey = read_image(image)
    boxes = grid.boxes.reshape(-1, 4)
    sample = boxes[np.random.default_rng(seed).choice(len(boxes), size=min(n, len(boxes)), replace=False)]
    extractor.transform(grey[: grid.window, : grid.window])  # warm caches (Gabor spectra of the window shape)
    start = time.process_time()
    for y0, x0, y1, x1 in sample:
        extractor.transform(grey[y0:y1, x0:x1])
    return (time.process_time() - start) / len(sample)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--steps", type=int, nargs="+", default=[32, 16, 8])
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--sample", type=int, default=300, help="windows the loop is timed on")
    parser.add_argument("--repeat", type=int, default=1, help="pairs timed per size and step (medians)")
    parser.add_argument("--big", type=int, default=0, help="also map a BIG x BIG image: time and memory")
    parser.add_argument("--big-steps", type=int, nargs="+", default=[32], help="steps of the --big map")
    parser.add_argument("--data", default=str(KTH_TIPS))
    args = parser.parse_args()
    tiles, source = textures(args.data)
    window = args.window
    print(f"mosaic of 200 px tiles from {source}; window {window}; single-threaded CPU seconds; "
          f"loop = FeatureExtractor.transform on the crops of {args.sample} random windows, scaled")
    print(f"{'side':>6}{'step':>6}{'windows':>9}{'dense s':>9}{'us/px':>7}{'loop s':>9}{'ratio':>8}{'peak MiB':>10}")
    largest = max(args.sizes)
    runs = [(side, 16) for side in args.sizes] + [(largest, step) for step in args.steps if step != 16]
    for side, step in runs:
        pairs = []
        for _ in range(args.repeat):
            seconds, windows, peak = dense(side, window, step, args.data)
            loop = loop_per_window(mosaic(min(side, 1024), tiles), WindowGrid((min(side, 1024),) * 2, window, step),
                                   args.sample) * windows
            pairs.append((seconds, loop, loop / seconds, peak))
        seconds, loop, ratio = np.median(pairs, axis=0)[:3]
        peak = max(pair[3] for pair in pairs)
        print(f"{side:6d}{step:6d}{windows:9d}{seconds:9.1f}{seconds / side**2 * 1e6:7.2f}{loop:9.1f}"
              f"{ratio:7.1f}x{peak:10.0f}" + (f"   ratios {' '.join(f'{p[2]:.1f}' for p in pairs)}" if args.repeat > 1
                                               else ""))
        grid = WindowGrid((side, side), window, step)
        assert windows == grid.rows * grid.cols
    for step in args.big_steps if args.big else []:
        seconds, windows, peak = dense(args.big, window, step, args.data)
        n_features = len(FeatureExtractor().names)
        print(f"{args.big:6d}{step:6d}{windows:9d}{seconds:9.1f}{seconds / args.big**2 * 1e6:7.2f}{'':9}{'':8}"
              f"{peak:10.0f}   (image {args.big**2 / 2**20:.0f} MiB as uint8, "
              f"map {windows * n_features * 4 / 2**20:.0f} MiB as float32)")


if __name__ == "__main__":
    main()
