"""Reminders with two app instances and two job workers on one PostgreSQL (issue 21): the
periodic job runs on every worker's ticks and both instances look for due items at the same
moment, yet each reminder is recorded once and e-mailed once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import col, select

from service import db
from service.actions import service as action_service
from service.assessments.models import SubmissionDue
from service.main import create_app
from service.models import Role
from service.notices import service as notice_service
from service.notices.models import Notice
from service.review import service as review_service
from service.web.page import today
from tests.builders import make_user, make_world
from tests.conftest import create_pg_database, drop_pg_database, make_settings
from tests.review.helpers import GOOD, mini, submitted, viewer
from tests.smtp import running_smtp, subject

BAD = {**GOOD, "pia_done": "no"}
GAP = "GOV-01"


@pytest.fixture
def pg_notices_url(pg_server_url: str) -> Iterator[str]:
    url = create_pg_database(pg_server_url, prefix="policygap_notices")
    db.upgrade_to_head(url)
    yield url
    drop_pg_database(pg_server_url, url)


def _wait(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _due_items(app: FastAPI) -> None:
    """Three things due, for the two officers of agency A: a resubmission due in 3 days, one
    overdue, an action past its target date."""
    engine = app.state.engine
    world = make_world(engine)
    with db.new_session(engine) as s:
        make_user(s, role=Role.officer, org=world.agency_a, email="second-a@example.test")
    reviewer = viewer(engine, world.reviewer_on)
    for program, days in (("Soon program", 3), ("Late program", 1)):
        aid = submitted(engine, world.officer_a, BAD, program=program)
        with db.new_session(engine) as s:
            review_service.decide(
                session=s,
                viewer=reviewer,
                assessment_id=aid,
                action="return",
                expected_version=None,
                questionnaire=mini(),
                criterion_comments={},
                general_comment="Fix it",
                due_on=today() + timedelta(days=days),
            )
        if program == "Late program":
            with db.new_session(engine) as s, db.writing(s):
                row = s.get_one(SubmissionDue, aid)
                row.due_on = today() - timedelta(days=2)
                s.add(row)
    plan = submitted(engine, world.officer_a, BAD, program="Plan program")
    with db.new_session(engine) as s:
        action_service.update(
            session=s,
            viewer=viewer(engine, world.officer_a),
            assessment_id=plan,
            criterion_id=GAP,
            expected_version=0,
            change=action_service.ActionChange(owner="IT", target_date=today() - timedelta(days=1)),
        )


def _reminder_rows(app: FastAPI) -> list[str]:
    with db.new_session(app.state.engine) as s:
        return [str(n.key) for n in s.exec(select(Notice).where(col(Notice.key).is_not(None)))]


@pytest.mark.postgres
def test_two_instances_and_two_workers_send_each_reminder_once(pg_notices_url: str) -> None:
    with running_smtp() as (inbox, smtp_url):
        settings = make_settings(
            pg_notices_url,
            smtp_url=smtp_url,
            reminder_cron="* * * * * */2",  # a tick every 2 seconds
            embedded_worker=True,
        )
        apps = [create_app(settings) for _ in range(2)]
        try:
            _due_items(apps[0])
            with TestClient(apps[0]), TestClient(apps[1]):  # two instances, a worker each
                # both instances also look for due items at the same moment
                barrier = threading.Barrier(2)
                counts: list[int] = []

                def look(app: FastAPI) -> None:
                    barrier.wait()
                    with db.new_session(app.state.engine) as s:
                        counts.append(notice_service.remind(s, today()))

                threads = [threading.Thread(target=look, args=(a,)) for a in apps]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)

                def reminders() -> list[tuple[str, str]]:
                    return [
                        (rcpt[0], subject(m))
                        for rcpt, m in inbox.messages
                        if "due on" in subject(m)
                    ]

                _wait(lambda: len(reminders()) >= 6, 120, "six reminders by e-mail")
                time.sleep(6)  # three more ticks of the periodic job on both workers
                sent = reminders()
                with apps[0].state.engine.connect() as conn:
                    ticks = conn.execute(
                        text(
                            "SELECT count(*), count(DISTINCT args->>'timestamp')"
                            " FROM procrastinate_jobs WHERE task_name = :name"
                        ),
                        {"name": notice_service.REMINDERS_TASK},
                    ).one()
            keys = _reminder_rows(apps[0])
        finally:
            for app in apps:
                app.state.engine.dispose()
    assert sum(counts) <= 6  # the two instances' looks together recorded each at most once
    assert len(keys) == 6
    assert len(set(keys)) == 6
    assert Counter(sent) == Counter(set(sent)), sent  # nobody got a reminder twice
    assert len(sent) == 6
    by_officer = Counter(to for to, _ in sent)
    assert by_officer == {"officer-a@example.test": 3, "second-a@example.test": 3}
    jobs, distinct_ticks = ticks
    assert jobs >= 3  # the periodic job ran at several ticks
    assert jobs == distinct_ticks  # each tick deferred once, whichever worker deferred it
    assert {s for _, s in sent if s.startswith("PolicyGap: Overdue")} == {
        f"PolicyGap: Overdue: the resubmission of Late program was due on {(today() - timedelta(days=2)).isoformat()}",
        f"PolicyGap: Overdue: action GOV-01 of Plan program was due on {(today() - timedelta(days=1)).isoformat()}",
    }
