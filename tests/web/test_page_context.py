"""The page context: one render path for every page (error pages too), templates given data
rather than callables, and an anonymous visitor's session started only when a page needs it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import func, select

from service import db
from service.models import WebSession
from service.web import templating
from tests.builders import World, login, start_assessment, submit_mini

# Callables a template may be given: they do no I/O.
ALLOWED_CALLABLES = {"_", "localize"}


def _sessions(app: FastAPI) -> int:
    with db.new_session(app.state.engine) as s:
        return int(s.exec(select(func.count()).select_from(WebSession)).one())


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every template rendered, with the values it was given."""
    seen: list[tuple[str, dict[str, Any]]] = []
    respond = templating.templates.TemplateResponse

    def recording(request: Any, name: str, values: dict[str, Any], **kwargs: Any) -> Any:
        seen.append((name, values))
        return respond(request, name, values, **kwargs)

    monkeypatch.setattr(templating.templates, "TemplateResponse", recording)
    return seen


def test_templates_are_given_data_not_callables(
    client: TestClient, world: World, rendered: list[tuple[str, dict[str, Any]]]
) -> None:
    client.get("/login")
    client.get("/no-such-page")
    login(client, world.officer_a.email)
    base = start_assessment(client)
    for url in ("/", "/sections/scope", "/sections/scope/check", "/sections/scope/documents"):
        assert client.get(base + url).status_code == 200, url
    base = submit_mini(client)
    client.get(base + "/result")
    client.get("/account/tokens")
    client.get("/questionnaires")
    login(client, world.admin.email)
    client.get("/admin/organisations")
    names = {name for name, _ in rendered}
    assert {
        "account/login.html",
        "error.html",
        "assessments/task_list.html",
        "assessments/section.html",
        "documents/section.html",
        "report_delivery/result.html",
        "admin/organisations.html",
    } <= names
    for name, values in rendered:
        callables = {k for k, v in values.items() if callable(v)} - ALLOWED_CALLABLES
        assert not callables, (name, callables)


def test_an_anonymous_visitor_gets_a_session_only_from_a_page_that_needs_it(
    app: FastAPI, client: TestClient
) -> None:
    cookie = app.state.settings.session_cookie_name
    before = _sessions(app)
    home = client.get("/", follow_redirects=False)  # a redirect: no form, no session
    assert home.status_code == 303
    assert cookie not in home.headers.get("set-cookie", "")
    missing = client.get("/no-such-page")  # an error page starts no session either
    assert missing.status_code == 404
    assert cookie not in missing.headers.get("set-cookie", "")
    assert _sessions(app) == before
    page = client.get("/login")  # the sign-in form needs a CSRF token: one session, its cookie
    assert page.status_code == 200
    assert cookie in page.headers["set-cookie"]
    assert _sessions(app) == before + 1
    again = client.get("/login")  # the same session on the next page
    assert cookie not in again.headers.get("set-cookie", "")
    assert _sessions(app) == before + 1


def test_the_error_page_of_a_signed_in_visitor_has_the_layout(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    page = client.get("/assessments/00000000-0000-0000-0000-000000000000/")  # raised by the page
    assert page.status_code == 404
    assert "Sign out" in page.text  # the layout knows the user and has their CSRF token
    assert 'name="csrf_token"' in page.text
