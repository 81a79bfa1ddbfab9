"""Tables of the review feature: the reviewer's unpublished drafts (published comments are
``assessments.models.ReviewComment``, read on the officer's pages)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models import UTCDateTime


class ReviewDraft(SQLModel, table=True):
    """A reviewer's comments on a submission, saved before deciding. Only its author sees them;
    the decision publishes them as review comments and deletes the draft."""

    __tablename__ = "review_draft"

    submission_id: uuid.UUID = Field(primary_key=True, foreign_key="submission.id")
    author_id: uuid.UUID = Field(primary_key=True, foreign_key="user.id")
    comments: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # criterion id -> text
    general: str = ""
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
