"""Use cases: attach a document to a question, remove it, download it (audited)."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from service import db
from service.assessments import access
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.assessments.service import Viewer
from service.auth import policy
from service.auth.policy import Permission
from service.documents import store
from service.documents.archive import Archive
from service.documents.models import Document, DocumentBlob
from service.documents.sniff import Refused, check_name, clean_name, sniff
from service.errors import AppError, Forbidden, NotFound, StaleVersion
from service.i18n.catalogue import N_
from service.models import AuditEvent, utcnow
from service.questionnaire.schema import Questionnaire
from service.questionnaire.submission import DocumentRef

log = logging.getLogger(__name__)


class TooLarge(AppError):
    status_code = 413
    code = "too_large"
    message = N_("The file is too large")


class QuotaExceeded(AppError):
    status_code = 413
    code = "quota_exceeded"
    message = (
        "Your agency's storage quota for documents is full. Remove documents it no longer "
        "needs, or ask an administrator to raise the quota"
    )


def check_quota(
    session: Session, organisation_id: uuid.UUID, adding: int, quota_bytes: int | None
) -> None:
    """``QuotaExceeded`` when ``adding`` bytes would take the agency's documents over the quota."""
    if quota_bytes is None:
        return
    used = session.exec(
        select(func.coalesce(func.sum(Document.size), 0))
        .join(Assessment, col(Assessment.id) == col(Document.assessment_id))
        .where(Assessment.organisation_id == organisation_id)
    ).one()
    if int(used) + adding > quota_bytes:
        raise QuotaExceeded()


class ImportsBusy(AppError):
    status_code = 429
    code = "imports_busy"
    message = "Too many archives are being imported at once. Try again in a minute"


# Archive imports at once in this process: each holds the (compressed) archive in memory, one
# chunk of a document at a time, and its documents in spool files until it ends.
MAX_CONCURRENT_IMPORTS = 2
_import_slots = threading.BoundedSemaphore(MAX_CONCURRENT_IMPORTS)


@contextmanager
def import_slot() -> Iterator[None]:
    """Hold one of the archive-import slots; ``ImportsBusy`` (429) when all are taken."""
    if not _import_slots.acquire(blocking=False):
        raise ImportsBusy()
    try:
        yield
    finally:
        _import_slots.release()


class UnsupportedType(AppError):
    status_code = 415
    code = "unsupported_type"
    message = N_("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")


class EmptyFile(AppError):
    status_code = 422
    code = "empty_file"
    message = N_("The selected file is empty")


@dataclass(frozen=True)
class Download:
    data: bytes
    name: str
    media_type: str
    sha256: str


def check_file(data: bytes, *, max_bytes: int, filename: str | None = None) -> str:
    """The media type of an upload by content; raises the refusal otherwise (also for a text
    file whose name says it is another type)."""
    if not data:
        raise EmptyFile()
    if len(data) > max_bytes:
        raise TooLarge()
    try:
        media_type = sniff(data).media_type
        check_name(filename, media_type)
        return media_type
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
    quota_bytes: int | None = None,
) -> Document:
    """Attach ``data`` to a question of a draft (the blob is stored once per SHA-256), within
    the agency's storage quota."""
    if question_id not in questionnaire.question_index():
        raise NotFound(f"There is no question {question_id!r} in this questionnaire")

    def once() -> Document:
        return _attach_once(
            session=session,
            viewer=viewer,
            assessment_id=assessment_id,
            questionnaire=questionnaire,
            question_id=question_id,
            filename=filename,
            data=data,
            max_bytes=max_bytes,
            directory=directory,
            quota_bytes=quota_bytes,
        )

    try:
        return once()
    except IntegrityError:
        # the same new file stored by a concurrent upload (PostgreSQL): it exists now
        return once()


def _attach_once(
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
    quota_bytes: int | None,
) -> Document:
    try:
        with db.writing(session):
            assessment = assessment_service.load_for_change(
                session=session, viewer=viewer, assessment_id=assessment_id, expected_version=None
            )
            # a contributor adds evidence only to the questions assigned to them
            assessment_service.check_assigned(
                session, viewer, assessment, questionnaire, [question_id]
            )
            doc = _attach_to(
                session=session,
                viewer=viewer,
                assessment=assessment,
                question_id=question_id,
                filename=filename,
                data=data,
                max_bytes=max_bytes,
                directory=directory,
                quota_bytes=quota_bytes,
            )
    except StaleDataError as error:
        raise StaleVersion() from error
    return doc


def _attach_to(
    *,
    session: Session,
    viewer: Viewer,
    assessment: Assessment,
    question_id: str,
    filename: str | None,
    data: bytes,
    max_bytes: int,
    directory: Path | None,
    quota_bytes: int | None = None,
) -> Document:
    """Attach ``data`` inside the caller's write transaction, within the agency's quota."""
    media_type = check_file(data, max_bytes=max_bytes, filename=filename)
    check_quota(session, assessment.organisation_id, len(data), quota_bytes)
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
    return doc


def remove(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    document_id: uuid.UUID,
    directory: Path | None,
    questionnaire: Questionnaire | None = None,
) -> None:
    """Detach a document from a draft. Its content is deleted too (from the database, and from
    ``directory`` once the transaction is committed) unless another draft's document or a
    submission still names it: a file attached by mistake does not linger."""
    orphan: str | None = None
    try:
        with db.writing(session):
            assessment = assessment_service.load_for_change(
                session=session, viewer=viewer, assessment_id=assessment_id, expected_version=None
            )
            doc = session.get(Document, document_id)
            if doc is None or doc.assessment_id != assessment.id:
                raise NotFound()
            if policy.assigned_only(viewer.user.role):
                # a contributor removes only what is on the questions assigned to them
                if questionnaire is None:
                    raise Forbidden()
                assessment_service.check_assigned(
                    session, viewer, assessment, questionnaire, [doc.question_id]
                )
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
    *,
    session: Session,
    viewer: Viewer,
    assessment: Assessment,
    questionnaire: Questionnaire | None = None,
) -> dict[str, list[DocumentRef]]:
    """The documents ``viewer`` may open, by question: the agency's own people the draft's and
    every submission's; everyone else those of the submissions they may open (the board's:
    accepted ones), never the draft's. A contributor: those on the questions assigned to them
    (none without the ``questionnaire`` to tell which)."""
    out: dict[str, list[DocumentRef]] = {}
    if policy.assigned_only(viewer.user.role):
        mine = (
            assessment_service.assigned_questions(session, viewer, assessment, questionnaire)
            if questionnaire is not None
            else frozenset()
        )
        refs = store.refs_of(session, assessment.id)
        return {qid: items for qid, items in refs.items() if mine and qid in mine}

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
    questionnaire_of: Callable[[Assessment], Questionnaire | None] | None = None,
) -> Download:
    """A document's bytes for ``viewer`` (404 unless they may see it), audited.
    ``questionnaire_of`` tells a contributor's questions (without it they open none)."""
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    refs = visible_refs(
        session=session,
        viewer=viewer,
        assessment=assessment,
        questionnaire=questionnaire_of(assessment) if questionnaire_of is not None else None,
    )
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
    assessment_service.check_whole(viewer)
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
    expected_version: int,
    questionnaire: Questionnaire,
    checked: Archive,
    max_bytes: int,
    directory: Path | None,
    as_of: date,
    quota_bytes: int | None = None,
) -> int:
    """Apply a checked archive to a draft at ``expected_version``: its answers and notes
    replace those it holds, its documents are attached (a document already on that question is
    not attached twice). All of it in one transaction: on any failure (a full disk, a stale
    version) nothing is changed, and files written to ``directory`` for documents that no row
    names are removed again. Returns the number of documents attached."""
    policy.check(viewer.user, Permission.assessment_import)

    def once() -> int:
        return _import_archive_once(
            session=session,
            viewer=viewer,
            assessment_id=assessment_id,
            expected_version=expected_version,
            questionnaire=questionnaire,
            checked=checked,
            max_bytes=max_bytes,
            directory=directory,
            quota_bytes=quota_bytes,
            as_of=as_of,
        )

    try:
        return once()
    except IntegrityError:
        # the same new file stored by a concurrent upload (PostgreSQL): it exists now
        return once()


def _import_archive_once(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int,
    questionnaire: Questionnaire,
    checked: Archive,
    max_bytes: int,
    directory: Path | None,
    as_of: date,
    quota_bytes: int | None = None,
) -> int:
    answers = checked.answers.to_answers()
    index = questionnaire.question_index()
    unknown = [d.question for d in checked.documents if d.question not in index]
    if unknown:
        raise NotFound(f"There is no question {unknown[0]!r} in this questionnaire")
    added = 0
    try:
        with db.writing(session):
            assessment = assessment_service.load_for_change(
                session=session,
                viewer=viewer,
                assessment_id=assessment_id,
                expected_version=expected_version,
            )
            assessment_service.apply_answers(
                session=session,
                viewer=viewer,
                assessment=assessment,
                questionnaire=questionnaire,
                values=dict(answers.values),
                evidence=dict(answers.evidence),
                as_of=as_of,
                source="archive",
            )
            present = {
                (qid, d.sha256)
                for qid, docs in store.attached(session, assessment.id).items()
                for d in docs
            }
            adding = sum(d.size for d in checked.documents if (d.question, d.sha256) not in present)
            # the whole archive within the quota, checked before anything is stored
            check_quota(session, assessment.organisation_id, adding, quota_bytes)
            for doc in checked.documents:
                if (doc.question, doc.sha256) in present:
                    continue
                # checked (size, hash, type, name) when the archive was read: stored from its
                # spool file a chunk at a time, one document after the other
                blob = store.put_blob(
                    session,
                    data=store.Spooled(doc.path, doc.sha256, doc.size),
                    media_type=doc.media_type,
                    directory=directory,
                )
                document = Document(
                    assessment_id=assessment.id,
                    question_id=doc.question,
                    sha256=blob.sha256,
                    name=doc.name,
                    size=doc.size,
                    media_type=doc.media_type,
                    uploaded_by_id=viewer.user.id,
                )
                session.add(document)
                assessment.updated_at = utcnow()
                _audit(session, viewer, assessment, "document_attach", document)
                present.add((doc.question, doc.sha256))
                added += 1
    except StaleDataError as error:
        _forget_files(session, directory, checked)
        raise StaleVersion() from error
    except BaseException:
        _forget_files(session, directory, checked)
        raise
    return added


def _forget_files(session: Session, directory: Path | None, checked: Archive) -> None:
    """After a failed import: remove the files it wrote that no blob row names (the rows were
    rolled back). Best effort: the database may be the reason the import failed."""
    if directory is None:
        return
    for sha256 in sorted({d.sha256 for d in checked.documents}):
        try:
            store.delete_file_if_unused(session, directory, sha256)
        except Exception:  # the import's own error is the one to report
            log.warning("could not clean up the document file %s", sha256, exc_info=True)


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
