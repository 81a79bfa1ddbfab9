"""Tables of the assessments feature: the assessment, its numbered submissions, the reviewer's
comments the officer works from, what the inbox keeps of each submission, and who was
assigned which part of an assessment.

``SubmissionDigest`` keeps what the inbox and the portfolio need of each submission (rating,
score, the verdict of every criterion in one compact string, critical gaps), so neither
re-scores nor decodes the full result JSON. ``Reassessment`` links an assessment to the
accepted one it was pre-filled from.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models import (
    AssessmentStatus,
    AssignmentKind,
    EnumString,
    UTCDateTime,
    created_at_field,
)

_assessment_version = Column("version", Integer, nullable=False)


class Assessment(SQLModel, table=True):
    """One agency's answers to one questionnaire version: a draft until submitted."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    questionnaire_id: str = Field(max_length=100)
    questionnaire_version: str = Field(max_length=50)
    program: str = Field(max_length=200)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    evidence: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    section_status: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    status: AssessmentStatus = Field(
        default=AssessmentStatus.draft, sa_type=EnumString(AssessmentStatus), index=True
    )
    version: int = Field(default=1, sa_column=_assessment_version)
    # The version at which each answer, note ("evidence-<id>") and section status
    # ("section-<id>") last changed: a save made on an older version is refused only when a
    # field it changes was changed since (``service.assessments.service.field_conflicts``).
    changed_in: dict[str, int] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"}
    )
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    __mapper_args__ = {"version_id_col": _assessment_version}


class Submission(SQLModel, table=True):
    """An immutable snapshot taken at each submit; ``sha256`` is of ``canonical`` exactly."""

    __table_args__ = (UniqueConstraint("assessment_id", "number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    number: int
    canonical: str  # the canonical submission JSON (UTF-8 text)
    sha256: str = Field(max_length=64, index=True)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    as_of: date
    submitted_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime = created_at_field()


class ReviewComment(SQLModel, table=True):
    __tablename__ = "review_comment"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    submission_id: uuid.UUID | None = Field(default=None, foreign_key="submission.id")
    criterion_id: str | None = Field(default=None, max_length=20)
    author_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    body: str
    created_at: datetime = created_at_field()


class SubmissionDigest(SQLModel, table=True):
    __tablename__ = "submission_digest"
    __table_args__ = (
        Index("ix_submission_digest_latest_org_status", "latest", "organisation_id", "status"),
        Index("ix_submission_digest_latest_submitted", "latest", "submitted_at"),
        Index(
            "ix_submission_digest_questionnaire",
            "questionnaire_id",
            "questionnaire_version",
            "organisation_id",
        ),
    )

    submission_id: uuid.UUID = Field(primary_key=True, foreign_key="submission.id")
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    questionnaire_id: str = Field(max_length=100)
    questionnaire_version: str = Field(max_length=50)
    number: int
    latest: bool = True  # the assessment's latest submission
    # the assessment's status, kept in step on its latest digest (submit, return, accept)
    status: AssessmentStatus = Field(
        default=AssessmentStatus.submitted,
        sa_type=EnumString(AssessmentStatus),
        sa_column_kwargs={"server_default": AssessmentStatus.submitted},
    )
    rating: str = Field(max_length=8)
    score: float | None = None
    verdicts: str  # "COL-01=met;COL-02=not_met;..." in questionnaire order
    critical_gaps: list[str] = Field(default_factory=list, sa_type=JSON)
    submitted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Reassessment(SQLModel, table=True):
    __tablename__ = "reassessment"

    assessment_id: uuid.UUID = Field(primary_key=True, foreign_key="assessment.id")
    previous_assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    previous_submission_id: uuid.UUID = Field(foreign_key="submission.id")
    new_questions: list[str] = Field(default_factory=list, sa_type=JSON)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Assignment(SQLModel, table=True):
    """A part of an assessment (a whole section, or one question) given to a colleague of the
    same agency, with an optional internal due date. One person per part: assigning it again
    hands it over."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("assessment_id", "kind", "target"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    kind: AssignmentKind = Field(sa_type=EnumString(AssignmentKind))
    target: str = Field(max_length=100)  # the section id or the question id
    assignee_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    due_on: date | None = Field(default=None, index=True)
    assigned_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()


class SubmissionDue(SQLModel, table=True):
    """When the regulator wants the assessment's next submission (``resubmission``: after a
    return). Its own row, not a column of ``assessment``: setting it must not change the
    assessment's version (the officer's open form stays current)."""

    __tablename__ = "submission_due"

    assessment_id: uuid.UUID = Field(primary_key=True, foreign_key="assessment.id")
    due_on: date = Field(index=True)
    resubmission: bool = False
    set_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    set_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
