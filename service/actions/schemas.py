"""The action plan API's models: labels (``*_label``) in the request's language."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from service.actions.models import MAX_OWNER, MAX_TEXT
from service.models import ActionStatus


class CommentPublic(BaseModel):
    author: str
    body: str
    created_at: datetime


class ActionPublic(BaseModel):
    criterion_id: str
    title: str
    section_title: str
    severity: str
    severity_label: str
    recommendation: str
    owner: str
    target_date: date | None
    status: ActionStatus
    status_label: str
    risk_reason: str
    risk_accepted_by: str
    note: str
    version: int = Field(description='Send it back as If-Match: "<version>" (0: never saved)')
    updated_at: datetime | None
    carried_over: bool
    comments: list[CommentPublic]


class PlanProgress(BaseModel):
    total: int
    closed: int
    by_status: dict[str, int]


class ActionPlanPublic(BaseModel):
    assessment_id: uuid.UUID
    submission_number: int | None
    progress: PlanProgress
    actions: list[ActionPublic]


class ActionUpdate(BaseModel):
    """Every field of the action (a PUT): what is left out is cleared."""

    model_config = ConfigDict(extra="forbid")

    owner: str = Field(default="", max_length=MAX_OWNER)
    target_date: date | None = None
    status: ActionStatus = ActionStatus.todo
    risk_reason: str = Field(default="", max_length=MAX_TEXT)
    risk_accepted_by: str = Field(default="", max_length=MAX_OWNER)
    note: str = Field(default="", max_length=MAX_TEXT)


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_TEXT)
