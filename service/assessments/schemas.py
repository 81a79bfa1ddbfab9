"""Request and response models of the assessments API (the error body and an assessment as the
API shows it are shared by every feature: ``service.api.responses``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

AnswerIn = StrictStr | list[StrictStr] | int | float | None


class QuestionnaireSummary(BaseModel):
    id: str
    version: str
    title: str
    languages: list[str]
    sha256: str
    sections: list[str]


class AssessmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questionnaire: StrictStr = Field(min_length=1, max_length=100)
    version: StrictStr | None = Field(
        default=None, max_length=50, description="Default: the latest"
    )
    program: StrictStr = Field(min_length=1, max_length=200)


class AnswersPatch(BaseModel):
    """Answers to set (null clears one) and evidence notes (null or "" clears one)."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[StrictStr, AnswerIn] = Field(default_factory=dict)
    evidence: dict[StrictStr, StrictStr | None] = Field(default_factory=dict)


class SectionStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["completed", "in_progress"]


class SubmitIn(BaseModel):
    """What the officer confirms when submitting (the body is optional when every question
    shown is answered)."""

    model_config = ConfigDict(extra="forbid")

    confirm_unanswered: bool | Annotated[list[StrictStr], Field(max_length=1000)] = Field(
        default=False,
        description=(
            "Submit although some questions shown are not answered: true, or the ids of those "
            "questions (each one must be listed). Without it, such a submit gets 409 "
            "`unanswered_questions` naming them."
        ),
    )


class SubmissionPublic(BaseModel):
    id: uuid.UUID
    assessment_id: uuid.UUID
    number: int
    sha256: str
    as_of: date
    submitted_at: datetime
    rating: str
    rating_label: str = Field(description="The rating in the request's language")
    score: float | None


class ResultPublic(BaseModel):
    assessment_id: uuid.UUID
    preview: bool = Field(description="True for a draft: computed now, not stored")
    submission_number: int | None
    sha256: str | None
    result: dict[str, Any]
