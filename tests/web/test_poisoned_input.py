"""Poisoned and oversized input: every request of issue 16's list gets a clear 4xx, never a 5xx,
and text that is not valid Unicode scalar values is refused at the edge (and survives when it is
already stored)."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import uuid
import zipfile

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from service import db
from service.auth import service as auth_service
from service.documents import archive
from service.documents.models import Document
from tests.builders import World, csrf_from, login, start_assessment, submit_mini
from tests.documents import files
from tests.documents.test_documents_web import upload

SURROGATE = "abc\ud800def"


def _token(app: FastAPI, user: object) -> dict[str, str]:
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=user, name="poison")  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {secret}"}


def _json_bytes(value: object) -> bytes:
    # json.dumps escapes a lone surrogate as \ud800 (ensure_ascii), as a client would send it
    return json.dumps(value).encode("ascii")


def _import(client: TestClient, base: str, raw: bytes, name: str = "a.yaml") -> httpx2.Response:
    page = client.get(base + "/import")
    return client.post(
        base + "/import",
        data={"csrf_token": csrf_from(page.text), "version": "1"},
        files={"file": (name, raw, "application/octet-stream")},
        follow_redirects=False,
    )


def _import_archive(client: TestClient, base: str, raw: bytes) -> httpx2.Response:
    page = client.get(base + "/import-archive")
    return client.post(
        base + "/import-archive",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("a.zip", raw, "application/zip")},
        follow_redirects=False,
    )


def _archive(answers_raw: bytes | None = None, documents: dict[str, bytes] | None = None) -> bytes:
    """An archive of web-mini whose answers.json is ``answers_raw`` (the manifest's hash fits)."""
    answers = answers_raw or _json_bytes({"questionnaire": "web-mini", "version": "1.0"})
    docs = documents or {}
    manifest = {
        "format": archive.FORMAT,
        "answers_sha256": hashlib.sha256(answers).hexdigest(),
        "documents": [
            {
                "question": "pia_done",
                "name": "a.pdf",
                "size": len(data),
                "sha256": sha,
                "media_type": "application/pdf",
            }
            for sha, data in docs.items()
        ],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(archive.MANIFEST, json.dumps(manifest))
        z.writestr(archive.ANSWERS, answers)
        for sha, data in docs.items():
            z.writestr(f"documents/{sha}", data)
    return out.getvalue()


def _corrupt_member(raw: bytes, name: str) -> bytes:
    """The archive with the deflate data of member ``name`` overwritten by garbage."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo(name)
    start = info.header_offset
    name_len, extra_len = struct.unpack("<HH", raw[start + 26 : start + 30])
    data_start = start + 30 + name_len + extra_len
    garbage = bytes([0xFF]) * info.compress_size
    return raw[:data_start] + garbage + raw[data_start + info.compress_size :]


def _method_99(raw: bytes, name: str) -> bytes:
    """The archive with member ``name``'s compression method set to 99 (AES, unsupported)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo(name)
    out = bytearray(raw)
    struct.pack_into("<H", out, info.header_offset + 8, 99)
    # patch the central directory entry too (the reader trusts it)
    pos = raw.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack("<H", raw[pos + 28 : pos + 30])[0]
        if raw[pos + 46 : pos + 46 + name_len] == name.encode():
            struct.pack_into("<H", out, pos + 10, 99)
        pos = raw.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def _api_patch(client: TestClient, auth: dict[str, str], url: str, body: bytes) -> httpx2.Response:
    version = client.get(url, headers=auth).headers["etag"]
    return client.patch(
        url + "/answers",
        content=body,
        headers={**auth, "If-Match": version, "Content-Type": "application/json"},
    )


def test_lone_surrogate_in_the_api_is_refused_naming_the_field(
    app: FastAPI, client: TestClient, world: World
) -> None:
    auth = _token(app, world.officer_a)
    r = client.post(
        "/api/v1/assessments", json={"questionnaire": "web-mini", "program": "P"}, headers=auth
    )
    url = r.headers["location"]
    r = _api_patch(client, auth, url, _json_bytes({"answers": {"description": SURROGATE}}))
    assert r.status_code == 422, r.text
    assert "description" in r.text
    r = _api_patch(client, auth, url, _json_bytes({"evidence": {"pia_done": "a\udfffb"}}))
    assert r.status_code == 422, r.text
    assert "pia_done" in r.text
    r = client.post(
        "/api/v1/assessments",
        content=_json_bytes({"questionnaire": "web-mini", "program": SURROGATE}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert "program" in r.text
    # nothing was saved
    got = client.get(url, headers=auth)
    assert got.status_code == 200
    assert "description" not in got.json()["answers"]
    # a surrogate pair (an emoji escaped as JSON does) is valid text
    r = _api_patch(client, auth, url, _json_bytes({"answers": {"description": "ok \U0001f600"}}))
    assert r.status_code == 200, r.text


def test_lone_surrogate_in_an_answers_file_is_refused(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    raw = b'questionnaire: web-mini\nversion: "1.0"\nanswers:\n  description: "abc\\ud800def"\n'
    r = _import(client, base, raw)
    assert r.status_code == 422, r.text
    raw = _json_bytes(
        {"questionnaire": "web-mini", "version": "1.0", "answers": {"owner": SURROGATE}}
    )
    r = _import(client, base, raw, "a.json")
    assert r.status_code == 422, r.text


def test_text_already_stored_with_a_lone_surrogate_is_read(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """An assessment poisoned before the fix still opens everywhere."""
    login(client, world.officer_a.email)
    base = submit_mini(client)
    draft = start_assessment(client, program="Draft")
    auth = _token(app, world.officer_a)
    for url in (base, draft):
        assessment_id = uuid.UUID(url.rsplit("/", 1)[1])
        poisoned = json.dumps({"description": SURROGATE, "body_type": "federal"})
        with app.state.engine.begin() as conn:
            conn.execute(
                text("UPDATE assessment SET answers = :a, evidence = :e WHERE id = :id"),
                {
                    "a": poisoned,
                    "e": json.dumps({"pia_done": SURROGATE}),
                    "id": assessment_id.hex,
                },
            )
    pages = [
        draft + "/",
        draft + "/sections/scope",
        draft + "/sections/scope/check",
        draft + "/check-your-answers",
        draft + "/export",
        draft + "/archive.zip",
        draft + "/history",
        base + "/result",
        base + "/report.html",
    ]
    for page in pages:
        r = client.get(page)
        assert r.status_code < 500, (page, r.text[-500:])
    api = draft.replace("/assessments/", "/api/v1/assessments/")
    for page in (api, api + "/archive", "/api/v1/assessments"):
        r = client.get(page, headers=auth)
        assert r.status_code < 500, (page, r.text[-500:])
    r = client.get(api, headers=auth)
    assert r.json()["answers"]["description"] == "abc\ufffddef"


def test_each_listed_request_gets_a_4xx_not_a_5xx(app: FastAPI, world: World) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, world.officer_a.email)
        base = submit_mini(client)
        draft = start_assessment(client, program="Draft")
        seen: dict[str, int] = {}

        def note(name: str, response: httpx2.Response) -> None:
            seen[name] = response.status_code

        # answers import: nesting, an impossible date, a huge integer, deep lists (YAML and JSON)
        head = 'questionnaire: web-mini\nversion: "1.0"\n'
        note(
            "import nested 2000 (yaml)",
            _import(client, draft, (head + "answers: " + "[" * 2000 + "]" * 2000 + "\n").encode()),
        )
        note(
            "import as_of 2026-02-30",
            _import(client, draft, (head + "as_of: 2026-02-30\n").encode()),
        )
        note(
            "import 5000 digits",
            _import(client, draft, (head + "answers:\n  searches: " + "9" * 5000 + "\n").encode()),
        )
        note(
            "import 5000 digits (json)",
            _import(
                client,
                draft,
                (
                    '{"questionnaire": "web-mini", "version": "1.0", "answers": {"searches": '
                    + "9" * 5000
                    + "}}"
                ).encode(),
                "a.json",
            ),
        )
        note(
            "import list 50000 deep (yaml)",
            _import(client, draft, ("[" * 50_000 + "]" * 50_000).encode()),
        )
        note(
            "import list 50000 deep (json)",
            _import(client, draft, ("[" * 50_000 + "]" * 50_000).encode(), "a.json"),
        )
        # archive import: deep answers.json, method 99, corrupt deflate data
        deep = (
            '{"questionnaire": "web-mini", "version": "1.0", "answers": {"x": '
            + "[" * 5000
            + "]" * 5000
            + "}}"
        ).encode()
        note("archive answers 5000 deep", _import_archive(client, draft, _archive(deep)))
        plain = _archive()
        note(
            "archive method 99", _import_archive(client, draft, _method_99(plain, archive.ANSWERS))
        )
        note(
            "archive corrupt answers.json",
            _import_archive(client, draft, _corrupt_member(plain, archive.ANSWERS)),
        )
        big_pdf = files.PDF + b"%" + bytes(range(256)) * 200
        sha = hashlib.sha256(big_pdf).hexdigest()
        with_doc = _archive(documents={sha: big_pdf})
        note(
            "archive corrupt document",
            _import_archive(client, draft, _corrupt_member(with_doc, f"documents/{sha}")),
        )
        # numbers out of range in the query string
        huge = "99999999999999999999"
        note("result number", client.get(f"{base}/result?number={huge}"))
        note("report.html number", client.get(f"{base}/report.html?number={huge}"))
        note("report.pdf number", client.get(f"{base}/report.pdf?number={huge}"))
        # removing another agency's document
        assert upload(client, draft, files.PDF).status_code == 303
        with db.new_session(app.state.engine) as s:
            document_id = s.exec(select(Document.id)).one()
        with TestClient(app, raise_server_exceptions=False) as stranger:
            login(stranger, world.officer_b.email)
            own = start_assessment(stranger)
            page = stranger.get(own + "/sections/governance/documents")
            r = stranger.post(
                f"{draft}/documents/{document_id}/remove",
                data={"csrf_token": csrf_from(page.text), "slug": "governance"},
                follow_redirects=False,
            )
            note("remove another agency's document", r)
            r = stranger.post(
                f"{own}/documents/{document_id}/remove",
                data={"csrf_token": csrf_from(page.text), "slug": "governance"},
                follow_redirects=False,
            )
            note("remove another agency's document from one's own", r)
        with TestClient(app) as reviewer:
            login(reviewer, world.reviewer_on.email)
            note("review page number", reviewer.get(f"/review/?page={huge}"))
        api = base.replace("/assessments/", "/api/v1/assessments/")
        auth = _token(app, world.officer_a)
        note("api result number", client.get(f"{api}/report.pdf?number={huge}", headers=auth))
        failures = {name: status for name, status in seen.items() if status >= 500}
        assert not failures, failures
        # and each is a clear refusal, not a silent success
        assert [n for n, status in seen.items() if not 400 <= status < 500] == [], seen


def test_the_web_import_reads_what_the_cli_reads(client: TestClient, world: World) -> None:
    """One reader: an unquoted YAML date, as the CLI accepts it, is accepted by the web import."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    raw = b'questionnaire: web-mini\nversion: "1.0"\nas_of: 2025-01-02\nanswers:\n  pia_done: "yes"\n  pia_date: 2024-05-01\n'
    r = _import(client, base, raw)
    assert r.status_code == 303, r.text


def test_a_form_field_that_is_not_text_is_refused_naming_it(
    client: TestClient, world: World
) -> None:
    """A NUL (``%00``) in a form: PostgreSQL cannot store it (a 500 there); refused at the edge."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/sections/scope")
    r = client.post(
        base + "/sections/scope",
        content=f"csrf_token={csrf_from(page.text)}&description=a%00b&action=later",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 422, r.text
    assert "description" in r.text
    assert "not text" in r.text
    task_list = client.get(base + "/")
    assert task_list.status_code == 200
