"""Administration tables: one-time account links, questionnaire publication, site settings."""

from __future__ import annotations

import uuid
from datetime import datetime

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


class QuestionnaireState(SQLModel, table=True):
    """Whether a questionnaire version is offered for new assessments (published) or retired.

    A loaded version without a row is published when it is the only (latest) one of its id,
    see ``service.admin.service.questionnaire_versions``.
    """

    __tablename__ = "questionnaire_state"

    questionnaire_id: str = Field(primary_key=True, max_length=100)
    version: str = Field(primary_key=True, max_length=50)
    state: str = Field(max_length=16)  # published | retired
    changed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SiteSetting(SQLModel, table=True):
    """A setting an admin changes at run time (e.g. ``require_totp_roles``)."""

    __tablename__ = "site_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=1000)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
