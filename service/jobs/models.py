"""The job table of the SQLite queue (on PostgreSQL, procrastinate's tables hold the jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from service.models import UTCDateTime, created_at_field, utcnow


class JobRow(SQLModel, table=True):
    """One job: queued, running (by the one worker holding the queue's lock), or failed for good
    (a job that succeeds is deleted). ``key`` makes deferring idempotent: while a job with the
    same key is queued, deferring it again adds nothing."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=64)
    key: str = Field(max_length=128, index=True)
    args: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="queued", max_length=16, index=True)
    attempts: int = 0
    run_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    error: str = Field(default="", sa_type=Text)
    created_at: datetime = created_at_field()
