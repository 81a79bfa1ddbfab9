"""What a report is made from: a questionnaire, a frozen submission, its Result and review state.

Plain, picklable data (no templates, no I/O), so it can cross to a render process and the view
(`view.py`) can be built from it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from service.questionnaire.answers import AnswersFile
from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import Result, score
from service.questionnaire.submission import (
    SubmissionRecord,
    build_submission,
    canonical_json,
    sha256_hex,
)

TEMPLATE_VERSION = "2"  # 2: reason codes written out in the reader's language
STATUSES = ("draft", "submitted", "returned", "accepted")
PAPERS = {"letter": "letter", "a4": "A4"}
MAX_MARKING = 80


@dataclass(frozen=True)
class ReviewInfo:
    """What a review adds to the report: who accepted it, and the reviewer's comments."""

    accepted_by: str | None = None
    accepted_at: datetime | None = None
    general_comment: str | None = None
    comments: dict[str, list[str]] = field(default_factory=dict)  # criterion id -> comments


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is made from. Picklable, so it can cross to a render process."""

    questionnaire: Questionnaire
    record: SubmissionRecord
    result: Result
    status: str = "submitted"  # draft | submitted | returned | accepted
    review: ReviewInfo | None = None
    previous: Result | None = None

    @property
    def canonical(self) -> bytes:
        return canonical_json(self.record)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.canonical)


def build_report_input(
    questionnaire: Questionnaire,
    answers: AnswersFile | SubmissionRecord,
    *,
    status: str = "submitted",
    as_of: date | None = None,
    number: int = 1,
    submitted_at: datetime | None = None,
    review: ReviewInfo | None = None,
    previous: Result | None = None,
) -> ReportInput:
    """A ReportInput from an answers file (as the CLI reads it) or a frozen submission record."""
    if isinstance(answers, SubmissionRecord):
        record = answers
    else:
        when = as_of or answers.as_of
        if when is None:
            raise ValueError("the answers need an as_of date (the date they speak for)")
        record = build_submission(
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            questionnaire_sha256=questionnaire.sha256,
            as_of=when,
            agency=answers.agency,
            program=answers.program,
            answers=answers.to_answers(),
            number=number,
            submitted_at=submitted_at,
        )
    result = score(questionnaire, record.to_answers(), as_of=record.as_of)
    return ReportInput(
        questionnaire=questionnaire,
        record=record,
        result=result,
        status=status,
        review=review,
        previous=previous,
    )
