"""Assessment archives: export, import, and every check on import."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment
from service.documents import archive
from service.documents.models import Document
from service.questionnaire.answers import AnswersFile
from service.questionnaire.loader import load_directory
from service.questionnaire.schema import Questionnaire
from tests.builders import World, csrf_from, login, post_form, start_assessment, version_from
from tests.conftest import make_settings
from tests.documents import files
from tests.documents.test_documents_web import SECTION, upload

LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    settings = make_settings("sqlite://")
    found = load_directory(settings.questionnaires_dir).get("web-mini", "1.0")
    assert found is not None
    return found


def _answers(q: Questionnaire) -> AnswersFile:
    return AnswersFile(questionnaire=q.id, version=q.version, answers={"pia_done": "yes"})


def _read(raw: bytes, q: Questionnaire) -> archive.Archive:
    return archive.read(raw, q, max_document_bytes=LIMIT, max_total_bytes=4 * LIMIT)


def _rezip(raw: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_round_trip(questionnaire: Questionnaire) -> None:
    raw = archive.build(
        _answers(questionnaire),
        [
            ("pia_done", "PIA.pdf", "application/pdf", files.PDF),
            ("pia_date", "a.pdf", "application/pdf", files.PDF),
        ],
    )
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert sorted(z.namelist()) == sorted(
            ["manifest.json", "answers.json", f"documents/{hashlib.sha256(files.PDF).hexdigest()}"]
        )  # one copy of a document used twice
    got = _read(raw, questionnaire)
    assert got.answers.answers == {"pia_done": "yes"}
    assert [(d.question, d.name) for d in got.documents] == [
        ("pia_done", "PIA.pdf"),
        ("pia_date", "a.pdf"),
    ]


def _manifest_doc(members: dict[str, bytes], **changes: object) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["documents"][0].update(changes)
    members["manifest.json"] = json.dumps(manifest).encode()


SHA = hashlib.sha256(files.PDF).hexdigest()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.__setitem__("../evil.txt", b"x"), "Unexpected file"),
        (lambda m: m.__setitem__("documents/../../etc/passwd", b"x"), "Unexpected file"),
        (lambda m: m.__setitem__("/abs/path", b"x"), "Unexpected file"),
        (lambda m: m.__setitem__(f"documents/{SHA}", files.PDF + b"x"), "does not match its hash"),
        (lambda m: m.__setitem__("documents/" + "0" * 64, b"x"), "does not list"),
        (
            lambda m: m.__setitem__("answers.json", b'{"questionnaire":"web-mini"}'),
            "does not match the hash",
        ),
        (lambda m: m.pop("manifest.json"), "must hold answers.json"),
        (lambda m: _manifest_doc(m, question="nope"), "no question"),
        (lambda m: _manifest_doc(m, media_type="image/png"), "not the type it claims"),
        (lambda m: _manifest_doc(m, size=3), "stated size"),
        (lambda m: _manifest_doc(m, sha256="1" * 64), "missing from the archive"),
    ],
    ids=[
        "dotdot",
        "dotdot-in-documents",
        "absolute",
        "altered-document",
        "unlisted-document",
        "altered-answers",
        "no-manifest",
        "unknown-question",
        "wrong-type",
        "wrong-size",
        "missing-document",
    ],
)
def test_refused(
    questionnaire: Questionnaire, change: Callable[[dict[str, bytes]], None], message: str
) -> None:
    raw = archive.build(
        _answers(questionnaire), [("pia_done", "PIA.pdf", "application/pdf", files.PDF)]
    )
    with pytest.raises(archive.BadArchive, match=message):
        _read(_rezip(raw, change), questionnaire)


def test_polyglot_document_is_refused(questionnaire: Questionnaire) -> None:
    raw = archive.build(
        _answers(questionnaire), [("pia_done", "x.pdf", "application/pdf", files.POLYGLOT)]
    )
    with pytest.raises(archive.BadArchive, match="both a PDF and a ZIP"):
        _read(raw, questionnaire)


def test_zip_bomb_is_refused_before_inflating(questionnaire: Questionnaire) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("documents/" + "a" * 64, b"\0" * (3 * LIMIT))
    with pytest.raises(archive.BadArchive, match="larger than allowed"):
        _read(out.getvalue(), questionnaire)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("documents/" + "a" * 64, b"\0" * (2 * LIMIT))
    with pytest.raises(archive.BadArchive, match="suspiciously"):
        archive.read(
            out.getvalue(), questionnaire, max_document_bytes=4 * LIMIT, max_total_bytes=8 * LIMIT
        )


def test_not_a_zip_and_too_many_members(questionnaire: Questionnaire) -> None:
    with pytest.raises(archive.BadArchive, match="not a ZIP"):
        _read(b"not a zip", questionnaire)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(archive.MAX_MEMBERS + 1):
            z.writestr(f"f{i}", b"")
    with pytest.raises(archive.BadArchive, match="too many"):
        _read(out.getvalue(), questionnaire)


def test_export_then_import_through_the_pages(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        post_form(
            client,
            base + "/sections/governance",
            base + "/sections/governance",
            {"pia_done": "yes", "pia_date": "2025-01-31", "action": "later"},
        )
        assert upload(client, base, files.DOCX, name="Policy.docx").status_code == 303
        exported = client.get(base + "/archive.zip")
        assert exported.status_code == 200
        assert exported.headers["content-disposition"].startswith("attachment;")
        assert exported.headers["content-type"] == "application/zip"
        other = start_assessment(client, program="Second program")
        page = client.get(other + "/import-archive")
        assert page.status_code == 200
        r = client.post(
            other + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", exported.content, "application/zip")},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        page = client.get(other + "/import-archive")  # the version after the import
        bad = client.post(
            other + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", b"PK\x03\x04junk", "application/zip")},
        )
        assert bad.status_code == 422
        assert "not imported" in bad.text
        assert 'href="#file"' in bad.text
        # ... and in French for a French reader, the reason included
        client.post("/language", data={"csrf_token": csrf_from(page.text), "lang": "fr"})
        bad = client.post(
            other + "/import-archive",
            data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
            files={"file": ("a.zip", b"not a zip", "application/zip")},
        )
        assert bad.status_code == 422
        assert "importée\u00a0: Le fichier n&#39;est pas une archive ZIP" in bad.text
        # another agency cannot export it
        with TestClient(app) as stranger:
            login(stranger, world.officer_b.email)
            assert stranger.get(base + "/archive.zip").status_code == 404
            assert stranger.get(other + SECTION).status_code == 404
    with db.new_session(app.state.engine) as s:
        second = s.exec(select(Assessment).where(Assessment.program == "Second program")).one()
        assert second.answers["pia_done"] == "yes"
        docs = list(s.exec(select(Document).where(Document.assessment_id == second.id)))
        assert [(d.question_id, d.name) for d in docs] == [("pia_done", "Policy.docx")]


def test_every_refusal_reason_has_a_french_translation() -> None:
    """The reasons an archive or a document is refused are read from the source, so a new one
    without a French translation fails here."""
    import re
    from pathlib import Path

    from service.i18n.catalogue import catalogue

    root = Path(archive.__file__).parent
    reasons = re.findall(r'BadArchive\(\s*(?:N_\(\s*)?"([^"]+)"', (root / "archive.py").read_text())
    reasons += re.findall(r'Refused\(\s*"([^"]+)"', (root / "sniff.py").read_text())
    assert len(reasons) >= 30
    french = catalogue("fr")
    assert [r for r in reasons if r not in french] == []


@pytest.mark.parametrize(
    ("size", "lang", "expected"),
    [
        (512, "en", "512\u00a0B"),
        (512, "fr", "512\u00a0o"),
        (20 * 1024, "en", "20.0\u00a0KB"),
        (20 * 1024, "fr", "20,0\u00a0Ko"),
        (80 * 1024 * 1024, "en", "80.0\u00a0MB"),
        (80 * 1024 * 1024, "fr", "80,0\u00a0Mo"),
    ],
)
def test_sizes_are_written_as_each_language_writes_them(
    size: int, lang: str, expected: str
) -> None:
    from service.i18n.formats import format_size

    assert format_size(size, lang) == expected
