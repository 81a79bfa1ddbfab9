"""Issue 14: a report, page or API answer never says what did not happen.

Each test reproduces a defect found on the demo data: the review state printed is that of the
submission asked for; the board sees accepted submissions only; nobody outside the agency reads its
unsubmitted draft; a removed document stays removed; the portfolio agrees with the reports.
"""

from __future__ import annotations

import io
import re
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service import db
from service.auth import service as auth_service
from tests.builders import World, login
from tests.review.helpers import GOOD, answer, decide, resubmit, submitted

BAD = {**GOOD, "pia_done": "no"}


def _token(app: FastAPI, user: object) -> dict[str, str]:
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=user, name="test")  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {secret}"}


def _returned_then_accepted(app: FastAPI, world: World) -> uuid.UUID:
    """Submission 1 returned with a comment; submission 2 accepted with another."""
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    decide(
        engine,
        world.reviewer_on,
        aid,
        "return",
        {"GOV-01": "Do the PIA first"},
        "Returned: see GOV-01",
    )
    answer(engine, world.officer_a, aid, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, world.officer_a, aid)
    decide(
        engine, world.reviewer_on, aid, "accept", {"GOV-01": "Thanks, PIA done"}, "Accepted as is"
    )
    return aid


def _pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages
    )


def test_report_of_a_returned_submission_says_returned(
    app: FastAPI, client: TestClient, world: World
) -> None:
    aid = _returned_then_accepted(app, world)
    login(client, world.officer_a.email)
    first = client.get(f"/assessments/{aid}/report.html?number=1&lang=en")
    assert first.status_code == 200
    assert "Accepted by" not in first.text
    assert "Thanks, PIA done" not in first.text
    assert "Returned" in first.text
    assert "Do the PIA first" in first.text
    latest = client.get(f"/assessments/{aid}/report.html?number=2&lang=en")
    assert "Accepted by" in latest.text
    assert "Thanks, PIA done" in latest.text
    result = client.get(f"/assessments/{aid}/result?number=1")
    assert result.status_code == 200
    assert "Accepted by" not in result.text
    pdf = client.get(f"/assessments/{aid}/report.pdf?number=1&lang=en")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    assert "Accepted by" not in text
    assert "Returned" in text
    api = client.get(
        f"/api/v1/assessments/{aid}/report.pdf?number=1&lang=en",
        headers=_token(app, world.officer_a),
    )
    assert api.status_code == 200
    assert "Accepted by" not in _pdf_text(api.content)


def test_board_sees_accepted_submissions_only(
    app: FastAPI, client: TestClient, world: World
) -> None:
    aid = _returned_then_accepted(app, world)
    login(client, world.board_a.email)
    assert client.get(f"/assessments/{aid}/report.html?number=2").status_code == 200
    assert client.get(f"/assessments/{aid}/report.html?number=1").status_code == 404
    assert client.get(f"/assessments/{aid}/report.pdf?number=1").status_code == 404
    assert client.get(f"/assessments/{aid}/result?number=1").status_code == 404
    auth = _token(app, world.board_a)
    listing = client.get(f"/api/v1/assessments/{aid}/submissions", headers=auth)
    assert listing.status_code == 200
    assert [s["number"] for s in listing.json()] == [2]
    api_pdf = client.get(f"/api/v1/assessments/{aid}/report.pdf?number=1", headers=auth)
    assert api_pdf.status_code == 404


def test_regulator_never_reads_the_agency_draft(
    app: FastAPI, client: TestClient, world: World
) -> None:
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    decide(engine, world.reviewer_on, aid, "return", {"GOV-01": "Do the PIA first"})
    # the officer edits the returned draft through the API and does not resubmit
    officer = _token(app, world.officer_a)
    current = client.get(f"/api/v1/assessments/{aid}", headers=officer)
    assert current.status_code == 200
    patched = client.patch(
        f"/api/v1/assessments/{aid}/answers",
        json={"answers": {"owner": "Draft-only owner text"}},
        headers={**officer, "If-Match": current.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    reviewer = _token(app, world.reviewer_on)
    for url in (f"/api/v1/assessments/{aid}", f"/api/v1/review/assessments/{aid}"):
        response = client.get(url, headers=reviewer)
        assert response.status_code == 200, url
        assert "Draft-only owner text" not in response.text, url
    login(client, world.reviewer_on.email)
    for path in ("/export", "/check-your-answers", "/sections/governance/check", "/archive.zip"):
        response = client.get(f"/assessments/{aid}{path}")
        assert b"Draft-only owner text" not in response.content, path


def test_document_removed_from_a_returned_draft_stays_removed(
    app: FastAPI, client: TestClient, world: World
) -> None:
    from tests.builders import start_assessment
    from tests.documents import files
    from tests.documents.test_documents_web import SECTION, _docs, _submit, remove, upload

    login(client, world.officer_a.email)
    base_url = start_assessment(client)
    assert upload(client, base_url, files.DOCX, name="Withdrawn.docx").status_code == 303
    _submit(client, base_url)
    aid = uuid.UUID(base_url.rsplit("/", 1)[1])
    decide(app.state.engine, world.reviewer_on, aid, "return", {"GOV-01": "Check this"})
    (doc,) = _docs(app)
    assert remove(client, base_url, doc.id).status_code == 303
    assert "Withdrawn.docx" not in client.get(base_url + SECTION).text
    resubmit(app.state.engine, world.officer_a, aid)
    assert "Withdrawn.docx" not in client.get(base_url + SECTION).text
    with TestClient(app) as reviewer:
        login(reviewer, world.reviewer_on.email)
        review = reviewer.get(f"/review/{aid}").text
        # submission 2 holds it no more: only the changes since submission 1 name it, as removed
        changes = review.split("Documents changed")[1].split("</table>")[0]
        assert re.search(r"Removed</strong> Withdrawn\.docx", changes)
        assert "Withdrawn.docx" not in review.replace(changes, "")


def test_portfolio_counts_programs_and_critical_gaps_as_the_reports_do(
    app: FastAPI, client: TestClient, world: World
) -> None:
    engine = app.state.engine
    submitted(engine, world.officer_a, GOOD, program="Good program")
    bad = submitted(engine, world.officer_a, BAD, program="Second program")
    login(client, world.reviewer_on.email)
    page = client.get("/review/portfolio").text
    # two programs of one agency: both counted, and the critical gap of the second is named
    assert "Second program" in page
    assert "Good program" in page
    assert "No critical gap" not in page
    report = client.get(f"/assessments/{bad}/report.html?lang=en").text
    assert "GOV-01" in report


def test_every_portfolio_number_agrees_with_the_reports(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Several programs of two agencies: the portfolio's ratings, critical gaps and met shares
    are those of the programs' own reports (their stored results), counted per program."""
    engine = app.state.engine
    ids = [
        submitted(engine, world.officer_a, GOOD, program="Good program"),
        submitted(engine, world.officer_a, BAD, program="Second program"),
        submitted(engine, world.officer_b, BAD, program="Agency B program"),
        submitted(engine, world.officer_b, GOOD, program="Undated"),
    ]
    reviewer = _token(app, world.reviewer_on)
    results = []
    for aid in ids:
        response = client.get(f"/api/v1/assessments/{aid}/result", headers=reviewer)
        assert response.status_code == 200
        results.append(response.json()["result"])
    data = client.get(
        "/api/v1/review/portfolio?questionnaire_id=web-mini&version=1.0", headers=reviewer
    ).json()
    assert sorted(row["program"] for row in data["agencies"]) == sorted(
        ["Good program", "Second program", "Agency B program", "Undated"]
    )
    ratings: dict[str, int] = {"red": 0, "amber": 0, "green": 0}
    for result in results:
        ratings[result["rating"]] += 1
    assert data["ratings"] == ratings
    critical: dict[str, int] = {}
    for result in results:
        by_id = {c["id"]: c for c in result["criteria"]}
        for gap in result["gaps"]:
            if by_id[gap]["severity"] == "critical":
                critical[gap] = critical.get(gap, 0) + 1
    assert dict(data["critical_gaps"]) == critical
    assert critical  # the BAD programs' GOV-01
    for cid, share in data["met_share"].items():
        verdicts = [next(c["verdict"] for c in r["criteria"] if c["id"] == cid) for r in results]
        applicable = [v for v in verdicts if v != "not_applicable"]
        expected = (
            round(100 * sum(v == "met" for v in applicable) / len(applicable), 1)
            if applicable
            else None
        )
        assert share == expected, cid
    for row, aid in ((r, r["assessment_id"]) for r in data["agencies"]):
        result = results[[str(i) for i in ids].index(aid)]
        assert row["rating"] == result["rating"]
        assert row["verdicts"] == {c["id"]: c["verdict"] for c in result["criteria"]}


def test_board_summary_shows_no_comment_of_a_returned_submission(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Submission 1 returned with a comment, submission 2 accepted without one: the board's
    page of the accepted submission carries none of submission 1's comments (it showed them
    as the reviewer's comments, since they were the latest made)."""
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    decide(engine, world.reviewer_on, aid, "return", {"GOV-01": "Do the PIA first"}, "See GOV-01")
    answer(engine, world.officer_a, aid, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, world.officer_a, aid)
    decide(engine, world.reviewer_on, aid, "accept")
    login(client, world.board_a.email)
    page = client.get(f"/board/{aid}")
    assert page.status_code == 200
    assert "Accepted by" in page.text
    assert "Do the PIA first" not in page.text
    assert "See GOV-01" not in page.text
    report = client.get(f"/assessments/{aid}/report.html?number=2&lang=en")
    assert report.status_code == 200
    assert "Do the PIA first" not in report.text
