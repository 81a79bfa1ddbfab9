"""Notices (issue 21): recorded for returned, accepted, a comment on an action's target date,
due soon and overdue; listed in the app with an unread count; e-mailed through a real SMTP
server (aiosmtpd) from a job, in the recipient's language, with titles and links only; the
user's e-mail choices; reminders once each; the regulator's due dates and the overdue marks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from service import db
from service.actions import service as action_service
from service.assessments.models import Assessment, SubmissionDue
from service.jobs.models import JobRow
from service.jobs.sqlite import TableWorker
from service.main import create_app
from service.models import ActionStatus, AssessmentStatus, AuditEvent, Role, User
from service.notices import mail, text
from service.notices import service as notice_service
from service.notices.models import EmailState, Notice, NoticeKind
from service.review import service as review_service
from service.web.page import today
from tests.builders import (
    World,
    csrf_from,
    free_port,
    login,
    make_user,
    make_world,
    parse,
    version_from,
)
from tests.conftest import make_settings
from tests.review.helpers import GOOD, answer, mini, resubmit, submitted, viewer
from tests.smtp import Inbox, running_smtp, subject

BAD = {**GOOD, "pia_done": "no"}  # one gap: GOV-01 (critical)
GAP = "GOV-01"
# what must never leave the app in a notice: comments' text, answers, notes
SECRETS = ("SECRET-COMMENT-4471", "SECRET-GENERAL-9902", "SECRET-NOTE-3318", "SECRET-ACTION-5120")


# --- a real SMTP server ------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def mail_app(sqlite_url: str, smtp: tuple[Inbox, str]) -> Iterator[FastAPI]:
    app = create_app(make_settings(sqlite_url, smtp_url=smtp[1]))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def mail_world(mail_app: FastAPI) -> World:
    return make_world(mail_app.state.engine)


def _send(app: FastAPI) -> int:
    return notice_service.send_pending(app.state.engine, app.state.settings)


def _notices(app: FastAPI, user: User) -> list[Notice]:
    with db.new_session(app.state.engine) as s:
        return list(
            s.exec(
                select(Notice)
                .where(Notice.user_id == user.id)
                .order_by(col(Notice.created_at), col(Notice.id))
            )
        )


def _set_language(app: FastAPI, user: User, lang: str) -> None:
    with db.new_session(app.state.engine) as s, db.writing(s):
        row = s.get_one(User, user.id)
        row.language = lang
        s.add(row)


def _decide(
    app: FastAPI,
    reviewer: User,
    aid: uuid.UUID,
    action: str,
    *,
    comments: dict[str, str] | None = None,
    general: str = "",
    due_on: date | None = None,
) -> None:
    with db.new_session(app.state.engine) as s:
        review_service.decide(
            session=s,
            viewer=viewer(app.state.engine, reviewer),
            assessment_id=aid,
            action=action,
            expected_version=None,
            questionnaire=mini(),
            criterion_comments=comments or {},
            general_comment=general,
            due_on=due_on,
        )


def _body(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    return str(plain.get_content()), str(html.get_content())


def _no_secret(*texts: str) -> None:
    for value in texts:
        for secret in SECRETS:
            assert secret not in value


def _everything(message: EmailMessage) -> str:
    return message.as_string() + "".join(_body(message))


# --- the words of each notice, both languages ----------------------------------------------------

PARAMS = {
    "program": "Mugshot search",
    "criterion": "GOV-01",
    "part": "Retention",
    "date": "2026-12-20",
}


@pytest.mark.parametrize(("kind", "subject"), sorted(text.TITLES))
def test_every_notice_reads_in_english_and_in_french(kind: str, subject: str) -> None:
    params = PARAMS | {"subject": subject}
    en = text.words(kind, params, "en")
    fr = text.words(kind, params, "fr")
    assert en.title
    assert fr.title
    assert en.next_step
    assert fr.next_step
    assert en.title != fr.title
    assert en.next_step != fr.next_step
    for said in (en, fr):
        assert "{" not in said.title  # every placeholder filled
        assert "Mugshot search" in said.title
    if kind in (NoticeKind.due_soon, NoticeKind.overdue):
        assert "2026-12-20" in en.title
        assert "2026-12-20" in fr.title
    if kind == NoticeKind.overdue:
        assert en.title.startswith("Overdue:")
        assert fr.title.startswith("En retard\u00a0:")


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_each_message_is_plain_text_with_html_alternative_and_a_link(kind: str, lang: str) -> None:
    settings = make_settings("sqlite://", public_url="https://policygap.example.ca")
    params = PARAMS | {"link": "/assessments/abc/", "subject": "submission"}
    message = mail.message(settings, to="x@example.test", kind=kind, params=params, lang=lang)
    assert message.get_content_type() == "multipart/alternative"
    plain, html = _body(message)
    title = text.words(kind, params, lang).title
    assert message["Subject"] == f"PolicyGap: {title}"
    assert message["Content-Language"] == lang
    assert title in plain
    assert "https://policygap.example.ca/assessments/abc/" in plain
    assert 'href="https://policygap.example.ca/assessments/abc/"' in html
    assert f'<html lang="{lang}">' in html


def test_a_message_escapes_the_program_name_in_html() -> None:
    settings = make_settings("sqlite://")
    params = {"program": "<script>alert(1)</script>", "link": "javascript:alert(1)"}
    message = mail.message(settings, to="x@example.test", kind="accepted", params=params, lang="en")
    _plain, html = _body(message)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html  # a link that is not a path of the app becomes /notices


# --- events: returned, accepted, a comment on an action ---------------------------------------


def test_return_and_accept_notify_the_agency_s_officers_by_app_and_mail_in_their_language(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    inbox, _url = smtp
    engine = mail_app.state.engine
    with db.new_session(engine) as s:
        second = make_user(
            s, role=Role.officer, org=mail_world.agency_a, email="second-a@example.test"
        )
    _set_language(mail_app, second, "fr")
    aid = submitted(engine, mail_world.officer_a, BAD, program="Mugshot search")
    _decide(
        mail_app,
        mail_world.reviewer_on,
        aid,
        "return",
        comments={GAP: "SECRET-COMMENT-4471"},
        general="SECRET-GENERAL-9902",
    )
    assert _send(mail_app) == 2
    english = inbox.to("officer-a@example.test")
    french = inbox.to("second-a@example.test")
    assert len(english) == 1
    assert len(french) == 1
    assert subject(english[0]) == "PolicyGap: Mugshot search was returned for changes"
    assert subject(french[0]) == "PolicyGap: Mugshot search a été renvoyée pour modifications"
    assert french[0]["Content-Language"] == "fr"
    plain, html = _body(english[0])
    assert f"http://localhost:8000/assessments/{aid}/" in plain
    assert f"/assessments/{aid}/" in html
    _no_secret(*(_everything(m) for _, m in inbox.messages))
    # nobody outside the agency hears of it
    assert inbox.to("officer-b@example.test") == []
    assert inbox.to("reviewer-on@example.test") == []

    resubmit(engine, mail_world.officer_a, aid)
    _decide(mail_app, mail_world.reviewer_on, aid, "accept")
    _send(mail_app)
    assert inbox.subjects("officer-a@example.test")[-1] == (
        "PolicyGap: Mugshot search was accepted"
    )
    kinds = [n.kind for n in _notices(mail_app, mail_world.officer_a)]
    assert kinds == [NoticeKind.returned, NoticeKind.accepted]
    for notice in _notices(mail_app, mail_world.officer_a):
        _no_secret(str(notice.params))
        assert notice.email_state is EmailState.sent


def test_a_comment_on_an_action_notifies_without_its_text(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    inbox, _url = smtp
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    with db.new_session(engine) as s:
        action_service.comment(
            session=s,
            viewer=viewer(engine, mail_world.reviewer_on),
            assessment_id=aid,
            criterion_id=GAP,
            body="SECRET-ACTION-5120: is 2027-03-31 realistic?",
        )
    _send(mail_app)
    (message,) = inbox.to("officer-a@example.test")
    assert subject(message) == (
        "PolicyGap: The regulator commented on action GOV-01 of Mugshot search"
    )
    plain, _html = _body(message)
    assert f"/assessments/{aid}/actions/{GAP}#comments" in plain
    _no_secret(_everything(message))
    (notice,) = _notices(mail_app, mail_world.officer_a)
    assert notice.kind is NoticeKind.comment_on_target_date


def test_the_send_job_is_queued_after_the_commit_and_sends_from_the_worker(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    """Nothing is sent in the request: the use case queues the job, the worker sends."""
    inbox, _url = smtp
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="Fix the PIA")
    assert inbox.messages == []  # not sent by the decision itself
    with db.new_session(engine) as s:
        queued = [j.task for j in s.exec(select(JobRow))]
    assert queued == [notice_service.SEND_TASK]
    worker = TableWorker(mail_app.state.settings, engine, mail_app.state.job_resources)
    assert worker.run_one()
    assert len(inbox.to("officer-a@example.test")) == 1


def test_no_smtp_server_keeps_notices_in_the_app_and_the_log_says_so_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(sqlite_url))
    try:
        with caplog.at_level(logging.INFO, logger="service.notices.service"), TestClient(app):
            pass
        told = [r for r in caplog.records if "POLICYGAP_SMTP_URL" in r.getMessage()]
        assert len(told) == 1
        world = make_world(app.state.engine)
        aid = submitted(app.state.engine, world.officer_a, BAD)
        _decide(app, world.reviewer_on, aid, "return", general="Fix it")
        assert _send(app) == 0
        (notice,) = _notices(app, world.officer_a)
        assert notice.email_state is EmailState.off  # in the app, not e-mailed
    finally:
        app.state.engine.dispose()


# --- preferences ---------------------------------------------------------------------------------


def test_preferences_decide_which_notices_come_by_mail_all_stay_in_the_app(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    inbox, _url = smtp
    engine = mail_app.state.engine
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        page = client.get("/account/notices")
        assert page.status_code == 200
        checked = parse(page.text)
        assert checked.title.startswith("Notice settings")
        # keep every kind but "returned"
        kinds = [k.value for k in NoticeKind if k is not NoticeKind.returned]
        r = client.post(
            "/account/notices",
            data={"csrf_token": csrf_from(page.text), "email": kinds},
            follow_redirects=False,
        )
        assert r.status_code == 303
        again = client.get("/account/notices")
        assert 'value="returned" checked' not in again.text
        assert 'value="accepted" checked' in again.text
    aid = submitted(engine, mail_world.officer_a, BAD)
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="Fix it")
    _send(mail_app)
    assert inbox.to("officer-a@example.test") == []  # returned: not by e-mail
    (notice,) = _notices(mail_app, mail_world.officer_a)
    assert notice.kind is NoticeKind.returned
    assert notice.email_state is EmailState.none
    resubmit(engine, mail_world.officer_a, aid)
    _decide(mail_app, mail_world.reviewer_on, aid, "accept")
    _send(mail_app)
    assert inbox.subjects("officer-a@example.test") == ["PolicyGap: Mugshot search was accepted"]
    with db.new_session(engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "notice_settings")).one()
    assert "returned" not in audit.detail["email_kinds"]


# --- the list in the app -----------------------------------------------------------------------


def test_the_notices_page_lists_newest_first_counts_unread_and_marks_read(
    mail_app: FastAPI, mail_world: World
) -> None:
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD, program="Program One")
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="Fix it")
    resubmit(engine, mail_world.officer_a, aid)
    _decide(mail_app, mail_world.reviewer_on, aid, "accept")
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        dashboard = client.get("/assessments/")
        assert "Notices (2 unread)" in dashboard.text  # the header of every signed-in page
        page = client.get("/notices")
        assert page.status_code == 200
        accepted = page.text.index("Program One was accepted")
        returned = page.text.index("Program One was returned for changes")
        assert accepted < returned  # newest first
        assert "You have 2 unread notices." in page.text
        assert page.text.count(">Unread</strong>") == 2  # in words, not by colour alone
        notices = _notices(mail_app, mail_world.officer_a)
        r = client.post(
            "/notices/read",
            data={"csrf_token": csrf_from(page.text), "notice": str(notices[0].id)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "Notices (1 unread)" in client.get("/notices").text
        page = client.get("/notices")
        client.post("/notices/read", data={"csrf_token": csrf_from(page.text)})
        after = client.get("/notices")
        assert "You have 0 unread notices." in after.text
        assert ">Notices</a>" in after.text
    assert all(n.read_at is not None for n in _notices(mail_app, mail_world.officer_a))


def test_a_user_cannot_mark_another_user_s_notice(mail_app: FastAPI, mail_world: World) -> None:
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="Fix it")
    (notice,) = _notices(mail_app, mail_world.officer_a)
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_b.email)
        page = client.get("/notices")
        assert "You have no notices yet." in page.text
        client.post(
            "/notices/read", data={"csrf_token": csrf_from(page.text), "notice": str(notice.id)}
        )
        client.post("/notices/read", data={"csrf_token": csrf_from(page.text)})
    (still,) = _notices(mail_app, mail_world.officer_a)
    assert still.read_at is None


def test_marking_read_without_the_csrf_token_is_refused(
    mail_app: FastAPI, mail_world: World
) -> None:
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        assert client.post("/notices/read", data={}).status_code == 403


# --- due dates and reminders --------------------------------------------------------------------


def _returned_with_due(
    app: FastAPI, world: World, due_on: date, program: str = "Mugshot search"
) -> uuid.UUID:
    aid = submitted(app.state.engine, world.officer_a, BAD, program=program)
    _decide(app, world.reviewer_on, aid, "return", general="Fix it", due_on=due_on)
    return aid


def _remind(app: FastAPI, on: date) -> int:
    with db.new_session(app.state.engine) as s:
        return notice_service.remind(s, on)


def test_a_return_stores_the_resubmission_due_date_with_an_audit_event(
    mail_app: FastAPI, mail_world: World
) -> None:
    due = today() + timedelta(days=30)
    aid = _returned_with_due(mail_app, mail_world, due)
    with db.new_session(mail_app.state.engine) as s:
        row = s.get_one(SubmissionDue, aid)
        assert row.due_on == due
        assert row.resubmission
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "due_date_set")).one()
        assert event.detail["due_date"] == due.isoformat()
    # accepting spends it
    resubmit(mail_app.state.engine, mail_world.officer_a, aid)
    _decide(mail_app, mail_world.reviewer_on, aid, "accept")
    with db.new_session(mail_app.state.engine) as s:
        assert s.get(SubmissionDue, aid) is None


def test_reminders_are_recorded_and_sent_once_due_soon_then_overdue(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    inbox, _url = smtp
    due = today() + timedelta(days=10)
    _returned_with_due(mail_app, mail_world, due)
    _send(mail_app)
    inbox.messages.clear()
    assert _remind(mail_app, due - timedelta(days=8)) == 0  # not yet within 7 days
    assert _remind(mail_app, due - timedelta(days=7)) == 1
    assert _remind(mail_app, due - timedelta(days=6)) == 0  # once
    assert _remind(mail_app, due) == 0  # still the same due-soon reminder
    assert _remind(mail_app, due + timedelta(days=1)) == 1  # overdue
    assert _remind(mail_app, due + timedelta(days=5)) == 0  # once
    _send(mail_app)
    subjects = inbox.subjects("officer-a@example.test")
    assert subjects == [
        f"PolicyGap: The resubmission of Mugshot search is due on {due.isoformat()}",
        f"PolicyGap: Overdue: the resubmission of Mugshot search was due on {due.isoformat()}",
    ]
    assert _send(mail_app) == 0  # nothing twice


def test_a_new_due_date_is_reminded_again_and_a_resubmission_ends_the_reminders(
    mail_app: FastAPI, mail_world: World
) -> None:
    engine = mail_app.state.engine
    due = today() + timedelta(days=3)
    aid = _returned_with_due(mail_app, mail_world, due)
    assert _remind(mail_app, today()) == 1
    with db.new_session(engine) as s:
        review_service.set_due_date(
            session=s,
            viewer=viewer(engine, mail_world.reviewer_on),
            assessment_id=aid,
            due_on=due + timedelta(days=1),
        )
    assert _remind(mail_app, today()) == 1  # (kind, item, due date): a new date, a new notice
    resubmit(engine, mail_world.officer_a, aid)
    assert _remind(mail_app, due + timedelta(days=10)) == 0  # submitted: nothing is due


def test_actions_past_their_target_date_are_reminded_and_closed_ones_are_not(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    inbox, _url = smtp
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    target = today() + timedelta(days=2)
    with db.new_session(engine) as s:
        action_service.update(
            session=s,
            viewer=viewer(engine, mail_world.officer_a),
            assessment_id=aid,
            criterion_id=GAP,
            expected_version=0,
            change=action_service.ActionChange(
                owner="Records", target_date=target, note="SECRET-NOTE-3318"
            ),
        )
    assert _remind(mail_app, today()) == 1
    assert _remind(mail_app, target + timedelta(days=1)) == 1
    _send(mail_app)
    subjects = inbox.subjects("officer-a@example.test")
    assert subjects == [
        f"PolicyGap: Action GOV-01 of Mugshot search is due on {target.isoformat()}",
        f"PolicyGap: Overdue: action GOV-01 of Mugshot search was due on {target.isoformat()}",
    ]
    _no_secret(*(_everything(m) for _, m in inbox.messages))
    with db.new_session(engine) as s:
        action_service.update(
            session=s,
            viewer=viewer(engine, mail_world.officer_a),
            assessment_id=aid,
            criterion_id=GAP,
            expected_version=1,
            change=action_service.ActionChange(
                owner="Records", target_date=target, status=ActionStatus.done
            ),
        )
    with db.new_session(engine) as s:
        due = notice_service.DUE_SOURCES["actions"](s, today(), today() + timedelta(days=30))
        assert list(due) == []


def test_the_periodic_job_is_deferred_once_per_tick_on_sqlite(mail_app: FastAPI) -> None:
    engine = mail_app.state.engine
    worker = TableWorker(mail_app.state.settings, engine, mail_app.state.job_resources)
    hour = 1_800_000_000 - 1_800_000_000 % 3600  # an o'clock, the default cron's tick
    assert worker.defer_periodic(hour + 5) == [notice_service.REMINDERS_TASK]
    assert worker.defer_periodic(hour + 600) == []  # the same tick
    assert worker.defer_periodic(hour + 3600) == [notice_service.REMINDERS_TASK]
    with db.new_session(engine) as s:
        keys = sorted(j.key for j in s.exec(select(JobRow)))
    assert keys == [
        f"periodic:{notice_service.REMINDERS_TASK}:{hour}",
        f"periodic:{notice_service.REMINDERS_TASK}:{hour + 3600}",
    ]


# --- overdue marks on the pages -----------------------------------------------------------------


def test_overdue_is_marked_in_words_on_the_dashboard_plan_and_inbox(
    mail_app: FastAPI, mail_world: World
) -> None:
    engine = mail_app.state.engine
    due = today() + timedelta(days=3)
    aid = _returned_with_due(mail_app, mail_world, due)
    late = today() - timedelta(days=2)
    with db.new_session(engine) as s, db.writing(s):  # a due date that has passed since
        row = s.get_one(SubmissionDue, aid)
        row.due_on = late
        s.add(row)
    other = submitted(engine, mail_world.officer_a, BAD, program="Second program")
    with db.new_session(engine) as s:
        action_service.update(
            session=s,
            viewer=viewer(engine, mail_world.officer_a),
            assessment_id=other,
            criterion_id=GAP,
            expected_version=0,
            change=action_service.ActionChange(owner="Records", target_date=late),
        )
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        dashboard = client.get("/assessments/").text
        assert f"Overdue: due {late.isoformat()}" in dashboard
        assert "Overdue: 1 action past its target date" in dashboard
        plan = client.get(f"/assessments/{other}/actions").text
        assert f"Overdue: due {late.isoformat()}" in plan
        action = client.get(f"/assessments/{other}/actions/{GAP}").text
        assert f"Overdue: due {late.isoformat()}" in action
    with TestClient(mail_app) as client:
        login(client, mail_world.reviewer_on.email)
        inbox = client.get("/review/").text
        assert f"Overdue: due {late.isoformat()}" in inbox
        assert "Overdue: 1 action past its target date" in inbox
        review = client.get(f"/review/{aid}").text
        assert f"Overdue: due {late.isoformat()}" in review


# --- the regulator sets the due date on the pages ----------------------------------------------


def test_the_reviewer_returns_with_a_due_date_and_changes_it_on_the_review_page(
    mail_app: FastAPI, mail_world: World
) -> None:
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    due = today() + timedelta(days=20)
    with TestClient(mail_app) as client:
        login(client, mail_world.reviewer_on.email)
        page = client.get(f"/review/{aid}")
        assert 'id="due_date"' in page.text
        form = {
            "csrf_token": csrf_from(page.text),
            "version": version_from(page.text),
            "general": "Fix the PIA",
            "due_date": "2026-31-12",
            "action": "return",
        }
        refused = client.post(f"/review/{aid}", data=form)
        assert refused.status_code == 422
        assert "Enter the due date as year-month-day" in refused.text
        assert 'href="#due_date"' in refused.text  # the error summary links to the field
        assert refused.text.count('value="2026-31-12"') == 1  # what was typed is kept
        r = client.post(
            f"/review/{aid}", data=form | {"due_date": due.isoformat()}, follow_redirects=False
        )
        assert r.status_code == 303
        shown = client.get(f"/review/{aid}").text
        assert f"Due {due.isoformat()}" in shown
        later = due + timedelta(days=5)
        r = client.post(
            f"/review/{aid}/due",
            data={"csrf_token": csrf_from(shown), "due_date": later.isoformat()},
            follow_redirects=False,
        )
        assert r.status_code == 303
        past = client.post(
            f"/review/{aid}/due",
            data={
                "csrf_token": csrf_from(shown),
                "due_date": (today() - timedelta(days=1)).isoformat(),
            },
        )
        assert past.status_code == 422
        assert "The due date must be today or later" in past.text
    with db.new_session(engine) as s:
        assert s.get_one(SubmissionDue, aid).due_on == later
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        assert f"Due {later.isoformat()}" in client.get("/assessments/").text


def test_an_officer_cannot_set_a_due_date(mail_app: FastAPI, mail_world: World) -> None:
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="Fix it")
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        page = client.get("/assessments/")
        r = client.post(
            f"/review/{aid}/due",
            data={"csrf_token": csrf_from(page.text), "due_date": "2030-01-01"},
        )
        assert r.status_code == 403
    with db.new_session(engine) as s:
        assert s.get(SubmissionDue, aid) is None
        assert s.get_one(Assessment, aid).status == AssessmentStatus.returned


def test_assigned_to_you_is_ready_to_be_called(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    """The assignments feature calls this when an officer assigns a part (merged later)."""
    inbox, _url = smtp
    with db.new_session(mail_app.state.engine) as s, db.writing(s):
        notice_service.notify(
            s,
            mail_world.officer_a.id,
            NoticeKind.assigned_to_you,
            {
                "program": "Mugshot search",
                "part": {"en": "Retention", "fr": "Conservation"},
                "link": "/assessments/x/",
            },
        )
    _set_language(mail_app, mail_world.officer_a, "fr")
    _send(mail_app)
    (message,) = inbox.to("officer-a@example.test")
    assert subject(message) == "PolicyGap: On vous a confié Conservation de Mugshot search"


def test_answers_are_not_in_any_notice(
    mail_app: FastAPI, mail_world: World, smtp: tuple[Inbox, str]
) -> None:
    inbox, _url = smtp
    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="Fix it")
    answer(engine, mail_world.officer_a, aid, BAD | {"pia_date": "2026-01-02"})
    _send(mail_app)
    for _, message in inbox.messages:
        everything = _everything(message)
        assert "pia_done" not in everything
        assert "2026-01-02" not in everything


def test_a_mail_server_that_cannot_be_reached_leaves_the_notices_to_send_later(
    sqlite_url: str,
) -> None:
    nobody = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    app = create_app(make_settings(sqlite_url, smtp_url=nobody))
    try:
        world = make_world(app.state.engine)
        aid = submitted(app.state.engine, world.officer_a, BAD)
        _decide(app, world.reviewer_on, aid, "return", general="Fix it")
        with pytest.raises(ConnectionRefusedError):
            _send(app)  # the job fails (and is retried)
        (notice,) = _notices(app, world.officer_a)
        assert notice.email_state is EmailState.pending
        with running_smtp() as (inbox, url):
            later = app.state.settings.model_copy(update={"smtp_url": url})
            assert notice_service.send_pending(app.state.engine, later) == 1
            assert len(inbox.to("officer-a@example.test")) == 1
    finally:
        app.state.engine.dispose()


def test_the_api_lists_marks_read_and_sets_the_e_mail_kinds(
    mail_app: FastAPI, mail_world: World
) -> None:
    from service.auth import service as auth_service

    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD, program="Program One")
    _decide(mail_app, mail_world.reviewer_on, aid, "return", general="SECRET-GENERAL-9902")
    with db.new_session(engine) as s:
        token = auth_service.create_api_token(session=s, user=mail_world.officer_a, name="t")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(mail_app) as client:
        listed = client.get("/api/v1/notices?lang=fr", headers=auth)
        assert listed.status_code == 200
        body = listed.json()
        assert body["unread"] == 1
        (notice,) = body["notices"]
        assert notice["kind"] == "returned"
        assert notice["title"] == "Program One a été renvoyée pour modifications"
        assert notice["link"] == f"/assessments/{aid}/"
        _no_secret(listed.text)
        r = client.post("/api/v1/notices/read", json={"notice_id": notice["id"]}, headers=auth)
        assert r.json() == {"marked": 1}
        assert client.get("/api/v1/notices", headers=auth).json()["unread"] == 0
        r = client.put("/api/v1/notices/settings", json={"email": ["overdue"]}, headers=auth)
        assert r.status_code == 200
        assert client.get("/api/v1/notices/settings", headers=auth).json() == {"email": ["overdue"]}
        bad = client.put("/api/v1/notices/settings", json={"email": ["nope"]}, headers=auth)
        assert bad.status_code == 422


def test_the_api_returns_with_a_due_date_and_refuses_one_in_the_past(
    mail_app: FastAPI, mail_world: World
) -> None:
    from service.auth import service as auth_service

    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD)
    with db.new_session(engine) as s:
        token = auth_service.create_api_token(session=s, user=mail_world.reviewer_on, name="t")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/review/assessments/{aid}/decision"
    with TestClient(mail_app) as client:
        review = client.get(f"/api/v1/review/assessments/{aid}", headers=auth).json()
        version = review["assessment"]["version"]
        headers = auth | {"If-Match": f'"{version}"'}
        body = {"action": "return", "general_comment": "Fix it"}
        past = (today() - timedelta(days=1)).isoformat()
        refused = client.post(url, json=body | {"due_date": past}, headers=headers)
        assert refused.status_code == 422
        due = (today() + timedelta(days=14)).isoformat()
        done = client.post(url, json=body | {"due_date": due}, headers=headers)
        assert done.status_code == 200, done.text
    with db.new_session(engine) as s:
        assert s.get_one(SubmissionDue, aid).due_on.isoformat() == due


def test_the_next_assessment_of_an_accepted_one_is_due_until_a_reassessment_is_submitted(
    mail_app: FastAPI, mail_world: World
) -> None:
    from service.assessments import service as assessment_service
    from service.assessments.models import Reassessment

    engine = mail_app.state.engine
    aid = submitted(engine, mail_world.officer_a, BAD, program="Year 1")
    _decide(mail_app, mail_world.reviewer_on, aid, "accept")
    due = today() + timedelta(days=4)
    with TestClient(mail_app) as client:
        login(client, mail_world.reviewer_on.email)
        page = client.get(f"/review/{aid}")
        assert "When the next assessment is due" in page.text
        r = client.post(
            f"/review/{aid}/due",
            data={"csrf_token": csrf_from(page.text), "due_date": due.isoformat()},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "The due date is saved." in client.get(r.headers["location"]).text
    with TestClient(mail_app) as client:
        login(client, mail_world.officer_a.email)
        assert f"Due soon: {due.isoformat()}" in client.get("/assessments/").text
    assert _remind(mail_app, today()) == 1
    (reminder,) = [n for n in _notices(mail_app, mail_world.officer_a) if n.key]
    assert text.words(reminder.kind, reminder.params, "en").title == (
        f"The submission of Year 1 is due on {due.isoformat()}"
    )
    # a reassessment of it, submitted: the due date is met
    year2 = submitted(engine, mail_world.officer_a, BAD, program="Year 2")
    with db.new_session(engine) as s, db.writing(s):
        latest = assessment_service.get_submission(session=s, assessment_id=aid, viewer=None)
        assert latest is not None
        s.add(
            Reassessment(
                assessment_id=year2, previous_assessment_id=aid, previous_submission_id=latest.id
            )
        )
    assert _remind(mail_app, due + timedelta(days=1)) == 0  # no overdue reminder
    with db.new_session(engine) as s:
        assert assessment_service.due_dates(s, [aid], today=today()) == {}
