"""One section page's form data -> typed answers, evidence notes and per-field errors.

Pure: no database, no web. Blank answers are allowed (a section can be saved half done); an
answer that is given must be acceptable, with the message in the catalogue's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from service.questionnaire.answers import AnswerValue, validate_answer
from service.questionnaire.schema import Question, QuestionType, Section, localize

Translate = Callable[..., str]
EVIDENCE_PREFIX = "evidence-"
EVIDENCE_LIMIT = 10_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_NOISE = re.compile(r"[\s,_]")


def evidence_field(question_id: str) -> str:
    return EVIDENCE_PREFIX + question_id


@dataclass
class SectionForm:
    """What a section POST said: answers (None = cleared), notes, input as typed, errors."""

    values: dict[str, AnswerValue | None] = field(default_factory=dict)
    evidence: dict[str, str | None] = field(default_factory=dict)
    raw: dict[str, str | list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _number(text: str) -> int | float | None:
    cleaned = _NUMBER_NOISE.sub("", text)
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return (
        int(value)
        if value.is_integer() and "." not in cleaned and "e" not in cleaned.lower()
        else value
    )


def _plain(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_answer(
    question: Question, given: Sequence[str], _: Translate
) -> tuple[AnswerValue | None, str | None]:
    """The typed answer (None when blank) or the error message for what was given."""
    kind = question.type
    if kind is QuestionType.multiple_choice:
        chosen = [v for v in given if v]
        if not chosen:
            return None, None
        if validate_answer(question, chosen) is not None:
            return None, _("Select only the options shown")
        return chosen, None
    text = (given[0] if given else "").strip()
    if not text:
        return None, None
    if kind in (QuestionType.single_choice, QuestionType.yes_no):
        if text not in question.option_values():
            return None, _("Select one of the options shown")
        return text, None
    if kind in (QuestionType.text, QuestionType.long_text):
        if len(text) > question.text_limit:
            return None, _("Answer must be {limit} characters or fewer", limit=question.text_limit)
        return text, None
    if kind is QuestionType.number:
        number = _number(text)
        if number is None:
            return None, _("Enter a number, like 150")
        if validate_answer(question, number) is not None:
            if question.min is not None and question.max is not None:
                return None, _(
                    "Enter a number between {low} and {high}",
                    low=_plain(question.min),
                    high=_plain(question.max),
                )
            if question.min is not None:
                return None, _("Enter a number of at least {low}", low=_plain(question.min))
            return None, _("Enter a number of at most {high}", high=_plain(question.max))
        return number, None
    # date
    if not _DATE.match(text):
        return None, _("Enter a real date in the format YYYY-MM-DD, like 2024-05-31")
    try:
        date.fromisoformat(text)
    except ValueError:
        return None, _("Enter a real date in the format YYYY-MM-DD, like 2024-05-31")
    return text, None


def parse_section(section: Section, form: Mapping[str, Sequence[str]], _: Translate) -> SectionForm:
    """Read every question of ``section`` (and its evidence note) from the posted form."""
    result = SectionForm()
    for question in section.questions:
        given = list(form.get(question.id, ()))
        if question.type is QuestionType.multiple_choice:
            result.raw[question.id] = given
        else:
            result.raw[question.id] = given[0] if given else ""
        value, error = parse_answer(question, given, _)
        if error:
            result.errors[question.id] = error
        else:
            result.values[question.id] = value
        if question.evidence:
            note_values = form.get(evidence_field(question.id), ())
            note = (note_values[0] if note_values else "").strip()
            result.raw[evidence_field(question.id)] = note
            if len(note) > EVIDENCE_LIMIT:
                result.errors[evidence_field(question.id)] = _(
                    "Evidence note must be {limit} characters or fewer", limit=EVIDENCE_LIMIT
                )
            else:
                result.evidence[question.id] = note or None
    return result


def display_value(question: Question, value: AnswerValue | None, lang: str) -> str:
    """An answer as the check-answers page shows it (option labels, not values)."""
    if value is None or value == "" or value == []:
        return ""
    labels = {o.value: localize(o.label, lang) for o in question.choices()}
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if isinstance(value, str):
        return labels.get(value, value)
    return _plain(value) if isinstance(value, float) else str(value)
