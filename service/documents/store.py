"""Blob storage (database or ``POLICYGAP_DOCUMENTS_DIR``) and the document queries other
modules need (the submit use case freezes ``refs_of``)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from service import db
from service.assessments.models import Submission
from service.documents.models import Document, DocumentBlob
from service.questionnaire.submission import DocumentRef, parse_submission

HEX64 = re.compile(r"^[0-9a-f]{64}$")
log = logging.getLogger(__name__)


def blob_path(directory: Path, sha256: str) -> Path:
    """Where a blob lives in a documents directory: built from the hash only, never a name."""
    if not HEX64.fullmatch(sha256):
        raise ValueError("not a SHA-256")
    return directory / sha256[:2] / sha256


CHUNK = 1024 * 1024  # how much of a file is copied or hashed at a time


@dataclass(frozen=True)
class Spooled:
    """A document's bytes waiting in a file (an archive import's spool), with their hash."""

    path: Path
    sha256: str
    size: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def put_blob(
    session: Session, *, data: bytes | Spooled, media_type: str, directory: Path | None
) -> DocumentBlob:
    """Store ``data`` once per SHA-256 (the caller commits, inside ``db.writing``). Spooled
    bytes are copied into ``directory`` a chunk at a time; kept in the database (no
    ``directory``), a document is read whole, one at a time."""
    sha = data.sha256 if isinstance(data, Spooled) else hashlib.sha256(data).hexdigest()
    size = data.size if isinstance(data, Spooled) else len(data)
    lock_blob(session, sha)
    blob = session.get(DocumentBlob, sha)
    if directory is not None:
        path = blob_path(directory, sha)
        if not path.is_file() or file_sha256(path) != sha:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, Spooled):
                    with data.path.open("rb") as source:
                        shutil.copyfileobj(source, out, CHUNK)
                else:
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
    content: bytes | None = None
    if directory is None and (blob is None or blob.content is None):
        content = data.path.read_bytes() if isinstance(data, Spooled) else data
    if blob is None:
        blob = DocumentBlob(sha256=sha, size=size, media_type=media_type, content=content)
        session.add(blob)
        session.flush()  # before the document that refers to it
    elif content is not None:
        blob.content = content
    return blob


def lock_blob(session: Session, sha256: str) -> None:
    """Serialise the transactions that add or drop the blob ``sha256``, across processes.

    SQLite's write transactions (``db.writing``) are already one at a time; on PostgreSQL this
    takes an advisory lock on the hash until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(sha256[:15], 16)})


def delete_file_if_unused(session: Session, directory: Path, sha256: str) -> None:
    """Delete a blob's file, unless an upload of the same bytes has added its row again since
    the row was dropped. Called after that transaction committed."""
    with db.writing(session):
        lock_blob(session, sha256)
        if session.get(DocumentBlob, sha256, populate_existing=True) is None:
            try:
                blob_path(directory, sha256).unlink(missing_ok=True)
            except OSError:  # the removal stands; the file is left for an operator
                log.exception("could not delete the document file %s", sha256)


def is_named(session: Session, sha256: str) -> bool:
    """Whether a document of any draft, or any submission, names the blob ``sha256``.

    Submissions hold their documents inside the canonical JSON only, so they are searched for
    the hash as text (removing a document is rare enough for that scan; a false match only
    keeps the blob)."""
    if session.exec(select(Document.id).where(Document.sha256 == sha256).limit(1)).first():
        return True
    pattern = f"%{sha256}%"
    return (
        session.exec(
            select(Submission.id).where(col(Submission.canonical).like(pattern)).limit(1)
        ).first()
        is not None
    )


def read_blob(session: Session, *, sha256: str, directory: Path | None) -> bytes | None:
    """The blob's bytes, checked against its hash (None when missing or altered)."""
    blob = session.get(DocumentBlob, sha256)
    if blob is None:
        return None
    data = blob.content
    if data is None and directory is not None:
        path = blob_path(directory, sha256)
        data = path.read_bytes() if path.is_file() else None
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


def attached(session: Session, assessment_id: uuid.UUID) -> dict[str, list[Document]]:
    """The documents attached to a draft now, by question id."""
    query = (
        select(Document)
        .where(Document.assessment_id == assessment_id)
        .order_by(col(Document.created_at), col(Document.id))
    )
    out: dict[str, list[Document]] = defaultdict(list)
    for doc in session.exec(query):
        out[doc.question_id].append(doc)
    return dict(out)


# Core, not the ORM: the section page reads these on every request, and setting up an ORM query
# cost several times running it (bench/web.py).
_DOCUMENT = Document.__table__  # type: ignore[attr-defined]
_REFS = (
    core_select(
        _DOCUMENT.c.question_id,
        _DOCUMENT.c.name,
        _DOCUMENT.c.size,
        _DOCUMENT.c.sha256,
        _DOCUMENT.c.media_type,
    )
    .where(_DOCUMENT.c.assessment_id == bindparam("assessment_id"))
    .order_by(_DOCUMENT.c.created_at, _DOCUMENT.c.id)
)


def refs_of(
    session: Session, assessment_id: uuid.UUID, *, questions: Collection[str] | None = None
) -> dict[str, list[DocumentRef]]:
    """What a submission freezes: the attached documents' names, sizes, hashes and types
    (only those of ``questions`` when given: the questions shown, as for the answers), by
    question id in the order they were attached."""
    out: dict[str, list[DocumentRef]] = defaultdict(list)
    rows = session.connection().execute(_REFS, {"assessment_id": assessment_id})
    for question_id, name, size, sha256, media_type in rows:
        if questions is None or question_id in questions:
            out[question_id].append(
                DocumentRef(name=name, size=size, sha256=sha256, media_type=media_type)
            )
    return dict(out)


def submission_refs(submission: Submission) -> dict[str, list[DocumentRef]]:
    """The documents a submission froze (none for submissions made before documents)."""
    return dict(parse_submission(submission.canonical.encode("utf-8")).documents)
