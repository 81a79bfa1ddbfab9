"""The report API: the gap report of a submission as PDF, and its open data (audited)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response as RawResponse

from service.api.deps import ViewerDep
from service.api.responses import ERRORS
from service.assessments import service as assessment_service
from service.assessments.frame import questionnaire_of
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.deps import RegistryDep, SessionDep
from service.errors import NotFound
from service.report_delivery import service as web_reports

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.get(
    "/assessments/{assessment_id}/report.pdf",
    tags=["results"],
    response_class=RawResponse,
    responses={200: {"content": {"application/pdf": {}}, "description": "The gap report as PDF"}},
)
def get_report_pdf(
    assessment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: str = "en",
    number: int | None = None,
) -> RawResponse:
    """The gap report of the latest (or the numbered) submission, as PDF."""
    assessment, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    submission = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer, number=number
    )
    if submission is None:
        raise NotFound()
    auth_service.record(
        session,
        action="report_downloaded",
        actor_id=viewer.user.id,
        assessment_id=assessment.id,
        submission=submission.number,
        language=lang if lang in ("en", "fr") else "en",
        via="api",
    )
    pdf = web_reports.report_pdf(
        request.app,
        session=session,
        questionnaire=questionnaire_of(registry, assessment),
        assessment=assessment,
        agency=agency,
        submission=submission,
        lang=lang if lang in ("en", "fr") else "en",
    )
    return RawResponse(pdf, media_type="application/pdf")


@router.get(
    "/assessments/{assessment_id}/open-data",
    tags=["results"],
    response_class=RawResponse,
    responses={
        200: {
            "content": {"application/json": {}, "text/csv": {}},
            "description": "The submission as open data (docs/open-data.md)",
        }
    },
)
def get_open_data(
    assessment_id: uuid.UUID,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    format: Literal["oscal", "oscal-plan", "oscal-poam", "json", "csv"] = "oscal",
    lang: Literal["en", "fr"] = "en",
    number: int | None = None,
) -> RawResponse:
    """The latest (or the numbered) submission as OSCAL assessment results, plan or plan of
    action and milestones (the action plan as it stands; 404 for a submission without gaps),
    or its findings as JSON or CSV; the same state gives the same bytes."""
    assessment, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    policy.check(viewer.user, Permission.report_export)
    if format == "oscal-poam":
        policy.check(viewer.user, Permission.actions_read)
    submission = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer, number=number
    )
    if submission is None or (format == "oscal-poam" and not submission.result.get("gaps")):
        raise NotFound()
    auth_service.record(
        session,
        action="open_data_downloaded",
        actor_id=viewer.user.id,
        assessment_id=assessment.id,
        submission=submission.number,
        language=lang,
        via="api",
    )
    data, fmt = web_reports.export(
        session,
        questionnaire=questionnaire_of(registry, assessment),
        assessment=assessment,
        agency=agency,
        submission=submission,
        format=format,
        lang=lang,
    )
    return RawResponse(data, media_type=fmt.media_type)
