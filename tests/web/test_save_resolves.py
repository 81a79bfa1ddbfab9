"""How often saving a section page works out which questions are shown (``engine.resolve``):
the use case returns what changed, so the page does not resolve again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.questionnaire import engine
from tests.builders import World, login, post_form, start_assessment

# Saving a section: once with the answers before the save, once with the answers after.
RESOLVES_PER_SAVE = 2


def test_saving_a_section_resolves_visibility_twice(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    scope = base + "/sections/scope"
    answers = {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"}
    post_form(client, scope, scope, answers)
    post_form(client, scope + "/check", scope + "/check", {"completed": "yes"})
    page = client.get(scope)  # the form to post, fetched before counting
    calls: list[object] = []
    resolve = engine.resolve

    def counted(*args: object, **kwargs: object) -> engine.Resolved:
        calls.append(args)
        return resolve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "resolve", counted)
    from tests.builders import csrf_from, version_from

    r = client.post(
        scope,
        data={
            "csrf_token": csrf_from(page.text),
            "version": version_from(page.text),
            **answers,
            "searches": "4",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == scope + "/check"
    assert len(calls) == RESOLVES_PER_SAVE


def test_a_question_shown_by_the_save_brings_the_page_back_to_it(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    governance = base + "/sections/governance"
    r = post_form(client, governance, governance, {"pia_done": "yes", "action": "continue"})
    assert r.headers["location"] == governance + "#pia_date"  # type: ignore[attr-defined]
    r = post_form(
        client,
        governance,
        governance,
        {"pia_done": "yes", "pia_date": "2021-01-02", "action": "continue"},
    )
    assert r.headers["location"] == governance + "/check"  # type: ignore[attr-defined]
