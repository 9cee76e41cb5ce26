import pytest

from pipeline.nn.diagnostics import PATIENCE, gradient_flow_problem


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
