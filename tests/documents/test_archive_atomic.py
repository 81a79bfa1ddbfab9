"""An archive import applies all of it or nothing (issue 20, item 3).

It used to save the answers, then attach each document in a transaction of its own: a full disk
on the second document left the answers replaced, one of two documents attached, and a 500."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment
from service.documents import archive, store
from service.documents.models import Document, DocumentBlob
from service.main import create_app
from service.models import AuditEvent
from service.questionnaire.answers import AnswersFile
from tests.builders import csrf_from, login, make_world, post_form, start_assessment, version_from
from tests.conftest import make_settings
from tests.documents import files


def _two_documents() -> bytes:
    answers = AnswersFile(
        questionnaire="web-mini",
        version="1.0",
        answers={"pia_done": "no"},
        evidence={"pia_done": "From the archive"},
    )
    return archive.build(
        answers,
        [
            ("pia_done", "first.pdf", "application/pdf", files.PDF),
            ("pia_done", "second.png", "image/png", files.PNG),
        ],
    )


def _full_disk_on_second_blob(monkeypatch: pytest.MonkeyPatch) -> None:
    real = store.put_blob
    calls = {"n": 0}

    def put_blob(session: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(session, **kwargs)

    monkeypatch.setattr(store, "put_blob", put_blob)


@pytest.mark.parametrize("on_disk", [False, True], ids=["blobs-in-database", "documents-dir"])
def test_a_full_disk_on_the_second_document_changes_nothing(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_disk: bool
) -> None:
    docs_dir = tmp_path / "docs" if on_disk else None
    app = create_app(make_settings(sqlite_url, documents_dir=docs_dir))
    world = make_world(app.state.engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        post_form(
            client,
            base + "/sections/governance",
            base + "/sections/governance",
            {"pia_done": "yes", "evidence-pia_done": "Saved before", "action": "later"},
        )
        with db.new_session(app.state.engine) as s:
            before = s.exec(select(Assessment)).one()
            events_before = len(s.exec(select(AuditEvent)).all())
        page = client.get(base + "/import-archive")
        _full_disk_on_second_blob(monkeypatch)
        r = client.post(
            base + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", _two_documents(), "application/zip")},
            follow_redirects=False,
        )
        assert r.status_code == 503  # the disk is full: try again later (item 4)
    with db.new_session(app.state.engine) as s:
        after = s.exec(select(Assessment)).one()
        assert after.answers == before.answers == {"pia_done": "yes"}
        assert after.evidence == {"pia_done": "Saved before"}
        assert after.version == before.version
        assert s.exec(select(Document)).all() == []
        assert s.exec(select(DocumentBlob)).all() == []
        assert len(s.exec(select(AuditEvent)).all()) == events_before
    if docs_dir is not None:  # the first document's file, written before the failure, is gone
        sha = hashlib.sha256(files.PDF).hexdigest()
        assert not store.blob_path(docs_dir, sha).exists()
    app.state.engine.dispose()


def test_the_whole_archive_in_one_change(sqlite_url: str) -> None:
    """Answers and both documents land together."""
    app = create_app(make_settings(sqlite_url))
    world = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        page = client.get(base + "/import-archive")
        r = client.post(
            base + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", _two_documents(), "application/zip")},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    with db.new_session(app.state.engine) as s:
        stored = s.exec(select(Assessment)).one()
        assert stored.answers == {"pia_done": "no"}
        assert stored.version > int(version_from(page.text))
        names = sorted(d.name for d in s.exec(select(Document)))
        assert names == ["first.pdf", "second.png"]
    app.state.engine.dispose()
