"""The tables of the public edition: one edition per accepted submission (what is withheld and
why, where it stands), and its rendered PDFs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, LargeBinary
from sqlmodel import Field, SQLModel

from service.models import EditionStatus, EnumString, UTCDateTime, created_at_field

_edition_version = Column("version", Integer, nullable=False)


class PublicEdition(SQLModel, table=True):
    """The public edition of one accepted submission. ``decisions`` maps each withholdable
    field of the sealed record (``answers/<q>``, ``evidence/<q>``, ``documents/<q>/<n>``) to
    ``{"publish": bool, "reason": key}``; a field not listed takes the questionnaire's default.
    ``id`` is the public record's id (``/public/{id}``)."""

    __tablename__ = "public_edition"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    submission_id: uuid.UUID = Field(foreign_key="submission.id", unique=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    regulator_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    status: EditionStatus = Field(
        default=EditionStatus.draft, sa_type=EnumString(EditionStatus), index=True
    )
    decisions: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    next_review: date | None = None
    note: str = Field(default="", max_length=2000)  # the regulator's note when it sends it back
    proposed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # after release
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawal_reason: str = Field(default="", max_length=2000)
    version: int = Field(default=1, sa_column=_edition_version)
    created_at: datetime = created_at_field()

    __mapper_args__ = {"version_id_col": _edition_version}


class PublicEditionPdf(SQLModel, table=True):
    """A released edition's signed PDF in one language, made once and served to everyone;
    removed when the edition changes."""

    __tablename__ = "public_edition_pdf"

    edition_id: uuid.UUID = Field(
        primary_key=True, foreign_key="public_edition.id", ondelete="CASCADE"
    )
    language: str = Field(primary_key=True, max_length=2)
    pdf: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = created_at_field()
