"""The JSON API: tokens, the assessment life cycle with If-Match, results, errors as JSON."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import db
from service.auth import service as auth_service
from tests.builders import World, csrf_from, login


def _token(app: FastAPI, world: World, role: str = "officer_a") -> dict[str, str]:
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=getattr(world, role), name="test")
    return {"Authorization": f"Bearer {secret}"}


def test_api_token_created_on_the_web_works(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    page = client.get("/account/tokens")
    r = client.post("/account/tokens", data={"csrf_token": csrf_from(page.text), "name": "script"})
    assert r.status_code == 200
    secret = r.text.split('id="new-token">')[1].split("<")[0]
    api = client.get("/api/v1/questionnaires", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert api.json()[0]["id"] == "web-mini"
    token_id = client.get("/account/tokens").text.split('name="revoke" value="')[1].split('"')[0]
    client.post("/account/tokens", data={"csrf_token": csrf_from(page.text), "revoke": token_id})
    assert (
        client.get(
            "/api/v1/questionnaires", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )


def test_api_life_cycle_with_if_match(app: FastAPI, client: TestClient, world: World) -> None:
    auth = _token(app, world)
    r = client.post(
        "/api/v1/assessments",
        json={"questionnaire": "web-mini", "program": "API program"},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    url = r.headers["location"]
    assert r.headers["etag"] == '"1"'
    patch = {
        "answers": {
            "body_type": "municipal",
            "uses": ["live"],
            "searches": 10,
            "pia_done": "yes",
            "pia_date": "2023-04-01",
        },
        "evidence": {"pia_done": "PIA on file"},
    }
    assert client.patch(url + "/answers", json=patch, headers=auth).status_code == 428
    assert (
        client.patch(url + "/answers", json=patch, headers={**auth, "If-Match": '"7"'}).status_code
        == 412
    )
    bad = client.patch(
        url + "/answers",
        json={"answers": {"searches": "many", "nope": 1}},
        headers={**auth, "If-Match": '"1"'},
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} == {
        ("answers", "searches"),
        ("answers", "nope"),
    }
    r = client.patch(url + "/answers", json=patch, headers={**auth, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["answers"]["pia_date"] == "2023-04-01"
    preview = client.get(url + "/result", headers=auth).json()
    assert preview["preview"] is True
    version = 2
    for section in ("scope", "governance"):
        r = client.put(
            f"{url}/sections/{section}",
            json={"status": "completed"},
            headers={**auth, "If-Match": f'"{version}"'},
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    r = client.post(
        url + "/submit",
        json={"confirm_unanswered": ["description", "owner"]},  # the optional ones left blank
        headers={**auth, "If-Match": f'"{version}"'},
    )
    assert r.status_code == 201, r.text
    submission = r.json()
    assert len(submission["sha256"]) == 64
    assert submission["number"] == 1
    result = client.get(url + "/result", headers=auth).json()
    assert result["preview"] is False
    assert result["sha256"] == submission["sha256"]
    again = client.patch(
        url + "/answers", json=patch, headers={**auth, "If-Match": f'"{version + 1}"'}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_submitted"
    assert [s["number"] for s in client.get(url + "/submissions", headers=auth).json()] == [1]


def test_api_errors_are_json(app: FastAPI, client: TestClient, world: World) -> None:
    auth = _token(app, world)
    for method, url, body in (
        ("GET", "/api/v1/assessments/not-a-uuid", None),
        ("GET", "/api/v1/assessments/00000000-0000-0000-0000-000000000000", None),
        ("POST", "/api/v1/assessments", {"questionnaire": "nope", "program": "x"}),
        ("POST", "/api/v1/assessments", {"unexpected": True}),
        ("GET", "/api/v1/nowhere", None),
    ):
        r = client.request(method, url, json=body, headers=auth)
        assert 400 <= r.status_code < 500, (url, r.status_code)
        assert "code" in r.json()


def test_openapi_is_complete(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/questionnaires",
        "/api/v1/assessments",
        "/api/v1/assessments/{assessment_id}/answers",
        "/api/v1/assessments/{assessment_id}/submit",
        "/api/v1/assessments/{assessment_id}/result",
        "/api/v1/assessments/{assessment_id}/report.pdf",
    ):
        assert path in paths
    patch = paths["/api/v1/assessments/{assessment_id}/answers"]["patch"]
    assert {"401", "404", "409", "412", "422", "428"} <= set(patch["responses"])
    assert not any(
        p.startswith("/assessments") for p in paths
    )  # pages stay out of the API document


def _ready_to_submit(app: FastAPI, client: TestClient, auth: dict[str, str]) -> tuple[str, int]:
    """An assessment with every section completed and two optional questions left blank
    (``description`` and ``owner``): returns its URL and version."""
    r = client.post(
        "/api/v1/assessments",
        json={"questionnaire": "web-mini", "program": "Unanswered"},
        headers=auth,
    )
    url = r.headers["location"]
    answers = {
        "body_type": "municipal",
        "uses": ["live"],
        "searches": 10,
        "pia_done": "yes",
        "pia_date": "2023-04-01",
    }
    r = client.patch(
        url + "/answers", json={"answers": answers}, headers={**auth, "If-Match": '"1"'}
    )
    version = r.json()["version"]
    for section in ("scope", "governance"):
        r = client.put(
            f"{url}/sections/{section}",
            json={"status": "completed"},
            headers={**auth, "If-Match": f'"{version}"'},
        )
        version = r.json()["version"]
    return url, version


def test_api_submit_with_unanswered_questions_needs_confirmation(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Issue 14 point 5: as on the web, submitting with questions shown but not answered needs
    an explicit confirmation naming them; without it a 409 names them."""
    auth = _token(app, world)
    url, version = _ready_to_submit(app, client, auth)
    headers = {**auth, "If-Match": f'"{version}"'}
    refused = client.post(url + "/submit", headers=headers)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "unanswered_questions"
    assert body["questions"] == ["description", "owner"]
    assert "description, owner" in body["detail"]
    assert "confirm_unanswered" in body["detail"]
    # a list that leaves one out is not a confirmation of both
    partial = client.post(url + "/submit", json={"confirm_unanswered": ["owner"]}, headers=headers)
    assert partial.status_code == 409
    assert partial.json()["questions"] == ["description", "owner"]
    assert client.get(url + "/submissions", headers=auth).json() == []
    named = client.post(
        url + "/submit", json={"confirm_unanswered": ["description", "owner"]}, headers=headers
    )
    assert named.status_code == 201, named.text


def test_api_submit_confirm_unanswered_true(app: FastAPI, client: TestClient, world: World) -> None:
    auth = _token(app, world)
    url, version = _ready_to_submit(app, client, auth)
    r = client.post(
        url + "/submit",
        json={"confirm_unanswered": True},
        headers={**auth, "If-Match": f'"{version}"'},
    )
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 1
