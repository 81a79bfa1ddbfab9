"""Issue 14, defect 5: an answer that reveals a required question in another section reopens
that section (it was "Completed" and the submit went through with the question unanswered)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from service import db
from service.assessments import service as assessment_service
from service.errors import InvalidTransition
from service.questionnaire.loader import load_directory
from service.questionnaire.schema import Questionnaire
from tests.builders import make_world
from tests.review.helpers import viewer

CROSS = Path(__file__).parent.parent / "data_web" / "questionnaires_cross"
AS_OF = date(2026, 11, 26)


def cross() -> Questionnaire:
    q = load_directory(CROSS).get("cross-mini", "1.0")
    assert q is not None
    return q


def _save(engine: Engine, v: Any, aid: Any, values: dict[str, Any]) -> Any:
    with db.new_session(engine) as s:
        return assessment_service.save_answers(
            session=s,
            viewer=v,
            assessment_id=aid,
            expected_version=None,
            questionnaire=cross(),
            values=values,
            evidence={},
            as_of=AS_OF,
        )


def _complete(engine: Engine, v: Any, aid: Any, section: str) -> None:
    with db.new_session(engine) as s:
        assessment_service.mark_section(
            session=s,
            viewer=v,
            assessment_id=aid,
            expected_version=None,
            questionnaire=cross(),
            section_id=section,
            completed=True,
            as_of=AS_OF,
        )


def test_revealing_a_question_elsewhere_reopens_its_section(engine: Engine) -> None:
    world = make_world(engine)
    v = viewer(engine, world.officer_a)
    with db.new_session(engine) as s:
        aid = assessment_service.start(
            session=s, viewer=v, questionnaire=cross(), program="Cross"
        ).id
    _save(engine, v, aid, {"pia_exists": "no"})
    _complete(engine, v, aid, "applicability")
    _save(engine, v, aid, {"owner": "Chief"})
    _complete(engine, v, aid, "governance")
    saved = _save(engine, v, aid, {"pia_exists": "yes"})  # reveals pia_approved in governance
    assert saved.assessment.section_status["governance"] == "in_progress"
    assert saved.reopened == frozenset({"governance"})
    with db.new_session(engine) as s, pytest.raises(InvalidTransition):
        assessment_service.submit(
            session=s, viewer=v, assessment_id=aid, expected_version=None, questionnaire=cross()
        )


@pytest.fixture
def cross_app(sqlite_url: str) -> Any:
    """The app with only the cross-section questionnaire loaded."""
    from service.main import create_app
    from tests.conftest import make_settings

    application = create_app(make_settings(sqlite_url, questionnaires_dir=CROSS))
    yield application
    application.state.engine.dispose()


def test_the_page_says_which_sections_are_in_progress_again(cross_app: Any) -> None:
    from fastapi.testclient import TestClient

    from tests.builders import login, post_form

    engine = cross_app.state.engine
    world = make_world(engine)
    with TestClient(cross_app) as client:
        login(client, world.officer_a.email)
        response = post_form(
            client,
            "/assessments/new",
            "/assessments/",
            {"questionnaire": "cross-mini", "program": "Cross"},
        )
        assert response.status_code == 303, response.text
        base = response.headers["location"].rstrip("/")
        applicability, governance = base + "/sections/applicability", base + "/sections/governance"
        post_form(client, applicability, applicability, {"pia_exists": "no", "action": "continue"})
        post_form(client, applicability + "/check", applicability + "/check", {"completed": "yes"})
        post_form(client, governance, governance, {"owner": "Chief", "action": "continue"})
        post_form(client, governance + "/check", governance + "/check", {"completed": "yes"})
        saved = post_form(
            client, applicability, applicability, {"pia_exists": "yes", "action": "continue"}
        )
        assert saved.status_code == 303
        page = client.get(saved.headers["location"]).text
        assert "are In progress again: Governance" in page
        # and submitting is refused until Governance is completed again
        done = post_form(client, base + "/", base + "/check-your-answers", {})
        assert done.headers["location"].rstrip("/") == base


def test_check_answers_names_unanswered_questions_and_the_reviewer_sees_the_count(
    app: Any, world: Any
) -> None:
    """web-mini's optional questions (description, owner) left unanswered: named on check your
    answers, confirmed before submit, counted for the reviewer before accepting."""
    from fastapi.testclient import TestClient

    from tests.builders import login, post_form, start_assessment

    with TestClient(app) as client:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        scope, gov = base + "/sections/scope", base + "/sections/governance"
        post_form(
            client,
            scope,
            scope,
            {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"},
        )
        post_form(client, scope + "/check", scope + "/check", {"completed": "yes"})
        post_form(
            client, gov, gov, {"pia_done": "yes", "pia_date": "2021-01-02", "action": "continue"}
        )
        post_form(client, gov + "/check", gov + "/check", {"completed": "yes"})
        page = client.get(base + "/check-your-answers").text
        assert "Questions left unanswered: 2" in page
        assert "Describe the program" in page
        assert "Who owns the program?" in page
        refused = post_form(client, base + "/check-your-answers", base + "/check-your-answers", {})
        assert refused.status_code == 422
        done = post_form(
            client, base + "/check-your-answers", base + "/check-your-answers", {"confirm": "yes"}
        )
        assert done.status_code == 303
    aid = base.rsplit("/", 1)[1]
    with TestClient(app) as reviewer:
        login(reviewer, world.reviewer_on.email)
        review = reviewer.get(f"/review/{aid}").text
        bar = review.split('id="unanswered-count">')[1].split("</li>")[0]
        assert re.sub(r"<[^>]+>", "", bar) == "2 questions unanswered"
