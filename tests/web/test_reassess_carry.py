"""Reassessing under a new version with an `answers_from` declaration: the draft carries exactly
the mapped answers, marks the sections with new or changed questions to do, and shows the
officer, question by question, what was carried, changed or needs an answer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment, Reassessment
from service.config import Settings
from tests.builders import World, csrf_from, login
from tests.conftest import make_settings
from tests.review.helpers import DATA, GOOD, decide, submitted, version_2


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(DATA / "web-mini.yaml", folder / "web-mini.yaml")
    text = (DATA / "web-mini.yaml").read_text(encoding="utf-8")
    (folder / "web-mini-2.0.yaml").write_text(version_2(text), encoding="utf-8")
    return make_settings(sqlite_url, questionnaires_dir=folder)


def _reassess(client: TestClient, world: World, app: object) -> tuple[str, object]:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "description": "Mugshots only"})
    decide(engine, world.reviewer_on, aid, "accept")
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/reassess")
    assert "2.0" in page.text
    created = client.post(
        f"/assessments/{aid}/reassess",
        data={"csrf_token": csrf_from(page.text), "version_choice": "2.0", "program": "Year 2"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    return created.headers["location"].rstrip("/"), engine


def test_reassess_carries_exactly_the_mapped_answers(
    client: TestClient, world: World, app: object
) -> None:
    base, engine = _reassess(client, world, app)
    with db.new_session(engine) as s:  # type: ignore[arg-type]
        new = s.exec(select(Assessment).where(Assessment.program == "Year 2")).one()
        assert new.questionnaire_version == "2.0"
        assert new.answers == {
            "body_type": "municipal",
            "uses": ["live"],
            "searches": 10,
            "description": "Mugshots only",
            "pia_status": "completed",  # was pia_done: yes
            "pia_date": "2026-01-01",
        }
        # scope carried unchanged: completed; governance has a renamed and a new question: to do
        assert new.section_status == {"scope": "completed", "governance": "in_progress"}
        link = s.get_one(Reassessment, new.id)
        assert link.new_questions == ["dpo_named"]
        assert link.detail["sections_to_do"] == ["governance"]
        assert link.detail["carry"]["pia_status"] == {
            "status": "changed",
            "source": "pia_done",
            "old": "yes",
        }
    task_list = client.get(base + "/").text
    assert "Answers carried over from version 1.0" in task_list
    assert "These sections have new or changed questions to do: Check governance" in task_list
    assert f'href="{base}/carried"' in task_list
    governance = client.get(base + "/sections/governance").text
    assert "New or changed in this version of the questionnaire" in governance
    assert re.search(r'href="#dpo_named">[^<]+</a> \(Needs an answer: new question\)', governance)
    assert re.search(r'href="#pia_status">[^<]+</a> \(Carried over, changed\)', governance)


def test_carried_page_shows_each_question(client: TestClient, world: World, app: object) -> None:
    base, _engine = _reassess(client, world, app)
    page = client.get(base + "/carried")
    assert page.status_code == 200
    text = page.text
    assert "<title>What carried over from version 1.0" in text
    rows = re.findall(r"<tr>\s*<td><a href=\"[^\"]+#(\w+)\">.*?</tr>", text, re.S)
    assert rows[:4] == ["body_type", "uses", "searches", "description"]
    pia = re.search(r"#pia_status\">.*?</tr>", text, re.S)
    assert pia is not None
    assert "Was question pia_done" in pia.group(0)
    assert "Carried over, changed" in pia.group(0)
    assert "<td>Yes</td>" in pia.group(0)  # the answer before, with the old version's label
    assert "<td>Completed</td>" in pia.group(0)
    dpo = re.search(r"#dpo_named\">.*?</tr>", text, re.S)
    assert dpo is not None
    assert "<strong>Needs an answer: new question</strong>" in dpo.group(0)
    assert "Questions that need an answer: 1" in text
    assert "To do</strong>" in text
    client.post("/language", data={"csrf_token": csrf_from(text), "lang": "fr"})
    french = client.get(base + "/carried").text
    assert "Ce qui a été repris de la version 1.0" in french
    assert "Réponse requise\u00a0: nouvelle question" in french


def test_carried_page_is_only_for_reassessments(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a)
    login(client, world.officer_a.email)
    assert client.get(f"/assessments/{aid}/carried").status_code == 404
