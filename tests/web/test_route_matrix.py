"""The route x role matrix, from the permission table: every route of the app is listed in
``access_matrix.ROUTES``, and each route without path parameters answers 403 exactly to the
roles ``policy.allowed`` refuses (signed out: sign-in, or 401 from the API)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from service import db
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.models import Role, User
from tests.builders import World, login, make_user
from tests.web.access_matrix import ROLE_OF, ROUTES


def _walk(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, str]]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            yield from _walk(inner.routes)
        elif isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, route.path


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = set(_walk(app.routes))
    assert routes, "no route found: the walk no longer matches FastAPI's router"
    assert sorted(routes - ROUTES.keys()) == [], "add these routes to tests/web/access_matrix.py"
    assert sorted(ROUTES.keys() - routes) == [], "these routes are gone"


def test_every_permission_is_used_by_a_route() -> None:
    assert set(Permission) == {p for p in ROUTES.values() if p is not None}


def test_contributor_cannot_submit_or_start() -> None:
    assert policy.allowed(Role.contributor, Permission.assessment_edit)
    assert not policy.allowed(Role.contributor, Permission.assessment_submit)
    assert not policy.allowed(Role.contributor, Permission.assessment_start)


# GET routes without path parameters: the answer depends on the role alone.
PLAIN = sorted(
    path
    for (method, path), permission in ROUTES.items()
    if method == "GET" and permission is not None and "{" not in path
)
QUERY = {
    "/api/v1/review/portfolio": "?questionnaire_id=web-mini&version=1.0",
}


def _user(app: FastAPI, world: World, who: str) -> User:
    if who == "contributor_a":
        with db.new_session(app.state.engine) as s:
            return make_user(s, role=Role.contributor, org=world.agency_a)
    user: User = getattr(world, who)
    return user


@pytest.mark.parametrize("who", sorted(ROLE_OF))
def test_plain_routes_follow_the_table(
    app: FastAPI, client: TestClient, world: World, who: str
) -> None:
    user = _user(app, world, who)
    login(client, user.email)
    with db.new_session(app.state.engine) as s:
        token = auth_service.create_api_token(session=s, user=user, name="t")
    for path in PLAIN:
        permission = ROUTES["GET", path]
        assert permission is not None
        api = path.startswith("/api/")
        response = client.get(
            path + QUERY.get(path, ""),
            headers={"Authorization": f"Bearer {token}"} if api else {},
            follow_redirects=False,
        )
        expected = 200 if policy.allowed(ROLE_OF[who], permission) else 403
        assert response.status_code == expected, (who, path, response.status_code)


@pytest.mark.parametrize("path", PLAIN)
def test_plain_routes_signed_out(client: TestClient, path: str) -> None:
    response = client.get(path + QUERY.get(path, ""), follow_redirects=False)
    if path.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
