import numpy as np
import pytest

from pipeline.nn.optimizers import OPTIMIZERS, SCHEDULES

G1, G2 = np.array([0.5, -2.0]), np.array([1.0, 1.0])


def run(name, grads, lr=0.1, **hyper):
    w = np.zeros(2)
    optimizer = OPTIMIZERS[name](2, np.float64, **hyper)
    for g in grads:
        optimizer.step(w, g, lr)
    return w


def test_sgd_steps_against_the_gradient():
    assert np.allclose(run("sgd", [G1, G2]), -0.1 * (G1 + G2))


def test_momentum_is_the_classic_velocity_update():
    v1 = -0.1 * G1
    v2 = 0.9 * v1 - 0.1 * G2
    assert np.allclose(run("momentum", [G1, G2], momentum=0.9), v1 + v2)


def test_rmsprop_divides_by_the_running_rms():
    s = (1 - 0.99) * G1**2
    assert np.allclose(run("rmsprop", [G1], beta_2=0.99, epsilon=0.0), -0.1 * G1 / np.sqrt(s))


def test_adam_first_step_has_the_learning_rate_as_size():
    # After bias correction m/sqrt(v) = g/|g|: every weight moves by lr against its gradient sign.
    assert np.allclose(run("adam", [G1], epsilon=0.0), -0.1 * np.sign(G1))


def test_adam_keeps_float32():
    w = np.zeros(3, np.float32)
    OPTIMIZERS["adam"](3, np.float32).step(w, np.ones(3, np.float32), 0.01)
    assert w.dtype == np.float32 and np.allclose(w, -0.01)


@pytest.mark.parametrize("name, expected", [
    ("constant", [1, 1, 1, 1]),
    ("step", [1, 1, 0.1, 0.01]),
    ("cosine", [1, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.5 * (1 + np.cos(3 * np.pi / 4))]),
    ("invscaling", [1, 1 / np.sqrt(2), 1 / np.sqrt(3), 0.5]),
])
def test_schedules(name, expected):
    assert np.allclose([SCHEDULES[name](1.0, epoch, 4) for epoch in range(4)], expected)
