"""The administration API's models (``/api/v1/admin``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class OrganisationOut(BaseModel):
    id: uuid.UUID
    kind: str
    slug: str
    name_en: str
    name_fr: str
    body_type: str | None
    province: str | None
    regulator_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    jurisdictions: list[str]
    overseen_by: list[uuid.UUID] = Field(default_factory=list)


class OrganisationIn(BaseModel):
    kind: str
    slug: str
    name_en: str
    name_fr: str
    body_type: str | None = None
    province: str | None = None
    regulator_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    jurisdictions: list[str] | None = None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    organisation_id: uuid.UUID | None
    active: bool
    second_factor: bool


class InviteIn(BaseModel):
    email: str
    full_name: str
    role: str
    organisation_id: uuid.UUID | None = None
    language: str = "en"


class UserPatch(BaseModel):
    role: str | None = None
    organisation_id: uuid.UUID | None = None
    active: bool | None = None
    full_name: str | None = None


class LinkOut(BaseModel):
    user: UserOut
    link: str


class VersionOut(BaseModel):
    file: str
    questionnaire_id: str | None
    version: str | None
    sha256: str
    valid: bool
    errors: list[str]
    warnings: list[str]
    state: str
    assessments: int


class VersionStateIn(BaseModel):
    state: str


class AuditOut(BaseModel):
    at: datetime
    action: str
    actor_id: uuid.UUID | None
    actor_email: str | None
    organisation_id: uuid.UUID | None
    assessment_id: uuid.UUID | None
    detail: dict[str, Any]
