"""The tables of report delivery: the PDF cache, the instance's signing key and the uses of
the public verify page (for its rate limit)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, Text
from sqlmodel import Field, SQLModel

from service.models import UTCDateTime, created_at_field, utcnow


class ReportCache(SQLModel, table=True):
    """Rendered PDFs, one per `RenderJob.cache_key()` (submission hash, format, language,
    template version, review state of that submission, paper, marking, signer, ...)."""

    __tablename__ = "report_cache"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cache_key: str = Field(max_length=64, unique=True)
    sha256: str = Field(max_length=64, index=True)  # the submission's hash, for housekeeping
    language: str = Field(max_length=2)
    review_state: str = Field(max_length=16)
    pdf: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = created_at_field()


class InstanceKey(SQLModel, table=True):
    """The key and certificate this instance signs its reports with (made at first use unless
    ``POLICYGAP_SIGNING_KEY``/``_CERT`` name files). One row: ``id`` is always 1."""

    __tablename__ = "instance_key"

    id: int = Field(default=1, primary_key=True)
    key_pem: str = Field(sa_type=Text)
    cert_pem: str = Field(sa_type=Text)
    created_at: datetime = created_at_field()


class VerifyUse(SQLModel, table=True):
    """One check on the public verify page, kept for its rate limit only (a minute): the client
    is a keyed hash of its address (HMAC-SHA-256 with the secret key), never the address. In the
    database, so every worker and instance counts the same uses."""

    __tablename__ = "verify_use"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
