"""Lost updates are refused with a conflict page; a submission cannot be changed by any route."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service import db
from service.assessments.models import Assessment
from service.models import AuditEvent
from tests.builders import (
    World,
    csrf_from,
    login,
    post_form,
    start_assessment,
    submit_mini,
    version_from,
)


def test_stale_save_gets_conflict_page_with_newer_answers(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    stale_page = client.get(base + "/sections/scope")  # first officer opens the page (version 1)
    with TestClient(app) as colleague:
        login(colleague, world.officer_a.email)
        r = post_form(
            colleague,
            base + "/sections/scope",
            base + "/sections/scope",
            {"body_type": "federal", "searches": "77", "action": "later"},
        )
        assert r.status_code == 303
    r = client.post(
        base + "/sections/scope",
        data={
            "csrf_token": csrf_from(stale_page.text),
            "version": version_from(stale_page.text),
            "body_type": "municipal",
            "searches": "12",
            "action": "continue",
        },
        follow_redirects=False,
    )
    assert r.status_code == 409
    assert "Your changes were not saved" in r.text
    assert "Federal police" in r.text  # the newer, saved answer
    assert "12" in r.text  # what this officer typed is shown, not lost from view
    with db.new_session(app.state.engine) as s:
        stored = s.exec(select(Assessment)).one()
        assert stored.answers["body_type"] == "federal"
        assert stored.answers["searches"] == 77


def _submit(client: TestClient, base: str) -> None:
    submit_mini(client, base, governance={"pia_done": "no"})


def test_submitted_assessment_is_read_only_everywhere(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    section_page = client.get(base + "/sections/scope")
    check_page = client.get(base + "/")
    _submit(client, base)
    with db.new_session(app.state.engine) as s:
        before = s.exec(select(Assessment)).one()
        answers, version = dict(before.answers), before.version
    token = csrf_from(check_page.text)
    for url, data in (
        (
            base + "/sections/scope",
            {"body_type": "municipal", "version": version_from(section_page.text)},
        ),
        (base + "/sections/scope", {"body_type": "municipal", "version": str(version)}),
        (base + "/sections/scope/check", {"completed": "no", "version": str(version)}),
        (base + "/check-your-answers", {"version": str(version)}),
    ):
        r = client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
        assert r.status_code == 409, url
        assert "already been submitted" in r.text
    r = client.post(
        base + "/import",
        data={"csrf_token": token, "version": str(version)},
        files={"file": ("a.json", b"{}")},
    )
    assert r.status_code == 409
    assert (
        client.get(base + "/sections/scope", follow_redirects=False).headers["location"]
        == base + "/sections/scope/check"
    )
    with db.new_session(app.state.engine) as s:
        after = s.exec(select(Assessment)).one()
        assert after.answers == answers
        assert after.version == version
        assert after.status == "submitted"
        events = s.exec(
            select(AuditEvent).where(AuditEvent.assessment_id == after.id).order_by(AuditEvent.at)
        )
        actions = [e.action for e in events.all()]  # sign-ins are audited too (no assessment)
    assert actions[0] == "start"
    assert actions[-1] == "submit"
    assert actions.count("save") == 2


def test_submission_is_hashed_and_history_shows_every_change(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    _submit(client, base)
    done = client.get(base + "/submitted").text
    import re

    assert re.search(r"\b[0-9a-f]{64}\b", done)
    history = client.get(base + "/history").text
    for words in ("Assessment started", "Answers saved", "Section status changed", "Submitted"):
        assert words in history
    result = client.get(base + "/result")
    assert result.status_code == 200
    assert "Score by section" in result.text


def test_export_then_import_round_trip(app: FastAPI, client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    post_form(
        client,
        base + "/sections/governance",
        base + "/sections/governance",
        {
            "pia_done": "yes",
            "pia_date": "2022-01-31",
            "evidence-pia_done": "PIA binder",
            "action": "later",
        },
    )
    exported = client.get(base + "/export")
    assert exported.headers["content-type"].startswith("application/json")
    data = exported.json()
    assert data["answers"] == {"pia_done": "yes", "pia_date": "2022-01-31"}
    target = start_assessment(client, program="Second program")
    post_form(
        client,
        target + "/sections/scope",
        target + "/sections/scope",
        {"searches": "5", "action": "later"},
    )
    page = client.get(target + "/import")
    r = client.post(
        target + "/import",
        data={"csrf_token": csrf_from(page.text), "version": version_from(page.text)},
        files={"file": ("answers.json", exported.content, "application/json")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    again = client.get(target + "/export").json()
    assert again["answers"] == {**data["answers"], "searches": 5}  # answers not in the file stay
    assert again["evidence"] == {"pia_done": "PIA binder"}
    bad = client.post(
        target + "/import",
        data={"csrf_token": csrf_from(page.text), "version": "2"},
        files={"file": ("answers.json", b'{"questionnaire": "other", "version": "9"}')},
    )
    assert bad.status_code == 422
    assert "does not fit this questionnaire" in bad.text


def _draft_saved_on_version_1(
    app: FastAPI, world: World
) -> tuple[uuid.UUID, Any, Callable[[Session, dict[str, Any]], None]]:
    """A new draft of officer A, its viewer, and a save of ``values`` made on its version 1."""
    from service.assessments import service as assessments
    from service.questionnaire.loader import load_directory

    questionnaire = load_directory(app.state.settings.questionnaires_dir).all()[0]
    viewer = assessments.Viewer(user=world.officer_a, organisation=world.agency_a)
    with db.new_session(app.state.engine) as s:
        draft = assessments.start(
            session=s, viewer=viewer, questionnaire=questionnaire, program="P"
        )

    def save_version_1(session: Session, values: dict[str, Any]) -> None:
        assessments.save_answers(
            session=session,
            viewer=viewer,
            assessment_id=draft.id,
            expected_version=1,
            questionnaire=questionnaire,
            values=values,
            evidence={},
            as_of=date(2026, 11, 27),
        )

    return draft.id, viewer, save_version_1


def test_save_refused_when_another_landed_between_its_read_and_its_write(
    app: FastAPI, world: World
) -> None:
    """A save uses the copy of the draft its request read. If another save lands between that
    read and the write, the UPDATE's version check refuses it: nothing is overwritten."""
    from service.assessments import service as assessments
    from service.errors import StaleVersion

    draft_id, viewer, save_version_1 = _draft_saved_on_version_1(app, world)
    engine = app.state.engine
    with db.new_session(engine) as mine, db.new_session(engine) as theirs:
        read, _agency = assessments.get_visible(session=mine, viewer=viewer, assessment_id=draft_id)
        assert read.version == 1
        save_version_1(theirs, {"searches": 77})
        with pytest.raises(StaleVersion):
            save_version_1(mine, {"searches": 12})
    with db.new_session(engine) as s:
        stored = s.get(Assessment, draft_id)
        assert stored is not None
        assert stored.answers == {"searches": 77}
        assert stored.version == 2


def test_a_save_of_another_question_between_read_and_write_is_kept_beside_this_one(
    app: FastAPI, world: World
) -> None:
    """A save made on the copy its request read (the fast path, no re-read) whose UPDATE finds
    the row changed since is judged again on the row as it is now: another question saved in
    between is kept, and this save goes through beside it (version 3, both answers)."""
    from service.assessments import service as assessments

    draft_id, viewer, save_version_1 = _draft_saved_on_version_1(app, world)
    engine = app.state.engine
    with db.new_session(engine) as mine, db.new_session(engine) as theirs:
        read, _agency = assessments.get_visible(session=mine, viewer=viewer, assessment_id=draft_id)
        assert read.version == 1
        save_version_1(theirs, {"searches": 77})
        save_version_1(mine, {"owner": "Records unit"})
    with db.new_session(engine) as s:
        stored = s.get(Assessment, draft_id)
        assert stored is not None
        assert stored.answers == {"searches": 77, "owner": "Records unit"}
        assert stored.version == 3
