"""The change report page for reviewers and admins: what version 2.0 does to the accepted
assessments of the portfolio, with the same numbers as scoring each carried answer set."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.carry import carry
from tests.builders import World, login
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


NO_PIA = {**GOOD, "pia_done": "no", "pia_date": None}


def test_impact_page_and_csv_equal_direct_scoring(
    client: TestClient, world: World, app: object, settings: Settings
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    good = submitted(engine, world.officer_a, GOOD, program="Mugshot search")
    bad = submitted(engine, world.officer_a, NO_PIA, program="Live pilot")
    draft_only = submitted(engine, world.officer_a, GOOD, program="Not accepted")
    decide(engine, world.reviewer_on, good, "accept")
    decide(engine, world.reviewer_on, bad, "accept")
    assert draft_only  # submitted, never accepted: not in the report
    registry = loader.load_directory(settings.questionnaires_dir)
    old, new = registry.get("web-mini", "1.0"), registry.get("web-mini", "2.0")
    assert old is not None
    assert new is not None
    login(client, world.reviewer_on.email)
    page = client.get("/review/impact")
    assert page.status_code == 200
    text = page.text
    assert "Accepted assessments answered under version 1.0: 2." in text
    assert "Not accepted" not in text
    today = date.today()  # noqa: DTZ011 - the page scores as of today
    table = client.get("/review/impact.csv?compare=web-mini@1.0@2.0")
    assert table.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table.text)))
    by_program = {r["Program"]: r for r in rows}
    assert set(by_program) == {"Mugshot search", "Live pilot"}
    for program, values in (("Mugshot search", GOOD), ("Live pilot", NO_PIA)):
        answers = Answers(values={k: v for k, v in values.items() if v is not None})
        before = scoring.score(old, answers, as_of=today)
        after = scoring.score(new, carry(new, answers, "1.0", old=old).answers, as_of=today)
        row = by_program[program]
        assert float(row["Score before"]) == before.score
        assert float(row["Score after"]) == after.score
        assert row["Rating after"].lower() == after.rating.value
    # the new required question dpo_named is asked of both
    assert all("dpo_named" in r["Questions to answer now"] for r in rows)
    assert "Is a privacy officer named for the program?" in text


def test_impact_page_shows_only_the_reviewers_agencies(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, GOOD)
    decide(engine, world.reviewer_on, aid, "accept")
    login(client, world.reviewer_fed.email)
    page = client.get("/review/impact")
    assert page.status_code == 200
    assert "Accepted assessments answered under version 1.0: 0." in page.text
    assert client.get("/review/impact?compare=web-mini@2.0@1.0").status_code == 404
