"""The board API's models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class BoardItem(BaseModel):
    assessment_id: uuid.UUID
    program: str
    questionnaire_id: str
    questionnaire_version: str
    rating: str
    score: float | None
    submitted_at: datetime
