"""Document tables: content-addressed blobs, and their attachment to an assessment's questions.

A blob is stored once per SHA-256 (in ``content``, or in ``POLICYGAP_DOCUMENTS_DIR`` when set,
then ``content`` is empty). Blobs are never deleted: a submission may name them after the draft
dropped the attachment.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from service.models import UTCDateTime, utcnow


class DocumentBlob(SQLModel, table=True):
    __tablename__ = "document_blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    media_type: str = Field(max_length=100)
    content: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Document(SQLModel, table=True):
    """A document attached to one question of a draft (the current attachments)."""

    __tablename__ = "document"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    question_id: str = Field(max_length=100)
    sha256: str = Field(foreign_key="document_blob.sha256", max_length=64, index=True)
    name: str = Field(max_length=200)
    size: int
    media_type: str = Field(max_length=100)
    uploaded_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
