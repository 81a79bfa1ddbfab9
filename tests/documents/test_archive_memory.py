"""Issue 16: an archive import streams each member to storage in chunks; memory stays bounded.

A small archive of highly compressible documents used to be inflated whole into memory (every
document at once, then each again to store it): 0.93 MB of archive took the server from 195 to
393 MB. Now each member is read in chunks into a spool file while it is hashed and sniffed, and
copied in chunks into the documents directory; the peak of Python allocations stays far below
the members' total (``bench/archive_memory.py`` measures the full-size case)."""

from __future__ import annotations

import tracemalloc
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from service import db
from service.assessments import service as assessment_service
from service.documents import archive
from service.documents import service as document_service
from service.documents.models import Document, DocumentBlob
from service.questionnaire.answers import AnswersFile
from tests.builders import make_world
from tests.documents.files import compressible_text
from tests.review.helpers import mini, viewer

MEMBERS = 4
MEMBER_BYTES = 6 * 1024 * 1024
BOUND = 3 * 1024 * 1024  # far below MEMBERS * MEMBER_BYTES (24 MiB)


def _archive() -> bytes:
    answers = AnswersFile(questionnaire="web-mini", version="1.0", answers={"pia_done": "yes"})
    documents = [
        ("pia_done", f"log-{n}.txt", "text/plain", compressible_text(MEMBER_BYTES, n))
        for n in range(MEMBERS)
    ]
    return archive.build(answers, documents)


def test_an_archive_of_large_members_is_imported_in_bounded_memory(
    engine: Engine, tmp_path: Path
) -> None:
    raw = _archive()
    assert len(raw) < MEMBERS * MEMBER_BYTES / 100  # highly compressible
    world = make_world(engine)
    officer = viewer(engine, world.officer_a)
    q = mini()
    with db.new_session(engine) as s:
        assessment = assessment_service.start(
            session=s, viewer=officer, questionnaire=q, program="P"
        )
        aid, version = assessment.id, assessment.version
    documents_dir = tmp_path / "documents"
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        checked = archive.read(
            raw,
            q,
            max_document_bytes=MEMBER_BYTES,
            max_total_bytes=2 * MEMBERS * MEMBER_BYTES,
            spool_dir=documents_dir,
        )
        with checked, db.new_session(engine) as s:
            added = document_service.import_archive(
                session=s,
                viewer=officer,
                assessment_id=aid,
                expected_version=version,
                questionnaire=q,
                checked=checked,
                max_bytes=MEMBER_BYTES,
                directory=documents_dir,
                as_of=date(2026, 11, 26),
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert added == MEMBERS
    assert peak < BOUND, f"peak {peak / 2**20:.1f} MiB for {MEMBERS * MEMBER_BYTES / 2**20} MiB"
    with db.new_session(engine) as s:
        blobs = s.exec(select(DocumentBlob)).all()
        assert len(s.exec(select(Document)).all()) == MEMBERS
    assert all(b.content is None and b.size == MEMBER_BYTES for b in blobs)
    assert sorted(p.stat().st_size for p in documents_dir.glob("??/*")) == [MEMBER_BYTES] * 4
    assert not [p for p in documents_dir.rglob("*") if p.is_file() and "." in p.name]  # no spool
