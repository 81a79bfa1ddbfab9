"""Use cases: attach a document to a question, remove it, download it (audited)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from service import db
from service.assessments import access
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.assessments.service import Viewer
from service.documents import store
from service.documents.archive import Archive
from service.documents.models import Document, DocumentBlob
from service.documents.sniff import Refused, clean_name, sniff
from service.errors import AppError, NotFound, StaleVersion
from service.models import AuditEvent, utcnow
from service.questionnaire.schema import Questionnaire
from service.questionnaire.submission import DocumentRef


class TooLarge(AppError):
    status_code = 413
    code = "too_large"
    message = "The file is too large"


class UnsupportedType(AppError):
    status_code = 415
    code = "unsupported_type"
    message = "The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file"


class EmptyFile(AppError):
    status_code = 422
    code = "empty_file"
    message = "The selected file is empty"


@dataclass(frozen=True)
class Download:
    data: bytes
    name: str
    media_type: str
    sha256: str


def check_file(data: bytes, *, max_bytes: int) -> str:
    """The media type of an upload by content; raises the refusal otherwise."""
    if not data:
        raise EmptyFile()
    if len(data) > max_bytes:
        raise TooLarge()
    try:
        return sniff(data).media_type
    except Refused as error:
        raise UnsupportedType(str(error)) from error


def attach(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    questionnaire: Questionnaire,
    question_id: str,
    filename: str | None,
    data: bytes,
    max_bytes: int,
    directory: Path | None,
) -> Document:
    """Attach ``data`` to a question of a draft (the blob is stored once per SHA-256)."""
    if question_id not in questionnaire.question_index():
        raise NotFound(f"There is no question {question_id!r} in this questionnaire")
    try:
        return _attach_once(
            session=session,
            viewer=viewer,
            assessment_id=assessment_id,
            question_id=question_id,
            filename=filename,
            data=data,
            max_bytes=max_bytes,
            directory=directory,
        )
    except IntegrityError:
        # the same new file stored by a concurrent upload (PostgreSQL): it exists now
        return _attach_once(
            session=session,
            viewer=viewer,
            assessment_id=assessment_id,
            question_id=question_id,
            filename=filename,
            data=data,
            max_bytes=max_bytes,
            directory=directory,
        )


def _attach_once(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    question_id: str,
    filename: str | None,
    data: bytes,
    max_bytes: int,
    directory: Path | None,
) -> Document:
    try:
        with db.writing(session):
            assessment = assessment_service._load_for_change(
                session=session, viewer=viewer, assessment_id=assessment_id, expected_version=None
            )
            media_type = check_file(data, max_bytes=max_bytes)
            blob = store.put_blob(session, data=data, media_type=media_type, directory=directory)
            doc = Document(
                assessment_id=assessment.id,
                question_id=question_id,
                sha256=blob.sha256,
                name=clean_name(filename, media_type),
                size=len(data),
                media_type=media_type,
                uploaded_by_id=viewer.user.id,
            )
            session.add(doc)
            assessment.updated_at = utcnow()  # a new version: a concurrent submit sees it
            _audit(session, viewer, assessment, "document_attach", doc)
    except StaleDataError as error:
        raise StaleVersion() from error
    return doc


def remove(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    document_id: uuid.UUID,
    directory: Path | None,
) -> None:
    """Detach a document from a draft. Its content is deleted too (from the database, and from
    ``directory`` once the transaction is committed) unless another draft's document or a
    submission still names it: a file attached by mistake does not linger."""
    orphan: str | None = None
    try:
        with db.writing(session):
            assessment = assessment_service._load_for_change(
                session=session, viewer=viewer, assessment_id=assessment_id, expected_version=None
            )
            doc = session.get(Document, document_id)
            if doc is None or doc.assessment_id != assessment.id:
                raise NotFound()
            session.delete(doc)
            session.flush()
            store.lock_blob(session, doc.sha256)
            if not store.is_named(session, doc.sha256):
                blob = session.get(DocumentBlob, doc.sha256)
                if blob is not None:
                    session.delete(blob)
                orphan = doc.sha256
            assessment.updated_at = utcnow()
            _audit(session, viewer, assessment, "document_remove", doc)
    except StaleDataError as error:
        raise StaleVersion() from error
    if orphan is not None and directory is not None:
        store.delete_file_if_unused(session, directory, orphan)


def _audit(
    session: Session, viewer: Viewer, assessment: Assessment, action: str, doc: Document
) -> None:
    session.add(
        AuditEvent(
            actor_id=viewer.user.id,
            assessment_id=assessment.id,
            action=action,
            detail={
                "question": doc.question_id,
                "name": doc.name,
                "sha256": doc.sha256,
                "size": doc.size,
            },
        )
    )


def visible_refs(
    *, session: Session, viewer: Viewer, assessment: Assessment
) -> dict[str, list[DocumentRef]]:
    """The documents ``viewer`` may open, by question: the agency's own people the draft's and
    every submission's; everyone else those of the submissions they may open (the board's:
    accepted ones), never the draft's."""
    out: dict[str, list[DocumentRef]] = {}

    def add(refs: dict[str, list[DocumentRef]]) -> None:
        for qid, items in refs.items():
            known = out.setdefault(qid, [])
            known.extend(r for r in items if r not in known)

    if access.reads_draft(user=viewer.user, assessment=assessment):
        add(store.refs_of(session, assessment.id))
    subs = assessment_service.submissions(
        session=session, assessment_id=assessment.id, viewer=viewer
    )
    for sub in reversed(subs):
        add(store.submission_refs(sub))
    return out


def shown_refs(
    *, session: Session, viewer: Viewer, assessment: Assessment
) -> dict[str, list[DocumentRef]]:
    """The documents a page lists beside the answers ``viewer`` reads, by question: the draft's
    attachments now for the agency's own people while it is a draft (a removal shows at once and
    stays through resubmission); otherwise those the latest submission ``viewer`` may open
    froze, never an earlier submission's."""
    if access.reads_draft(user=viewer.user, assessment=assessment) and (
        assessment.status in access.EDITABLE
    ):
        return store.refs_of(session, assessment.id)
    latest = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer
    )
    return store.submission_refs(latest) if latest is not None else {}


def download(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    sha256: str,
    directory: Path | None,
) -> Download:
    """A document's bytes for ``viewer`` (404 unless they may see it), audited."""
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    refs = visible_refs(session=session, viewer=viewer, assessment=assessment)
    found = next((r for items in refs.values() for r in items if r.sha256 == sha256), None)
    if found is None:
        raise NotFound()
    data = store.read_blob(session, sha256=sha256, directory=directory)
    if data is None:
        raise NotFound("The document is missing from the store or no longer matches its hash")
    with db.writing(session):
        session.add(
            AuditEvent(
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                action="document_download",
                detail={"name": found.name, "sha256": sha256, "size": found.size},
            )
        )
    return Download(data=data, name=found.name, media_type=found.media_type, sha256=sha256)


# --- archives --------------------------------------------------------------------------------


def export_archive(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    questionnaire: Questionnaire,
    directory: Path | None,
) -> tuple[Assessment, bytes]:
    """The assessment as one archive: a draft's current answers and documents for its
    officers; otherwise the latest submission's documents (what the viewer may open)."""
    from service.documents import archive
    from service.questionnaire.answers import AnswersFile

    assessment, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    editing = access.can_edit(user=viewer.user, assessment=assessment) and (
        assessment.status in access.EDITABLE
    )
    if editing:
        refs = store.refs_of(session, assessment.id)
    else:
        latest = assessment_service.get_submission(
            session=session, assessment_id=assessment.id, viewer=viewer
        )
        refs = store.submission_refs(latest) if latest is not None else {}
    documents: list[tuple[str, str, str, bytes]] = []
    for qid, items in sorted(refs.items()):
        for ref in items:
            data = store.read_blob(session, sha256=ref.sha256, directory=directory)
            if data is None:
                raise NotFound(
                    "The document is missing from the store or no longer matches its hash"
                )
            documents.append((qid, ref.name, ref.media_type, data))
    answers = AnswersFile(
        questionnaire=questionnaire.id,
        version=questionnaire.version,
        agency=agency.name_en,
        program=assessment.program,
        answers=dict(assessment.answers),
        evidence=dict(assessment.evidence),
    )
    body = archive.build(answers, documents)
    with db.writing(session):
        session.add(
            AuditEvent(
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                action="export_archive",
                detail={"documents": len(documents), "sha256": hashlib.sha256(body).hexdigest()},
            )
        )
    return assessment, body


def import_archive(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    questionnaire: Questionnaire,
    checked: Archive,
    max_bytes: int,
    directory: Path | None,
    as_of: date,
) -> int:
    """Apply a checked archive to a draft: its answers and notes replace those it holds, its
    documents are attached (a document already on that question is not attached twice).
    Returns the number of documents attached."""
    answers = checked.answers.to_answers()
    assessment_service.save_answers(
        session=session,
        viewer=viewer,
        assessment_id=assessment_id,
        expected_version=expected_version,
        questionnaire=questionnaire,
        values=dict(answers.values),
        evidence=dict(answers.evidence),
        as_of=as_of,
        source="archive",
    )
    present = {
        (qid, d.sha256)
        for qid, docs in store.attached(session, assessment_id).items()
        for d in docs
    }
    added = 0
    for doc in checked.documents:
        digest = hashlib.sha256(doc.data).hexdigest()
        if (doc.question, digest) in present:
            continue
        attach(
            session=session,
            viewer=viewer,
            assessment_id=assessment_id,
            questionnaire=questionnaire,
            question_id=doc.question,
            filename=doc.name,
            data=doc.data,
            max_bytes=max_bytes,
            directory=directory,
        )
        present.add((doc.question, digest))
        added += 1
    return added


@dataclass(frozen=True)
class DocumentView:
    """One document as pages show it (see ``components/_document_list.html``)."""

    name: str
    sha256: str
    media_type: str
    size: int
    url: str


def views_by_question(
    *, session: Session, viewer: Viewer, assessment: Assessment
) -> dict[str, list[DocumentView]]:
    """What ``viewer`` reads beside the answers (``shown_refs``), by question id, with download
    URLs: for other pages (review,
    check answers) to list beside each answer with ``components/_document_list.html``."""
    refs = shown_refs(session=session, viewer=viewer, assessment=assessment)
    return {
        qid: [
            DocumentView(
                name=r.name,
                sha256=r.sha256,
                media_type=r.media_type,
                size=r.size,
                url=f"/assessments/{assessment.id}/documents/{r.sha256}",
            )
            for r in items
        ]
        for qid, items in refs.items()
    }
