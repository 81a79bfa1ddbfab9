"""Uploading, refusing, downloading and freezing evidence documents through the pages and API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from service import db
from service.assessments import digest
from service.assessments.models import Assessment, Submission
from service.documents.models import Document, DocumentBlob
from service.main import create_app
from service.models import AssessmentStatus, AuditEvent
from service.questionnaire.submission import parse_submission, record_hash
from tests.builders import World, csrf_from, login, start_assessment, submit_mini, version_from
from tests.conftest import make_settings
from tests.documents import files

SECTION = "/sections/governance/documents"


def upload(
    client: TestClient,
    base: str,
    data: bytes,
    *,
    name: str = "pia.pdf",
    question: str = "pia_done",
    declared: str = "application/pdf",
) -> httpx2.Response:
    page = client.get(base + SECTION)
    assert page.status_code == 200, page.text
    return client.post(
        base + SECTION,
        data={"csrf_token": csrf_from(page.text), "question": question},
        files={"file": (name, data, declared)},
        follow_redirects=False,
    )


def _submit(client: TestClient, base: str) -> None:
    submit_mini(client, base, governance={"pia_done": "yes", "pia_date": "2025-01-31"})


def remove(client: TestClient, base: str, document_id: object) -> httpx2.Response:
    """Remove a document from the draft at ``base`` through the section's documents page."""
    page = client.get(base + SECTION)
    return client.post(
        f"{base}/documents/{document_id}/remove",
        data={"csrf_token": csrf_from(page.text), "slug": "governance"},
        follow_redirects=False,
    )


def _docs(app: FastAPI) -> list[Document]:
    with db.new_session(app.state.engine) as s:
        return list(s.exec(select(Document).order_by(col(Document.created_at))))


def test_upload_download_and_dedupe(app: FastAPI, client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = upload(client, base, files.PDF, name="../../etc/PIA 2025.pdf", declared="text/html")
    assert r.status_code == 303, r.text
    r = upload(client, base, files.PDF, name="copy.pdf", question="pia_date")
    assert r.status_code == 303
    docs = _docs(app)
    assert [d.name for d in docs] == ["PIA 2025.pdf", "copy.pdf"]
    assert {d.media_type for d in docs} == {"application/pdf"}
    sha = hashlib.sha256(files.PDF).hexdigest()
    with db.new_session(app.state.engine) as s:
        blobs = list(s.exec(select(DocumentBlob)))
    assert [b.sha256 for b in blobs] == [sha]  # the same file twice is stored once
    page = client.get(base + SECTION).text
    assert "PIA 2025.pdf" in page
    assert "The file was attached." in client.get(base + SECTION + "?notice=attached").text
    assert sha[:12] in page
    got = client.get(f"{base}/documents/{sha}")
    assert got.status_code == 200
    assert got.content == files.PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition
    with db.new_session(app.state.engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.at)))]
    assert actions.count("document_attach") == 2
    assert actions[-1] == "document_download"


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (files.HTML, 415, "must not hold web page markup"),
        (files.EXE, 415, "must be a PDF"),
        (files.POLYGLOT, 415, "both a PDF and a ZIP"),
        (files.PLAIN_ZIP, 415, "must be a PDF"),
        (b"", 422, "empty"),
    ],
    ids=["html-named-pdf", "exe", "polyglot", "zip", "empty"],
)
def test_refusals_keep_nothing(
    app: FastAPI, client: TestClient, world: World, data: bytes, status: int, message: str
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = upload(client, base, data, name="policy.pdf")
    assert r.status_code == status
    assert message in r.text
    assert 'href="#file-pia_done"' in r.text
    assert _docs(app) == []


def test_too_large_is_refused_before_reading(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, max_upload_bytes=1000)
    app = create_app(settings)
    from tests.builders import make_world

    w = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, w.officer_a.email)
        base = start_assessment(client)
        # over the limit by the file itself (under the framing allowance): 413 from the route
        r = upload(client, base, b"a" * 1001, name="big.txt")
        assert r.status_code == 413
        assert "smaller than" in r.text
        # far over: the middleware answers from the Content-Length, before the body is read
        page = client.get(base + SECTION)
        r2 = client.post(
            base + SECTION,
            data={"csrf_token": csrf_from(page.text), "question": "pia_done"},
            files={"file": ("big.txt", b"a" * 200_000, "text/plain")},
        )
        assert r2.status_code == 413
        assert r2.json()["code"] == "too_large"
    app.state.engine.dispose()


def test_access_by_role_and_agency(app: FastAPI, world: World) -> None:
    with TestClient(app) as officer:
        login(officer, world.officer_a.email)
        base = start_assessment(officer)
        assert upload(officer, base, files.TEXT, name="note.txt").status_code == 303
        sha = hashlib.sha256(files.TEXT).hexdigest()
        url = f"{base}/documents/{sha}"
        assert officer.get(url).status_code == 200

        def status(email: str) -> int:
            with TestClient(app) as other:
                login(other, email)
                return other.get(url).status_code

        # a draft: only the agency's officers (issue 14: not even admins read a draft)
        assert status(world.officer_b.email) == 404
        assert status(world.reviewer_on.email) == 404
        assert status(world.board_a.email) == 404
        assert status(world.admin.email) == 404
        _submit(officer, base)
        assert status(world.reviewer_on.email) == 200  # overseeing regulator, once submitted
        assert status(world.reviewer_fed.email) == 404  # not the overseeing regulator
        assert status(world.board_a.email) == 404  # not accepted yet
        assert status(world.officer_b.email) == 404
        with db.new_session(app.state.engine) as s:
            a = s.exec(select(Assessment)).one()
            a.status = AssessmentStatus.accepted
            s.add(a)
            digest.set_status(s, assessment_id=a.id, status=a.status)
            s.commit()
        assert status(world.board_a.email) == 200
        # a hash the assessment never held is 404 even to its officers
        assert officer.get(f"{base}/documents/{'0' * 64}").status_code == 404
        # uploads are refused to every role but the agency's officers, and after submit
        with TestClient(app) as reviewer:
            login(reviewer, world.reviewer_on.email)
            page = officer.get(base + SECTION)
            r = reviewer.post(
                base + SECTION,
                data={"csrf_token": csrf_from(page.text), "question": "pia_done"},
                files={"file": ("x.txt", files.TEXT, "text/plain")},
            )
            assert r.status_code == 403
        page = officer.get(base + SECTION)
        assert 'type="file"' not in page.text  # read-only once submitted
        r = officer.post(
            base + SECTION,
            data={"csrf_token": csrf_from(page.text), "question": "pia_done"},
            files={"file": ("x.txt", files.TEXT, "text/plain")},
        )
        assert r.status_code == 409


def test_submit_freezes_documents(app: FastAPI, client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    assert upload(client, base, files.DOCX, name="Policy.docx").status_code == 303
    _submit(client, base)
    with db.new_session(app.state.engine) as s:
        sub = s.exec(select(Submission)).one()
        # a version-2 record: its hash is the root of its field commitments
        assert record_hash(sub.canonical.encode()) == sub.sha256
        canonical = parse_submission(sub.canonical.encode()).model_dump(mode="json")
    sha = hashlib.sha256(files.DOCX).hexdigest()
    assert canonical["documents"] == {
        "pia_done": [
            {
                "name": "Policy.docx",
                "size": len(files.DOCX),
                "sha256": sha,
                "media_type": (
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                ),
            }
        ]
    }
    # returned to the officer, who removes the document from the draft through the page
    with db.new_session(app.state.engine) as s:
        a = s.exec(select(Assessment)).one()
        a.status = AssessmentStatus.returned
        s.add(a)
        s.commit()
    (doc,) = _docs(app)
    assert "Policy.docx" in client.get(base + SECTION).text
    assert remove(client, base, doc.id).status_code == 303
    assert _docs(app) == []
    with db.new_session(app.state.engine) as s:
        sub2 = s.exec(select(Submission)).one()
        assert sub2.canonical == sub.canonical  # the submission still names it
        assert parse_submission(sub2.canonical.encode()).documents["pia_done"][0].sha256 == sha
    assert client.get(f"{base}/documents/{sha}").status_code == 200  # still downloadable
    with TestClient(app) as reviewer:
        login(reviewer, world.reviewer_on.email)
        assert reviewer.get(f"{base}/documents/{sha}").status_code == 200


def test_remove_from_draft(app: FastAPI, client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    upload(client, base, files.PNG, name="scan.png")
    (doc,) = _docs(app)
    assert remove(client, base, doc.id).status_code == 303
    assert _docs(app) == []
    sha = hashlib.sha256(files.PNG).hexdigest()
    with db.new_session(app.state.engine) as s:
        assert s.get(DocumentBlob, sha) is None  # the content went with it
    with TestClient(app) as other:
        login(other, world.officer_b.email)
        r = other.post(
            f"{base}/documents/{doc.id}/remove",
            data={"csrf_token": csrf_from(other.get("/assessments/").text), "slug": "governance"},
        )
        assert r.status_code == 404


def test_documents_directory(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, documents_dir=tmp_path / "docs")
    app = create_app(settings)
    from tests.builders import make_world

    w = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, w.officer_a.email)
        base = start_assessment(client)
        assert upload(client, base, files.JPEG, name="photo.jpg").status_code == 303
        sha = hashlib.sha256(files.JPEG).hexdigest()
        stored = tmp_path / "docs" / sha[:2] / sha
        assert stored.read_bytes() == files.JPEG
        with db.new_session(app.state.engine) as s:
            assert s.get_one(DocumentBlob, sha).content is None
        assert client.get(f"{base}/documents/{sha}").content == files.JPEG
        stored.write_bytes(b"tampered")
        assert client.get(f"{base}/documents/{sha}").status_code == 404
        stored.write_bytes(files.JPEG)
        # The same file in a second draft: removing it from the first keeps the content.
        second = start_assessment(client, program="Second program")
        assert upload(client, second, files.JPEG, name="copy.jpg").status_code == 303
        first_doc, second_doc = sorted(_docs(app), key=lambda d: d.name != "photo.jpg")
        for where, doc in ((base, first_doc), (second, second_doc)):
            assert remove(client, where, doc.id).status_code == 303
            kept = doc is first_doc
            assert stored.is_file() is kept
            with db.new_session(app.state.engine) as s:
                assert (s.get(DocumentBlob, sha) is not None) is kept
    app.state.engine.dispose()


@pytest.mark.postgres
def test_upload_submit_download_on_postgresql(pg_url: str) -> None:
    app = create_app(make_settings(pg_url))
    from tests.builders import make_world

    w = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, w.officer_a.email)
        base = start_assessment(client)
        assert upload(client, base, files.ODT, name="Politique.odt").status_code == 303
        assert (
            upload(client, base, files.ODT, name="Copie.odt", question="pia_date").status_code
            == 303
        )
        _submit(client, base)
        sha = hashlib.sha256(files.ODT).hexdigest()
        got = client.get(f"{base}/documents/{sha}")
        assert got.status_code == 200
        assert got.content == files.ODT
        with db.new_session(app.state.engine) as s:
            sub = s.exec(select(Submission)).one()
            frozen = parse_submission(sub.canonical.encode()).documents
            assert sorted(frozen) == ["pia_date", "pia_done"]
            assert len(list(s.exec(select(DocumentBlob)))) == 1
        # removal (with its lock on the hash) on PostgreSQL: the content goes with the document
        draft = start_assessment(client, program="Second program")
        assert upload(client, draft, files.PNG, name="scan.png").status_code == 303
        (doc,) = [d for d in _docs(app) if d.name == "scan.png"]
        assert remove(client, draft, doc.id).status_code == 303
        with db.new_session(app.state.engine) as s:
            assert s.get(DocumentBlob, hashlib.sha256(files.PNG).hexdigest()) is None
            assert s.get(DocumentBlob, sha) is not None  # the submitted one stays
    app.state.engine.dispose()


def test_views_and_list_macro_for_other_pages(
    app: FastAPI, client: TestClient, world: World
) -> None:
    from service.assessments.service import Viewer
    from service.documents.service import views_by_question
    from service.i18n.catalogue import Translator
    from service.models import Organisation
    from service.web.templating import templates

    login(client, world.officer_a.email)
    base = start_assessment(client)
    upload(client, base, files.PDF, name="R&D PIA.pdf")
    with db.new_session(app.state.engine) as s:
        assessment = s.exec(select(Assessment)).one()
        viewer = Viewer(user=world.officer_a, organisation=s.get(Organisation, world.agency_a.id))
        views = views_by_question(session=s, viewer=viewer, assessment=assessment)
        outsider = Viewer(user=world.reviewer_on, organisation=None)
        assert views_by_question(session=s, viewer=outsider, assessment=assessment) == {}
    template = templates.env.from_string(
        '{% from "components/_document_list.html" import document_list with context %}'
        "{{ document_list(docs) }}"
    )
    html = template.render(docs=views["pia_done"], _=Translator("fr"))
    assert "R&amp;D PIA.pdf" in html
    assert f'href="{base}/documents/{hashlib.sha256(files.PDF).hexdigest()}"' in html


def test_documents_of_hidden_questions_are_not_frozen(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    assert upload(client, base, files.PDF, name="pia.pdf").status_code == 303
    assert upload(client, base, files.PNG, name="date.png", question="pia_date").status_code == 303
    submit_mini(client, base, governance={"pia_done": "no"})  # pia_date is no longer shown
    with db.new_session(app.state.engine) as s:
        frozen = parse_submission(s.exec(select(Submission)).one().canonical.encode()).documents
    assert sorted(frozen) == ["pia_done"]


def test_names_follow_the_detected_type_and_text_named_pdf_is_refused(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Issue 16: a file kept the extension it was uploaded with (``evidence.html`` served as
    text, a PDF named ``scan.svg``); a text file named ``.pdf`` was accepted."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    assert upload(client, base, files.TEXT, name="evidence.html").status_code == 303
    assert upload(client, base, files.PDF, name="scan.svg").status_code == 303
    assert sorted(d.name for d in _docs(app)) == ["evidence.txt", "scan.pdf"]
    sha = hashlib.sha256(files.TEXT).hexdigest()
    got = client.get(f"{base}/documents/{sha}")
    assert 'filename="evidence.txt"' in got.headers["content-disposition"]
    refused = upload(client, base, files.TEXT + b"2", name="scan.pdf")
    assert refused.status_code == 415  # as every refused type
    assert "but it is a text file" in refused.text


def test_an_agency_storage_quota_refuses_uploads_and_archives_beyond_it(sqlite_url: str) -> None:
    """Issue 16: a small archive could add 147 MB to the database; each agency now has a quota
    (POLICYGAP_AGENCY_STORAGE_QUOTA_BYTES) counted over its drafts' documents."""
    settings = make_settings(sqlite_url, agency_storage_quota_bytes=len(files.PDF) + 10)
    app = create_app(settings)
    from tests.builders import make_world

    w = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, w.officer_a.email)
        base = start_assessment(client)
        assert upload(client, base, files.PDF).status_code == 303
        r = upload(client, base, files.PNG, name="photo.png")
        assert r.status_code == 413
        assert "storage quota" in r.text.replace("&#39;", "'")
        exported = client.get(base + "/archive.zip").content
        with TestClient(app) as other_agency:
            login(other_agency, w.officer_b.email)
            assert (
                upload(other_agency, start_assessment(other_agency), files.PDF).status_code == 303
            )
        second = start_assessment(client, program="Second")
        page = client.get(second + "/import-archive")
        r = client.post(
            second + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", exported, "application/zip")},
        )
        assert r.status_code == 413, r.text
        assert "storage quota" in r.text.replace("&#39;", "'")
    app.state.engine.dispose()


def test_archive_imports_at_once_are_limited(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Issue 16: each import holds an archive's documents in memory; at most
    MAX_CONCURRENT_IMPORTS run at once, the next gets 429 with a clear message."""
    from service.documents import service as document_service

    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/import-archive")
    held = [document_service.import_slot() for _ in range(document_service.MAX_CONCURRENT_IMPORTS)]
    for slot in held:
        slot.__enter__()
    try:
        r = client.post(
            base + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", b"PK\x03\x04junk", "application/zip")},
        )
        assert r.status_code == 429
        assert "Try again in a minute" in r.text
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    r = client.post(
        base + "/import-archive",
        data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
        files={"file": ("a.zip", b"PK\x03\x04junk", "application/zip")},
    )
    assert r.status_code == 422
