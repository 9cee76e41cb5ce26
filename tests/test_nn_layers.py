import numpy as np
import pytest

from pipeline.nn import BatchNorm, Dropout

RNG = np.random.default_rng(0)


def batch_norm(n_features, momentum=0.1, epsilon=1e-5):
    """A BatchNorm with its own parameter, gradient and buffer arrays."""
    arrays = [np.ones(n_features), np.zeros(n_features), np.zeros(n_features), np.zeros(n_features),
              np.array([np.zeros(n_features), np.ones(n_features)])]
    return BatchNorm(*arrays, momentum=momentum, epsilon=epsilon)


class TestBatchNorm:
    def test_training_output_has_the_learned_mean_and_spread(self):
        norm = batch_norm(3, epsilon=0.0)
        norm.gamma[...], norm.beta[...] = [2.0, 0.5, 1.0], [1.0, -1.0, 0.0]
        X = RNG.normal(loc=[5, -3, 100], scale=[10, 0.1, 1], size=(50, 3))
        Y = norm.forward(X, training=True)
        assert np.allclose(Y.mean(axis=0), norm.beta)
        assert np.allclose(Y.std(axis=0), norm.gamma)

    def test_running_statistics_follow_the_batches(self):
        norm = batch_norm(2, momentum=0.25)
        X = RNG.normal(loc=[3, -1], scale=[2, 5], size=(40, 2))
        norm.forward(X, training=True)
        assert np.allclose(norm.running_mean, 0.75 * 0 + 0.25 * X.mean(axis=0))
        assert np.allclose(norm.running_var, 0.75 * 1 + 0.25 * X.var(axis=0, ddof=1))

    def test_prediction_uses_the_running_statistics_sample_by_sample(self):
        norm = batch_norm(2)
        norm.running_mean[...], norm.running_var[...] = [1.0, 2.0], [4.0, 9.0]
        norm.gamma[...], norm.beta[...] = [3.0, 1.0], [0.0, 1.0]
        X = RNG.normal(size=(10, 2))
        Y = norm.forward(X, training=False)
        expected = norm.gamma * (X - [1.0, 2.0]) / np.sqrt(np.array([4.0, 9.0]) + 1e-5) + norm.beta
        assert np.allclose(Y, expected)
        assert np.array_equal(norm.forward(X[3:4]), Y[3:4])  # independent of the other samples
        assert np.array_equal(norm.running_mean, [1.0, 2.0])  # prediction does not update them

    def test_gradient_through_batch_statistics_is_orthogonal_to_shift_and_scale(self):
        # Shifting or scaling a whole input column changes nothing after
        # normalization, so dL/dX has zero column sums and is orthogonal to X_hat
        # (exactly so with epsilon 0).
        norm = batch_norm(4, epsilon=0.0)
        norm.gamma[...] = RNG.uniform(0.5, 2, 4)
        X = RNG.normal(size=(30, 4))
        norm.forward(X, training=True)
        dX = norm.backward(RNG.normal(size=(30, 4)))
        assert np.allclose(dX.sum(axis=0), 0)
        assert np.allclose(np.einsum("ij,ij->j", dX, norm.X_hat), 0)


class TestDropout:
    def test_training_drops_at_the_rate_and_rescales(self):
        layer = Dropout(0.3, np.random.default_rng(0))
        X = np.ones((400, 50))
        Y = layer.forward(X, training=True)
        assert np.allclose(np.unique(Y), [0.0, 1 / 0.7])
        assert np.mean(Y == 0) == pytest.approx(0.3, abs=0.01)
        assert Y.mean() == pytest.approx(1.0, abs=0.02)  # expectation kept
        assert np.array_equal(layer.backward(X), layer.mask)

    def test_prediction_is_the_identity(self):
        layer = Dropout(0.5, np.random.default_rng(0))
        X = RNG.normal(size=(5, 3))
        assert layer.forward(X) is X
        G = RNG.normal(size=(5, 3))
        assert layer.backward(G) is G

    def test_rewinding_the_stream_replays_the_mask(self):
        rng = np.random.default_rng(1)
        layer, start = Dropout(0.5, rng), rng.bit_generator.state
        X = np.ones((6, 6), np.float32)
        first = layer.forward(X, training=True)
        assert first.dtype == np.float32
        assert not np.array_equal(layer.forward(X, training=True), first)
        rng.bit_generator.state = start
        assert np.array_equal(layer.forward(X, training=True), first)
