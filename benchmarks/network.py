"""Training speed of BPClassifier against scikit-learn's MLPClassifier.

Same data (4,480 samples x 100 features, 28 Gaussian-cluster classes, the
size of a texture data set), same architecture (one hidden layer of 64 ReLU
units, softmax output), same optimizer (Adam, lr 1e-3, batch 64, no weight
decay, fixed number of epochs), single-threaded BLAS.  Prints milliseconds per
epoch (best run), held-out accuracy (mean and standard deviation over seeds),
and the speed ratio.

Run: ``.venv/bin/python benchmarks/network.py``
"""

import os

# Single-threaded BLAS; must be set before numpy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

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
    """Seconds per epoch of ``model.fit`` and its held-out accuracy."""
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = (time.perf_counter() - start) / EPOCHS
    assert model.n_iter_ == EPOCHS
    return seconds, model.score(X_test, y_test)


def main():
    data = gaussian_clusters()
    # MLPClassifier draws every layer from Glorot uniform, so ours uses init="xavier"
    # too (its "auto" would pick He for ReLU) to compare the same model.
    ours = lambda seed: BPClassifier(  # noqa: E731
        (64,), activation="relu", optimizer="adam", learning_rate=1e-3, batch_size=64,
        epochs=EPOCHS, alpha=0.0, tol=0.0, n_iter_no_change=EPOCHS, init="xavier", random_state=seed,
    )
    reference = lambda seed: MLPClassifier(  # noqa: E731
        (64,), activation="relu", solver="adam", learning_rate_init=1e-3, batch_size=64,
        max_iter=EPOCHS, alpha=0.0, tol=0.0, n_iter_no_change=EPOCHS, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Interleaved, so that a change of machine load hits both alike.
        runs = np.array([[fit_timed(make(seed), *data) for make in (ours, reference)]
                         for seed in range(REPEATS)])
    (t_ours, t_ref), accuracy = runs[:, :, 0].min(axis=0), runs[:, :, 1]
    (acc_ours, acc_ref), (sd_ours, sd_ref) = accuracy.mean(axis=0), accuracy.std(axis=0)
    print(f"data: {N_SAMPLES} x {N_FEATURES}, {N_CLASSES} classes (80/20 split); hidden (64,) ReLU, "
          f"Adam, batch 64, {EPOCHS} epochs; seeds 0..{REPEATS - 1}; single-threaded")
    print(f"ours      BPClassifier  (float32): {1e3 * t_ours:7.2f} ms/epoch (best)  "
          f"test accuracy {acc_ours:.3f} +/- {sd_ours:.3f}")
    print(f"reference MLPClassifier (float64): {1e3 * t_ref:7.2f} ms/epoch (best)  "
          f"test accuracy {acc_ref:.3f} +/- {sd_ref:.3f}")
    print(f"speed-up: {t_ref / t_ours:.2f}x per epoch")


if __name__ == "__main__":
    main()
