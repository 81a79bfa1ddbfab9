"""Open data downloads: a submission's OSCAL and findings for its agency's officers and its
regulator's reviewers; the portfolio as CSV (safe against formula injection), JSON and labels."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlmodel import col, select

from service import db
from service.auth import service as auth_service
from service.models import AuditEvent
from service.report import oscal
from tests.builders import World, login
from tests.oscal_schemas import problems
from tests.review.helpers import decide, submitted


def test_officer_downloads_oscal_of_a_submission_valid_and_identical(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a)
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/result")
    assert f"/assessments/{aid}/open-data?format=oscal&amp;number=1" in page.text
    first = client.get(f"/assessments/{aid}/open-data?format=oscal&number=1")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-disposition"].startswith("attachment; ")
    assert problems(first.content, "assessment-results") == []
    assert client.get(f"/assessments/{aid}/open-data?format=oscal").content == first.content
    plan = client.get(f"/assessments/{aid}/open-data?format=oscal-plan")
    assert problems(plan.content, "assessment-plan") == []
    with db.new_session(engine) as s:
        audited = s.exec(
            select(AuditEvent).where(
                AuditEvent.assessment_id == aid, col(AuditEvent.action) == "open_data_downloaded"
            )
        ).all()
    assert len(audited) == 3
    assert client.get(f"/assessments/{aid}/open-data?format=docx").status_code == 404
    assert client.get(f"/assessments/{aid}/open-data?number=7").status_code == 404


def test_reviewer_downloads_the_accepted_state_and_its_log(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a)
    login(client, world.reviewer_on.email)
    before = client.get(f"/assessments/{aid}/open-data?format=oscal&lang=fr").content
    decide(engine, world.reviewer_on, aid, "accept", general="Fine.")
    after = client.get(f"/assessments/{aid}/open-data?format=oscal&lang=fr").content
    assert problems(after, "assessment-results") == []
    old, new = (json.loads(d)["assessment-results"] for d in (before, after))
    assert old["uuid"] != new["uuid"]  # a new revision of the document
    assert old["results"][0]["findings"][0]["uuid"] == new["results"][0]["findings"][0]["uuid"]
    entries = new["results"][0]["assessment-log"]["entries"]
    assert [e["title"] for e in entries] == ["Soumise", "Acceptée"]
    parties = {p["uuid"]: p["name"] for p in new["metadata"]["parties"]}
    roles = {
        r["role-id"]: parties[r["party-uuids"][0]] for r in new["metadata"]["responsible-parties"]
    }
    assert roles["reviewer"] == world.reviewer_on.full_name
    assert roles["submitter"] == world.officer_a.full_name
    assert roles["prepared-by"] == "Agency A"
    assert "prepared-for" in roles
    assert new["metadata"]["props"][0]["ns"] == oscal.NS
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/assessments/{aid}/open-data?format=csv").text))
    )
    findings = json.loads(client.get(f"/assessments/{aid}/open-data?format=json").content)
    assert [r["criterion_id"] for r in rows] == [f["criterion_id"] for f in findings["findings"]]
    assert findings["submission"]["status"] == "accepted"


def test_board_sees_no_open_data_links_and_gets_403(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a)
    decide(engine, world.reviewer_on, aid, "accept")
    login(client, world.board_a.email)
    page = client.get(f"/assessments/{aid}/result")
    assert page.status_code == 200
    assert "open-data" not in page.text
    assert client.get(f"/assessments/{aid}/open-data").status_code == 403


def test_portfolio_csv_json_and_labels(client: TestClient, world: World, app: object) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    submitted(engine, world.officer_a, program='=HYPERLINK("http://evil.example","x")')
    submitted(engine, world.officer_b, program="@SUM(1+1)")
    login(client, world.reviewer_on.email)
    page = client.get("/review/portfolio")
    assert "/review/portfolio.json?questionnaire=" in page.text
    rows = list(csv.DictReader(io.StringIO(client.get("/review/portfolio.csv").text)))
    assert {r["program"] for r in rows} == {'\'=HYPERLINK("http://evil.example","x")', "'@SUM(1+1)"}
    assert list(rows[0])[:8] == [
        "agency",
        "program",
        "rating",
        "score",
        "submitted_at",
        "assessment_id",
        "submission_number",
        "critical_gaps",
    ]
    document = json.loads(client.get("/review/portfolio.json").content)
    assert document["format"] == "policygap-portfolio/1"
    assert document["questionnaire"]["id"] == "web-mini"
    assert len(document["programs"]) == 2
    program = document["programs"][0]
    assert set(program["verdicts"]) <= set(document["criteria"])
    assert program["program"].startswith(("=", "@"))  # JSON keeps the value as typed
    labels = list(csv.DictReader(io.StringIO(client.get("/review/portfolio.labels.csv").text)))
    assert [r["column"] for r in labels] == list(rows[0])
    assert all(r["en"] and r["fr"] for r in labels)
    assert labels[0] == {"column": "agency", "en": "Agency", "fr": "Organisme"}


def test_api_gives_the_same_open_data_as_the_page(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a)
    with db.new_session(engine) as s:
        secret = auth_service.create_api_token(session=s, user=world.officer_a, name="t")
    api = client.get(
        f"/api/v1/assessments/{aid}/open-data?format=oscal&lang=fr",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert api.status_code == 200
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/open-data?format=oscal&lang=fr")
    assert api.content == page.content
    bad = client.get(
        f"/api/v1/assessments/{aid}/open-data?format=docx",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert bad.status_code == 422


def test_inbox_csv_neutralises_tab_and_return_led_formulas(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    submitted(engine, world.officer_a, program="\t=1+1")
    submitted(engine, world.officer_a, program="\r=2+2")
    login(client, world.reviewer_on.email)
    rows = list(csv.DictReader(io.StringIO(client.get("/review/inbox.csv").text, newline="")))
    assert {r["program"] for r in rows} == {"'\t=1+1", "'\r=2+2"}
