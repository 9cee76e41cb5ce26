"""Tests for pipeline/commands.py: the verbs behind the parser of pipeline/cli.py.

The verbs' behaviour is tested end to end, through ``pipeline.cli.main``, in
tests/test_cli.py; here, what ties the two modules together.
"""

import argparse

import numpy as np

from pipeline.cli import build_parser
from pipeline.commands import VERBS, _typed_labels


def test_every_verb_of_the_parser_has_a_command_and_no_other():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(VERBS) == set(subparsers.choices)


def test_whole_number_grades_become_integers_and_names_stay_text():
    assert _typed_labels(["3", "1", "10"]).tolist() == [3, 1, 10]
    assert _typed_labels(["3", "1", "10"]).dtype == np.int64
    assert _typed_labels(["0.5", "2"]).tolist() == [0.5, 2.0]
    assert _typed_labels(["brick", "2"]).tolist() == ["brick", "2"]
