import numpy as np
import pytest

from pipeline import BPClassifier, BPRegressor, gradient_check
from pipeline.nn import activations

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
DEPTHS = [(), (6,), (6, 5, 4)]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 4))
Y_CLASS = np.arange(24) % 3
Y_REG = RNG.normal(size=(24, 2))


@pytest.mark.parametrize("hidden", DEPTHS, ids=lambda h: f"{len(h)}hidden")
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("Estimator, y", [(BPClassifier, Y_CLASS), (BPRegressor, Y_REG)], ids=["CE", "MSE"])
def test_backprop_matches_finite_differences(Estimator, y, activation, hidden):
    # A few float64 epochs move the biases off 0, so no ReLU pre-activation
    # sits exactly on the kink where the derivative is undefined.
    est = Estimator(hidden, activation=activation, alpha=0.05, epochs=3, tol=0, learning_rate=0.01,
                    dtype="float64", random_state=0).fit(X, y)
    assert gradient_check(est, X, y) < 1e-6


@pytest.mark.parametrize("Estimator, y", [(BPClassifier, Y_CLASS), (BPRegressor, Y_REG)])
def test_fresh_estimator_is_checked_and_left_unfitted(Estimator, y):
    est = Estimator((5, 4), activation="tanh", alpha=0.1, random_state=0)
    assert gradient_check(est, X, y) < 1e-6
    assert not hasattr(est, "network_") and not hasattr(est, "n_features_in_")


def test_float32_estimator_is_checked_in_float64():
    est = BPClassifier((5,), activation="sigmoid", epochs=2, random_state=0).fit(X, Y_CLASS)
    assert est.network_.dtype == np.float32
    assert gradient_check(est, X, Y_CLASS) < 1e-6


def test_a_wrong_derivative_is_detected(monkeypatch):
    wrong = activations.Activation(np.tanh, lambda a: 1 - a, "xavier")  # should be 1 - a**2
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", wrong)
    assert gradient_check(BPClassifier((5,), activation="tanh", random_state=0), X, Y_CLASS) > 1e-3
