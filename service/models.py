"""Database tables (SQLModel). Tables come from the Alembic migrations under ``service/migrations``.

Conventions: UUID primary keys; timezone-aware UTC datetimes (SQLite hands back naive values, so
``UTCDateTime`` normalises on the way in and out); enums stored as strings; JSON columns are
always replaced by a new dict, never changed in place (in-place changes are not tracked).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, BigInteger, DateTime, MetaData, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC, read back aware on every back end."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class EnumString(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` column stored as its value in a ``VARCHAR(length)``, read back as the enum.

    The database type is a plain string (no migration, no database enum), so the column reads
    as the Python enum in code and compares with it in queries. A value outside the enum is
    refused on the way in.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length=length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum


def created_at_field() -> Any:
    """A ``created_at`` column: timezone-aware, set on insert."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class OrgKind(StrEnum):
    agency = "agency"
    regulator = "regulator"
    board = "board"


class BodyType(StrEnum):
    federal = "federal"
    provincial = "provincial"
    municipal = "municipal"
    first_nations = "first_nations"  # a First Nations or Indigenous police service


class Role(StrEnum):
    """What a user does; what each role may do is the table in ``service.auth.policy``."""

    officer = "officer"
    contributor = "contributor"  # answers the questions assigned to them; cannot submit
    reviewer = "reviewer"
    board = "board"
    admin = "admin"


class AssessmentStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"


class AssignmentKind(StrEnum):
    """What part of an assessment an assignment gives: a whole section or one question."""

    section = "section"
    question = "question"


class ActionStatus(StrEnum):
    """Where one action of an assessment's action plan stands (``service/actions``)."""

    todo = "todo"
    in_progress = "in_progress"
    done = "done"
    risk_accepted = "risk_accepted"  # accepted as a risk, with a reason and who accepted it


class EditionStatus(StrEnum):
    """Where an accepted submission's public edition stands (``service/publication``)."""

    draft = "draft"  # the agency's officer is preparing it
    proposed = "proposed"  # waiting for the regulator
    released = "released"  # public
    withdrawn = "withdrawn"  # was public; the record says so, with the date and the reason


class VersionState(StrEnum):
    """Whether a questionnaire version is offered for new assessments."""

    published = "published"
    retired = "retired"


class SectionStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    completed = "completed"


class Organisation(SQLModel, table=True):
    """An agency (police service), a regulator (privacy commissioner) or an oversight board.

    A regulator with no province is the federal commissioner; it oversees federal bodies. A
    provincial regulator oversees the non-federal bodies of its province. A board oversees the
    agency named by ``agency_id``.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: OrgKind = Field(sa_type=EnumString(OrgKind), index=True)
    slug: str = Field(max_length=64, unique=True)
    name_en: str = Field(max_length=200)
    name_fr: str = Field(max_length=200)
    body_type: BodyType | None = Field(default=None, sa_type=EnumString(BodyType))
    province: str | None = Field(default=None, max_length=2)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    # Agencies: the regulator named explicitly (else the jurisdiction rule of service.auth.scope).
    regulator_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    # Regulators: the jurisdictions overseen ("federal", "ON"...); empty: from ``province``.
    jurisdictions: list[str] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = created_at_field()

    def name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" else self.name_en


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    role: Role = Field(sa_type=EnumString(Role))
    organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="organisation.id", index=True
    )
    active: bool = True
    language: str = Field(default="en", max_length=2)
    totp_secret: str | None = Field(default=None, max_length=64)  # set once enrolment is confirmed
    # The time step (Unix time // 30) of the last code accepted: that code and older are refused.
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = created_at_field()


class WebSession(SQLModel, table=True):
    """A server-side session. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie token
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user.id", index=True, ondelete="CASCADE"
    )
    csrf_token: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=2)
    # Password accepted, second factor still to give (the session is not signed in yet).
    pending_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user.id", ondelete="CASCADE"
    )
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what, when: every save and every change of state."""

    __tablename__ = "audit_event"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    assessment_id: uuid.UUID | None = Field(default=None, foreign_key="assessment.id", index=True)
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts, kept in the database so every instance applies the same limit."""

    __tablename__ = "login_attempt"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(default="", max_length=64)
    success: bool = False
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)


class TokenScope(StrEnum):
    """What an API token may do: read only, or read and write."""

    read = "read"
    write = "write"


class ApiToken(SQLModel, table=True):
    """A personal API token; only the SHA-256 of the secret is stored. It stops working at
    ``expires_at`` and, for good, once revoked (sign out everywhere, password change,
    deactivation, reset, or by its owner)."""

    __tablename__ = "api_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(default=TokenScope.write.value, max_length=8)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """A single-use code that stands in for the authenticator app at sign-in; only the SHA-256
    of the code is stored (the codes are random, 50 bits, so a fast hash is enough)."""

    __tablename__ = "recovery_code"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuestionnaireState(SQLModel, table=True):
    """Whether a questionnaire version is offered for new assessments (published) or retired.

    A loaded version without a row is published when it is the only (latest) one of its id,
    see ``service.admin.service.questionnaire_versions``.
    """

    __tablename__ = "questionnaire_state"

    questionnaire_id: str = Field(primary_key=True, max_length=100)
    version: str = Field(primary_key=True, max_length=50)
    state: VersionState = Field(sa_type=EnumString(VersionState))
    changed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SiteSetting(SQLModel, table=True):
    """A setting an admin changes at run time (e.g. ``require_totp_roles``)."""

    __tablename__ = "site_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=1000)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
