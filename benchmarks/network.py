"""Training speed of BPClassifier against scikit-learn's MLPClassifier; what batch norm and dropout do.

Same data (4,480 samples x 100 features, 28 Gaussian-cluster classes, the
size of a texture data set), same architecture (one hidden layer of 64 ReLU
units, softmax output), same optimizer (Adam, lr 1e-3, batch 64, no weight
decay, fixed number of epochs), single-threaded BLAS.  Prints CPU (and wall)
milliseconds per epoch (best run), held-out accuracy (mean and standard
deviation over seeds), and the speed ratio; the same network with batch
normalization and dropout (rate 0.2) is timed in the same run, interleaved.

Then, on the same data:

* a deep sigmoid network (8 hidden layers of 64, plain SGD) with and without
  batch normalization: per-layer gradient norms of the first and last epoch,
  training and test accuracy;
* dropout's effect on overfitting: a wide network (256 ReLU units) trained
  on 600 samples, rates 0, 0.2 and 0.5: training accuracy (prediction mode),
  test accuracy, and the gap between them.

Run: ``.venv/bin/python benchmarks/network.py`` (``--speed-only`` skips the last two).
"""

import os

# Single-threaded BLAS; must be set before numpy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from pipeline import BPClassifier  # noqa: E402

N_SAMPLES, N_FEATURES, N_CLASSES = 4480, 100, 28
EPOCHS, REPEATS = 30, 10  # seed-to-seed accuracy varies by ~0.7 points: average many


def gaussian_clusters(seed=0):
    """Seeded classes as overlapping Gaussian clusters, standardized like normalized features."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, size=(N_CLASSES, N_FEATURES))
    y = np.arange(N_SAMPLES) % N_CLASSES
    X = centers[y] + rng.normal(0, 2.5, size=(N_SAMPLES, N_FEATURES))
    order = rng.permutation(N_SAMPLES)
    X, y = X[order], y[order]
    X = (X - X.mean(0)) / X.std(0)
    split = int(0.8 * N_SAMPLES)
    return X[:split], y[:split], X[split:], y[split:]


def fit_timed(model, X_train, y_train, X_test, y_test):
    """CPU and wall seconds per epoch of ``model.fit``, and its held-out accuracy.

    CPU time is the figure to compare on a shared machine (other jobs do not
    add to it); wall time is what a user waits.
    """
    cpu, wall = time.process_time(), time.perf_counter()
    model.fit(X_train, y_train)
    cpu, wall = (time.process_time() - cpu) / EPOCHS, (time.perf_counter() - wall) / EPOCHS
    assert model.n_iter_ == EPOCHS
    return cpu, wall, model.score(X_test, y_test)


def speed(data):
    """Milliseconds per epoch of ours (plain, and with batch norm + dropout) and of MLPClassifier."""
    # MLPClassifier draws every layer from Glorot uniform, so ours uses init="xavier"
    # too (its "auto" would pick He for ReLU) to compare the same model.
    ours = lambda seed, **layers: BPClassifier(  # noqa: E731
        (64,), activation="relu", optimizer="adam", learning_rate=1e-3, batch_size=64,
        epochs=EPOCHS, alpha=0.0, tol=0.0, n_iter_no_change=EPOCHS, init="xavier", random_state=seed, **layers,
    )
    regularized = lambda seed: ours(seed, batch_norm=True, dropout=0.2)  # noqa: E731
    reference = lambda seed: MLPClassifier(  # noqa: E731
        (64,), activation="relu", solver="adam", learning_rate_init=1e-3, batch_size=64,
        max_iter=EPOCHS, alpha=0.0, tol=0.0, n_iter_no_change=EPOCHS, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Interleaved, so that a change of machine load hits both alike.
        runs = np.array([[fit_timed(make(seed), *data) for make in (ours, regularized, reference)]
                         for seed in range(REPEATS)])
    (t_ours, t_reg, t_ref), (w_ours, w_reg, w_ref) = runs[:, :, 0].min(axis=0), runs[:, :, 1].min(axis=0)
    accuracy = runs[:, :, 2]
    (acc_ours, acc_reg, acc_ref), (sd_ours, sd_reg, sd_ref) = accuracy.mean(axis=0), accuracy.std(axis=0)
    print(f"data: {N_SAMPLES} x {N_FEATURES}, {N_CLASSES} classes (80/20 split); hidden (64,) ReLU, "
          f"Adam, batch 64, {EPOCHS} epochs; seeds 0..{REPEATS - 1}; single-threaded")
    print("milliseconds per epoch, best of the seeds: CPU time (wall time)")
    print(f"ours      BPClassifier  (float32):          {1e3 * t_ours:7.2f} ({1e3 * w_ours:6.2f})  "
          f"test accuracy {acc_ours:.3f} +/- {sd_ours:.3f}")
    print(f"ours      + batch_norm=True, dropout=0.2:    {1e3 * t_reg:7.2f} ({1e3 * w_reg:6.2f})  "
          f"test accuracy {acc_reg:.3f} +/- {sd_reg:.3f}")
    print(f"reference MLPClassifier (float64):          {1e3 * t_ref:7.2f} ({1e3 * w_ref:6.2f})  "
          f"test accuracy {acc_ref:.3f} +/- {sd_ref:.3f}")
    print(f"speed-up of plain over MLPClassifier: {t_ref / t_ours:.2f}x per epoch in CPU time "
          f"({w_ref / w_ours:.2f}x in wall time); batch norm + dropout cost {t_reg / t_ours:.2f}x a plain "
          f"epoch ({w_reg / w_ours:.2f}x)")


def deep_sigmoid(data, epochs=20):
    """A deep sigmoid stack with and without batch normalization: gradient norms per layer, accuracy."""
    X_train, y_train, X_test, y_test = data
    print(f"\ndeep sigmoid network: 8 hidden layers of 64, SGD lr 0.1, batch 64, {epochs} epochs, seed 0")
    for batch_norm in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf = BPClassifier((64,) * 8, activation="sigmoid", optimizer="sgd", learning_rate=0.1, epochs=epochs,
                               alpha=0.0, tol=0.0, n_iter_no_change=epochs, batch_norm=batch_norm,
                               random_state=0).fit(X_train, y_train)
        norms = np.array(clf.history_["grad_norms"])
        print(f"  batch_norm={batch_norm}: training accuracy {clf.score(X_train, y_train):.3f}, "
              f"test accuracy {clf.score(X_test, y_test):.3f} (chance {1 / N_CLASSES:.3f}); "
              f"loss {clf.history_['loss'][0]:.3f} -> {clf.history_['loss'][-1]:.3f}; "
              f"{'GradientWarning' if caught else 'no warning'}")
        for when, epoch in (("first", 0), ("last", -1)):
            print(f"    gradient norm per layer (input side first), {when} epoch: "
                  + " ".join(f"{v:.1e}" for v in norms[epoch]))


def dropout_gap(data, n_train=600, epochs=60):
    """Training and test accuracy of a wide network on few samples, per dropout rate."""
    X_train, y_train, X_test, y_test = data
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    print(f"\ndropout: hidden (256,) ReLU, Adam, {epochs} epochs, {n_train} training samples, seed 0")
    for rate in (0.0, 0.2, 0.5):
        clf = BPClassifier((256,), epochs=epochs, alpha=0.0, tol=0.0, n_iter_no_change=epochs, dropout=rate,
                           random_state=0).fit(X_train, y_train)
        train, test = clf.score(X_train, y_train), clf.score(X_test, y_test)
        print(f"  dropout={rate}: training accuracy {train:.3f}, test accuracy {test:.3f}, gap {train - test:.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed-only", action="store_true", help="only the timings")
    args = parser.parse_args(argv)
    data = gaussian_clusters()
    speed(data)
    if not args.speed_only:
        deep_sigmoid(data)
        dropout_gap(data)


if __name__ == "__main__":
    main()
