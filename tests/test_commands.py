"""Tests for pipeline/commands.py: the verbs behind the parser of pipeline/cli.py.

The verbs' behaviour is tested end to end, through ``pipeline.cli.main``, in
tests/test_cli.py; here, what ties the two modules together.
"""

import argparse

import numpy as np

from pipeline.cli import build_parser
from pipeline.commands import VERBS, _typed_labels
from pipeline.nn import BPClassifier


def test_every_verb_of_the_parser_has_a_command_and_no_other():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(VERBS) == set(subparsers.choices)


def test_whole_number_grades_become_integers_and_names_stay_text():
    assert _typed_labels(["3", "1", "10"]).tolist() == [3, 1, 10]
    assert _typed_labels(["3", "1", "10"]).dtype == np.int64
    assert _typed_labels(["1", "1.0", "01"]).tolist() == [1, 1, 1]
    assert _typed_labels(["brick", "2"]).tolist() == ["brick", "2"]


def test_fractional_grades_become_classes_the_classifier_takes():
    # As floats they would be a continuous target, which BPClassifier refuses.
    labels = _typed_labels(["0.5", "2", "1.50", "0.5"])
    assert labels.tolist() == ["0.5", "2.0", "1.5", "0.5"]  # one spelling per number
    BPClassifier(hidden_layer_sizes=(2,), epochs=1).fit(np.eye(4), labels)


def test_labels_that_are_not_finite_numbers_stay_text():
    # "nan" and "inf" parse as floats but name no grade: typed as numbers they
    # would make a class unequal to itself (nan) or overflow int64 (inf).
    assert _typed_labels(["nan", "1"]).tolist() == ["nan", "1"]
    assert _typed_labels(["inf", "2"]).tolist() == ["inf", "2"]
    assert _typed_labels(["1e300", "2"]).tolist() == ["1e+300", "2.0"]  # whole, but no int64


def test_evaluation_labels_are_typed_as_the_model_classes():
    # Integer grades: however a CSV spells a grade, it is that grade.
    assert _typed_labels(["1.0", "01", "2", " 3 "], [1, 2, 3]).tolist() == [1, 1, 2, 3]
    # Fractional grades, classes named by their numbers.
    assert _typed_labels(["0.50", "1", "1.5"], ["0.5", "1.0", "1.5"]).tolist() == ["0.5", "1.0", "1.5"]
    # A label that is no class of the model stays as written (a class it never saw).
    assert _typed_labels(["6", "one", "nan"], [1, 2]).tolist() == ["6", "one", "nan"]
    # Text classes are names: only the exact name is the class, even when it looks like a number.
    typed = _typed_labels(["1", "01", "1.0", "one"], ["1", "one"])
    assert typed.tolist() == ["1", "01", "1.0", "one"] and typed[0] == "1" and typed[1] != typed[0]
    # Classes of a model trained in Python on booleans: names, although float(True) is 1.0.
    assert _typed_labels(["True", "1"], [False, True]).tolist() == [True, "1"]


def test_training_and_evaluation_type_labels_alike():
    for texts in (["1", "2", "10"], ["0.5", "2"], ["brick", "grass"], ["1", "one"], ["0.5", "1.50", "01"]):
        classes = np.unique(_typed_labels(texts)).tolist()
        assert _typed_labels(texts, classes).tolist() == _typed_labels(texts).tolist()
