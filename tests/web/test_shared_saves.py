"""Conflicts only where there is one (issue 21): colleagues saving different sections (or
different questions of one section) of the same draft do not refuse each other; two people on
the same question still get the conflict page with both answers. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment
from service.config import Settings
from service.models import AuditEvent
from tests.builders import World, csrf_from, login, start_assessment, version_from
from tests.conftest import make_settings


@pytest.fixture
def settings(any_db_url: str) -> Settings:
    return make_settings(any_db_url)


SCOPE = "/sections/scope"
GOVERNANCE = "/sections/governance"


def _read_marks(html: str) -> str:
    match = re.search(r'name="read" value="([^"]*)"', html)
    assert match, "no read field on the section form"
    return match.group(1)


def _form(page_html: str, **fields: str) -> dict[str, str]:
    """What a browser sends: the hidden fields as read with the page, and ``fields``."""
    return {
        "csrf_token": csrf_from(page_html),
        "version": version_from(page_html),
        "read": _read_marks(page_html),
        "action": "later",
        **fields,
    }


def _stored(app: FastAPI) -> Assessment:
    with db.new_session(app.state.engine) as s:
        return s.exec(select(Assessment)).one()


def _colleague(app: FastAPI, world: World) -> TestClient:
    colleague = TestClient(app)
    colleague.__enter__()
    login(colleague, world.officer_a.email)
    return colleague


def _race(*posts: Callable[[], int]) -> list[int]:
    """Run the posts at the same moment (one thread each); their status codes, in order."""
    barrier = threading.Barrier(len(posts))
    codes: list[int] = [0] * len(posts)

    def run(i: int, post: Callable[[], int]) -> None:
        barrier.wait()
        codes[i] = post()

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return codes


def test_two_colleagues_racing_on_different_sections_both_save(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    colleague = _colleague(app, world)
    try:
        scope_page = client.get(base + SCOPE).text  # both read the draft at version 1
        governance_page = colleague.get(base + GOVERNANCE).text
        assert version_from(scope_page) == version_from(governance_page) == "1"
        codes = _race(
            lambda: (
                client.post(
                    base + SCOPE,
                    data=_form(scope_page, body_type="municipal", uses="live", searches="12"),
                    follow_redirects=False,
                ).status_code
            ),
            lambda: (
                colleague.post(
                    base + GOVERNANCE,
                    data=_form(governance_page, pia_done="no", owner="Records"),
                    follow_redirects=False,
                ).status_code
            ),
        )
    finally:
        colleague.__exit__(None, None, None)
    assert codes == [303, 303]  # no conflict page for either
    stored = _stored(app)
    assert stored.answers == {
        "body_type": "municipal",
        "uses": ["live"],
        "searches": 12,
        "pia_done": "no",
        "owner": "Records",
    }
    assert stored.version == 3


def test_a_stale_form_of_another_section_saves_beside_the_newer_work(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """The same, one after the other: B's save lands first; A's form, read before it, is of
    another section and saves, without touching B's answers."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    scope_page = client.get(base + SCOPE).text
    colleague = _colleague(app, world)
    try:
        governance_page = colleague.get(base + GOVERNANCE).text
        r = colleague.post(
            base + GOVERNANCE,
            data=_form(governance_page, pia_done="yes", **{"evidence-pia_done": "B's binder"}),
            follow_redirects=False,
        )
        assert r.status_code == 303
    finally:
        colleague.__exit__(None, None, None)
    r = client.post(
        base + SCOPE,
        data=_form(scope_page, body_type="federal", searches="3"),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    stored = _stored(app)
    assert stored.answers == {"body_type": "federal", "searches": 3, "pia_done": "yes"}
    assert stored.evidence == {"pia_done": "B's binder"}
    with db.new_session(app.state.engine) as s:
        saves = s.exec(select(AuditEvent).where(AuditEvent.action == "save")).all()
    # the history says A's save was made on the version read, beside B's
    assert [e.detail.get("read_version") for e in saves] == [None, 1]


def test_different_questions_of_one_section_both_save(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """A's form holds every question of the section, B's change among them: A did not change
    that one (it sends it back as read), so B's answer stays and A's is saved."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    a_page = client.get(base + SCOPE).text
    colleague = _colleague(app, world)
    try:
        b_page = colleague.get(base + SCOPE).text
        r = colleague.post(base + SCOPE, data=_form(b_page, searches="500"), follow_redirects=False)
        assert r.status_code == 303
    finally:
        colleague.__exit__(None, None, None)
    r = client.post(
        base + SCOPE,
        data=_form(a_page, body_type="municipal", searches=""),  # searches as A read it: blank
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    assert _stored(app).answers == {"body_type": "municipal", "searches": 500}


def test_two_people_on_the_same_question_get_the_conflict_page_with_both_answers(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    colleague = _colleague(app, world)
    try:
        a_page = client.get(base + SCOPE).text
        b_page = colleague.get(base + SCOPE).text
        r = colleague.post(
            base + SCOPE, data=_form(b_page, body_type="federal"), follow_redirects=False
        )
        assert r.status_code == 303
    finally:
        colleague.__exit__(None, None, None)
    r = client.post(base + SCOPE, data=_form(a_page, body_type="municipal"), follow_redirects=False)
    assert r.status_code == 409
    assert "Your changes were not saved" in r.text
    assert "Changed by both of you" in r.text
    assert "Which kind of body runs the program?" in r.text  # the question both changed
    assert "Federal police" in r.text  # the answer saved (B's)
    assert "municipal" in r.text  # and A's, shown as typed, not lost from view
    assert _stored(app).answers == {"body_type": "federal"}


def test_racing_saves_of_the_same_question_never_both_win(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """At the same moment, on one question: one is saved, the other gets the conflict page."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    colleague = _colleague(app, world)
    try:
        a_page = client.get(base + SCOPE).text
        b_page = colleague.get(base + SCOPE).text
        codes = _race(
            lambda: (
                client.post(
                    base + SCOPE, data=_form(a_page, searches="1"), follow_redirects=False
                ).status_code
            ),
            lambda: (
                colleague.post(
                    base + SCOPE, data=_form(b_page, searches="2"), follow_redirects=False
                ).status_code
            ),
        )
    finally:
        colleague.__exit__(None, None, None)
    assert sorted(codes) == [303, 409]
    winner = 1 if codes[0] == 303 else 2
    assert _stored(app).answers == {"searches": winner}


def test_api_patch_on_an_older_version_is_refused_only_for_the_same_field(
    app: FastAPI, client: TestClient, world: World
) -> None:
    from service.auth import service as auth_service

    with db.new_session(app.state.engine) as s:
        token = auth_service.create_api_token(session=s, user=world.officer_a, name="t")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post(
        "/api/v1/assessments", json={"questionnaire": "web-mini", "program": "P"}, headers=auth
    )
    url = r.headers["location"]
    first = client.patch(
        url + "/answers", json={"answers": {"searches": 4}}, headers={**auth, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    # another field, on version 1: no conflict
    other = client.patch(
        url + "/answers",
        json={"answers": {"pia_done": "no"}, "evidence": {"pia_done": "none"}},
        headers={**auth, "If-Match": '"1"'},
    )
    assert other.status_code == 200, other.text
    assert other.json()["answers"] == {"searches": 4, "pia_done": "no"}
    # the same field, on version 1: refused, naming it
    same = client.patch(
        url + "/answers", json={"answers": {"searches": 5}}, headers={**auth, "If-Match": '"1"'}
    )
    assert same.status_code == 412
    assert same.json()["fields"] == ["searches"]
    assert same.json()["current_version"] == 3
    # a field named is a field set: even to the value saved now, on a version before its change
    again = client.patch(
        url + "/answers", json={"answers": {"searches": 4}}, headers={**auth, "If-Match": '"1"'}
    )
    assert again.status_code == 412
    # on the current version, the same field is saved
    now = client.patch(
        url + "/answers", json={"answers": {"searches": 6}}, headers={**auth, "If-Match": '"3"'}
    )
    assert now.status_code == 200
    for bad in ("", "abc", '"1.0"'):
        r = client.patch(
            url + "/answers", json={"answers": {"owner": "x"}}, headers={**auth, "If-Match": bad}
        )
        assert r.status_code == 428, bad
    assert _stored(app).answers == {"searches": 6, "pia_done": "no"}
