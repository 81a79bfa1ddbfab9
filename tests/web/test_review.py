"""Review with the TestClient: inbox, review page, return and accept, resubmission changes,
comments reaching the officer, board pages, portfolio, CSV exports."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments import service as assessment_service
from service.assessments.models import Assessment, ReviewComment, SubmissionDigest
from service.documents import service as document_service
from service.models import AuditEvent, Organisation, Role
from service.review.models import ReviewDraft
from tests.builders import World, csrf_from, login, make_user, parse, version_from
from tests.documents.files import PDF
from tests.review.helpers import GOOD, answer, decide, mini, resubmit, submitted, viewer

BAD = {**GOOD, "pia_done": "no"}


def _post_review(client: TestClient, aid: object, data: dict[str, str]) -> object:
    page = client.get(f"/review/{aid}")
    payload = {"csrf_token": csrf_from(page.text), **data}
    if 'name="version"' in page.text:  # the form is shown while the submission awaits review
        payload["version"] = version_from(page.text)
    return client.post(f"/review/{aid}", data=payload, follow_redirects=False)


def _accept(client: TestClient, aid: object) -> object:
    """Accept as a reviewer does: the Accept button of the review page, then the confirmation."""
    first = _post_review(client, aid, {"action": "accept"})
    if first.status_code != 303:  # type: ignore[attr-defined]
        return first
    assert first.headers["location"] == f"/review/{aid}/accept"  # type: ignore[attr-defined]
    page = client.get(f"/review/{aid}/accept")
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    return client.post(f"/review/{aid}/accept", data=hidden, follow_redirects=False)


def test_inbox_lists_only_overseen_submissions(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    submitted(engine, world.officer_a, program="Alpha search")
    submitted(engine, world.officer_b, BAD, program="Beta search")
    login(client, world.reviewer_on.email)
    page = client.get("/review/")
    assert page.status_code == 200
    assert "Alpha search" in page.text
    assert "Beta search" in page.text
    assert parse(page.text).title.startswith("Review inbox")
    red = client.get("/review/?rating=red")
    assert "Beta search" in red.text
    assert "Alpha search" not in red.text
    by_agency = client.get(f"/review/?agency={world.agency_a.id}")
    assert "Alpha search" in by_agency.text
    assert "Beta search" not in by_agency.text
    none = client.get("/review/?questionnaire=other@1.0")
    assert "No assessment matches" in none.text
    sorted_asc = client.get("/review/?sort=agency&order=asc").text
    assert sorted_asc.index("Alpha search") < sorted_asc.index("Beta search")
    sorted_desc = client.get("/review/?sort=agency&order=desc").text
    assert sorted_desc.index("Beta search") < sorted_desc.index("Alpha search")


def test_inbox_federal_reviewer_sees_no_provincial_bodies(
    client: TestClient, world: World, app: object
) -> None:
    submitted(app.state.engine, world.officer_a)  # type: ignore[attr-defined]
    login(client, world.reviewer_fed.email)
    page = client.get("/review/")
    assert "Mugshot search" not in page.text
    assert "No assessment matches" in page.text


def test_inbox_bad_date_shows_error_summary(client: TestClient, world: World) -> None:
    login(client, world.reviewer_on.email)
    page = client.get("/review/?from=31-12-2026")
    assert page.status_code == 200
    parsed = parse(page.text)
    assert parsed.title.startswith("Error: ")
    assert "Enter the first date as YYYY-MM-DD" in page.text
    assert 'href="#from"' in page.text
    assert 'id="from"' in page.text


def test_inbox_pagination_and_counts(client: TestClient, world: World, app: object) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    ids = [submitted(engine, world.officer_a, program=f"Program {i:02d}") for i in range(27)]
    decide(engine, world.reviewer_on, ids[0], "accept")
    decide(engine, world.reviewer_on, ids[1], "return", general="Fix it")
    login(client, world.reviewer_on.email)
    first = client.get("/review/")
    assert "27 assessments match. Page 1 of 2." in first.text
    assert first.text.count('<a href="/review/') - first.text.count("/review/?") >= 25
    second = client.get("/review/?page=2")
    assert "Page 2 of 2" in second.text
    accepted = client.get("/review/?status=accepted")
    assert "1 assessment matches" in accepted.text
    assert "Program 00" in accepted.text


def test_inbox_csv_export(client: TestClient, world: World, app: object) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    submitted(engine, world.officer_a, program="=HYPERLINK(1)")
    login(client, world.reviewer_on.email)
    response = client.get("/review/inbox.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["assessment_id", "agency", "program"]
    assert len(rows) == 2
    assert rows[1][2] == "'=HYPERLINK(1)"  # no formula injection
    assert rows[1][6] == "submitted"
    assert rows[1][7] == "green"


def test_review_page_shows_verdicts_answers_and_evidence(
    client: TestClient, world: World, app: object
) -> None:
    aid = submitted(app.state.engine, world.officer_a, BAD)  # type: ignore[attr-defined]
    login(client, world.reviewer_on.email)
    page = client.get(f"/review/{aid}")
    assert page.status_code == 200
    assert "GOV-01" in page.text
    assert "Not met" in page.text
    assert "Was a privacy impact assessment done?" in page.text
    assert 'id="comment-GOV-01"' in page.text
    assert "Accept the assessment" in page.text
    assert "Return for changes" in page.text


def test_return_needs_a_comment(client: TestClient, world: World, app: object) -> None:
    aid = submitted(app.state.engine, world.officer_a, BAD)  # type: ignore[attr-defined]
    login(client, world.reviewer_on.email)
    response = _post_review(client, aid, {"action": "return"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert parse(text).title.startswith("Error: ")
    assert "Enter at least one comment before you return the assessment" in text
    assert 'href="#general"' in text


def test_return_resubmit_diff_and_accept(client: TestClient, world: World, app: object) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    response = _post_review(
        client,
        aid,
        {"action": "return", "comment-GOV-01": "Do the PIA <b>first</b>", "general": "See GOV-01"},
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    with db.new_session(engine) as s:
        assessment = s.get_one(Assessment, aid)
        assert assessment.status == "returned"
        assert assessment.section_status["governance"] == "in_progress"
        assert assessment.section_status["scope"] == "completed"
        actions = [
            e.action for e in s.exec(select(AuditEvent).where(AuditEvent.assessment_id == aid))
        ]
        assert actions[-1] == "return"
    # the officer sees the comments on the task list and on the governance section only
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/review/").text)})
    login(client, world.officer_a.email)
    task_list = client.get(f"/assessments/{aid}/").text
    assert "The reviewer&#39;s comments" in task_list
    assert "Do the PIA &lt;b&gt;first&lt;/b&gt;" in task_list
    assert "See GOV-01" in task_list
    governance = client.get(f"/assessments/{aid}/sections/governance").text
    assert "Do the PIA &lt;b&gt;first&lt;/b&gt;" in governance
    scope = client.get(f"/assessments/{aid}/sections/scope").text
    assert "Do the PIA" not in scope
    # resubmission
    answer(engine, world.officer_a, aid, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, world.officer_a, aid)
    client.post("/logout", data={"csrf_token": csrf_from(task_list)})
    login(client, world.reviewer_on.email)
    review = client.get(f"/review/{aid}").text
    assert "What changed since submission 1" in review
    assert "Was a privacy impact assessment done?" in review
    assert "(+" in review  # score went up
    assert "Earlier comments" in review
    accepted = _accept(client, aid)
    assert accepted.status_code == 303  # type: ignore[attr-defined]
    again = _post_from_page(client, aid, review, {"action": "accept"})  # the form sent twice
    assert again.status_code == 409  # type: ignore[attr-defined]
    with db.new_session(engine) as s:
        assert s.get_one(Assessment, aid).status == "accepted"
        digests = s.exec(
            select(SubmissionDigest).where(SubmissionDigest.assessment_id == aid)
        ).all()
        assert sorted((d.number, d.latest) for d in digests) == [(1, False), (2, True)]


def test_reviewer_cannot_submit_and_officer_cannot_review(
    client: TestClient, world: World, app: object
) -> None:
    aid = submitted(app.state.engine, world.officer_a)  # type: ignore[attr-defined]
    login(client, world.officer_a.email)
    assert client.get(f"/review/{aid}").status_code == 403
    assert client.get("/review/").status_code == 403
    token = csrf_from(client.get(f"/assessments/{aid}/").text)
    response = client.post(
        f"/review/{aid}", data={"csrf_token": token, "action": "accept"}, follow_redirects=False
    )
    assert response.status_code == 403


def test_board_sees_accepted_only(client: TestClient, world: World, app: object) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    accepted = submitted(engine, world.officer_a, BAD, program="Accepted program")
    pending = submitted(engine, world.officer_a, program="Pending program")
    decide(engine, world.reviewer_on, accepted, "accept", {"GOV-01": "Needs a PIA"})
    login(client, world.board_a.email)
    listing = client.get("/board/")
    assert "Accepted program" in listing.text
    assert "Pending program" not in listing.text
    summary = client.get(f"/board/{accepted}")
    assert summary.status_code == 200
    assert "Accepted by Test reviewer" in summary.text
    assert "Needs a PIA" in summary.text
    assert "Action plan" in summary.text
    assert client.get(f"/board/{pending}").status_code == 404
    assert client.get(f"/assessments/{pending}/").status_code == 404
    assert client.get("/review/").status_code == 403


def test_portfolio_page_and_csv(client: TestClient, world: World, app: object) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    submitted(engine, world.officer_a)
    submitted(engine, world.officer_b, BAD)
    login(client, world.reviewer_on.email)
    page = client.get("/review/portfolio")
    assert page.status_code == 200
    assert "Programs shown: 2" in page.text  # issue 14: programs, not agencies
    assert "Most common critical gaps" in page.text
    assert "GOV-01" in page.text
    rows = list(csv.reader(io.StringIO(client.get("/review/portfolio.csv").text)))
    assert rows[0][:5] == ["agency", "program", "rating", "score", "submitted_at"]
    by_agency = {r[0]: r for r in rows[1:]}
    col = rows[0].index("GOV-01")
    assert by_agency["Agency A"][col] == "met"
    assert by_agency["Agency B"][col] == "not_met"
    assert client.get("/review/portfolio?questionnaire=nope@9").status_code == 404


def test_review_page_lists_documents_behind_answers(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    with db.new_session(engine) as s:
        draft = assessment_service.start(
            session=s, viewer=viewer(engine, world.officer_a), questionnaire=mini(), program="Docs"
        )
        aid = draft.id
    answer(engine, world.officer_a, aid, GOOD)
    with db.new_session(engine) as s:
        document_service.attach(
            session=s,
            viewer=viewer(engine, world.officer_a),
            assessment_id=aid,
            questionnaire=mini(),
            question_id="pia_done",
            filename="pia-2026.pdf",
            data=PDF,
            max_bytes=1_000_000,
            directory=None,
        )
    resubmit(engine, world.officer_a, aid)
    login(client, world.reviewer_on.email)
    page = client.get(f"/review/{aid}")
    assert "pia-2026.pdf" in page.text
    assert f"/assessments/{aid}/documents/" in page.text


def _logout(client: TestClient, page_url: str) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get(page_url).text)})


def _post_from_page(client: TestClient, aid: object, page: str, data: dict[str, str]) -> Any:
    """POST the review form as the (possibly old) ``page`` carries it: its token and version."""
    payload = {"csrf_token": csrf_from(page), "version": version_from(page), **data}
    return client.post(f"/review/{aid}", data=payload, follow_redirects=False)


def _drafts(engine: object) -> list[tuple[str, dict[str, str], str]]:
    with db.new_session(engine) as s:  # type: ignore[arg-type]
        return [
            (str(d.author_id), d.comments, d.general) for d in s.exec(select(ReviewDraft)).all()
        ]


def test_reviewer_saves_comments_and_decides_later(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, BAD)
    with db.new_session(engine) as s:
        colleague = make_user(
            s, role=Role.reviewer, org=s.get(Organisation, world.reviewer_on.organisation_id)
        )
    login(client, world.reviewer_on.email)
    draft = {"comment-GOV-01": "Ask for the PIA <i>now</i>", "general": "Half way through"}
    saved = _post_review(client, aid, {"action": "save_draft", **draft})
    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert _drafts(engine) == [
        (str(world.reviewer_on.id), {"GOV-01": "Ask for the PIA <i>now</i>"}, "Half way through")
    ]
    page = client.get(f"/review/{aid}").text
    assert 'id="draft-saved"' in page
    assert ">Ask for the PIA &lt;i&gt;now&lt;/i&gt;</textarea>" in page
    assert ">Half way through</textarea>" in page
    with db.new_session(engine) as s:
        assert s.get_one(Assessment, aid).status == "submitted"
        assert s.exec(select(ReviewComment)).all() == []
        assert [e.action for e in s.exec(select(AuditEvent))][-1] == "review_draft"
    # the agency does not learn that comments are waiting: not their text, not the event
    _logout(client, "/review/")
    login(client, world.officer_a.email)
    history = client.get(f"/assessments/{aid}/history").text
    assert "not yet sent" not in history
    assert "Answers saved" in history
    assert "Ask for the PIA" not in client.get(f"/assessments/{aid}/").text
    _logout(client, "/assessments/")
    # another reviewer of the same regulator sees an empty form, and decides
    login(client, colleague.email)
    theirs = client.get(f"/review/{aid}").text
    assert "Ask for the PIA" not in theirs
    assert 'id="draft-saved"' not in theirs
    assert (
        "Reviewer&#39;s comments saved, not yet sent"
        in client.get(f"/assessments/{aid}/history").text
    )
    returned = _post_review(client, aid, {"action": "return", "general": "Please redo"})
    assert returned.status_code == 303  # type: ignore[attr-defined]
    # the decision ends every draft on the submission; only the comments sent with it count
    assert _drafts(engine) == []
    with db.new_session(engine) as s:
        assert [c.body for c in s.exec(select(ReviewComment))] == ["Please redo"]
    _logout(client, "/review/")
    # after the officer resubmits, the first reviewer starts from an empty form
    resubmit(engine, world.officer_a, aid)
    login(client, world.reviewer_on.email)
    again = client.get(f"/review/{aid}").text
    assert 'id="draft-saved"' not in again
    assert "Ask for the PIA" not in again


def test_review_draft_refusals_keep_what_was_typed(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    too_long = _post_review(
        client, aid, {"action": "save_draft", "comment-GOV-01": "x" * 5001, "general": "kept"}
    )
    assert too_long.status_code == 422  # type: ignore[attr-defined]
    assert "Comments must be 5000 characters or fewer" in too_long.text  # type: ignore[attr-defined]
    assert ">kept</textarea>" in too_long.text  # type: ignore[attr-defined]
    assert _drafts(engine) == []
    # blank comments delete the draft
    first = _post_review(client, aid, {"action": "save_draft", "general": "first"})
    assert first.status_code == 303  # type: ignore[attr-defined]
    assert [general for _, _, general in _drafts(engine)] == ["first"]
    blank = _post_review(client, aid, {"action": "save_draft", "general": " "})
    assert blank.status_code == 303  # type: ignore[attr-defined]
    assert _drafts(engine) == []
    # a page read before a change (here, a decision) saves nothing and shows what was typed
    stale_page = client.get(f"/review/{aid}").text
    assert _accept(client, aid).status_code == 303  # type: ignore[attr-defined]
    late = _post_from_page(
        client,
        aid,
        stale_page,
        {"action": "save_draft", "comment-GOV-01": "Written too late", "general": "too late"},
    )
    assert late.status_code == 409
    assert "This assessment is not waiting for review" in late.text
    assert 'id="not-saved"' in late.text
    assert "Written too late" in late.text
    assert _drafts(engine) == []
    # an administrator reads reviews but keeps no drafts
    _logout(client, "/review/")
    other = submitted(engine, world.officer_a, BAD)
    login(client, world.admin.email)
    forbidden = client.post(
        f"/review/{other}",
        data={
            "csrf_token": csrf_from(client.get(f"/review/{other}").text),
            "action": "save_draft",
            "general": "admin",
        },
        follow_redirects=False,
    )
    assert forbidden.status_code == 403
    assert _drafts(engine) == []


def test_review_draft_written_on_an_earlier_submission_is_refused(
    client: TestClient, world: World, app: object
) -> None:
    """Comments written on submission 1 never land as a draft on submission 2."""
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    page_of_first = client.get(f"/review/{aid}").text
    decide(engine, world.reviewer_on, aid, "return", {"GOV-01": "Redo"})
    resubmit(engine, world.officer_a, aid)
    stale = _post_from_page(
        client, aid, page_of_first, {"action": "save_draft", "general": "About submission 1"}
    )
    assert stale.status_code == 409
    assert "About submission 1" in stale.text
    assert _drafts(engine) == []
