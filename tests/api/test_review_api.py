"""The review API: inbox, review with changes, decisions with If-Match, portfolio, board,
reassessment; every refusal is JSON."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import db
from service.auth import service as auth_service
from tests.builders import World
from tests.review.helpers import GOOD, answer, decide, resubmit, submitted

BAD = {**GOOD, "pia_done": "no", "pia_date": None}


def _auth(app: FastAPI, world: World, role: str) -> dict[str, str]:
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=getattr(world, role), name="t")
    return {"Authorization": f"Bearer {secret}"}


def test_api_review_cycle(app: FastAPI, client: TestClient, world: World) -> None:
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    reviewer = _auth(app, world, "reviewer_on")
    inbox = client.get("/api/v1/review/inbox", headers=reviewer).json()
    assert inbox["total"] == 1
    assert inbox["counts"] == {"submitted": 1, "returned": 0, "accepted": 0}
    assert inbox["items"][0]["rating"] == "red"
    assert client.get("/api/v1/review/inbox?rating=green", headers=reviewer).json()["total"] == 0
    review = client.get(f"/api/v1/review/assessments/{aid}", headers=reviewer).json()
    assert review["allowed_actions"] == ["return", "accept"]
    gov = next(c for c in review["criteria"] if c["id"] == "GOV-01")
    assert gov["verdict"] == "not_met"
    assert gov["answers"][0] == {"question_id": "pia_done", "value": "no", "evidence": None}
    url = f"/api/v1/review/assessments/{aid}/decision"
    version = review["assessment"]["version"]
    assert client.post(url, json={"action": "return"}, headers=reviewer).status_code == 428
    empty = client.post(
        url, json={"action": "return"}, headers={**reviewer, "If-Match": f'"{version}"'}
    )
    assert empty.status_code == 409
    assert empty.json()["code"] == "invalid_transition"
    returned = client.post(
        url,
        json={"action": "return", "comments": {"GOV-01": "Do a PIA"}},
        headers={**reviewer, "If-Match": f'"{version}"'},
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["assessment"]["status"] == "returned"
    answer(engine, world.officer_a, aid, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, world.officer_a, aid)
    again = client.get(f"/api/v1/review/assessments/{aid}", headers=reviewer).json()
    changes = again["changes"]
    assert changes["previous_submission"] == 1
    assert {c["question_id"] for c in changes["answers"]} == {"pia_done", "pia_date"}
    assert changes["verdicts"]["GOV-01"] == ["not_met", "met"]
    assert changes["rating_before"] == "red"
    assert changes["score_change"] > 0
    accepted = client.post(
        url,
        json={"action": "accept"},
        headers={**reviewer, "If-Match": f'"{again["assessment"]["version"]}"'},
    )
    assert accepted.status_code == 200
    assert accepted.json()["accepted_by"] == "Test reviewer"


def test_api_review_access(app: FastAPI, client: TestClient, world: World) -> None:
    engine = app.state.engine
    aid = submitted(engine, world.officer_a)
    officer = _auth(app, world, "officer_a")
    fed = _auth(app, world, "reviewer_fed")
    board = _auth(app, world, "board_a")
    assert client.get("/api/v1/review/inbox").status_code == 401
    assert client.get("/api/v1/review/inbox", headers=officer).status_code == 403
    assert client.get("/api/v1/review/inbox", headers=fed).json()["total"] == 0
    assert client.get(f"/api/v1/review/assessments/{aid}", headers=fed).status_code == 404
    assert client.get(f"/api/v1/review/assessments/{aid}", headers=board).status_code == 403
    decision = client.post(
        f"/api/v1/review/assessments/{aid}/decision",
        json={"action": "accept"},
        headers={**officer, "If-Match": '"1"'},
    )
    assert decision.status_code == 403
    assert client.get("/api/v1/board/assessments", headers=board).json() == []
    assert client.get("/api/v1/board/assessments", headers=officer).status_code == 403


def test_api_portfolio_board_and_reassess(app: FastAPI, client: TestClient, world: World) -> None:
    engine = app.state.engine
    a = submitted(engine, world.officer_a)
    submitted(engine, world.officer_b, BAD)
    decide(engine, world.reviewer_on, a, "accept")
    reviewer = _auth(app, world, "reviewer_on")
    data = client.get(
        "/api/v1/review/portfolio?questionnaire_id=web-mini&version=1.0", headers=reviewer
    ).json()
    assert len(data["agencies"]) == 2
    assert data["ratings"] == {"red": 1, "amber": 0, "green": 1}
    assert data["critical_gaps"] == [["GOV-01", 1]]
    assert data["met_share"]["GOV-01"] == 50.0
    board = client.get("/api/v1/board/assessments", headers=_auth(app, world, "board_a")).json()
    assert [b["assessment_id"] for b in board] == [str(a)]
    officer = _auth(app, world, "officer_a")
    created = client.post(
        f"/api/v1/assessments/{a}/reassess",
        json={"questionnaire_version": "1.0", "program": "Year 2"},
        headers=officer,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["assessment"]["answers"]["pia_done"] == "yes"
    assert body["assessment"]["status"] == "draft"
    assert body["new_questions"] == []
    missing = client.post(
        f"/api/v1/assessments/{a}/reassess", json={"questionnaire_version": "9"}, headers=officer
    )
    assert missing.status_code == 404


def test_api_review_carries_labels_in_the_request_language(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Verdicts, severities, the rating and the status come with their labels, in the language
    of ``?lang=`` or else of Accept-Language; the values stay as they are."""
    aid = submitted(app.state.engine, world.officer_a, BAD)
    reviewer = _auth(app, world, "reviewer_on")
    url = f"/api/v1/review/assessments/{aid}"
    en = client.get(url, headers=reviewer).json()
    fr = client.get(url, headers={**reviewer, "Accept-Language": "fr-CA,fr;q=0.9"}).json()
    by_query = client.get(url + "?lang=fr", headers=reviewer).json()
    gov_en = next(c for c in en["criteria"] if c["id"] == "GOV-01")
    gov_fr = next(c for c in fr["criteria"] if c["id"] == "GOV-01")
    assert (gov_en["verdict"], gov_en["verdict_label"]) == ("not_met", "Not met")
    assert (gov_fr["verdict"], gov_fr["verdict_label"]) == ("not_met", "Non respecté")
    assert gov_fr["severity_label"] != gov_fr["severity"]
    assert (en["rating"], en["rating_label"]) == ("red", "Red")
    assert fr["rating_label"] == "Rouge"
    assert en["assessment"]["status_label"] == "Submitted"
    assert fr["assessment"]["status_label"] == by_query["assessment"]["status_label"] == "Soumise"
    assert client.get(url + "?lang=de", headers=reviewer).status_code == 422


def test_every_list_endpoint_carries_labels_in_the_request_language(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Issue 13: labels on the inbox, the portfolio, the board's list, the submissions and the
    assessments, not only on the review; values unchanged, labels in the reader's language."""
    engine = app.state.engine
    a = submitted(engine, world.officer_a)
    submitted(engine, world.officer_b, BAD)
    decide(engine, world.reviewer_on, a, "accept")
    fr = {"Accept-Language": "fr-CA,fr;q=0.9"}
    reviewer = _auth(app, world, "reviewer_on")
    inbox = client.get("/api/v1/review/inbox?sort=rating", headers={**reviewer, **fr}).json()
    labels = {
        (i["status"], i["status_label"], i["rating"], i["rating_label"]) for i in inbox["items"]
    }
    assert labels == {
        ("accepted", "Acceptée", "green", "Vert"),
        ("submitted", "Soumise", "red", "Rouge"),
    }
    portfolio = client.get(
        "/api/v1/review/portfolio?questionnaire_id=web-mini&version=1.0",
        headers={**reviewer, **fr},
    ).json()
    red = next(row for row in portfolio["agencies"] if row["rating"] == "red")
    assert red["rating_label"] == "Rouge"
    assert red["verdicts"]["GOV-01"] == "not_met"
    assert red["verdict_labels"]["GOV-01"] == "Non respecté"
    board = client.get("/api/v1/board/assessments?lang=fr", headers=_auth(app, world, "board_a"))
    assert [(b["rating"], b["rating_label"]) for b in board.json()] == [("green", "Vert")]
    officer = _auth(app, world, "officer_a")
    subs = client.get(f"/api/v1/assessments/{a}/submissions", headers={**officer, **fr}).json()
    assert [(s["rating"], s["rating_label"]) for s in subs] == [("green", "Vert")]
    mine = client.get("/api/v1/assessments", headers={**officer, **fr}).json()
    assert [(m["status"], m["status_label"]) for m in mine] == [("accepted", "Acceptée")]
    english = client.get("/api/v1/assessments", headers=officer).json()
    assert english[0]["status_label"] == "Accepted"


def test_api_review_counts_unanswered_questions(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Issue 14 point 5: the reviewer sees, before accepting, how many questions shown to the
    agency were left unanswered in the submission, and which."""
    aid = submitted(app.state.engine, world.officer_a, BAD)  # the two optional ones left blank
    reviewer = _auth(app, world, "reviewer_on")
    review = client.get(f"/api/v1/review/assessments/{aid}", headers=reviewer).json()
    assert review["unanswered_count"] == 2
    assert review["unanswered"] == ["description", "owner"]  # pia_date is hidden: not counted
