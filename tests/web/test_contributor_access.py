"""Every route of the permission table x the contributor (issue 21).

For each route of ``access_matrix.ROUTES``, on an assessment where the contributor has a part
(the section ``scope``): a route whose permission the contributor's role lacks answers 403;
every other answers neither 403 nor a server error. Then the record-level rule, route by
route: what is not assigned to them (the section ``governance``, an assessment with nothing of
theirs) is refused, and nothing of it is stored.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment
from service.auth import policy
from service.auth import service as auth_service
from service.models import Role, User
from tests.builders import World, csrf_from, login, make_user, post_form, start_assessment
from tests.web.access_matrix import ROUTES

# Routes that end or change the contributor's own sign-in: tried last, or by other tests.
SESSION_ROUTES = {
    ("POST", "/logout"),
    ("POST", "/login"),
    ("POST", "/login/code"),
    ("POST", "/account/sign-out-everywhere"),
    ("POST", "/account/totp"),
    ("POST", "/account/recovery-codes"),
    ("POST", "/account/set-password/{token}"),
    ("POST", "/language"),
}


def _fill(path: str, assessment_id: str, slug: str) -> str:
    values = {
        "assessment_id": assessment_id,
        "slug": slug,
        "section_id": slug,
        "document_id": str(uuid.uuid4()),
        "assignment_id": str(uuid.uuid4()),
        "sha256": "0" * 64,
        "criterion_id": "GOV-01",
        "org_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "upload_id": str(uuid.uuid4()),
        "token": "x",
        "questionnaire_id": "web-mini",
        "version": "1.0",
        "record_id": str(uuid.uuid4()),
        "lang": "en",
        "notice_id": str(uuid.uuid4()),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.fixture
def setup(app: FastAPI, client: TestClient, world: World) -> dict[str, Any]:
    with db.new_session(app.state.engine) as s:
        contributor = make_user(s, role=Role.contributor, org=world.agency_a)
    login(client, world.officer_a.email)
    base = start_assessment(client)
    hidden = start_assessment(client, program="Nothing of theirs")
    r = post_form(
        client,
        base + "/assignments",
        base + "/assignments",
        {"part": "section:scope", "assignee": str(contributor.id), "due_on": ""},
    )
    assert r.status_code == 303
    with db.new_session(app.state.engine) as s:
        token = auth_service.create_api_token(session=s, user=contributor, name="t")
    login(client, contributor.email)
    return {
        "contributor": contributor,
        "id": base.rsplit("/", 1)[-1],
        "hidden": hidden.rsplit("/", 1)[-1],
        "token": token,
    }


# Valid request bodies of the API routes (so that the answer is the route's, not the
# request validation's).
API_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/assessments"): {"questionnaire": "web-mini", "program": "P"},
    ("PATCH", "/api/v1/assessments/{assessment_id}/answers"): {"answers": {}},
    ("PUT", "/api/v1/assessments/{assessment_id}/sections/{section_id}"): {"status": "in_progress"},
    ("POST", "/api/v1/assessments/{assessment_id}/reassess"): {"questionnaire_version": "1.0"},
}
API_QUERIES = {
    ("POST", "/api/v1/assessments/{assessment_id}/documents"): "?question=body_type",
    ("GET", "/api/v1/review/portfolio"): "?questionnaire_id=web-mini&version=1.0",
}


def _request(
    client: TestClient,
    method: str,
    url: str,
    token: str,
    csrf: str,
    version: int,
    route: tuple[str, str] = ("", ""),
) -> Any:
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}", "If-Match": f'"{version}"'}
        query = API_QUERIES.get(route, "")
        if route[0] == "POST" and route[1].endswith(("/documents", "/archive")):
            return client.request(method, url + query, headers=headers, content=b"%PDF-1.4\n")
        return client.request(method, url + query, headers=headers, json=API_BODIES.get(route, {}))
    if method == "GET":
        return client.get(url, follow_redirects=False)
    return client.request(
        method, url, data={"csrf_token": csrf, "version": str(version)}, follow_redirects=False
    )


def _version(app: FastAPI, assessment_id: str) -> int:
    with db.new_session(app.state.engine) as s:
        return s.get_one(Assessment, uuid.UUID(assessment_id)).version


def test_every_route_follows_the_table_for_the_contributor(
    app: FastAPI, client: TestClient, setup: dict[str, Any]
) -> None:
    csrf = csrf_from(client.get("/assessments/").text)
    wrong: list[tuple[str, str, int]] = []
    checked = 0
    for (method, path), permission in sorted(ROUTES.items()):
        if (method, path) in SESSION_ROUTES:
            continue
        url = _fill(path, setup["id"], "scope")
        version = _version(app, setup["id"])
        r = _request(client, method, url, setup["token"], csrf, version, (method, path))
        if permission is not None and not policy.allowed(Role.contributor, permission):
            if r.status_code != 403:
                wrong.append((method, path, r.status_code))
        elif r.status_code == 403 or r.status_code >= 500:
            wrong.append((method, path, r.status_code))
        checked += 1
    assert wrong == []
    assert checked > 100


# The routes the contributor's role may use, judged on the parts not assigned to them.
NOT_THEIRS_403 = [
    ("GET", "/assessments/{assessment_id}/sections/{slug}"),
    ("POST", "/assessments/{assessment_id}/sections/{slug}"),
    ("POST", "/assessments/{assessment_id}/sections/{slug}/visibility"),
    ("GET", "/assessments/{assessment_id}/sections/{slug}/check"),
    ("POST", "/assessments/{assessment_id}/sections/{slug}/check"),
    ("GET", "/assessments/{assessment_id}/sections/{slug}/documents"),
    ("POST", "/assessments/{assessment_id}/sections/{slug}/documents"),
    ("PUT", "/api/v1/assessments/{assessment_id}/sections/{section_id}"),
]


def test_the_contributor_role_uses_only_its_routes() -> None:
    """What the table lets the contributor use at all: reading and answering (their part is
    decided per record), evidence, their own account; never submit, result, assign, import."""
    allowed = set(policy.permissions_of(Role.contributor))
    assert allowed == {
        policy.Permission.assessment_read,
        policy.Permission.assessment_edit,
        policy.Permission.documents_upload,
        policy.Permission.notices,  # their own notices ("assigned to you", reminders)
    }
    assert policy.assigned_only(Role.contributor)
    for refused in (
        policy.Permission.assessment_submit,
        policy.Permission.assessment_read_all,
        policy.Permission.report_read,
        policy.Permission.assessment_assign,
        policy.Permission.assessment_import,
    ):
        assert not policy.allowed(Role.contributor, refused)
    # every route in the list below is one the role may use, so its 403 is the record's rule
    for key in NOT_THEIRS_403:
        permission = ROUTES[key]
        assert permission is not None, key
        assert policy.allowed(Role.contributor, permission), key


def test_parts_not_assigned_are_refused_and_nothing_stored(
    app: FastAPI, client: TestClient, setup: dict[str, Any]
) -> None:
    csrf = csrf_from(client.get("/assessments/").text)
    with db.new_session(app.state.engine) as s:
        before = s.get_one(Assessment, uuid.UUID(setup["id"]))
    for method, path in NOT_THEIRS_403:
        url = _fill(path, setup["id"], "governance")
        if path.startswith("/api/"):
            r = client.request(
                method,
                url,
                headers={
                    "Authorization": f"Bearer {setup['token']}",
                    "If-Match": f'"{before.version}"',
                },
                json={"status": "completed"},
            )
        elif method == "GET":
            r = client.get(url, follow_redirects=False)
        else:
            data = {
                "csrf_token": csrf,
                "version": str(before.version),
                "pia_done": "yes",
                "completed": "yes",
                "question": "pia_done",
            }
            r = client.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403, (method, path, r.status_code)
    with db.new_session(app.state.engine) as s:
        after = s.get_one(Assessment, uuid.UUID(setup["id"]))
    assert (after.version, after.answers, after.section_status) == (
        before.version,
        before.answers,
        before.section_status,
    )


def test_an_assessment_with_nothing_assigned_does_not_exist_for_them(
    app: FastAPI, client: TestClient, setup: dict[str, Any]
) -> None:
    csrf = csrf_from(client.get("/assessments/").text)
    version = _version(app, setup["hidden"])
    for (method, path), permission in sorted(ROUTES.items()):
        if "{assessment_id}" not in path or (
            permission is not None and not policy.allowed(Role.contributor, permission)
        ):
            continue
        url = _fill(path, setup["hidden"], "scope")
        r = _request(client, method, url, setup["token"], csrf, version, (method, path))
        assert r.status_code == 404, (method, path, r.status_code)
    with db.new_session(app.state.engine) as s:
        hidden = s.get_one(Assessment, uuid.UUID(setup["hidden"]))
        assert hidden.answers == {}
        assert hidden.version == version
        assert s.exec(select(User).where(User.id == setup["contributor"].id)).one().active
