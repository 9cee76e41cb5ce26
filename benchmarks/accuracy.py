"""Accuracy of the default model on real textures, against scikit-learn references.

Protocol (see ``pipeline.evaluation``):

1. stratified 5-fold cross-validation, fixed seed: mean and standard deviation;
2. scale hold-out (KTH-TIPS file names ``<sample>-scale_<s>_im_<i>_grey.png``):
   train on six scales, test on the other three, folds {1,4,7}, {2,5,8},
   {3,6,9}.  Images of one sample at one scale are near-duplicates, so this is
   the honest figure; a random split flatters every method.

Every method sees the same feature matrix (``FeatureExtractor`` with the
default ``FeatureConfig``, extracted once per image); the normalizer is fitted
inside each training fold only.  Each figure is given twice: trained on the
images as they are (``texture train --no-augment``), and trained with the
training copies of every training image added, as ``texture train`` does by
default (``pipeline.augment.training_copies``: rescaled by half an octave
each way and blurred; test images are never copied).  Every method gets the
same training rows in both.  Ours is the default of ``texture train``: a
z-score normalizer and ``BPClassifier(**pipeline.model.DEFAULT_NETWORK)``.
The references are scikit-learn's ``StandardScaler`` + ``SVC(C=10)`` and
``StandardScaler`` + ``MLPClassifier(hidden_layer_sizes=(128,))``.

With ``--colour`` the features are extracted with
``FeatureConfig(colour="opponent")`` and every method is scored twice: on
the grey features (the first columns of the colour vector, the same values
as ``colour="grey"`` gives) and on the whole colour vector.  The issue's
quick reference features are scored beside them with ``SVC(C=10)``, grey and
colour: scikit-image GLCM properties, ``local_binary_pattern`` histograms at
the same three scales and the magnitudes of the same 24 Gabor kernels on the
grey image, and for colour the same on the opponent channels (each rescaled
to [0, 1] per image) plus their mean and standard deviation.  USPTex's
protocol is two stratified folds (``--folds 2``).

With ``--nested`` the outer test parts are not scored: each cell is the mean
accuracy of an inner cross-validation inside each outer training part, the
protocol that chose the defaults (README, "Results"): the six training scales
of a scale hold-out fold split again as {s0,s3} / {s1,s4} / {s2,s5}, a
stratified fold's training part into three stratified folds.  ``--factors``
and ``--blur`` change the training copies, to compare candidates that way.

Prints a markdown table: accuracy per protocol and method, extraction
milliseconds per image (and for its training copies) and mean training seconds per
fold.  Timings share the
machine with whatever else runs and are indicative only.

Run::

    .venv/bin/python benchmarks/accuracy.py ../shared/datasets/kth_tips_grey   # from a clone next to shared/
    .venv/bin/python benchmarks/accuracy.py            # the bundled sample data
    .venv/bin/python benchmarks/accuracy.py DIR --nested --blur 2.0   # a candidate, validated inside the training parts
    .venv/bin/python benchmarks/accuracy.py ../shared/datasets/usptex --colour --folds 2   # grey vs colour
"""

import os

# Single-threaded BLAS for comparable timings; must be set before numpy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler as SkStandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from pipeline import BPClassifier  # noqa: E402
from pipeline.augment import BLUR_SIGMA, SCALE_FACTORS, training_copies  # noqa: E402
from pipeline.data import kth_tips_scale, load_folder, load_sample  # noqa: E402
from pipeline.evaluation import cross_validate, group_holdout, stratified_kfold  # noqa: E402
from pipeline.model import DEFAULT_NETWORK  # noqa: E402
from pipeline.normalize import make_scaler  # noqa: E402
from texture import DatasetError, FeatureConfig, FeatureExtractor, read_image  # noqa: E402
from texture.colour import opponent_channels  # noqa: E402

SCALE_FOLDS = ({1, 4, 7}, {2, 5, 8}, {3, 6, 9})


def methods(seed):
    """(name, unfitted estimator, normalizer factory) of ours and the references."""
    return [
        ("ours: z-score + BPClassifier", BPClassifier(random_state=seed, **DEFAULT_NETWORK), make_scaler),
        ("StandardScaler + SVC(C=10)", SVC(C=10), SkStandardScaler),
        ("StandardScaler + MLP(128)", MLPClassifier((128,), random_state=seed), SkStandardScaler),
    ]


def load(folder):
    """Image table of `folder` (KTH-TIPS scales as groups when the names carry them), or the sample."""
    if folder is None:
        return "bundled sample (6 classes x 25)", load_sample()
    table = load_folder(folder)
    try:
        table["group"] = table["path"].map(kth_tips_scale)
    except DatasetError:
        pass  # file names without a scale: no scale hold-out
    name = f"{Path(folder).name} ({table['label'].nunique()} classes, {len(table)} images)"
    return name, table


def _features(path, factors, blur_sigma, config):
    """Features of one image and of its training copies, with the seconds each took."""
    extractor = FeatureExtractor(config)
    start = time.process_time()
    image = read_image(path, colour=extractor.config.reads_colour)
    row = extractor.transform(image, path=path)
    middle = time.process_time()
    copies = [extractor.transform(copy, path=path) for copy in training_copies(image, factors, blur_sigma)]
    return row, copies, middle - start, time.process_time() - middle


def extract(paths, jobs, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA, config=None):
    """Features (default: default config) of the images and of their training copies, with milliseconds per image.

    Returns
    -------
    X : (n, n_features) ndarray
    copies : list of (n, n_features) ndarray
        One matrix per kind of copy, row ``i`` from a copy of image ``i``.
    ms_image, ms_copies : float
        CPU time per image, in its worker: reading and extraction; making and
        extracting all its copies.
    """
    with ProcessPoolExecutor(jobs) as pool:
        work = partial(_features, factors=factors, blur_sigma=blur_sigma, config=config)
        rows, copy_rows, image_seconds, copy_seconds = zip(*pool.map(work, paths, chunksize=16))
    copies = list(np.array(copy_rows).transpose(1, 0, 2))
    return np.array(rows), copies, 1000 * np.mean(image_seconds), 1000 * np.mean(copy_seconds)


def _reference_channel(channel):
    """The quick reference features of one channel in [0, 1], with scikit-image and SciPy."""
    from scipy.signal import fftconvolve
    from skimage.feature import graycomatrix, graycoprops, local_binary_pattern
    from skimage.filters import gabor_kernel

    config = FeatureConfig()
    q = np.minimum(channel * config.glcm_levels, config.glcm_levels - 1).astype(np.uint8)
    P = graycomatrix(q, config.glcm_distances, np.deg2rad(config.glcm_angles), config.glcm_levels,
                     symmetric=True, normed=True)
    values = [graycoprops(P, prop).mean(axis=1)
              for prop in ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-image's warning about float images
        for n_points, radius in config.lbp_scales:
            codes = local_binary_pattern(channel, n_points, radius, "uniform")
            values.append(np.bincount(codes.astype(np.intp).ravel(), minlength=n_points + 2) / codes.size)
    for frequency in config.gabor_frequencies:
        for k in range(config.gabor_orientations):
            kernel = gabor_kernel(frequency, np.pi * k / config.gabor_orientations)
            magnitude = np.abs(fftconvolve(channel, kernel, mode="same"))
            values.append([magnitude.mean(), magnitude.std()])
    return np.concatenate([np.ravel(v) for v in values])


def _reference(path):
    """The quick reference features of one image: grey, and grey + opponent channels + their mean and std."""
    from skimage.exposure import rescale_intensity

    rgb = read_image(path, colour=True)
    grey = read_image(path)
    row = _reference_channel(grey)
    if rgb.ndim == 2:
        return row, row
    channels = opponent_channels(rgb)
    chroma = [_reference_channel(rescale_intensity(c, out_range=(0.0, 1.0))) for c in channels]
    stats = [f(c) for c in channels for f in (np.mean, np.std)]
    return row, np.concatenate([row, *chroma, stats])


def reference_features(paths, jobs):
    """The quick reference feature matrices, grey and colour."""
    with ProcessPoolExecutor(jobs) as pool:
        grey, colour = zip(*pool.map(_reference, paths, chunksize=16))
    return np.array(grey), np.array(colour)


def protocols(table, seed, n_splits):
    """(name, splits) of the stratified k-fold and, when the images have scales, the scale hold-out."""
    labels = table["label"].to_numpy()
    found = [(f"stratified {n_splits}-fold", stratified_kfold(labels, n_splits, seed))]
    if table["group"].notna().all():
        splits = group_holdout(table["group"].to_numpy(), SCALE_FOLDS)
        found.append(("scale hold-out", splits))
    return found


def inner_splits(table, protocol, train, seed):
    """Splits of the training part `train` for nested validation (indices into the whole table)."""
    if protocol == "scale hold-out":
        scales = sorted(set(table["group"].to_numpy()[train].tolist()))
        inner = group_holdout(table["group"].to_numpy()[train], [set(scales[i::3]) for i in range(3)])
    else:
        inner = stratified_kfold(table["label"].to_numpy()[train], 3, seed + 1)
    return [(train[fit], train[validate]) for fit, validate in inner]


def scores(estimator, X, y, splits, *, scaler, augmented, nested):
    """Accuracy and fitting seconds of each outer split, or of its inner validation when `nested`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if nested is None:
            found = cross_validate(estimator, X, y, splits, scaler=scaler, augmented=augmented)
            return [s.accuracy for s in found], [s.fit_seconds for s in found]
        inner = [cross_validate(estimator, X, y, nested(train), scaler=scaler, augmented=augmented)
                 for train, _ in splits]
    return ([np.mean([s.accuracy for s in fold]) for fold in inner],
            [s.fit_seconds for fold in inner for s in fold])


def summary(protocol, accuracy):
    """Mean and standard deviation in percent, or for the scale hold-out the mean and each fold."""
    if protocol == "scale hold-out":
        return f"{100 * np.mean(accuracy):.1f} ({' / '.join(f'{100 * a:.1f}' for a in accuracy)})"
    return f"{100 * np.mean(accuracy):.1f} ± {100 * np.std(accuracy):.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", help="class-per-folder image tree (default: the bundled sample)")
    parser.add_argument("--sample", action="store_true", help="the bundled sample data (the default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and the networks")
    parser.add_argument("--folds", type=int, default=5, help="folds of the stratified cross-validation")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="extraction processes (default: all CPUs)")
    parser.add_argument("--nested", action="store_true",
                        help="score inner validation inside each training part, never the test parts")
    parser.add_argument("--factors", type=float, nargs="*", default=SCALE_FACTORS,
                        help="zoom factors of the rescaled training copies (default: 2**-0.5 2**0.5)")
    parser.add_argument("--blur", type=float, default=BLUR_SIGMA,
                        help="sigma in pixels of the blurred training copy, 0 for none (default: %(default)s)")
    parser.add_argument("--colour", action="store_true",
                        help="grey and colour features (FeatureConfig(colour='opponent')), and the quick "
                             "reference features grey and colour")
    parser.add_argument("--methods", default="ours,svc,mlp",
                        help="comma-separated subset of ours,svc,mlp (default: all)")
    args = parser.parse_args(argv)
    folder = None if args.sample else args.folder

    name, table = load(folder)
    config = FeatureConfig(colour="opponent") if args.colour else FeatureConfig()
    paths = table["path"].tolist()
    X, copies, ms_image, ms_copies = extract(paths, args.jobs, args.factors, args.blur or None, config)
    y = table["label"].to_numpy()
    print(f"{name}: {X.shape[1]} features, {ms_image:.1f} ms/image, {ms_copies:.1f} ms/image for its copies")
    # The grey features are the first columns of a colour vector.
    n_grey = len(FeatureExtractor(FeatureConfig(**{**config.to_dict(), "colour": "grey"})).names)
    feature_sets = [("grey", X[:, :n_grey], [c[:, :n_grey] for c in copies])]
    if args.colour:
        feature_sets.append(("colour", X, copies))
    wanted = args.methods.split(",")
    chosen = [m for m, key in zip(methods(args.seed), ("ours", "svc", "mlp")) if key in wanted]

    rows = []

    def report(features, method, estimator, scaler, matrix, training_copies_):
        for protocol, splits in protocols(table, args.seed, args.folds):
            nested = partial(inner_splits, table, protocol, seed=args.seed) if args.nested else None
            cells = []
            for augmented in ([], training_copies_):
                if augmented is None:
                    cells += ["", ""]
                    continue
                accuracy, seconds = scores(estimator, matrix, y, splits, scaler=scaler, augmented=augmented,
                                           nested=nested)
                cells += [summary(protocol, accuracy), f"{np.mean(seconds):.1f}"]
            rows.append([features, protocol, method] + cells)
            print("  " + " | ".join(rows[-1]), flush=True)

    for method, estimator, scaler in chosen:
        for features, matrix, training_copies_ in feature_sets:
            report(features, method, estimator, scaler, matrix, training_copies_)
    if args.colour:
        start = time.perf_counter()
        grey_reference, colour_reference = reference_features(paths, args.jobs)
        print(f"reference features: {time.perf_counter() - start:.0f} s", flush=True)
        svc = methods(args.seed)[1]
        for features, matrix in (("reference grey", grey_reference), ("reference colour", colour_reference)):
            report(features, svc[0], svc[1], svc[2], matrix, None)

    if args.nested:
        print("\nNested validation inside the training parts (the test parts were not scored):")
    print(f"\n{name}; {X.shape[1]} features ({config.colour}): extraction {ms_image:.0f} ms/image, "
          f"+{ms_copies:.0f} ms/image for its training copies (texture train).\n")
    print("| features | protocol | method | accuracy %, images only | training s/fold "
          "| accuracy %, + training copies (default) | training s/fold |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
