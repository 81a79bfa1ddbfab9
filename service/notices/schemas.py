"""The notices API's models: each notice's words in the request's language."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.notices.models import NoticeKind


class NoticePublic(BaseModel):
    id: uuid.UUID
    kind: NoticeKind
    title: str
    next_step: str
    link: str = Field(description="A path of the app, to open once signed in")
    created_at: datetime
    read: bool


class NoticeList(BaseModel):
    notices: list[NoticePublic]
    unread: int
    total: int
    page: int
    pages: int


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice_id: uuid.UUID | None = Field(
        default=None, description="The notice to mark read; none: every notice"
    )


class Marked(BaseModel):
    marked: int


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[NoticeKind] = Field(
        max_length=len(NoticeKind), description="The kinds that also come by e-mail"
    )
