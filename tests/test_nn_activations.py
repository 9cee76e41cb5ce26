import numpy as np
import pytest

from pipeline.nn.activations import ACTIVATIONS


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_of_the_output_matches_finite_differences(name):
    f, derivative, _ = ACTIVATIONS[name]
    z = np.linspace(-3, 3, 61) + 0.013  # avoid the kink of the ReLU family at exactly 0
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    assert np.allclose(derivative(f(z.copy())), numeric, atol=1e-7)


def test_tanh_derivative_is_one_minus_tanh_squared():
    z = np.array([-2.0, 0.0, 0.5])
    assert np.allclose(ACTIVATIONS["tanh"].derivative(np.tanh(z)), 1 - np.tanh(z) ** 2)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_float32_and_never_overflow(name):
    z = np.array([-1e4, -1.0, 0.0, 1.0, 1e4], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = ACTIVATIONS[name].f(z)
    assert a.dtype == np.float32 and np.isfinite(a).all()


def test_natural_initializers():
    assert {n: a.init for n, a in ACTIVATIONS.items()} == {
        "sigmoid": "xavier", "tanh": "xavier", "identity": "xavier", "relu": "he", "leaky_relu": "he",
    }
