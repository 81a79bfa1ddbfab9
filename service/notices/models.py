"""Tables of notices: one notice per user and event, and which kinds each user also gets by
e-mail.

A notice holds no assessment content: its ``params`` are titles (the program's name, a
criterion id), dates and a link, so the words of the notice, in the app or in a message, are
made from them in the reader's language (``notices.text``). ``key`` makes a notice once-only:
a reminder (kind, item, due date, user) is inserted with ``ON CONFLICT DO NOTHING``, so two app
instances or two workers looking at the same time record it, and send it, once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from service.models import EnumString, UTCDateTime, created_at_field


class NoticeKind(StrEnum):
    returned = "returned"  # the regulator returned an assessment for changes
    accepted = "accepted"  # the regulator accepted an assessment
    assigned_to_you = "assigned_to_you"  # a part of an assessment was assigned to the user
    comment_on_target_date = "comment_on_target_date"  # the regulator commented on an action
    due_soon = "due_soon"  # a submission or an action is due within 7 days
    overdue = "overdue"  # a submission or an action is past its due date
    public_edition_proposed = "public_edition_proposed"  # to the regulator: awaits its release
    public_edition_sent_back = "public_edition_sent_back"  # to the agency: change the proposal
    public_edition_released = "public_edition_released"  # to the agency: the record is public


class EmailState(StrEnum):
    none = "none"  # not wanted by e-mail (the user's choice)
    pending = "pending"  # to send (the send job claims it)
    sending = "sending"  # claimed by a send job at ``email_claimed_at``
    sent = "sent"
    off = "off"  # wanted, but no SMTP server was configured when the send job ran
    failed = "failed"  # the server refused it on every attempt


class Notice(SQLModel, table=True):
    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_user_read", "user_id", "read_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    kind: NoticeKind = Field(sa_type=EnumString(NoticeKind, 32))
    # titles, dates and a link (``link``: a path of the app); never answers, notes or comments
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # once-only notices (reminders): unique; None for an event that cannot repeat
    key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = created_at_field()
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_state: EmailState = Field(
        default=EmailState.none, sa_type=EnumString(EmailState), index=True
    )
    email_claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticePreference(SQLModel, table=True):
    """Whether the user gets notices of ``kind`` by e-mail too (no row: yes)."""

    __tablename__ = "notice_preference"

    user_id: uuid.UUID = Field(primary_key=True, foreign_key="user.id", ondelete="CASCADE")
    kind: NoticeKind = Field(primary_key=True, sa_type=EnumString(NoticeKind, 32))
    email: bool = True
