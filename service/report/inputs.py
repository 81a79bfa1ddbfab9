"""What a report is made from: a questionnaire, a frozen submission, its Result and review state.

Plain, picklable data (no templates, no I/O), so it can cross to a render process and the view
(`view.py`) can be built from it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from service.questionnaire.answers import AnswersFile
from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import Result, score
from service.questionnaire.submission import (
    SealedRecord,
    SubmissionRecord,
    build_submission,
    canonical_bytes,
    canonical_json,
    sha256_hex,
)

TEMPLATE_VERSION = "5"  # 5: French colons with a no-break space in the law block, critical gaps and board summary; 4: scoped table headers, cover with decision and first actions, gap matrix, named chart bars; 3: the review state of the submission itself, and the issuing line
ATTACHMENT_NAME = "submission.json"
REVIEW_ATTACHMENT = "review.json"
REVIEW_FORMAT = "policygap-review/1"
STATUSES = ("draft", "submitted", "returned", "accepted")
PAPERS = {"letter": "letter", "a4": "A4"}
MAX_MARKING = 80


@dataclass(frozen=True)
class PlanEntry:
    """One action of the plan as it stood at the regulator's decision (``ReviewInfo.plan``), or
    as it stands now (the OSCAL plan of action and milestones, which also reads the note and
    when the action last changed; a decision's snapshot keeps neither)."""

    criterion_id: str
    owner: str = ""
    target_date: date | None = None
    status: str = "todo"  # todo | in_progress | done | risk_accepted
    risk_reason: str = ""
    risk_accepted_by: str = ""
    note: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ReviewInfo:
    """What the regulator's decision on THIS submission adds to its report: who returned or
    accepted it, when, and the comments published with the decision."""

    decided_by: str | None = None
    decided_at: datetime | None = None
    general_comment: str | None = None
    comments: dict[str, list[str]] = field(default_factory=dict)  # criterion id -> comments
    # the action plan as it stood at the decision, printed "as at" ``plan_as_at``
    plan: tuple[PlanEntry, ...] = ()
    plan_as_at: datetime | None = None

    def comments_sha256(self) -> str:
        """SHA-256 of the published comments (canonical JSON), as the review record states it."""
        data = {"general": self.general_comment or "", "comments": self.comments}
        return sha256_hex(canonical_bytes(data))


@dataclass(frozen=True)
class Issued:
    """Who issues a PDF and when: printed on its cover and set as the signature's time."""

    instance: str
    at: datetime


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is made from. Picklable, so it can cross to a render process."""

    questionnaire: Questionnaire
    record: SubmissionRecord
    result: Result
    status: str = "submitted"  # draft | submitted | returned | accepted
    review: ReviewInfo | None = None
    previous: Result | None = None
    sealed: SealedRecord | None = None  # the version-2 record, when the submission has one
    issued: Issued | None = None  # a signed PDF: by which instance, when

    @cached_property
    def canonical(self) -> bytes:
        """The bytes attached to the PDF: the sealed record (version 2) or the version-1 JSON."""
        return self.sealed.canonical() if self.sealed is not None else canonical_json(self.record)

    @cached_property
    def sha256(self) -> str:
        """The submission's hash as printed: the commitments' root, or SHA-256 of version 1."""
        return self.sealed.root() if self.sealed is not None else sha256_hex(self.canonical)

    def review_record(self) -> bytes:
        """The review state of this submission, attached beside it as `review.json`: it
        changes after submit, so it is not part of the submission's hash (the signature covers
        both)."""
        review = self.review or ReviewInfo()
        return canonical_bytes(
            {
                "format": REVIEW_FORMAT,
                "submission_sha256": self.sha256,
                "number": self.record.number,
                "status": self.status,
                "decided_by": review.decided_by,
                "decided_at": review.decided_at.isoformat() if review.decided_at else None,
                "comments_sha256": review.comments_sha256(),
            }
        )


def build_report_input(
    questionnaire: Questionnaire,
    answers: AnswersFile | SubmissionRecord | SealedRecord,
    *,
    status: str = "submitted",
    as_of: date | None = None,
    number: int = 1,
    submitted_at: datetime | None = None,
    review: ReviewInfo | None = None,
    previous: Result | None = None,
    issued: Issued | None = None,
    result: Result | None = None,
) -> ReportInput:
    """A ReportInput from an answers file (as the CLI reads it), a frozen submission record,
    or a sealed version-2 record (its record is read from it).

    ``result``: the Result stored with a submission, so it is shown as it was scored at submit
    (and not scored again); without it the answers are scored here."""
    sealed: SealedRecord | None = None
    if isinstance(answers, SealedRecord):
        sealed = answers
        record = sealed.record()
    elif isinstance(answers, SubmissionRecord):
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
    if result is None:
        result = score(questionnaire, record.to_answers(), as_of=record.as_of)
    return ReportInput(
        questionnaire=questionnaire,
        record=record,
        result=result,
        status=status,
        review=review,
        previous=previous,
        sealed=sealed,
        issued=issued,
    )
