"""Tables of the action plan: one action per gap of an assessment, the regulator's comments on
an action, and the plan as it stood at each decision (printed in that submission's report).

The plan is not part of the frozen submission: the agency keeps it after submitting, and each
change is in the audit log. ``ActionPlanSnapshot`` freezes it when a regulator returns or
accepts a submission, since a report once issued never changes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models import ActionStatus, EnumString, UTCDateTime, created_at_field

_action_version = Column("version", Integer, nullable=False)

MAX_OWNER = 200
MAX_TEXT = 5000


class RemediationAction(SQLModel, table=True):
    """One gap of an assessment as an action: who owns it, by when, where it stands.

    Keyed by (assessment, criterion): the same criterion stays one action across the
    assessment's submissions. A gap with no row yet is an action to do with no owner
    (version 0); the first save makes the row."""

    __tablename__ = "remediation_action"
    __table_args__ = (UniqueConstraint("assessment_id", "criterion_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    criterion_id: str = Field(max_length=20)
    owner: str = Field(default="", max_length=MAX_OWNER)
    target_date: date | None = None
    status: ActionStatus = Field(
        default=ActionStatus.todo, sa_type=EnumString(ActionStatus, 16), nullable=False
    )
    risk_reason: str = Field(default="", sa_type=Text, nullable=False)
    risk_accepted_by: str = Field(default="", max_length=MAX_OWNER)
    note: str = Field(default="", sa_type=Text, nullable=False)
    # the action of the assessment this one was reassessed from, when it was carried over
    carried_from_id: uuid.UUID | None = Field(default=None, foreign_key="remediation_action.id")
    version: int = Field(default=1, sa_column=_action_version)
    updated_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    __mapper_args__ = {"version_id_col": _action_version}


class ActionComment(SQLModel, table=True):
    """A regulator's comment on one action (on its target date, say). Not part of the action's
    version: a comment never makes the officer's open form stale."""

    __tablename__ = "action_comment"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    criterion_id: str = Field(max_length=20)
    author_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    body: str = Field(sa_type=Text, nullable=False)
    created_at: datetime = created_at_field()


class ActionPlanSnapshot(SQLModel, table=True):
    """The plan of one submission's gaps as it stood at the regulator's decision on it."""

    __tablename__ = "action_plan_snapshot"

    submission_id: uuid.UUID = Field(primary_key=True, foreign_key="submission.id")
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    taken_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # [{"criterion_id", "owner", "target_date" (ISO or null), "status", "risk_reason",
    #   "risk_accepted_by"}], in the order of the submission's gaps
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
