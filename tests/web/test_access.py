"""The access matrix: every route x every role (and signed out) x own or another agency.

404 for a record the user may not know exists, 403 for an action their role cannot take on a
record they can see, 409 for a change to a submitted assessment, a redirect to sign-in when
signed out (401 JSON from the API).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import db
from service.assessments import digest
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.assessments.service import Viewer
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.models import Organisation, User
from tests.builders import World, csrf_from, login, version_from
from tests.web.access_matrix import ROLE_OF, ROUTES

ROLES = ["officer_a", "officer_b", "reviewer_on", "reviewer_fed", "board_a", "admin", "anonymous"]


@dataclass
class Scenario:
    a_draft: str
    a_submitted: str
    a_accepted: str
    b_draft: str


def _viewer(app: FastAPI, user: User) -> Viewer:
    with db.new_session(app.state.engine) as s:
        org = s.get(Organisation, user.organisation_id) if user.organisation_id else None
    return Viewer(user=user, organisation=org)


def _make(app: FastAPI, user: User, *, submit: bool = False, accept: bool = False) -> str:
    questionnaire = app.state.registry.get("web-mini", "1.0")
    viewer = _viewer(app, user)
    with db.new_session(app.state.engine) as s:
        a = assessment_service.start(
            session=s, viewer=viewer, questionnaire=questionnaire, program="P"
        )
        if submit:
            assessment_service.save_answers(
                session=s,
                viewer=viewer,
                assessment_id=a.id,
                expected_version=None,
                questionnaire=questionnaire,
                values={
                    "body_type": "municipal",
                    "uses": ["live"],
                    "searches": 1,
                    "pia_done": "no",
                },
                evidence={},
                as_of=a.created_at.date(),
            )
            for section in questionnaire.sections:
                assessment_service.mark_section(
                    session=s,
                    viewer=viewer,
                    assessment_id=a.id,
                    expected_version=None,
                    questionnaire=questionnaire,
                    section_id=section.id,
                    completed=True,
                    as_of=a.created_at.date(),
                )
            assessment_service.submit(
                session=s,
                viewer=viewer,
                assessment_id=a.id,
                expected_version=None,
                questionnaire=questionnaire,
            )
        if accept:
            with db.writing(s):
                s.get_one(Assessment, a.id).status = "accepted"
                digest.set_status(s, assessment_id=a.id, status="accepted")
        return str(a.id)


@pytest.fixture
def scenario(app: FastAPI, client: TestClient, world: World) -> Scenario:
    return Scenario(
        a_draft=_make(app, world.officer_a),
        a_submitted=_make(app, world.officer_a, submit=True),
        a_accepted=_make(app, world.officer_a, submit=True, accept=True),
        b_draft=_make(app, world.officer_b),
    )


def visible(role: str, target: str) -> bool:
    """The rule under test, written out per role."""
    return {
        "officer_a": target in ("a_draft", "a_submitted", "a_accepted"),
        "officer_b": target == "b_draft",
        "reviewer_on": target
        in ("a_submitted", "a_accepted"),  # Ontario municipal bodies, not drafts
        "reviewer_fed": False,  # oversees federal bodies only
        "board_a": target == "a_accepted",
        "admin": True,
    }[role]


def may(role: str, permission: Permission) -> bool:
    """What the role may do at all: the permission table."""
    return role != "anonymous" and policy.allowed(ROLE_OF[role], permission)


def may_edit(role: str, target: str, permission: Permission = Permission.assessment_edit) -> bool:
    """The table's permission on a record the user sees (officers see only their agency's)."""
    return may(role, permission) and visible(role, target)


def _signed_in(client: TestClient, world: World, role: str) -> TestClient:
    if role != "anonymous":
        login(client, getattr(world, role).email)
    return client


READ_ROUTES = ["/", "/sections/scope/check", "/history", "/export"]
# the changes below, as routes of access_matrix.ROUTES ("scope" is a section slug)
ROUTE_OF = {
    "/sections/scope": "/sections/{slug}",
    "/sections/scope/check": "/sections/{slug}/check",
}


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix_pages(
    role: str, client: TestClient, world: World, scenario: Scenario
) -> None:
    _signed_in(client, world, role)
    token = csrf_from(client.get("/login" if role == "anonymous" else "/assessments/").text)
    for target in ("a_draft", "a_submitted", "a_accepted", "b_draft"):
        base = "/assessments/" + getattr(scenario, target)
        for route in READ_ROUTES:
            r = client.get(base + route, follow_redirects=False)
            expected = 303 if role == "anonymous" else (200 if visible(role, target) else 404)
            assert r.status_code == expected, (role, target, route)
        r = client.get(base + "/result", follow_redirects=False)
        has_result = target != "a_draft" and target != "b_draft"
        if role == "anonymous":
            assert r.status_code == 303
        else:
            assert r.status_code == (200 if visible(role, target) and has_result else 404), (
                role,
                target,
            )
        # Changing answers and statuses.
        base_route = "/assessments/{assessment_id}"
        for route, data in (
            ("/sections/scope", {"searches": "5"}),
            ("/sections/scope/check", {"completed": "no"}),
            ("/check-your-answers", {"confirm": "yes"}),
            ("/import", {}),
        ):
            version = "1"
            if may_edit(role, target) and target.endswith("draft"):
                version = version_from(client.get(base + "/sections/scope").text)
            r = client.post(
                base + route,
                data={"csrf_token": token, "version": version, **data},
                follow_redirects=False,
            )
            if role == "anonymous":
                expected = 303
            elif not visible(role, target):
                expected = 404
            elif not may_edit(
                role, target, ROUTES["POST", base_route + ROUTE_OF.get(route, route)]
            ):
                expected = 403
            elif target != "a_draft" and target != "b_draft":
                expected = 409
            else:
                expected = {
                    "/sections/scope": 303,
                    "/sections/scope/check": 303,
                    "/check-your-answers": 303,
                    "/import": 422,
                }[route]
            assert r.status_code == expected, (role, target, route, r.text[:200])
            if role == "anonymous":
                assert r.headers["location"].startswith("/login")
    # Starting an assessment is for officers of an agency.
    r = client.get("/assessments/new", follow_redirects=False)
    start = 200 if may(role, Permission.assessment_start) else 403
    assert r.status_code == (303 if role == "anonymous" else start)
    r = client.post(
        "/assessments/",
        data={"csrf_token": token, "questionnaire": "web-mini", "program": "X"},
        follow_redirects=False,
    )
    assert r.status_code == (303 if role == "anonymous" or start == 200 else 403)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix_api(
    role: str, app: FastAPI, client: TestClient, world: World, scenario: Scenario
) -> None:
    headers = {}
    if role != "anonymous":
        with db.new_session(app.state.engine) as s:
            headers = {
                "Authorization": "Bearer "
                + auth_service.create_api_token(session=s, user=getattr(world, role), name="t")
            }
    for target in ("a_draft", "a_submitted", "a_accepted", "b_draft"):
        url = "/api/v1/assessments/" + getattr(scenario, target)
        r = client.get(url, headers=headers)
        if role == "anonymous":
            assert r.status_code == 401
            continue
        assert r.status_code == (200 if visible(role, target) else 404), (role, target)
        r = client.patch(
            url + "/answers",
            json={"answers": {"searches": 9}},
            headers={**headers, "If-Match": '"1"'},
        )
        if not visible(role, target):
            expected = 404
        elif not may_edit(
            role, target, ROUTES["PATCH", "/api/v1/assessments/{assessment_id}/answers"]
        ):
            expected = 403
        elif target in ("a_submitted", "a_accepted"):
            expected = 409
        else:
            expected = 200
        assert r.status_code == expected, (role, target, r.text)
        assert r.headers["content-type"].startswith("application/json")
