"""Tables of the review area, imported by ``service.models`` so Alembic sees them.

``SubmissionDigest`` keeps what the inbox and the portfolio need of each submission (rating,
score, the verdict of every criterion in one compact string, critical gaps), so neither
re-scores nor decodes the full result JSON. ``Reassessment`` links an assessment to the
accepted one it was pre-filled from.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from service.models import UTCDateTime


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
    status: str = Field(
        default="submitted", max_length=16, sa_column_kwargs={"server_default": "submitted"}
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


class ReviewDraft(SQLModel, table=True):
    """A reviewer's comments on a submission, saved before deciding. Only its author sees them;
    the decision publishes them as review comments and deletes the draft."""

    __tablename__ = "review_draft"

    submission_id: uuid.UUID = Field(primary_key=True, foreign_key="submission.id")
    author_id: uuid.UUID = Field(primary_key=True, foreign_key="user.id")
    comments: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # criterion id -> text
    general: str = ""
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
