import numpy as np
import pytest

from pipeline import BPClassifier, BPRegressor, gradient_check
from pipeline.nn import activations, layers
from pipeline.nn.network import Network

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
    assert est.check_gradients(X, y) < 1e-6


@pytest.mark.parametrize("Estimator, y", [(BPClassifier, Y_CLASS), (BPRegressor, Y_REG)])
def test_fresh_estimator_is_checked_and_left_unfitted(Estimator, y):
    est = Estimator((5, 4), activation="tanh", alpha=0.1, random_state=0)
    assert est.check_gradients(X, y) < 1e-6
    assert not hasattr(est, "network_") and not hasattr(est, "n_features_in_")


def test_float32_estimator_is_checked_in_float64():
    est = BPClassifier((5,), activation="sigmoid", epochs=2, random_state=0).fit(X, Y_CLASS)
    assert est.network_.dtype == np.float32
    assert est.check_gradients(X, Y_CLASS) < 1e-6


def test_a_wrong_derivative_is_detected(monkeypatch):
    wrong = activations.Activation(np.tanh, lambda a: 1 - a, "xavier")  # should be 1 - a**2
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", wrong)
    assert BPClassifier((5,), activation="tanh", random_state=0).check_gradients(X, Y_CLASS) > 1e-3


@pytest.mark.parametrize("loss, Y", [("cross_entropy", np.eye(3)[Y_CLASS]), ("squared_error", Y_REG)])
def test_a_bare_network_is_checked_and_left_unchanged(loss, Y):
    network = Network((4, 6, Y.shape[1]), "tanh", np.float32).initialize("auto", np.random.default_rng(1))
    before = network.params.copy()
    assert gradient_check(network, X, Y, loss, alpha=0.1) < 1e-6
    np.testing.assert_array_equal(network.params, before)
    assert network.dtype == np.float32


def test_the_estimator_check_is_the_network_check_of_its_training_problem():
    est = BPRegressor((5,), activation="sigmoid", alpha=0.05, epochs=2, dtype="float64", random_state=0).fit(X, Y_REG)
    assert est.check_gradients(X, Y_REG) == gradient_check(est.network_, X, Y_REG, "squared_error", alpha=0.05)


@pytest.mark.parametrize("batch_norm, dropout", [(True, 0.0), (False, 0.3), (True, 0.3)],
                         ids=["batch_norm", "dropout", "both"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("Estimator, y", [(BPClassifier, Y_CLASS), (BPRegressor, Y_REG)], ids=["CE", "MSE"])
def test_batch_norm_and_dropout_match_finite_differences(Estimator, y, activation, batch_norm, dropout):
    # Training mode: batch norm through the statistics of X, dropout with one fixed mask.
    est = Estimator((6, 5, 4), activation=activation, alpha=0.05, epochs=3, tol=0, learning_rate=0.01,
                    batch_norm=batch_norm, dropout=dropout, dtype="float64", random_state=0).fit(X, y)
    assert est.check_gradients(X, y) < 1e-6


def test_fresh_batch_normalized_estimator_is_checked():
    est = BPClassifier((5, 4), activation="sigmoid", batch_norm=True, dropout=0.2, random_state=0)
    assert est.check_gradients(X, Y_CLASS) < 1e-6


def test_batch_norm_without_the_batch_statistics_terms_is_detected(monkeypatch):
    # Back-propagating as if the mean and variance were constants (prediction mode) is wrong in training.
    def frozen_statistics(self, G, input_grad=True):
        np.sum(G, axis=0, out=self.dbeta)
        np.einsum("ij,ij->j", G, self.X_hat, out=self.dgamma)
        return G * (self.gamma * self.inv_std)

    monkeypatch.setattr(layers.BatchNorm, "backward", frozen_statistics)
    est = BPClassifier((5,), activation="tanh", batch_norm=True, random_state=0)
    assert est.check_gradients(X, Y_CLASS) > 1e-3


def test_dropout_ignoring_its_mask_is_detected(monkeypatch):
    monkeypatch.setattr(layers.Dropout, "backward", lambda self, G: G)
    est = BPClassifier((5,), activation="tanh", dropout=0.5, random_state=0)
    assert est.check_gradients(X, Y_CLASS) > 1e-3
