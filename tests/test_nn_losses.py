import numpy as np
import pytest

from pipeline.nn.losses import cross_entropy, softmax, squared_error


def test_softmax_rows_sum_to_one_and_stay_finite_for_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, 1.0, 0.2]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(z)
    assert np.allclose(p.sum(axis=1), 1)
    assert np.allclose(p[0], [1, 0, 0]) and np.allclose(p[1], 1 / 3)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=np.float32)
    Y = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = cross_entropy(z, Y)
    assert loss == pytest.approx(1e4, rel=1e-6)  # sample 0 is 2e4 off, sample 1 is right
    assert np.allclose(grad, [[0.5, -0.5], [0, 0]])


@pytest.mark.parametrize("loss_fn", [cross_entropy, squared_error])
def test_gradient_matches_finite_differences(loss_fn):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 3))
    Y = np.eye(3)[[0, 1, 2, 1, 0]]
    _, grad = loss_fn(z.copy(), Y)
    numeric = np.zeros_like(z)
    h = 1e-6
    for idx in np.ndindex(z.shape):
        plus, minus = z.copy(), z.copy()
        plus[idx] += h
        minus[idx] -= h
        numeric[idx] = (loss_fn(plus, Y)[0] - loss_fn(minus, Y)[0]) / (2 * h)
    assert np.allclose(grad, numeric, atol=1e-8)


def test_cross_entropy_gradient_is_probabilities_minus_targets_over_n():
    z = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    Y = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    _, grad = cross_entropy(z.copy(), Y)
    assert np.allclose(grad, (softmax(z) - Y) / 2)


def test_squared_error_value():
    loss, _ = squared_error(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    assert loss == pytest.approx((1 + 4) / (2 * 2))
