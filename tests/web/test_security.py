"""CSRF, sessions, sign-in limits, headers and the body limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.security import CSP
from tests.builders import PASSWORD, World, csrf_from, login, post_form, start_assessment


def test_post_without_csrf_token_is_refused(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    r = client.post("/assessments/", data={"questionnaire": "web-mini", "program": "x"})
    assert r.status_code == 403
    assert "another site" in r.text


def test_post_with_token_of_another_session_is_refused(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    with TestClient(app) as other:
        login(other, world.officer_a.email)
        foreign = csrf_from(other.get("/assessments/new").text)
    r = client.post(
        "/assessments/", data={"csrf_token": foreign, "questionnaire": "web-mini", "program": "x"}
    )
    assert r.status_code == 403


def test_cross_site_fetch_metadata_is_refused(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    token = csrf_from(client.get("/assessments/new").text)
    r = client.post(
        "/assessments/",
        data={"csrf_token": token, "questionnaire": "web-mini", "program": "x"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403


def test_session_cookie_flags_and_sign_out_ends_session(client: TestClient, world: World) -> None:
    page = client.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    login(client, world.officer_a.email)
    session_cookie = client.cookies.get("policygap_session")
    assert session_cookie
    assert client.get("/assessments/").status_code == 200
    token = csrf_from(client.get("/assessments/").text)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.set("policygap_session", session_cookie)  # replaying the old cookie
    r = client.get("/assessments/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_signed_out_page_redirects_and_api_gets_401(client: TestClient) -> None:
    r = client.get("/assessments/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fassessments%2F"
    r = client.get("/api/v1/assessments")
    assert r.status_code == 401
    assert r.json()["code"] == "not_signed_in"


def test_sign_in_rate_limit_lives_in_the_database(client: TestClient, world: World) -> None:
    for _ in range(5):
        page = client.get("/login")
        r = client.post(
            "/login",
            data={
                "email": world.officer_a.email,
                "password": "wrong password!",
                "csrf_token": csrf_from(page.text),
            },
        )
        assert r.status_code == 422
        assert "Enter a correct email address and password" in r.text
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "email": world.officer_a.email,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 429  # even with the right password
    assert "Too many" in r.text


def test_security_headers_on_every_response(client: TestClient) -> None:
    for url in ("/login", "/healthz", "/static/app.css", "/nowhere"):
        r = client.get(url)
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"


def test_no_inline_script_in_pages(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    for url in (
        "/login",
        "/assessments/",
        base + "/",
        base + "/sections/scope",
        base + "/sections/governance/check",
    ):
        html = client.get(url).text
        assert "<script>" not in html
        assert " on" + "click=" not in html


def test_body_over_limit_gets_413(client: TestClient) -> None:
    r = client.post(
        "/login",
        content=b"x" * 1_000_001,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_open_redirect_after_sign_in_is_refused(client: TestClient, world: World) -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "email": world.officer_a.email,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_each_role_lands_on_the_page_of_its_main_job(app: FastAPI, world: World) -> None:
    landing = {
        world.officer_a.email: "/assessments/",
        world.reviewer_on.email: "/review/",
        world.board_a.email: "/board/",
        world.admin.email: "/admin/organisations",
    }
    for email, page in landing.items():
        with TestClient(app) as client:
            login(client, email)
            r = client.get("/", follow_redirects=False)
            assert (r.status_code, r.headers["location"]) == (303, page)
            assert client.get(page).status_code == 200


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["questionnaires"] == 1


def test_free_text_is_escaped(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client, program='<script>alert("x")</script>')
    post_form(
        client,
        base + "/sections/scope",
        base + "/sections/scope",
        {"description": "<img src=x onerror=alert(1)>", "action": "continue"},
    )
    for url in (base + "/", base + "/sections/scope/check", "/assessments/"):
        html = client.get(url).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html


def _post_routes(app: FastAPI) -> list[str]:
    """The path of every form POST route (the JSON API uses bearer tokens, not forms)."""
    from fastapi.routing import APIRoute

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):  # an included router
                yield from walk(route.original_router.routes)

    return sorted(
        {
            route.path
            for route in walk(app.routes)
            if "POST" in route.methods and not route.path.startswith("/api/")
        }
    )


# The role for which each group of form routes is otherwise allowed, so that only the missing
# token can be the reason for the refusal.
_ROLE_FOR = {"/admin/": "admin", "/review/": "reviewer_on"}


@pytest.mark.parametrize("role_prefix", ["/admin/", "/review/", "/"])
def test_every_form_route_refuses_a_post_without_its_csrf_token(
    app: FastAPI, client: TestClient, world: World, role_prefix: str
) -> None:
    paths = [
        p
        for p in _post_routes(app)
        if p.startswith(role_prefix)
        and not any(p.startswith(o) for o in _ROLE_FOR if o != role_prefix)
    ]
    assert paths, f"no form routes under {role_prefix}"
    login(client, getattr(world, _ROLE_FOR.get(role_prefix, "officer_a")).email)
    assessment = start_assessment(client).rsplit("/", 1)[-1] if role_prefix == "/" else ""
    refused = {}
    for path in paths:
        url = re.sub(
            r"\{assessment_id\}", assessment or "00000000-0000-0000-0000-000000000000", path
        )
        url = re.sub(r"\{[a-z_0-9]+\}", "x", url)
        r = client.post(url, data={"program": "x"}, follow_redirects=False)
        refused[path] = (r.status_code, "another site" in r.text)
    assert refused == dict.fromkeys(paths, (403, True))
