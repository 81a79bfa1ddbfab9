"""The evidence documents API (``/api/v1/assessments/{id}/documents`` and ``/archive``).

The upload limits are those of the pages (``pages.upload_limits``), applied by the body limit
middleware before the body is read.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from service.api.deps import IfMatch, required_version
from service.api.responses import ERRORS, ErrorOut
from service.assessments import service as assessment_service
from service.assessments.frame import questionnaire_of, today
from service.assessments.service import Viewer
from service.auth import policy
from service.auth.deps import ApiUser
from service.auth.policy import Permission
from service.deps import RegistryDep, SessionDep, SettingsDep
from service.documents import service as document_service
from service.documents.archive import BadArchive
from service.documents.archive import read as read_archive
from service.documents.pages import UNPACKED_FACTOR, _zip_response, attachment_response
from service.errors import NotFound, Unprocessable
from service.models import Organisation

router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses={
        **ERRORS,
        415: {"model": ErrorOut, "description": "Not an accepted type (decided by content)"},
    },
)
BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _api_viewer(session: SessionDep, user: ApiUser) -> Viewer:
    organisation = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return Viewer(user=user, organisation=organisation)


def _api_id(assessment_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(assessment_id)
    except ValueError as error:
        raise NotFound() from error


@router.get("/assessments/{assessment_id}/documents", name="api_list_documents")
def api_list_documents(
    assessment_id: str, session: SessionDep, registry: RegistryDep, user: ApiUser
) -> JSONResponse:
    """The documents the caller may open, by question id."""
    viewer = _api_viewer(session, user)
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=_api_id(assessment_id)
    )
    refs = document_service.visible_refs(
        session=session,
        viewer=viewer,
        assessment=assessment,
        questionnaire=registry.get(assessment.questionnaire_id, assessment.questionnaire_version),
    )
    return JSONResponse(
        {qid: [r.model_dump(mode="json") for r in items] for qid, items in sorted(refs.items())}
    )


@router.post(
    "/assessments/{assessment_id}/documents",
    name="api_upload_document",
    status_code=201,
    openapi_extra=BINARY_BODY,
)
async def api_upload_document(
    request: Request,
    assessment_id: str,
    question: str,
    session: SessionDep,
    settings: SettingsDep,
    registry: RegistryDep,
    user: ApiUser,
    name: str | None = None,
) -> JSONResponse:
    """Attach the request body to ``question``; the type is decided by content, not by the
    declared Content-Type; ``name`` is kept for display only."""
    data = await request.body()

    def attach() -> JSONResponse:
        viewer = _api_viewer(session, user)
        assessment, _agency = assessment_service.get_visible(
            session=session, viewer=viewer, assessment_id=_api_id(assessment_id)
        )
        doc = document_service.attach(
            session=session,
            viewer=viewer,
            assessment_id=assessment.id,
            questionnaire=questionnaire_of(registry, assessment),
            question_id=question,
            filename=name,
            data=data,
            max_bytes=settings.max_upload_bytes,
            directory=settings.documents_dir,
            quota_bytes=settings.agency_storage_quota_bytes,
        )
        body = {
            "id": str(doc.id),
            "question": doc.question_id,
            "name": doc.name,
            "size": doc.size,
            "sha256": doc.sha256,
            "media_type": doc.media_type,
        }
        return JSONResponse(body, status_code=201)

    return await run_in_threadpool(attach)


@router.get("/assessments/{assessment_id}/documents/{sha256}", name="api_download_document")
def api_download_document(
    assessment_id: str,
    sha256: str,
    session: SessionDep,
    settings: SettingsDep,
    registry: RegistryDep,
    user: ApiUser,
) -> Response:
    found = document_service.download(
        session=session,
        viewer=_api_viewer(session, user),
        assessment_id=_api_id(assessment_id),
        sha256=sha256,
        directory=settings.documents_dir,
        questionnaire_of=lambda a: registry.get(a.questionnaire_id, a.questionnaire_version),
    )
    return attachment_response(found)


@router.get("/assessments/{assessment_id}/archive", name="api_export_archive")
def api_export_archive(
    assessment_id: str,
    session: SessionDep,
    settings: SettingsDep,
    registry: RegistryDep,
    user: ApiUser,
) -> Response:
    """The assessment as one ZIP archive (answers, documents, manifest with hashes)."""
    viewer = _api_viewer(session, user)
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=_api_id(assessment_id)
    )
    _assessment, body = document_service.export_archive(
        session=session,
        viewer=viewer,
        assessment_id=assessment.id,
        questionnaire=questionnaire_of(registry, assessment),
        directory=settings.documents_dir,
    )
    return _zip_response(assessment.id, body)


@router.post(
    "/assessments/{assessment_id}/archive", name="api_import_archive", openapi_extra=BINARY_BODY
)
async def api_import_archive(
    request: Request,
    assessment_id: str,
    session: SessionDep,
    settings: SettingsDep,
    registry: RegistryDep,
    user: ApiUser,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Import an archive into a draft, at the version named by ``If-Match`` (428 without it,
    412 when the draft has changed since). The whole archive is checked before anything
    changes; its answers and documents are applied in one transaction."""
    raw = await request.body()

    def apply() -> JSONResponse:
        viewer = _api_viewer(session, user)
        assessment, _agency = assessment_service.get_visible(
            session=session, viewer=viewer, assessment_id=_api_id(assessment_id)
        )
        policy.check(viewer.user, Permission.assessment_import)
        questionnaire = questionnaire_of(registry, assessment)
        version = required_version(if_match, assessment)
        try:
            checked = read_archive(
                raw,
                questionnaire,
                max_document_bytes=settings.max_upload_bytes,
                max_total_bytes=UNPACKED_FACTOR * settings.max_upload_bytes,
                spool_dir=settings.documents_dir,
            )
        except BadArchive as error:
            raise ArchiveRefused(str(error)) from error
        with checked:  # its documents' spool files go at the end
            added = document_service.import_archive(
                session=session,
                viewer=viewer,
                assessment_id=assessment.id,
                expected_version=version,
                questionnaire=questionnaire,
                checked=checked,
                max_bytes=settings.max_upload_bytes,
                directory=settings.documents_dir,
                quota_bytes=settings.agency_storage_quota_bytes,
                as_of=today(),
            )
        return JSONResponse({"documents_attached": added})

    with document_service.import_slot():
        return await run_in_threadpool(apply)


class ArchiveRefused(Unprocessable):
    code = "bad_archive"
