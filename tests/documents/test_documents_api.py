"""The documents API: upload (type by content), list, download, archive; refusals as JSON."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import db
from service.auth import service as auth_service
from tests.builders import World
from tests.documents import files


def _token(app: FastAPI, world: World, role: str = "officer_a") -> dict[str, str]:
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=getattr(world, role), name="test")
    return {"Authorization": f"Bearer {secret}"}


def test_api_documents(app: FastAPI, client: TestClient, world: World) -> None:
    auth = _token(app, world)
    r = client.post(
        "/api/v1/assessments",
        json={"questionnaire": "web-mini", "program": "API documents"},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    url = r.headers["location"]
    up = client.post(
        url + "/documents",
        params={"question": "pia_done", "name": "../x/Contrat.xlsx"},
        content=files.XLSX,
        headers={**auth, "Content-Type": "application/pdf"},
    )
    assert up.status_code == 201, up.text
    body = up.json()
    assert body["name"] == "Contrat.xlsx"
    assert body["media_type"].endswith("spreadsheetml.sheet")
    sha = hashlib.sha256(files.XLSX).hexdigest()
    assert body["sha256"] == sha

    listed = client.get(url + "/documents", headers=auth).json()
    assert [d["sha256"] for d in listed["pia_done"]] == [sha]
    got = client.get(f"{url}/documents/{sha}", headers=auth)
    assert got.status_code == 200
    assert got.content == files.XLSX
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"

    bad = client.post(
        url + "/documents", params={"question": "pia_done"}, content=files.HTML, headers=auth
    )
    assert bad.status_code == 415
    assert bad.json()["code"] == "unsupported_type"
    empty = client.post(
        url + "/documents", params={"question": "pia_done"}, content=b"", headers=auth
    )
    assert empty.status_code == 422
    assert empty.json()["code"] == "empty_file"
    unknown = client.post(
        url + "/documents", params={"question": "nope"}, content=files.PDF, headers=auth
    )
    assert unknown.status_code == 404

    other = _token(app, world, "officer_b")
    assert client.get(url + "/documents", headers=other).status_code == 404
    assert client.get(f"{url}/documents/{sha}", headers=other).status_code == 404
    refused = client.post(
        url + "/documents", params={"question": "pia_done"}, content=files.PDF, headers=other
    )
    assert refused.status_code == 404

    archive = client.get(url + "/archive", headers=auth)
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    # an import names the version it applies to, as every change through the API (issue 20)
    unversioned = client.post(url + "/archive", content=archive.content, headers=auth)
    assert unversioned.status_code == 428
    stale = client.post(
        url + "/archive", content=archive.content, headers={**auth, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    current = {**auth, "If-Match": client.get(url, headers=auth).headers["etag"]}
    again = client.post(url + "/archive", content=archive.content, headers=current)
    assert again.status_code == 200, again.text
    assert again.json() == {"documents_attached": 0}  # already attached: not twice
    current = {**auth, "If-Match": client.get(url, headers=auth).headers["etag"]}
    junk = client.post(url + "/archive", content=b"junk", headers=current)
    assert junk.status_code == 422
    assert junk.json()["code"] == "bad_archive"


def test_api_upload_over_the_limit_is_413_before_reading(sqlite_url: str) -> None:
    from service.main import create_app
    from tests.builders import make_world
    from tests.conftest import make_settings

    app = create_app(make_settings(sqlite_url, max_upload_bytes=1000))
    world = make_world(app.state.engine)
    with TestClient(app) as client:
        auth = _token(app, world)
        url = client.post(
            "/api/v1/assessments",
            json={"questionnaire": "web-mini", "program": "Big"},
            headers=auth,
        ).headers["location"]
        r = client.post(
            url + "/documents", params={"question": "pia_done"}, content=b"a" * 1001, headers=auth
        )
        assert r.status_code == 413
        assert r.json()["code"] == "too_large"
        ok = client.post(
            url + "/documents", params={"question": "pia_done"}, content=b"a" * 1000, headers=auth
        )
        assert ok.status_code == 201
    app.state.engine.dispose()


def test_pages_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/assessments/{assessment_id}/documents" in paths
    assert "/api/v1/assessments/{assessment_id}/archive" in paths
    assert not any(p.startswith("/assessments") for p in paths)
