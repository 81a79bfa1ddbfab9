"""The board API's models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class BoardItem(BaseModel):
    assessment_id: uuid.UUID
    program: str
    questionnaire_id: str
    questionnaire_version: str
    rating: str
    rating_label: str = Field(description="The rating in the request's language")
    score: float | None
    submitted_at: datetime
