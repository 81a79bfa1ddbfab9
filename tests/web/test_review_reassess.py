"""Reassessment: a new draft pre-filled from the last accepted assessment, new questions marked,
the report showing the change; accepted reports carry who accepted them and the comments."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment, Reassessment
from service.config import Settings
from tests.builders import World, csrf_from, login
from tests.conftest import make_settings
from tests.review.helpers import DATA, GOOD, answer, decide, resubmit, submitted

NEW_QUESTION = """      - id: dpo_named
        type: yes_no
        required: false
        text: {en: Is a privacy officer named for the program?, fr: Un responsable de la vie privée est-il désigné?}
"""


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(DATA / "web-mini.yaml", folder / "web-mini.yaml")
    text = (DATA / "web-mini.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "1.0"', 'version: "1.1"')
    marker = "      - id: owner\n"
    text = text.replace(marker, NEW_QUESTION + marker)
    (folder / "web-mini-1.1.yaml").write_text(text, encoding="utf-8")
    return make_settings(sqlite_url, questionnaires_dir=folder)


def test_reassess_from_accepted_on_newer_version(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "pia_done": "no", "pia_date": None})
    decide(engine, world.reviewer_on, aid, "accept", {"GOV-01": "Do a PIA"}, "Good start")
    login(client, world.officer_a.email)
    task_list = client.get(f"/assessments/{aid}/").text
    assert f"/assessments/{aid}/reassess" in task_list
    page = client.get(f"/assessments/{aid}/reassess")
    assert page.status_code == 200
    assert "1.1" in page.text
    refused = client.post(
        f"/assessments/{aid}/reassess",
        data={"csrf_token": csrf_from(page.text), "program": ""},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Select the questionnaire version" in refused.text
    created = client.post(
        f"/assessments/{aid}/reassess",
        data={"csrf_token": csrf_from(page.text), "version_choice": "1.1", "program": "Year 2"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    new_base = created.headers["location"].rstrip("/")
    with db.new_session(engine) as s:
        new = s.exec(select(Assessment).where(Assessment.program == "Year 2")).one()
        assert new.questionnaire_version == "1.1"
        assert new.status == "draft"
        assert new.answers["pia_done"] == "no"
        assert new.answers["body_type"] == "municipal"
        link = s.get_one(Reassessment, new.id)
        assert link.previous_assessment_id == aid
        assert link.new_questions == ["dpo_named"]
    governance = client.get(new_base + "/sections/governance").text
    assert "New or changed in this version of the questionnaire" in governance
    assert 'href="#dpo_named"' in governance
    scope = client.get(new_base + "/sections/scope").text
    assert "New or changed in this version" not in scope


def test_reassess_refused_for_unaccepted_and_other_roles(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a)
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/reassess")
    assert "Only an accepted assessment can be reassessed" in page.text
    response = client.post(
        f"/assessments/{aid}/reassess",
        data={"csrf_token": csrf_from(page.text), "version_choice": "1.0", "program": "X"},
        follow_redirects=False,
    )
    assert response.status_code == 409
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    login(client, world.reviewer_on.email)
    assert client.get(f"/assessments/{aid}/reassess").status_code == 403


def test_accepted_report_states_acceptance_and_comments(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "pia_done": "no", "pia_date": None})
    decide(engine, world.reviewer_on, aid, "accept", {"GOV-01": "A PIA is overdue"}, "Overall")
    login(client, world.board_a.email)
    report = client.get(f"/assessments/{aid}/report.html")
    assert report.status_code == 200
    assert "Test reviewer" in report.text
    assert "A PIA is overdue" in report.text


def test_reassessment_report_shows_the_change(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "pia_done": "no", "pia_date": None})
    decide(engine, world.reviewer_on, aid, "accept")
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/reassess")
    created = client.post(
        f"/assessments/{aid}/reassess",
        data={"csrf_token": csrf_from(page.text), "version_choice": "1.0", "program": "Year 2"},
        follow_redirects=False,
    )
    new_id = created.headers["location"].rstrip("/").rsplit("/", 1)[1]
    answer(
        engine, world.officer_a, uuid.UUID(new_id), {"pia_done": "yes", "pia_date": "2026-01-01"}
    )
    resubmit(engine, world.officer_a, uuid.UUID(new_id))
    report = client.get(f"/assessments/{new_id}/report.html")
    assert report.status_code == 200
    assert "Change since the previous assessment" in report.text
    assert "GOV-01" in report.text
