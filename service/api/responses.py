"""Models every feature's API shares: the error body (and the error responses every route may
give, for the OpenAPI document) and an assessment as the API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    detail: Any = Field(description="What is wrong (a message, or a list of field errors)")
    code: str = Field(description="A stable code such as not_found, stale_version, invalid")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        401: "No or an invalid API token",
        403: "Your role cannot do this",
        404: "Not found, or not visible to you",
        409: "Conflict: submitted already, or another writer saved first",
        412: "If-Match is not the current version",
        413: "Request too large",
        422: "Invalid request",
        428: "If-Match is required",
    }.items()
}


class AssessmentRecord(Protocol):
    """What ``AssessmentPublic.of`` reads of an assessment (``service.assessments.models``)."""

    id: uuid.UUID
    questionnaire_id: str
    questionnaire_version: str
    program: str
    status: str
    version: int
    answers: dict[str, Any]
    evidence: dict[str, str]
    section_status: dict[str, str]
    created_at: datetime
    updated_at: datetime


class AssessmentPublic(BaseModel):
    id: uuid.UUID
    agency: str
    questionnaire_id: str
    questionnaire_version: str
    program: str
    status: str
    version: int
    answers: dict[str, Any]
    evidence: dict[str, str]
    section_status: dict[str, str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, assessment: AssessmentRecord, agency_name: str) -> AssessmentPublic:
        return cls(
            id=assessment.id,
            agency=agency_name,
            questionnaire_id=assessment.questionnaire_id,
            questionnaire_version=assessment.questionnaire_version,
            program=assessment.program,
            status=assessment.status,
            version=assessment.version,
            answers=dict(assessment.answers),
            evidence=dict(assessment.evidence),
            section_status=dict(assessment.section_status),
            created_at=assessment.created_at,
            updated_at=assessment.updated_at,
        )
