"""Conditions as scoring evaluates them: each case hand-computed (the closures `expr.parse`
compiles must give what the language says in questionnaires/README.md)."""

from __future__ import annotations

import gc
import pickle
from datetime import date

import pytest

from service.questionnaire import expr

AS_OF = date(2026, 12, 1)
ENV: dict[str, expr.Value] = {
    "choice": "yes",
    "other": "no",
    "blank": None,
    "empty": "",
    "many": ["a", "b"],
    "none_picked": [],
    "n": 12,
    "zero": 0,
    "flag": True,
    "off": False,
    "day": date(2025, 6, 11),
    "later": date(2025, 7, 11),
}

CASES = [
    # equality, with null never equal to anything (not even null)
    ('choice == "yes"', True),
    ('choice == "no"', False),
    ('choice != "no"', True),
    ('blank == "yes"', False),
    ('blank != "yes"', False),
    ('missing == "yes"', False),
    ("n == 12", True),
    ("flag == true", True),
    ("off == false", True),
    # ordering; a type mismatch is false, not an error
    ("n > 10", True),
    ("n >= 12", True),
    ("n < 12", False),
    ("n <= 11", False),
    ("choice > 3", False),
    ('day < date("2025-06-12")', True),
    ('day == "2025-06-11"', False),  # a date is not its text
    # membership
    ('choice in ["yes", "partly"]', True),
    ('choice not in ["yes", "partly"]', False),
    ('many in ["b", "z"]', True),
    ('many not in ["z"]', True),
    ('many contains "a"', True),
    ('many contains "z"', False),
    ('choice contains "y"', False),
    ('blank not in ["x"]', False),
    # truthiness of a bare name: "", "no", 0, [] and null are false
    ("choice", True),
    ("other", False),
    ("empty", False),
    ("zero", False),
    ("none_picked", False),
    ("many", True),
    ("blank", False),
    # boolean operators
    ('choice == "yes" and n > 10', True),
    ('choice == "yes" and n > 20', False),
    ('choice == "no" or n > 10', True),
    ('choice == "no" or n > 20', False),
    ('not choice == "no"', True),
    ('not (choice == "yes" and flag)', False),
    # functions
    ("answered(choice)", True),
    ("answered(empty)", False),
    ("answered(none_picked)", False),
    ("count(many) == 2", True),
    ("count(choice) == 0", True),
    ("months_since(day) == 17", True),
    ("months_since(blank) > 0", False),
    ("days_between(day, later) == 30", True),
    ("days_between(day, blank) > 0", False),
    # the assessment's date
    ('as_of >= date("2025-06-11")', True),
    ("day < as_of", True),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_condition(source: str, expected: bool) -> None:
    assert expr.parse(source).evaluate(ENV, AS_OF) is expected


def test_a_parsed_condition_pickles_and_evaluates_the_same() -> None:
    """A questionnaire sent to another process carries its conditions (parsed again there)."""
    for source, expected in CASES:
        copy = pickle.loads(pickle.dumps(expr.parse(source)))  # noqa: S301 (our own bytes)
        assert copy == expr.parse(source)
        assert copy.evaluate(ENV, AS_OF) is expected


def test_the_change_report_leaves_the_cycle_collector_as_it_found_it() -> None:
    from service.questionnaire.impact import _without_cycle_collection

    assert gc.isenabled()
    with _without_cycle_collection():
        assert not gc.isenabled()
        with _without_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer report is still running
    assert gc.isenabled()
    gc.disable()
    try:
        with _without_cycle_collection():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
