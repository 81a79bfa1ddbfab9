"""Access to the review, portfolio, board and reassessment routes, for every role (pages and
API): signed out -> sign-in (pages) or 401 (API); wrong role -> 403; a record the user may not
know exists -> 404."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from service import db
from service.auth import policy
from service.auth import service as auth_service
from tests.builders import World, csrf_from, login
from tests.review.helpers import decide, submitted
from tests.web.access_matrix import ROLE_OF, ROUTES

ROLES = ("signed_out", "officer_a", "officer_b", "reviewer_on", "reviewer_fed", "board_a", "admin")

# path template -> (route in access_matrix.ROUTES, whether the record is looked up before the
# permission is checked, the status when the role may use the route: record-level, by user).
# {s} a submitted assessment of agency A, {a} an accepted one, {x} an id that does not exist.
# The expected 403s come from the permission table (``policy.allowed``), not from this list.
Case = tuple[tuple[str, str], bool, dict[str, int]]
PAGES: dict[str, Case] = {
    "/review/": (("GET", "/review/"), False, {}),
    "/review/inbox.csv": (("GET", "/review/inbox.csv"), False, {}),
    "/review/portfolio": (("GET", "/review/portfolio"), False, {}),
    "/review/portfolio.csv": (("GET", "/review/portfolio.csv"), False, {}),
    "/review/portfolio.json": (("GET", "/review/portfolio.json"), False, {}),
    "/review/portfolio.labels.csv": (("GET", "/review/portfolio.labels.csv"), False, {}),
    # a submission's open data: the agency's officers, its regulator's reviewers, admins
    "/assessments/{s}/open-data?format=csv": (
        ("GET", "/assessments/{assessment_id}/open-data"),
        True,
        {"officer_b": 404, "reviewer_fed": 404, "board_a": 404},
    ),
    "/assessments/{a}/open-data?format=oscal&lang=fr": (
        ("GET", "/assessments/{assessment_id}/open-data"),
        True,
        {"officer_b": 404, "reviewer_fed": 404},
    ),
    "/assessments/{x}/open-data": (
        ("GET", "/assessments/{assessment_id}/open-data"),
        True,
        {"officer_a": 404, "officer_b": 404, "reviewer_on": 404, "reviewer_fed": 404}
        | {"board_a": 404, "admin": 404},
    ),
    "/review/{s}": (("GET", "/review/{assessment_id}"), False, {"reviewer_fed": 404}),
    "/review/{x}": (
        ("GET", "/review/{assessment_id}"),
        False,
        {"reviewer_on": 404, "reviewer_fed": 404, "admin": 404},
    ),
    "/board/": (("GET", "/board/"), False, {}),
    "/board/{a}": (("GET", "/board/{assessment_id}"), False, {}),
    "/board/{s}": (("GET", "/board/{assessment_id}"), False, {"board_a": 404}),
    "/assessments/{a}/reassess": (
        ("GET", "/assessments/{assessment_id}/reassess"),
        True,
        {"officer_b": 404, "reviewer_fed": 404},
    ),
}
API: dict[str, Case] = {
    "/api/v1/review/inbox": (("GET", "/api/v1/review/inbox"), False, {}),
    "/api/v1/review/assessments/{s}": (
        ("GET", "/api/v1/review/assessments/{assessment_id}"),
        False,
        {"reviewer_fed": 404},
    ),
    "/api/v1/review/portfolio?questionnaire_id=web-mini&version=1.0": (
        ("GET", "/api/v1/review/portfolio"),
        False,
        {},
    ),
    "/api/v1/board/assessments": (("GET", "/api/v1/board/assessments"), False, {}),
    "/api/v1/assessments/{a}/open-data?format=json&lang=fr": (
        ("GET", "/api/v1/assessments/{assessment_id}/open-data"),
        True,
        {"officer_b": 404, "reviewer_fed": 404},
    ),
}


def expected_status(case: Case, role: str) -> int:
    """403 when the table refuses the role the route's permission, else the record's answer
    (404 first for a route that looks the record up before it checks the permission)."""
    route, record_first, when_allowed = case
    permission = ROUTES[route]
    assert permission is not None
    record = when_allowed.get(role, 200)
    if record_first and record == 404:
        return 404
    return record if policy.allowed(ROLE_OF[role], permission) else 403


@pytest.fixture
def records(app: object, world: World) -> dict[str, str]:
    engine = app.state.engine  # type: ignore[attr-defined]
    s = submitted(engine, world.officer_a, program="Submitted one")
    a = submitted(engine, world.officer_a, program="Accepted one")
    decide(engine, world.reviewer_on, a, "accept")
    return {"s": str(s), "a": str(a), "x": str(uuid.uuid4())}


@pytest.mark.parametrize("role", ROLES)
def test_review_pages_access(
    client: TestClient, world: World, records: dict[str, str], role: str
) -> None:
    if role != "signed_out":
        login(client, getattr(world, role).email)
    for template, case in PAGES.items():
        url = template.format(**records)
        response = client.get(url, follow_redirects=False)
        if role == "signed_out":
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login"), url
        else:
            assert response.status_code == expected_status(case, role), (
                url,
                role,
                response.status_code,
            )


@pytest.mark.parametrize("role", ROLES)
def test_review_api_access(
    app: object, client: TestClient, world: World, records: dict[str, str], role: str
) -> None:
    headers: dict[str, str] = {}
    if role != "signed_out":
        with db.new_session(app.state.engine) as s:  # type: ignore[attr-defined]
            secret = auth_service.create_api_token(session=s, user=getattr(world, role), name="t")
        headers = {"Authorization": f"Bearer {secret}"}
    for template, case in API.items():
        url = template.format(**records)
        response = client.get(url, headers=headers)
        want = 401 if role == "signed_out" else expected_status(case, role)
        assert response.status_code == want, (url, role, response.status_code)
        assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("officer_a", 403), ("board_a", 403), ("admin", 403), ("reviewer_fed", 404)],
)
def test_review_decision_refused(
    client: TestClient, world: World, records: dict[str, str], role: str, expected: int
) -> None:
    login(client, getattr(world, role).email)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        f"/review/{records['s']}",
        data={"csrf_token": token, "action": "accept"},
        follow_redirects=False,
    )
    assert response.status_code == expected


def test_review_decision_needs_csrf(
    client: TestClient, world: World, records: dict[str, str]
) -> None:
    login(client, world.reviewer_on.email)
    response = client.post(f"/review/{records['s']}", data={"action": "accept"})
    assert response.status_code == 403
