"""The review use cases on both back ends (SQLite and PostgreSQL): inbox filters, counts,
sorting and pages, decisions and the workflow, diff, portfolio, reassessment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from service import db
from service.assessments import service as assessment_service
from service.assessments.models import ReviewComment, SubmissionDigest
from service.errors import Forbidden, InvalidTransition, NotFound
from service.models import AuditEvent
from service.review import service as review_service
from service.review.service import InboxFilters
from tests.builders import make_world
from tests.review.helpers import GOOD, answer, decide, mini, resubmit, submitted, viewer

BAD = {**GOOD, "pia_done": "no", "pia_date": None}


def test_inbox_filters_counts_and_pages(engine: Engine) -> None:
    w = make_world(engine)
    ids = [submitted(engine, w.officer_a, program=f"P{i}") for i in range(3)]
    red = submitted(engine, w.officer_b, BAD, program="Red one")
    decide(engine, w.reviewer_on, ids[0], "accept")
    decide(engine, w.reviewer_on, ids[1], "return", {"GOV-01": "x"})
    v = viewer(engine, w.reviewer_on)
    with db.new_session(engine) as s:
        page = review_service.inbox(session=s, viewer=v, filters=InboxFilters(), per_page=2)
        assert page.total == 4
        assert page.pages == 2
        assert page.counts == {"submitted": 2, "returned": 1, "accepted": 1}
        assert len(page.rows) == 2
        only_red = review_service.inbox(session=s, viewer=v, filters=InboxFilters(rating="red"))
        assert [r.assessment_id for r in only_red.rows] == [red]
        returned = review_service.inbox(
            session=s, viewer=v, filters=InboxFilters(status="returned")
        )
        assert [r.assessment_id for r in returned.rows] == [ids[1]]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        assert (
            review_service.inbox(
                session=s, viewer=v, filters=InboxFilters(submitted_from=tomorrow)
            ).total
            == 0
        )
        by_score = review_service.inbox(
            session=s, viewer=v, filters=InboxFilters(sort="score", descending=False)
        )
        assert by_score.rows[0].assessment_id == red
        versions = review_service.inbox(
            session=s, viewer=v, filters=InboxFilters(questionnaire="web-mini@1.0")
        )
        assert versions.total == 4
        fed = review_service.inbox(
            session=s, viewer=viewer(engine, w.reviewer_fed), filters=InboxFilters()
        )
        assert fed.total == 0
        with pytest.raises(Forbidden):
            review_service.inbox(
                session=s, viewer=viewer(engine, w.officer_a), filters=InboxFilters()
            )


def test_decisions_follow_the_table_and_are_audited(engine: Engine) -> None:
    w = make_world(engine)
    aid = submitted(engine, w.officer_a, BAD)
    with pytest.raises(InvalidTransition):
        decide(engine, w.reviewer_on, aid, "return")  # no comment
    with pytest.raises(NotFound):
        decide(engine, w.reviewer_fed, aid, "accept")  # not overseen
    with pytest.raises(Forbidden):
        decide(engine, w.officer_a, aid, "accept")
    with pytest.raises(NotFound):
        decide(engine, w.reviewer_on, aid, "return", {"XXX-99": "no such criterion"})
    decide(engine, w.reviewer_on, aid, "return", {"GOV-01": "Do a PIA"}, "General")
    with pytest.raises(InvalidTransition):
        decide(engine, w.reviewer_on, aid, "accept")  # returned: waits for the officer
    answer(engine, w.officer_a, aid, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, w.officer_a, aid)
    decide(engine, w.reviewer_on, aid, "accept")
    with db.new_session(engine) as s:
        events = [
            e.action
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.assessment_id == aid).order_by(AuditEvent.at)  # type: ignore[arg-type]
            )
        ]
        assert [e for e in events if e in ("submit", "return", "accept")] == [
            "submit",
            "return",
            "submit",
            "accept",
        ]
        comments = s.exec(select(ReviewComment).where(ReviewComment.assessment_id == aid)).all()
        assert sorted((c.criterion_id or "", c.body) for c in comments) == [
            ("", "General"),
            ("GOV-01", "Do a PIA"),
        ]
        digest = s.exec(
            select(SubmissionDigest).where(
                SubmissionDigest.assessment_id == aid,
                SubmissionDigest.latest == True,  # noqa: E712
            )
        ).one()
        assert digest.status == "accepted"
        assert digest.number == 2
        subs = assessment_service.submissions(session=s, assessment_id=aid, viewer=None)
        # each submission keeps its own decision: 1 returned with the comments, 2 accepted
        returned = review_service.decision(session=s, submission=subs[0])
        assert returned.status == "returned"
        assert returned.review is not None
        assert returned.review.decided_by == "Test reviewer"
        assert returned.review.comments == {"GOV-01": ["Do a PIA"]}
        assert returned.review.general_comment == "General"
        accepted = review_service.decision(session=s, submission=subs[1])
        assert accepted.status == "accepted"
        assert accepted.review is not None
        assert accepted.review.decided_by == "Test reviewer"
        assert accepted.review.comments == {}
        d = review_service.diff(mini(), subs[0], subs[1])
        assert [c.question_id for c in d.answers] == ["pia_done", "pia_date"]
        assert (d.rating_before, d.rating_after) == ("red", "green")


def test_portfolio_latest_per_program(engine: Engine) -> None:
    # issue 14: one row per program (assessment); it kept one per agency and lost "older"
    w = make_world(engine)
    submitted(engine, w.officer_a, BAD, program="older")
    submitted(engine, w.officer_a, program="newer")
    submitted(engine, w.officer_b, BAD)
    with db.new_session(engine) as s:
        data = review_service.portfolio(
            session=s, viewer=viewer(engine, w.reviewer_on), questionnaire=mini()
        )
    assert [(org.slug, d.program) for org, d in data.programs] == [
        ("agency-a", "newer"),
        ("agency-a", "older"),
        ("agency-b", "Mugshot search"),
    ]
    assert data.ratings == {"red": 2, "amber": 0, "green": 1}
    assert data.critical_gaps == [("GOV-01", 2)]
    assert data.met_share["GOV-01"] == 33.3
    cells = {d.program: data.cells[d.assessment_id] for _, d in data.programs}
    assert cells["newer"]["GOV-01"] == "met"
    assert cells["older"]["GOV-01"] == "not_met"


def test_reassess_carries_answers(engine: Engine) -> None:
    w = make_world(engine)
    aid = submitted(engine, w.officer_a, BAD)
    decide(engine, w.reviewer_on, aid, "accept")
    v = viewer(engine, w.officer_a)
    with db.new_session(engine) as s:
        draft, link = review_service.reassess(
            session=s,
            viewer=v,
            previous_id=aid,
            questionnaire=mini(),
            previous_questionnaire=mini(),
        )
        assert draft.answers["pia_done"] == "no"
        assert draft.program == "Mugshot search"
        assert link.new_questions == []
        assert review_service.previous_result(session=s, assessment_id=draft.id) is not None
        with pytest.raises(InvalidTransition):
            review_service.reassess(
                session=s,
                viewer=v,
                previous_id=draft.id,
                questionnaire=mini(),
                previous_questionnaire=mini(),
            )
