"""Reason codes: how scoring says why, without words.

A `Reason` is a code and the values it names (question ids, answer values, conditions as the
author wrote them). Scoring puts them in a verdict's trace; the report layer turns them into
prose in the reader's language (`service/report/reasons.py`). The core holds no labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    """Why a rule decided as it did. The values each code carries are listed beside it."""

    question_unanswered = "question_unanswered"  # question
    answer = "answer"  # question, value
    answer_not_asked = "answer_not_asked"  # question
    case = "case"  # number, when (a dated case adds: in_force, until, judged_by, date)
    no_case_dont_know = "no_case_dont_know"  # question, value
    otherwise = "otherwise"  # -
    applies_if_false = "applies_if_false"  # condition
    escalated = (
        "escalated"  # base, to (severities), when (dated: + in_force, until, judged_by, date)
    )
    evidence_noted = "evidence_noted"  # questions (ids, space-separated)
    evidence_missing = "evidence_missing"  # questions ("" when the rule reads none)
    evidence_missing_capped = "evidence_missing_capped"  # questions: met counted as partial
    na_question_not_asked = "na_question_not_asked"  # question
    na_applies_only_when = "na_applies_only_when"  # condition
    not_yet_due_if_true = "not_yet_due_if_true"  # condition: the trace of a not-yet-due verdict
    not_yet_due_while = "not_yet_due_while"  # condition: the generated not-yet-due reason
    not_in_force = "not_in_force"  # in_force, until, judged_by, date: the trace of a dated
    # criterion outside its window (in_force and until are YYYY-MM-DD or "")
    na_not_in_force = "na_not_in_force"  # in_force, until, judged_by, date: its N/A reason
    text = "text"  # text: prose stored before reason codes existed, shown as it is


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code with its values, e.g. `Reason(ReasonCode.answer, (("question", "q1"),
    ("value", "no")))`. Values are text, in a fixed order, so a Reason is hashable and reads
    back from JSON equal to the one written."""

    code: ReasonCode
    values: tuple[tuple[str, str], ...] = ()

    def value(self, name: str, default: str = "") -> str:
        for key, value in self.values:
            if key == name:
                return value
        return default


def reason(code: ReasonCode, **values: str) -> Reason:
    """`reason(ReasonCode.answer, question="q1", value="no")`."""
    return Reason(code, tuple(values.items()))


def from_stored(value: object) -> object:
    """A trace stored as prose (before reason codes) reads back as a `text` Reason."""
    if isinstance(value, str):
        return Reason(ReasonCode.text, (("text", value),))
    return value
