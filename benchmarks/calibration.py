"""Calibration of the texture model's confidence on held-out images, with and without temperature scaling.

Same protocols and features as ``benchmarks/accuracy.py`` (stratified 5-fold;
KTH-TIPS scale hold-out, folds {1,4,7} / {2,5,8} / {3,6,9}); each training
part gets its training copies, as ``texture train`` does.  For each split,
``TextureModel(calibrate=False)`` and ``TextureModel()`` (calibrated, the
default) are fitted on the training part; the network is the same in both
(same seed), only the temperature differs, fitted on out-of-fold
predictions inside the training part: by image for the 5-fold protocol,
by whole scale for the scale hold-out (``groups``), as ``texture train``
does with a group column.  Test images are never seen by either.

Prints, per protocol, over all held-out images pooled: accuracy, expected
calibration error (15 bins), Brier score, mean confidence, and the
temperatures; and saves the reliability diagrams of the pooled held-out
predictions (``--plots DIR``).

Run::

    .venv/bin/python benchmarks/calibration.py ../shared/datasets/kth_tips_grey --cache .cache
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from accuracy import extract, load, protocols  # noqa: E402
from pipeline import TextureModel  # noqa: E402
from pipeline.evaluation import brier_score, expected_calibration_error, reliability_bins  # noqa: E402


def held_out_probabilities(X, copies, y, groups, splits, calibrate, seed):
    """Pooled held-out probabilities (rows in test order), true column indices, and each split's temperature."""
    probas, truths, temperatures = [], [], []
    stacked = np.stack(copies, axis=1)  # (images, copies, features), as `texture train` passes them
    for train, test in splits:
        # An image's copies are trained on with it and share its group.
        model = TextureModel(random_state=seed, calibrate=calibrate).fit_features(
            X[train], y[train], groups=groups[train], copies=stacked[train])
        scores = model.score_features(X[test])
        probas.append(np.array([list(s.probabilities.values()) for s in scores]))
        truths.append(np.searchsorted(model.classes_, y[test]))
        temperatures.append(model.temperature_)
    return np.vstack(probas), np.concatenate(truths), temperatures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", help="class-per-folder image tree (default: the bundled sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--cache", help="folder keeping the feature matrices between runs")
    parser.add_argument("--plots", help="folder for the reliability diagrams (PNG)")
    args = parser.parse_args(argv)

    name, table = load(args.folder)
    features = extract(table["path"].tolist(), args.jobs, cache=args.cache)
    X, copies, y = features.X, features.copies, table["label"].to_numpy()
    print(f"{name}: {X.shape[1]} features; training copies: {len(copies)} per image\n")
    print("| protocol | confidence | accuracy % | ECE (15 bins) | Brier score | mean confidence | temperature |")
    print("|---|---|---|---|---|---|---|")
    for protocol, splits in protocols(table, args.seed, args.folds):
        if protocol == "scale hold-out":
            groups = table["group"].astype(str).to_numpy()
        else:
            groups = np.arange(len(y)).astype(str)
        for calibrate in (False, True):
            proba, truth, temperatures = held_out_probabilities(X, copies, y, groups, splits, calibrate, args.seed)
            accuracy = np.mean(proba.argmax(axis=1) == truth)
            ece = expected_calibration_error(truth, proba)
            label = "calibrated (default)" if calibrate else "raw softmax (calibrate=False)"
            print(f"| {protocol} | {label} | {100 * accuracy:.1f} | {ece:.4f} | {brier_score(truth, proba):.4f} "
                  f"| {proba.max(axis=1).mean():.4f} | {' / '.join(f'{t:.2f}' for t in temperatures)} |", flush=True)
            if args.plots:
                from pipeline.report import plot_reliability_diagram

                Path(args.plots).mkdir(parents=True, exist_ok=True)
                stem = f"{protocol.split()[0]}-{'calibrated' if calibrate else 'raw'}"
                plot_reliability_diagram(reliability_bins(truth, proba), Path(args.plots) / f"{stem}.png",
                                         title=f"{protocol}, {label}: ECE {ece:.3f}")


if __name__ == "__main__":
    main()
