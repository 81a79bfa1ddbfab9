"""Answers to a questionnaire, and the answers file the CLI reads and the web app exports.

The answers file (YAML or JSON) looks like this:

    questionnaire: frt-police-canada     # the questionnaire's id
    version: "1.0.0"                     # the questionnaire version answered
    agency: Lakeshore Regional Police Service
    program: Retrospective facial recognition (2019-2020 trial)
    as_of: 2026-11-26                    # optional: the date the answers speak for
    answers:                             # by question id
      body_type: municipal_police        # single choice: an option value
      uses: [retrospective]              # multiple choice: a list of option values
      pia_done: "no"                     # yes/no questions: yes, partly, no, dont_know (quoted!)
      pia_date: 2024-05-01               # date: YYYY-MM-DD
      searches_per_year: 150             # number
    evidence:                            # optional evidence notes, by question id
      pia_done: "No PIA exists; confirmed with the records office on 2020-03-02."
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from service.questionnaire.schema import Question, Questionnaire, QuestionType

MAX_INT = 2**53  # the largest integer a float (and a JSON reader) holds exactly
AnswerValue = str | list[str] | int | float
# As written in a file: kept strict so that `yes` read by YAML as true is reported, not coerced.
FileValue = StrictBool | StrictStr | list[StrictStr] | StrictInt | StrictFloat | None


@dataclass(frozen=True)
class Answers:
    """Answers by question id (dates as ISO strings) and evidence notes by question id."""

    values: Mapping[str, AnswerValue] = field(default_factory=dict)
    evidence: Mapping[str, str] = field(default_factory=dict)


class AnswersFile(BaseModel):
    """The answers-file format shared by the CLI and the web app's export and import."""

    model_config = ConfigDict(extra="forbid")

    questionnaire: StrictStr
    version: StrictStr
    agency: StrictStr = ""
    program: StrictStr = ""
    as_of: date | None = None
    answers: dict[StrictStr, FileValue] = Field(default_factory=dict)
    evidence: dict[StrictStr, StrictStr] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        # `version: 1.0` in YAML is a float; accept it as the text the author wrote.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    def to_answers(self) -> Answers:
        values: dict[str, AnswerValue] = {}
        for key, value in self.answers.items():
            if value is None:
                continue
            # a bool is kept as written so check_answers can say how to quote it
            values[key] = value
        notes = {k: v for k, v in self.evidence.items() if v.strip()}
        return Answers(values=values, evidence=notes)


def validate_answer(
    question: Question, value: object, allowed: AbstractSet[str] | None = None
) -> str | None:
    """Why `value` is not an acceptable answer to `question`, or None when it is. `allowed`:
    the question's option values when the caller has them at hand (checking many answers)."""
    kind = question.type
    if kind in (QuestionType.single_choice, QuestionType.yes_no):
        allowed = question.option_values() if allowed is None else allowed
        if isinstance(value, bool):
            return (
                f"{str(value).lower()} was read as a true/false value; write the option in "
                f"quotes, one of: {', '.join(sorted(allowed))}"
            )
        if not isinstance(value, str) or value not in allowed:
            return f"{value!r} is not an option; use one of: {', '.join(sorted(allowed))}"
        return None
    if kind is QuestionType.multiple_choice:
        allowed = question.option_values() if allowed is None else allowed
        if not isinstance(value, list):
            return "a multiple-choice answer is a list of option values, such as [a, b]"
        bad = [v for v in value if not isinstance(v, str) or v not in allowed]
        if bad:
            return f"{bad[0]!r} is not an option; use any of: {', '.join(sorted(allowed))}"
        if len(set(value)) != len(value):
            return "an option is listed twice"
        return None
    if kind in (QuestionType.text, QuestionType.long_text):
        if not isinstance(value, str):
            return "the answer must be text"
        if len(value) > question.text_limit:
            return f"the answer is longer than {question.text_limit} characters"
        return None
    if kind is QuestionType.number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "the answer must be a number"
        if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
            return "the number is too large"
        if not math.isfinite(value):
            return "the answer must be a number"
        if question.min is not None and value < question.min:
            return f"the answer must be at least {question.min:g}"
        if question.max is not None and value > question.max:
            return f"the answer must be at most {question.max:g}"
        return None
    # date
    if isinstance(value, date):
        return None
    if not isinstance(value, str):
        return "the answer must be a date written YYYY-MM-DD"
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date; write YYYY-MM-DD"
    if len(value) != 10:
        return f"{value!r} is not a date; write YYYY-MM-DD"
    return None


def check_answers(questionnaire: Questionnaire, answers: Answers) -> list[str]:
    """Every problem with a set of answers: unknown question ids and unacceptable values."""
    index = questionnaire.question_index()
    problems: list[str] = []
    for qid, value in answers.values.items():
        question = index.get(qid)
        if question is None:
            problems.append(f"answers.{qid}: there is no question {qid!r} in {questionnaire.id}")
            continue
        message = validate_answer(question, value)
        if message:
            problems.append(f"answers.{qid}: {message}")
    for qid, note in answers.evidence.items():
        question = index.get(qid)
        if question is None:
            problems.append(f"evidence.{qid}: there is no question {qid!r} in {questionnaire.id}")
        elif not question.evidence:
            problems.append(f"evidence.{qid}: question {qid} takes no evidence note")
        elif len(note) > 10_000:
            problems.append(f"evidence.{qid}: the note is longer than 10000 characters")
    return problems


def check_answers_file(questionnaire: Questionnaire, data: AnswersFile) -> list[str]:
    """Problems of an answers file against a questionnaire, the version check included."""
    problems: list[str] = []
    if data.questionnaire != questionnaire.id:
        problems.append(
            f"questionnaire: the answers are for {data.questionnaire!r}, "
            f"not for {questionnaire.id!r}"
        )
    if data.version != questionnaire.version:
        problems.append(
            f"version: the answers are for version {data.version!r}, but the questionnaire "
            f"is version {questionnaire.version!r}"
        )
    return problems + check_answers(questionnaire, data.to_answers())
