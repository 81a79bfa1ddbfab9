"""The PDF cache of report delivery."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models import created_at_field


class ReportCache(SQLModel, table=True):
    """Rendered PDFs keyed by (submission hash, language, template version, review state)."""

    __tablename__ = "report_cache"
    __table_args__ = (UniqueConstraint("sha256", "language", "template_version", "review_state"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sha256: str = Field(max_length=64)
    language: str = Field(max_length=2)
    template_version: str = Field(max_length=40)
    review_state: str = Field(max_length=16)
    pdf: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = created_at_field()
