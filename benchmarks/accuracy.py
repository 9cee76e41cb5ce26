"""Accuracy of the default model on real textures, against scikit-learn references.

Protocols (see ``pipeline.evaluation``):

1. stratified k-fold cross-validation, fixed seed: mean and standard
   deviation (``--folds 2`` gives the half/half splits of UIUC and Brodatz);
2. scale hold-out (KTH-TIPS file names ``<sample>-scale_<s>_im_<i>_grey.png``):
   train on six scales, test on the other three, folds {1,4,7}, {2,5,8},
   {3,6,9}.  Images of one sample at one scale are near-duplicates, so this is
   the honest figure; a random split flatters every method;
3. ``--noise``: trained as in 1 on the images as they are, tested on the same
   test images with additive Gaussian noise at 30, 20, 10 and 5 dB SNR
   (noise variance = image variance / 10^(SNR/10), the protocol of Kylberg
   and Sintorn, 2013; one noise draw per image and SNR, seeded; values
   clipped to [0, 1] as an 8-bit image would be);
4. ``--rotation``: the same, tested on the test images rotated by 30, 45 and
   90 degrees (bicubic, 90 exactly) and cropped to the largest centred
   square inside the rotated image (141 x 141 of a 200 x 200 image at 45);
5. ``--exposure``: the same, tested on the test images multiplied by 0.6
   and by 1.4 (clipped to 1) and raised to the power 0.7 (another exposure
   or tone curve).

Methods.  *Ours* is the default of ``texture train``: the default
``FeatureConfig`` (extracted once per image), a z-score normalizer and
``BPClassifier(**pipeline.model.default_network(n_classes))``.  On the same feature
matrix: scikit-learn's ``StandardScaler`` + ``SVC(C=10)`` and
``StandardScaler`` + ``MLPClassifier(hidden_layer_sizes=(128,))``.  And the
*reference pipeline*, features composed from the reference libraries alone
(scikit-image ``graycomatrix``/``graycoprops`` 32 levels x 6 properties x 3
distances x 4 angles, ``local_binary_pattern`` uniform at (8, 1), (16, 2),
(24, 3), 24 Gabor filters by OpenCV ``filter2D``, magnitude mean and std)
with the same two scikit-learn classifiers, on the images only (neither
training copies nor alterations: it takes ten times longer to extract than
ours).  The normalizer is fitted inside each training fold only.

Each figure is given twice: trained on the images as they are (``texture
train --no-augment``), and trained with the training copies of every training
image added, as ``texture train`` does by default
(``pipeline.augment.training_copies``: rescaled by half an octave each way,
blurred, with noise at 10 dB SNR, drawn independently of the test
images' noise, and the four corner crops of three quarters of the side;
test images are never copied).  Every method gets the same training
rows in both, but that ours, as ``TextureModel.fit`` does, trains on the copies that
:func:`pipeline.augment.choose_copies` keeps from its training part (all eight, or the noisy
one and the crops; ``--all-copies``: all eight).  The noise and rotation tables train with the copies.

``--colour``: ours are extracted with ``FeatureConfig(colour="opponent")``
and every method is scored twice, on the grey features (the first columns
of the colour vector, the values ``colour="grey"`` gives) and on the whole
colour vector; the reference pipeline too, grey and colour: the same
features of the grey image, then of each opponent channel (``o1``, ``o2`` at
full resolution, each rescaled to [0, 1] per image, as scikit-image's
functions expect), then the mean and standard deviation of each channel
(the issue's quick colour reference).  USPTex's protocol is two stratified
folds (``--folds 2``).

With ``--nested`` the outer test parts are not scored: each cell is the mean
accuracy of an inner cross-validation inside each outer training part, the
protocol that chose the defaults (README, "Results"): the six training scales
of a scale hold-out fold split again as {s0,s3} / {s1,s4} / {s2,s5}, a
stratified fold's training part into three stratified folds.  ``--factors``,
``--blur``, ``--copy-noise``, ``--crops``, ``--config`` and ``--network`` change the training copies, the
features and the network, to compare candidates that way; ``--cache DIR``
keeps every feature matrix extracted, so that each candidate feature set is
extracted once per data set.

Prints markdown tables: accuracy per protocol and method, extraction
milliseconds per image (and for its training copies) and mean training
seconds per fold.  Timings share the machine with whatever else runs and are
indicative only.

Run::

    .venv/bin/python benchmarks/accuracy.py ../shared/datasets/kth_tips_grey   # from a clone next to shared/
    .venv/bin/python benchmarks/accuracy.py ../shared/datasets/brodatz112 --folds 2 --noise --rotation
    .venv/bin/python benchmarks/accuracy.py            # the bundled sample data
    .venv/bin/python benchmarks/accuracy.py DIR --nested --blur 2.0   # a candidate, validated inside the training parts
    .venv/bin/python benchmarks/accuracy.py ../shared/datasets/usptex --colour --folds 2   # grey vs colour
"""

import os

# Single-threaded BLAS for comparable timings; must be set before numpy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
from dataclasses import replace  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from features import Reference  # noqa: E402  (benchmarks/features.py, beside this script)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler as SkStandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from pipeline import BPClassifier  # noqa: E402
from pipeline.augment import (BLUR_SIGMA, CROP_FRACTION, N_CROPS, NOISE_SNR_DB, SCALE_FACTORS, add_noise,  # noqa: E402
                              training_copies)
from pipeline.data import kth_tips_scale, load_folder, load_sample  # noqa: E402
from pipeline.evaluation import cross_validate, group_holdout, stratified_kfold  # noqa: E402
from pipeline.model import DEFAULT_N_NETWORKS, default_network, ensemble_of  # noqa: E402
from pipeline.normalize import make_scaler  # noqa: E402
from texture import DatasetError, FeatureConfig, FeatureExtractor, read_image  # noqa: E402
from texture.colour import opponent_channels  # noqa: E402

SCALE_FOLDS = ({1, 4, 7}, {2, 5, 8}, {3, 6, 9})
NOISE_DB = (30, 20, 10, 5)
ROTATION_DEGREES = (30, 45, 90)
# Exposure changes of the test images: a gain (darker; brighter, the highlights clipped) and a gamma.
EXPOSURES = (("× 0.6", ("gain", 0.6)), ("× 1.4", ("gain", 1.4)), ("gamma 0.7", ("gamma", 0.7)))
# The reference pipeline's features, fixed whatever our defaults become.
REFERENCE_CONFIG = FeatureConfig(glcm_levels=32, glcm_distances=(1, 2, 4), glcm_angles=(0, 45, 90, 135),
                                 lbp_scales=((8, 1), (16, 2), (24, 3)), gabor_frequencies=(0.05, 0.1, 0.2, 0.4),
                                 gabor_orientations=6)
REFERENCE_PROPS = ("contrast", "dissimilarity", "homogeneity", "ASM", "energy", "correlation")


def noisy(image, rng, snr_db):
    """`image` with white Gaussian noise at `snr_db` (:func:`pipeline.augment.add_noise`)."""
    return add_noise(image, snr_db, rng)


def rotated(image, degrees):
    """`image` rotated counter-clockwise by `degrees`, cropped to the largest centred square inside it.

    A centred square of side ``s`` fits inside an ``h x w`` image rotated by
    ``t`` when ``s (|cos t| + |sin t|) <= min(h, w)``.
    """
    from skimage.transform import rotate

    if degrees % 90 == 0:
        turned = np.rot90(image, int(degrees // 90))
    else:
        turned = np.clip(rotate(image, degrees, order=3, mode="edge"), 0.0, 1.0)
    t = math.radians(degrees)
    side = int(min(image.shape) / (abs(math.cos(t)) + abs(math.sin(t))) + 1e-9)
    top, left = (turned.shape[0] - side) // 2, (turned.shape[1] - side) // 2
    return np.ascontiguousarray(turned[top:top + side, left:left + side])


def _rotated(image, rng, degrees):
    return rotated(image, degrees)


def exposed(image, kind, value):
    """`image` under another exposure: times a gain (clipped to 1), or raised to a gamma."""
    return np.minimum(image * value, 1.0) if kind == "gain" else image**value


def _exposed(image, rng, change):
    return exposed(image, *change)


def alterations(noise_db, rotation_degrees, exposures=()):
    """(name, function of (image, rng)) of each altered test image to score."""
    return ([(f"noise {db:g} dB", partial(noisy, snr_db=db)) for db in noise_db]
            + [(f"rotated {deg:g}°", partial(_rotated, degrees=deg)) for deg in rotation_degrees]
            + [(f"exposure {name}", partial(_exposed, change=change)) for name, change in exposures])


def methods(seed, network, with_references=True, colour=False, mlp=True, n_networks=DEFAULT_N_NETWORKS):
    """(name, unfitted estimator, normalizer factory, feature set) of ours and the references.

    With `colour`, every method twice: on the grey features and on the colour ones; without `mlp`,
    the scikit-learn references are SVC only.  `network` holds the BPClassifier parameters of ours
    (see :func:`pipeline.model.default_network`), which averages `n_networks` of them
    (:func:`pipeline.model.ensemble_of`).
    """
    if colour:
        ours = [("ours grey", "our grey features"), ("ours", "our colour features")]
        references = [("reference", "reference grey features"), ("reference colour", "reference colour features")]
    else:
        ours, references = [("ours", "our features")], [("reference", "reference features")]
    found = [(f"ours: z-score + BPClassifier{', ' + label if colour else ''}",
              ensemble_of(BPClassifier(random_state=seed, **network), n_networks), make_scaler, features)
             for features, label in ours]
    if with_references:
        for features, label in ours + references:
            found.append((f"{label}, StandardScaler + SVC(C=10)", SVC(C=10), SkStandardScaler, features))
            if mlp:
                found.append((f"{label}, StandardScaler + MLP(128)", MLPClassifier((128,), random_state=seed),
                              SkStandardScaler, features))
    return found


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


def _as_is(image, rng):
    return image


def _copy(image, rng, factors=(), blur_sigma=None, noise_snr_db=None, crop_fraction=None, index=0):
    """The one training copy that the arguments describe (`index`: which crop)."""
    return training_copies(image, factors, blur_sigma, noise_snr_db, crop_fraction)[index]


def variants(factors, blur_sigma, noise_snr_db, altered, crop_fraction=None):
    """(name, function of (image, rng)) of every image extracted: the image, its training copies, its alterations."""
    found = [("image", _as_is)]
    found += [(f"rescaled x{f:.4g}", partial(_copy, factors=[f])) for f in factors]
    if blur_sigma:
        found.append((f"blurred {blur_sigma:g}", partial(_copy, blur_sigma=blur_sigma)))
    if noise_snr_db is not None:
        found.append((f"noisy copy {noise_snr_db:g} dB", partial(_copy, noise_snr_db=noise_snr_db)))
    if crop_fraction:
        found += [(f"crop {crop_fraction:g} #{k}", partial(_copy, crop_fraction=crop_fraction, index=k))
                  for k in range(N_CROPS)]
    return found + list(altered)


class FeatureSet:
    """The features of every image, of its training copies and of its altered versions.

    Attributes
    ----------
    X : (n, n_features) ndarray
    copies : list of (n, n_features) ndarray
        One matrix per kind of copy, row ``i`` from a copy of image ``i``.
    altered : dict of str to (n, n_features) ndarray
        One matrix per alteration, row ``i`` from image ``i`` altered.
    ms_image, ms_copies : float
        CPU time per image, in its worker: reading and extraction; making and
        extracting all its copies.
    """

    def __init__(self, matrices, milliseconds, n_copies):
        names = list(matrices)
        self.X = matrices["image"]
        self.copies = [matrices[name] for name in names[1:1 + n_copies]]
        self.altered = {name: matrices[name] for name in names[1 + n_copies:]}
        self.ms_image = milliseconds["image"]
        self.ms_copies = sum(milliseconds[name] for name in names[1:1 + n_copies])

    def first_columns(self, n):
        """The same set restricted to its first `n` features (the grey ones of a colour vector)."""
        subset = FeatureSet.__new__(FeatureSet)
        subset.X, subset.copies = self.X[:, :n], [c[:, :n] for c in self.copies]
        subset.altered = {name: a[:, :n] for name, a in self.altered.items()}
        subset.ms_image, subset.ms_copies = self.ms_image, self.ms_copies
        return subset


class ColourReference:
    """The reference pipeline on the grey image, then on each opponent channel, then their mean and std."""

    def __init__(self):
        self.reference = Reference(REFERENCE_CONFIG, REFERENCE_PROPS)

    def transform(self, rgb):
        grey = self.reference.transform(read_image(rgb))
        channels = opponent_channels(rgb)
        low, high = channels.min(axis=(1, 2), keepdims=True), channels.max(axis=(1, 2), keepdims=True)
        unit = (channels - low) / np.where(high > low, high - low, 1.0)
        chroma = [self.reference.transform(np.ascontiguousarray(c)) for c in unit]
        stats = np.stack([channels.mean(axis=(1, 2)), channels.std(axis=(1, 2))], axis=1).ravel()
        return np.concatenate([grey, *chroma, stats])


def _extractor(features, config):
    """Object with ``transform(image)`` for a feature set name."""
    if features == "reference":
        return Reference(REFERENCE_CONFIG, REFERENCE_PROPS)
    if features == "reference colour":
        return ColourReference()
    return FeatureExtractor(config)


def _features(task, features, config, made, seed):
    """Features of the `made` versions of one image, and the CPU seconds each took (reading included)."""
    index, path = task
    extractor = _extractor(features, config)
    start = time.process_time()
    image = read_image(path, colour=features == "reference colour" or (features == "ours" and config.reads_colour))
    read = time.process_time() - start
    rng = np.random.default_rng([seed, index])
    rows, seconds = [], []
    for _, make in made:
        start = time.process_time()
        rows.append(extractor.transform(make(image, rng)))
        seconds.append(time.process_time() - start)
    seconds[0] += read
    return rows, seconds


def extract(paths, jobs, features="ours", config=None, factors=SCALE_FACTORS, blur_sigma=BLUR_SIGMA,
            noise_snr_db=NOISE_SNR_DB, altered=(), seed=0, cache=None, crop_fraction=CROP_FRACTION):
    """A :class:`FeatureSet` of the images, extracted in `jobs` processes; with a `cache` folder, each
    matrix (the images', one kind of copy's, one alteration's) is read from it when there, else kept there."""
    config = config or FeatureConfig()
    wanted = variants(factors, blur_sigma, noise_snr_db, altered, crop_fraction)
    matrices, milliseconds = {}, {}
    stem = json.dumps([[str(p) for p in paths], features, config.to_dict() if features == "ours" else None, seed])

    def file(name):
        return Path(cache) / f"{features}-{hashlib.sha256(f'{stem}{name}'.encode()).hexdigest()[:16]}.npz"

    for name, _ in wanted:
        if cache and file(name).exists():
            with np.load(file(name)) as stored:
                matrices[name], milliseconds[name] = stored["X"], float(stored["ms"])
    missing = [(name, make) for name, make in wanted if name not in matrices]
    if missing:
        with ProcessPoolExecutor(jobs) as pool:
            work = partial(_features, features=features, config=config, made=missing, seed=seed)
            rows, seconds = zip(*pool.map(work, enumerate(paths), chunksize=8))
        for k, (name, _) in enumerate(missing):
            matrices[name] = np.array([r[k] for r in rows])
            milliseconds[name] = 1000 * np.mean([s[k] for s in seconds])
            if cache:
                Path(cache).mkdir(parents=True, exist_ok=True)
                partial_file = file(name).with_suffix(".partial.npz")
                np.savez(partial_file, X=matrices[name], ms=milliseconds[name])
                partial_file.replace(file(name))
    return FeatureSet({name: matrices[name] for name, _ in wanted}, milliseconds,
                      len(wanted) - 1 - len(altered))


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


def scores(estimator, X, y, splits, *, scaler, augmented, altered, nested, choose=False):
    """Accuracy (clean, then each alteration), and fitting seconds, of each outer split or of its inner
    validation when `nested`; with `choose`, each training part keeps the copies that
    :func:`pipeline.augment.choose_copies` picks."""
    copies = np.stack(augmented, axis=1) if len(augmented) else None  # (images, copies, features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if nested is None:
            found = [[s] for s in cross_validate(estimator, X, y, splits, scaler=scaler, copies=copies,
                                                 altered=altered, choose=choose)]
        else:
            found = [cross_validate(estimator, X, y, nested(train), scaler=scaler, copies=copies,
                                    altered=altered, choose=choose) for train, _ in splits]
    accuracy = np.array([[np.mean([s.accuracy for s in fold])]
                         + [np.mean([s.altered[name] for s in fold]) for name in altered] for fold in found])
    return accuracy.T, [s.fit_seconds for fold in found for s in fold]


def summary(protocol, accuracy):
    """Mean and standard deviation in percent, or for the scale hold-out the mean and each fold."""
    if protocol == "scale hold-out":
        return f"{100 * np.mean(accuracy):.1f} ({' / '.join(f'{100 * a:.1f}' for a in accuracy)})"
    return f"{100 * np.mean(accuracy):.1f} ± {100 * np.std(accuracy):.1f}"


def print_table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", help="class-per-folder image tree (default: the bundled sample)")
    parser.add_argument("--sample", action="store_true", help="the bundled sample data (the default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds, the noise and the networks")
    parser.add_argument("--folds", type=int, default=5, help="folds of the stratified cross-validation")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="extraction processes (default: all CPUs)")
    parser.add_argument("--nested", action="store_true",
                        help="score inner validation inside each training part, never the test parts")
    parser.add_argument("--noise", action="store_true",
                        help=f"also test on the test images with Gaussian noise at {NOISE_DB} dB SNR")
    parser.add_argument("--exposure", action="store_true",
                        help="also score the test images multiplied by 0.6 and 1.4 (clipped) and raised to 0.7")
    parser.add_argument("--rotation", action="store_true",
                        help=f"also test on the test images rotated by {ROTATION_DEGREES} degrees")
    parser.add_argument("--factors", type=float, nargs="*", default=SCALE_FACTORS,
                        help="zoom factors of the rescaled training copies (default: 2**-0.5 2**0.5)")
    parser.add_argument("--blur", type=float, default=BLUR_SIGMA,
                        help="sigma in pixels of the blurred training copy, 0 for none (default: %(default)s)")
    parser.add_argument("--copy-noise", type=float, default=NOISE_SNR_DB,
                        help="SNR in dB of the noisy training copy, 'nan' for none (default: %(default)s)")
    parser.add_argument("--crops", type=float, default=CROP_FRACTION,
                        help="side of the four corner crops as a fraction of the image's, 0 for none "
                             "(default: %(default)s)")
    parser.add_argument("--all-copies", action="store_true",
                        help="ours trains on every training copy, not only those that choose_copies keeps")
    parser.add_argument("--config", type=json.loads, default={},
                        help="FeatureConfig fields of ours, as JSON (default: the default FeatureConfig)")
    parser.add_argument("--network", type=json.loads, default={},
                        help="BPClassifier parameters replacing the defaults', as JSON")
    parser.add_argument("--networks", type=int, default=DEFAULT_N_NETWORKS,
                        help="networks ours trains and averages (default: %(default)s, TextureModel's)")
    parser.add_argument("--ours-only", action="store_true", help="score ours only, not the references")
    parser.add_argument("--cache", help="folder keeping the feature matrices between runs")
    parser.add_argument("--svc-only", action="store_true",
                        help="of the scikit-learn references, SVC(C=10) only (the MLP takes minutes on many classes)")
    parser.add_argument("--colour", action="store_true",
                        help="grey and colour features (ours with colour='opponent'), each method on both")
    args = parser.parse_args(argv)
    folder = None if args.sample else args.folder

    name, table = load(folder)
    paths, y = table["path"].tolist(), table["label"].to_numpy()
    altered = alterations(NOISE_DB if args.noise else (), ROTATION_DEGREES if args.rotation else (),
                          EXPOSURES if args.exposure else ())
    config = FeatureConfig.from_dict({**args.config, **({"colour": "opponent"} if args.colour else {})})
    network = {**default_network(len(set(y))), **args.network}
    chosen = methods(args.seed, network, with_references=not args.ours_only, colour=args.colour,
                     mlp=not args.svc_only, n_networks=args.networks)
    copy_noise = None if math.isnan(args.copy_noise) else args.copy_noise
    # Ours chooses among the default copies as TextureModel.fit does (pipeline.augment.choose_copies).
    choose = not args.all_copies and (tuple(args.factors), args.blur, copy_noise, args.crops) == (
        tuple(SCALE_FACTORS), BLUR_SIGMA, NOISE_SNR_DB, CROP_FRACTION)
    sets = {"ours": extract(paths, args.jobs, "ours", config, args.factors, args.blur or None, copy_noise, altered,
                            args.seed, args.cache, args.crops or None)}
    if not args.ours_only:
        # Ten times slower to extract than ours: the images only, neither copies nor alterations.
        sets["reference"] = extract(paths, args.jobs, "reference", factors=(), blur_sigma=None, noise_snr_db=None,
                                    cache=args.cache, crop_fraction=None)
        if args.colour:
            sets["reference colour"] = extract(paths, args.jobs, "reference colour", factors=(), blur_sigma=None,
                                               noise_snr_db=None, cache=args.cache, crop_fraction=None)
    ours = sets["ours"]
    if args.colour:
        sets["ours grey"] = ours.first_columns(len(FeatureExtractor(replace(config, colour="grey")).names))
    print(f"{name}: {ours.X.shape[1]} features, {ours.ms_image:.1f} ms/image, "
          f"{ours.ms_copies:.1f} ms/image for its copies", flush=True)

    rows, altered_rows = [], []
    for method, estimator, scaler, features in chosen:
        found = sets[features]
        for protocol, splits in protocols(table, args.seed, args.folds):
            nested = partial(inner_splits, table, protocol, seed=args.seed) if args.nested else None
            cells = []
            for augmented in ([], found.copies):
                if augmented is found.copies and not found.copies:
                    cells += ["—", "—"]
                    break
                accuracy, seconds = scores(estimator, found.X, y, splits, scaler=scaler, augmented=augmented,
                                           altered=found.altered, nested=nested,
                                           choose=choose and method.startswith("ours"))
                cells += [summary(protocol, accuracy[0]), f"{np.mean(seconds):.1f}"]
            rows.append([protocol, method] + cells)
            print("  " + " | ".join(rows[-1]), flush=True)
            if found.altered:
                altered_rows.append([protocol, method] + [summary(protocol, a) for a in accuracy])
                print("  " + " | ".join(altered_rows[-1]), flush=True)

    if args.nested:
        print("\nNested validation inside the training parts (the test parts were not scored):")
    print(f"\n{name}; FeatureConfig {args.config or 'default'} ({ours.X.shape[1]} features): extraction "
          f"{ours.ms_image:.0f} ms/image, +{ours.ms_copies:.0f} ms/image for its training copies (texture train); "
          f"network {network}, {args.networks} averaged.\n")
    print_table(["protocol", "method", "accuracy %, images only", "training s/fold",
                 "accuracy %, + training copies (default)", "training s/fold"], rows)
    if altered:
        print("\nTrained with the training copies on the images as they are; test images altered:\n")
        print_table(["protocol", "method", "as they are"] + [name for name, _ in altered], altered_rows)


if __name__ == "__main__":
    main()
