"""Pages for evidence documents (the API routes: ``endpoints.py``).

- ``GET  /assessments/{id}/{section}/documents``: the section's questions with their documents
  and, on a draft, one upload form per question (no JavaScript needed).
- ``POST /assessments/{id}/{section}/documents``: upload (multipart: ``question``, ``file``).
- ``POST /assessments/{id}/documents/{document_id}/remove``: detach from the draft.
- ``GET  /assessments/{id}/documents/{sha256}``: download, never inline, audited.
- ``POST /api/v1/assessments/{id}/documents?question=ID``: upload (raw body, any declared type).
- ``GET  /api/v1/assessments/{id}/documents``: the documents the caller may open.
- ``GET  /api/v1/assessments/{id}/documents/{sha256}``: download.

The body limit middleware refuses an upload over ``POLICYGAP_MAX_UPLOAD_BYTES`` (plus room for
the multipart framing) with 413 before reading it; see ``upload_limits``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from service.assessments import service as assessment_service
from service.assessments.frame import (
    Page,
    PageDep,
    PageForm,
    find_section,
    form_version,
    parse_id,
    redirect,
    section_url,
    today,
    typed_rows,
)
from service.auth import policy
from service.auth.policy import Permission
from service.config import Settings
from service.documents import service as document_service
from service.documents import store
from service.documents.archive import BadArchive
from service.documents.archive import read as read_archive
from service.documents.models import Document
from service.documents.sniff import KINDS
from service.errors import NotFound, StaleVersion
from service.i18n.catalogue import Translator
from service.i18n.formats import format_size
from service.questionnaire import engine
from service.questionnaire.schema import localize

router = APIRouter(tags=["pages"], include_in_schema=False)
MULTIPART_ROOM = 64 * 1024  # framing, the CSRF token and the question id around the file
ARCHIVE_FACTOR = 4  # an archive may be this many times the largest document (compressed)
UNPACKED_FACTOR = 8  # and this many times once unpacked


def archive_limit(settings: Settings) -> int:
    return ARCHIVE_FACTOR * settings.max_upload_bytes


def upload_limits(settings: Settings) -> list[tuple[str, int]]:
    """Body limits for the upload routes (for ``BodySizeLimitMiddleware``)."""
    return [
        (
            r"/assessments/[^/]+/sections/[^/]+/documents",
            settings.max_upload_bytes + MULTIPART_ROOM,
        ),
        # the old address, redirected with 308: the browser sends the upload again
        (r"/assessments/[^/]+/[^/]+/documents", settings.max_upload_bytes + MULTIPART_ROOM),
        (r"/assessments/[^/]+/import-archive", archive_limit(settings) + MULTIPART_ROOM),
        (r"/api/v1/assessments/[^/]+/documents", settings.max_upload_bytes),
        (r"/api/v1/assessments/[^/]+/archive", archive_limit(settings)),
    ]


def attachment_response(download: document_service.Download) -> Response:
    """The file as an attachment (RFC 6266 ``filename*``), never sniffed or rendered inline."""
    fallback = "".join(
        c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in download.name
    )
    media_type = download.media_type
    if media_type == "text/plain":
        media_type = "text/plain; charset=utf-8"
    return Response(
        content=download.data,
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{fallback or "document"}"; '
                f"filename*=UTF-8''{quote(download.name, safe='')}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "X-Document-SHA256": download.sha256,
        },
    )


# --- pages -----------------------------------------------------------------------------------


def _page_context(
    page: Page, assessment_id: str, slug: str, errors: dict[str, str]
) -> tuple[dict[str, Any], bool]:
    assessment, agency, questionnaire = page.load(assessment_id)
    section = page.part_of(assessment, questionnaire, find_section(questionnaire, slug))
    lang = page.visitor.lang
    editable = page.editable(assessment)
    visible = engine.resolve(
        questionnaire, assessment_service.answers_of(assessment), today()
    ).visible
    if editable:
        current = store.attached(page.session, assessment.id)
        docs: dict[str, list[dict[str, Any]]] = {
            qid: [
                {
                    "id": d.id,
                    "name": d.name,
                    "sha256": d.sha256,
                    "kind": KINDS.get(d.media_type, d.media_type),
                    "size": format_size(d.size, lang),
                }
                for d in items
            ]
            for qid, items in current.items()
        }
    else:
        refs = document_service.shown_refs(
            session=page.session, viewer=page.viewer, assessment=assessment
        )
        docs = {
            qid: [
                {
                    "id": None,
                    "name": r.name,
                    "sha256": r.sha256,
                    "kind": KINDS.get(r.media_type, r.media_type),
                    "size": format_size(r.size, lang),
                }
                for r in items
            ]
            for qid, items in refs.items()
        }
    questions = [
        {
            "id": q.id,
            "text": localize(q.text, lang),
            "documents": docs.get(q.id, []),
            "error": errors.get(q.id),
        }
        for q in section.questions
        if q.id in visible or q.id in docs
    ]
    context = page.common(assessment, agency, questionnaire) | {
        "section": section,
        "slug": slug,
        "section_url": section_url(assessment.id, slug),
        "section_title": localize(section.title, lang),
        "questions": questions,
        "editable": editable,
        "max_size": format_size(page.settings.max_upload_bytes, page.visitor.lang),
        "form_errors": [(f"file-{qid}", message) for qid, message in errors.items()],
        "notice": None,
    }
    return context, editable


@router.get("/assessments/{assessment_id}/sections/{slug}/documents", name="show_documents")
def show_documents(
    page: PageDep, assessment_id: str, slug: str, notice: str | None = None
) -> Response:
    context, _editable = _page_context(page, assessment_id, slug, {})
    notices = {"attached": "The file was attached.", "removed": "The file was removed."}
    context["notice"] = page._(notices[notice]) if notice in notices else None
    return page.render("documents/section.html", context)


@router.post("/assessments/{assessment_id}/sections/{slug}/documents", name="upload_document")
async def upload_document(page: PageDep, assessment_id: str, slug: str, form: PageForm) -> Response:
    upload = form.get("file")
    limit = page.settings.max_upload_bytes
    data = await upload.read(limit + 1) if isinstance(upload, UploadFile) else b""
    name = upload.filename if isinstance(upload, UploadFile) else None
    return await run_in_threadpool(_upload_sync, page, assessment_id, slug, form, data, name)


def _upload_sync(
    page: Page, assessment_id: str, slug: str, form: FormData, data: bytes, name: str | None
) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    find_section(questionnaire, slug)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    question = form.get("question")
    qid = question if isinstance(question, str) else ""
    section = page.part_of(assessment, questionnaire, find_section(questionnaire, slug))
    if qid not in {q.id for q in section.questions}:
        raise NotFound("There is no such question in this section")
    _ = page._
    try:
        document_service.attach(
            session=page.session,
            viewer=page.viewer,
            assessment_id=assessment.id,
            questionnaire=questionnaire,
            question_id=qid,
            filename=name,
            data=data,
            max_bytes=page.settings.max_upload_bytes,
            directory=page.settings.documents_dir,
            quota_bytes=page.settings.agency_storage_quota_bytes,
        )
    except (
        document_service.TooLarge,
        document_service.UnsupportedType,
        document_service.QuotaExceeded,
    ) as error:
        message = (
            _(
                "The file must be smaller than {size}",
                size=format_size(page.settings.max_upload_bytes, page.visitor.lang),
            )
            if isinstance(error, document_service.TooLarge)
            else _(error.message)
        )
        return _form_error(page, assessment_id, slug, qid, message, error.status_code)
    except document_service.EmptyFile:
        message = _("Select a file") if not name else _("The selected file is empty")
        return _form_error(page, assessment_id, slug, qid, message, 422)
    return redirect(section_url(assessment.id, slug) + f"/documents?notice=attached#q-{qid}")


def _form_error(
    page: Page, assessment_id: str, slug: str, qid: str, message: str, status: int
) -> Response:
    context, _editable = _page_context(page, assessment_id, slug, {qid: message})
    return page.render("documents/section.html", context, status_code=status, errors=True)


@router.post("/assessments/{assessment_id}/documents/{document_id}/remove", name="remove_document")
def remove_document(
    page: PageDep, assessment_id: str, document_id: str, form: PageForm
) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    try:
        doc_id = uuid.UUID(document_id)
    except ValueError as error:
        raise NotFound() from error
    doc = page.session.get(Document, doc_id)
    slug = form.get("slug")
    document_service.remove(
        session=page.session,
        viewer=page.viewer,
        assessment_id=assessment.id,
        document_id=doc_id,
        directory=page.settings.documents_dir,
        questionnaire=questionnaire,
    )
    if doc is not None and isinstance(slug, str) and slug:
        return redirect(section_url(assessment.id, slug) + "/documents?notice=removed")
    return redirect(f"/assessments/{assessment.id}/")


@router.get("/assessments/{assessment_id}/documents/{sha256}", name="download_document")
def download_document(page: PageDep, assessment_id: str, sha256: str) -> Response:
    found = document_service.download(
        session=page.session,
        viewer=page.viewer,
        assessment_id=parse_id(assessment_id),
        sha256=sha256,
        directory=page.settings.documents_dir,
        questionnaire_of=lambda a: page.registry.get(a.questionnaire_id, a.questionnaire_version),
    )
    return attachment_response(found)


# --- archives --------------------------------------------------------------------------------


def _zip_response(assessment_id: uuid.UUID, body: bytes) -> Response:
    return Response(
        body,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="assessment-{assessment_id}.zip"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/assessments/{assessment_id}/archive.zip", name="export_archive")
def export_archive_page(page: PageDep, assessment_id: str) -> Response:
    assessment, _agency, questionnaire = page.load(assessment_id)
    _assessment, body = document_service.export_archive(
        session=page.session,
        viewer=page.viewer,
        assessment_id=assessment.id,
        questionnaire=questionnaire,
        directory=page.settings.documents_dir,
    )
    return _zip_response(assessment.id, body)


def _archive_page(
    page: Page, assessment_id: str, error: str | None, status: int, version: int | None = None
) -> Response:
    """The import form (again, with ``error``; a form sent again keeps the ``version`` it was
    read at, so that a stale one stays stale)."""
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    policy.check(page.viewer.user, Permission.assessment_import)
    context = page.common(assessment, agency, questionnaire) | {
        "form_errors": [("file", error)] if error else [],
        "max_size": format_size(archive_limit(page.settings), page.visitor.lang),
        "version": assessment.version if version is None else version,
    }
    return page.render(
        "documents/import_archive.html", context, status_code=status, errors=bool(error)
    )


@router.get("/assessments/{assessment_id}/import-archive", name="show_import_archive")
def show_import_archive(page: PageDep, assessment_id: str) -> Response:
    return _archive_page(page, assessment_id, None, 200)


@router.post("/assessments/{assessment_id}/import-archive", name="import_archive")
async def import_archive_page(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    upload = form.get("file")
    limit = archive_limit(page.settings)
    raw = await upload.read(limit + 1) if isinstance(upload, UploadFile) else b""
    with document_service.import_slot():
        return await run_in_threadpool(_import_archive_sync, page, assessment_id, form, raw)


def _archive_reason(_: Translator, error: BadArchive) -> str:
    """Why an archive was refused, in the reader's language."""
    values = dict(error.values)
    if "reason" in values:
        values["reason"] = _(values["reason"])
    return _(error.template, **values)


def _import_archive_sync(page: Page, assessment_id: str, form: FormData, raw: bytes) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    policy.check(page.viewer.user, Permission.assessment_import)
    version = form_version(form)
    if version is None:
        return page.conflict(assessment.id, None, missing_version=True)
    _ = page._
    if not raw:
        return _archive_page(page, assessment_id, _("Select an assessment archive"), 422, version)
    if len(raw) > archive_limit(page.settings):
        return _archive_page(
            page,
            assessment_id,
            _(
                "The file must be smaller than {size}",
                size=format_size(archive_limit(page.settings), page.visitor.lang),
            ),
            413,
            version,
        )
    try:
        checked = read_archive(
            raw,
            questionnaire,
            max_document_bytes=page.settings.max_upload_bytes,
            max_total_bytes=UNPACKED_FACTOR * page.settings.max_upload_bytes,
            spool_dir=page.settings.documents_dir,
        )
    except BadArchive as error:
        message = _("The archive was not imported: {reason}", reason=_archive_reason(_, error))
        return _archive_page(page, assessment_id, message, 422, version)
    with checked:  # its documents' spool files go at the end
        if version != assessment.version:
            answers = checked.answers.to_answers()
            yours = typed_rows(questionnaire, answers.values, answers.evidence, page.visitor.lang)
            return page.conflict(assessment.id, None, yours)
        try:
            document_service.import_archive(
                session=page.session,
                viewer=page.viewer,
                assessment_id=assessment.id,
                expected_version=version,
                questionnaire=questionnaire,
                checked=checked,
                max_bytes=page.settings.max_upload_bytes,
                directory=page.settings.documents_dir,
                quota_bytes=page.settings.agency_storage_quota_bytes,
                as_of=today(),
            )
        except StaleVersion:
            answers = checked.answers.to_answers()
            yours = typed_rows(questionnaire, answers.values, answers.evidence, page.visitor.lang)
            return page.conflict(assessment.id, None, yours)
        return redirect(f"/assessments/{assessment.id}/?notice=saved")
