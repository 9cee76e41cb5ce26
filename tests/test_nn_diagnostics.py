import numpy as np
import pytest

from pipeline.nn.diagnostics import PATIENCE, EpochMeter, gradient_flow_problem
from pipeline.nn.network import Network


@pytest.mark.parametrize("first, last, expected", [
    (1e-6, 1.0, "gradients vanish"),
    (1e4, 1.0, "gradients explode"),
    (0.3, 1.0, None),
])
def test_sustained_ratio_of_first_to_last_layer(first, last, expected):
    problem = gradient_flow_problem([[first, 0.5, last]] * PATIENCE)
    assert (problem and problem.split(":")[0]) == expected


def test_a_single_bad_epoch_or_a_single_layer_is_not_reported():
    assert gradient_flow_problem([[0.3, 1.0]] * PATIENCE + [[1e-9, 1.0]]) is None
    assert gradient_flow_problem([[1e-9]] * 10) is None
    assert gradient_flow_problem([[1e-9, 1.0]] * (PATIENCE - 1)) is None


def test_epoch_meter_agrees_with_the_definitions():
    # Mini-batches of unequal size, one unit that never fires, known gradients.
    rng = np.random.default_rng(0)
    network = Network((5, 4, 3), "relu").initialize("he", rng)
    network.dense[0].W[:, 0], network.dense[0].b[0] = -1.0, -1.0  # dead for inputs >= 0
    batches = [slice(0, 7), slice(7, 14), slice(14, 17)]
    X, labels = rng.uniform(0, 1, (17, 5)).astype(np.float32), rng.integers(0, 3, 17)
    meter, outputs, activations, norms = EpochMeter(network, batches), [], [], []
    for k, batch in enumerate(batches):
        outputs.append(network.forward(X[batch], training=True))
        activations.append(network.activation_layers[0].A.copy())
        network.grads[...] = rng.normal(size=network.grads.size)
        norms.append([np.linalg.norm(network.grads[s.start:s.stop]) for s in
                      (slice(0, 24), slice(24, 39))])  # W0 + b0, then W1 + b1
        meter.add(0.5 * k, outputs[-1])
    sizes = np.array([7, 7, 3])
    summary = meter.summary(labels)
    assert summary["loss"] == pytest.approx((sizes @ [0.0, 0.5, 1.0]) / 17)
    assert summary["grad_norms"] == pytest.approx((sizes @ np.array(norms)) / 17, rel=1e-6)
    assert summary["accuracy"] == np.mean(np.concatenate(outputs).argmax(axis=1) == labels)
    assert summary["dead_fraction"] == [np.mean(~(np.concatenate(activations) > 0).any(axis=0))]
    assert summary["dead_fraction"][0] >= 0.25
