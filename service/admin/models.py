"""Administration tables: one-time account links, questionnaire publication, site settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models import UTCDateTime, utcnow


class AccountToken(SQLModel, table=True):
    """A one-time link to set a password (an invitation or a reset); only its hash is stored."""

    __tablename__ = "account_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=16)  # invite | reset
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuestionnaireUpload(SQLModel, table=True):
    """A questionnaire file uploaded by an admin: a draft until a second person (another admin
    or a reviewer) approves it, then published. The file lives here, with its SHA-256, so every
    app instance serves the same versions without sharing a disk."""

    __tablename__ = "questionnaire_upload"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "version", name="uq_questionnaire_upload_version"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    questionnaire_id: str = Field(max_length=100)
    version: str = Field(max_length=50)
    file_name: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=LargeBinary, nullable=False)
    status: str = Field(default="draft", max_length=16, index=True)  # draft | published
    uploaded_by_id: uuid.UUID = Field(foreign_key="user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    approved_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
