"""Access to the review, portfolio, board and reassessment routes, for every role (pages and
API): signed out -> sign-in (pages) or 401 (API); wrong role -> 403; a record the user may not
know exists -> 404."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from service import db
from service.auth import service as auth_service
from tests.builders import World, csrf_from, login
from tests.review.helpers import decide, submitted

ROLES = ("signed_out", "officer_a", "officer_b", "reviewer_on", "reviewer_fed", "board_a", "admin")

# path template -> expected status per role; {s} a submitted assessment of agency A,
# {a} an accepted one, {d} a draft-free id that does not exist
PAGES: dict[str, dict[str, int]] = {
    "/review/": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 200,
        "board_a": 403,
        "admin": 200,
    },
    "/review/inbox.csv": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 200,
        "board_a": 403,
        "admin": 200,
    },
    "/review/portfolio": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 200,
        "board_a": 403,
        "admin": 200,
    },
    "/review/portfolio.csv": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 200,
        "board_a": 403,
        "admin": 200,
    },
    "/review/{s}": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 404,
        "board_a": 403,
        "admin": 200,
    },
    "/review/{x}": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 404,
        "reviewer_fed": 404,
        "board_a": 403,
        "admin": 404,
    },
    "/board/": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 403,
        "reviewer_fed": 403,
        "board_a": 200,
        "admin": 403,
    },
    "/board/{a}": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 403,
        "reviewer_fed": 403,
        "board_a": 200,
        "admin": 403,
    },
    "/board/{s}": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 403,
        "reviewer_fed": 403,
        "board_a": 404,
        "admin": 403,
    },
    "/assessments/{a}/reassess": {
        "officer_a": 200,
        "officer_b": 404,
        "reviewer_on": 403,
        "reviewer_fed": 404,
        "board_a": 403,
        "admin": 403,
    },
}
API: dict[str, dict[str, int]] = {
    "/api/v1/review/inbox": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 200,
        "board_a": 403,
        "admin": 200,
    },
    "/api/v1/review/assessments/{s}": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 404,
        "board_a": 403,
        "admin": 200,
    },
    "/api/v1/review/portfolio?questionnaire_id=web-mini&version=1.0": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 200,
        "reviewer_fed": 200,
        "board_a": 403,
        "admin": 200,
    },
    "/api/v1/board/assessments": {
        "officer_a": 403,
        "officer_b": 403,
        "reviewer_on": 403,
        "reviewer_fed": 403,
        "board_a": 200,
        "admin": 403,
    },
}


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
    for template, expected in PAGES.items():
        url = template.format(**records)
        response = client.get(url, follow_redirects=False)
        if role == "signed_out":
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login"), url
        else:
            assert response.status_code == expected[role], (url, role, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_review_api_access(
    app: object, client: TestClient, world: World, records: dict[str, str], role: str
) -> None:
    headers: dict[str, str] = {}
    if role != "signed_out":
        with db.new_session(app.state.engine) as s:  # type: ignore[attr-defined]
            secret = auth_service.create_api_token(session=s, user=getattr(world, role), name="t")
        headers = {"Authorization": f"Bearer {secret}"}
    for template, expected in API.items():
        url = template.format(**records)
        response = client.get(url, headers=headers)
        want = 401 if role == "signed_out" else expected[role]
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
