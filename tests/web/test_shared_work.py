"""Shared work (issue 21): an officer assigns sections or questions to colleagues; the task list
shows who has what and each person's progress; the assignee's dashboard lists their part with
its due date; a contributor reads and answers only what is assigned to them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments import assignments
from service.assessments.models import Assessment, Assignment
from service.auth import service as auth_service
from service.models import AuditEvent, Role, User
from service.web.page import today
from tests.builders import (
    World,
    csrf_from,
    login,
    make_user,
    post_form,
    start_assessment,
    submit_mini,
    version_from,
)
from tests.documents import files

SCOPE = "/sections/scope"
GOVERNANCE = "/sections/governance"


def _person(app: FastAPI, world: World, role: Role = Role.contributor, **kw: Any) -> User:
    with db.new_session(app.state.engine) as s:
        return make_user(s, role=role, org=kw.get("org", world.agency_a), email=kw.get("email"))


def _assign(client: TestClient, base: str, part: str, who: User, due: str = "") -> Any:
    return post_form(
        client,
        base + "/assignments",
        base + "/assignments",
        {"part": part, "assignee": str(who.id), "due_on": due},
    )


def _stored(app: FastAPI, base: str) -> Assessment:
    with db.new_session(app.state.engine) as s:
        return s.get_one(Assessment, uuid.UUID(base.rsplit("/", 1)[-1]))


@pytest.fixture
def shared(app: FastAPI, client: TestClient, world: World) -> dict[str, Any]:
    """A draft of agency A: the scope section given to a contributor (due yesterday), the
    question ``pia_done`` to another officer (due in a week)."""
    contributor = _person(app, world, email="records@example.test")
    colleague = _person(app, world, Role.officer, email="it@example.test")
    login(client, world.officer_a.email)
    base = start_assessment(client)
    yesterday = (today() - timedelta(days=1)).isoformat()
    week = (today() + timedelta(days=7)).isoformat()
    assert _assign(client, base, "section:scope", contributor, yesterday).status_code == 303
    assert _assign(client, base, "question:pia_done", colleague, week).status_code == 303
    return {"base": base, "contributor": contributor, "colleague": colleague}


# --- assigning -----------------------------------------------------------------------------------


def test_officer_assigns_parts_and_the_task_list_shows_who_has_what(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    base = shared["base"]
    page = client.get(base + "/").text
    assert "Assigned to: Test contributor" in page  # the scope section
    assert "Test officer (one question)" in page  # a question of governance
    assert "Progress by person" in page
    assignments_page = client.get(base + "/assignments").text
    assert "Section: Describe the program" in assignments_page
    assert "Question: Was a privacy impact assessment done?" in assignments_page
    assert "Overdue" in assignments_page  # the contributor's date passed: said in words
    with db.new_session(app.state.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "assign")).all()
    assert [(e.detail.get("section"), e.detail.get("question")) for e in events] == [
        ("scope", None),
        (None, "pia_done"),
    ]
    history = client.get(base + "/history").text
    assert "Part assigned" in history


def test_assigning_tells_the_assignee_once(app: FastAPI, client: TestClient, world: World) -> None:
    """ "Assigned to you": a notice for the assignee (titles and a link only) in both languages;
    changing only the due date tells nobody again; handing the part to someone else tells them."""
    from service.notices.models import Notice, NoticeKind

    contributor = _person(app, world)
    login(client, world.officer_a.email)
    base = start_assessment(client, program="Live FR pilot")
    _assign(client, base, "section:scope", contributor)
    _assign(client, base, "section:scope", contributor, "2030-01-31")  # a new date only
    with db.new_session(app.state.engine) as s:
        notices = s.exec(select(Notice)).all()
        assert [(n.user_id, n.kind) for n in notices] == [
            (contributor.id, NoticeKind.assigned_to_you)
        ]
        params = notices[0].params
        assert params["program"] == "Live FR pilot"
        assert params["link"] == f"{base}/sections/scope"
        assert set(params["part"]) == {"en", "fr"}
    other = _person(app, world)
    _assign(client, base, "section:scope", other)
    with db.new_session(app.state.engine) as s:
        told = [n.user_id for n in s.exec(select(Notice)).all()]
    assert sorted(map(str, told)) == sorted(map(str, [contributor.id, other.id]))


def test_an_assignment_due_soon_then_overdue_is_reminded_to_its_assignee_once(
    app: FastAPI, client: TestClient, world: World
) -> None:
    from datetime import timedelta

    from service.notices import service as notice_service
    from service.notices.models import Notice, NoticeKind

    contributor = _person(app, world)
    login(client, world.officer_a.email)
    base = start_assessment(client, program="Live FR pilot")
    now = today()
    due = now + timedelta(days=5)
    _assign(client, base, "section:scope", contributor, due.isoformat())

    def reminders() -> list[tuple[object, NoticeKind]]:
        with db.new_session(app.state.engine) as s:
            rows = s.exec(select(Notice).where(Notice.kind != NoticeKind.assigned_to_you)).all()
            return [(n.user_id, n.kind) for n in rows if n.params.get("subject") == "assignment"]

    for day in (now, now + timedelta(days=1)):  # twice: still once
        with db.new_session(app.state.engine) as s:
            notice_service.remind(s, day)
    assert reminders() == [(contributor.id, NoticeKind.due_soon)]
    with db.new_session(app.state.engine) as s:
        notice_service.remind(s, due + timedelta(days=1))
    assert sorted(k.value for _, k in reminders()) == ["due_soon", "overdue"]


def test_assign_refuses_someone_outside_the_agency_or_not_answering(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    other_agency = _person(app, world, org=world.agency_b)
    for who in (other_agency, world.reviewer_on, world.board_a):
        r = _assign(client, base, "section:scope", who)
        assert r.status_code == 422
        assert "Select the colleague to assign it to" in r.text
    r = _assign(client, base, "section:nope", _person(app, world))
    assert r.status_code == 422
    bad_date = _assign(client, base, "section:scope", _person(app, world), "31/12/2030")
    assert bad_date.status_code == 422
    assert "Enter a real date" in bad_date.text
    with db.new_session(app.state.engine) as s:
        assert s.exec(select(Assignment)).all() == []


def test_remove_takes_the_part_back(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    base = shared["base"]
    with db.new_session(app.state.engine) as s:
        first = s.exec(select(Assignment).where(Assignment.target == "scope")).one()
    page = client.get(base + "/assignments")
    r = client.post(
        f"{base}/assignments/{first.id}/remove",
        data={"csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    login(client, shared["contributor"].email)
    assert client.get(base + "/").status_code == 404  # nothing of it is theirs any more


def test_progress_per_person_counts_answered_of_assigned(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    base, contributor = shared["base"], shared["contributor"]
    with TestClient(app) as other:
        login(other, contributor.email)
        r = post_form(other, base + SCOPE, base + SCOPE, {"body_type": "federal", "searches": "9"})
        assert r.status_code == 303, r.text
    page = client.get(base + "/assignments").text
    # scope shows 4 questions, 2 answered; the colleague's one question, 0 of 1
    assert "2 of 4" in page
    assert "0 of 1" in page
    assert page.count("Overdue") == 2  # the contributor's date passed: the progress, the part
    with TestClient(app) as other:
        login(other, contributor.email)
        post_form(
            other,
            base + SCOPE,
            base + SCOPE,
            {"body_type": "federal", "searches": "9", "uses": "live"},
        )
        # the optional description may stay blank: their part is done, no longer overdue
        dashboard = other.get("/assessments/").text
        assert "3 of 4" in dashboard
        assert "Overdue" not in dashboard
    page = client.get(base + "/assignments").text
    assert "Overdue" not in page
    assert "Done" in page
    assert "Done" in client.get(base + "/").text


# --- the assignee's dashboard ------------------------------------------------------------------


def test_assignee_dashboard_lists_their_part_with_its_due_date(
    client: TestClient, shared: dict[str, Any]
) -> None:
    base = shared["base"]
    login(client, shared["contributor"].email)
    page = client.get("/assessments/").text
    assert "Assigned to you" in page
    assert "Section: Describe the program" in page
    assert (today() - timedelta(days=1)).isoformat() in page
    assert "Overdue" in page  # in words, not by colour alone
    assert f'href="{base}/sections/scope"' in page
    login(client, shared["colleague"].email)
    page = client.get("/assessments/").text
    assert "Question: Was a privacy impact assessment done?" in page
    assert (today() + timedelta(days=7)).isoformat() in page
    assert "Overdue" not in page


def test_assignments_due_lists_what_the_reminders_need(
    app: FastAPI, client: TestClient, shared: dict[str, Any], world: World
) -> None:
    base = shared["base"]
    with db.new_session(app.state.engine) as s:
        due_now = assignments.assignments_due(s, today())
        due_week = assignments.assignments_due(s, today() + timedelta(days=7))
    assert [(d.assignee_id, d.title) for d in due_now] == [
        (shared["contributor"].id, "Mugshot search")
    ]
    assert [d.assignee_id for d in due_week] == [shared["contributor"].id, shared["colleague"].id]
    assert {d.assessment_id for d in due_week} == {uuid.UUID(base.rsplit("/", 1)[-1])}
    assert due_week[0].due_on < due_week[1].due_on
    # a submitted assessment is no longer being answered: nothing to remind
    submit_mini(client, base)
    with db.new_session(app.state.engine) as s:
        assert assignments.assignments_due(s, today() + timedelta(days=30)) == []


# --- the contributor ---------------------------------------------------------------------------


def test_contributor_sees_only_the_assessments_and_questions_assigned(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    base = shared["base"]
    other = start_assessment(client, program="Not theirs")
    login(client, shared["contributor"].email)
    listing = client.get("/assessments/").text
    assert "Mugshot search" in listing
    assert "Not theirs" not in listing
    assert client.get(other + "/").status_code == 404
    task_list = client.get(base + "/").text
    assert "Describe the program" in task_list
    assert "Check governance" not in task_list
    assert "Gap summary" not in task_list
    assert "Rating" not in task_list
    section = client.get(base + SCOPE)
    assert section.status_code == 200
    assert client.get(base + GOVERNANCE).status_code == 403
    assert client.get(base + GOVERNANCE + "/check").status_code == 403
    for path in ("/check-your-answers", "/history", "/export", "/archive.zip"):
        assert client.get(base + path, follow_redirects=False).status_code == 403, path
    for path in ("/import", "/import-archive", "/assignments"):
        assert client.get(base + path).status_code == 403, path


def test_contributor_save_of_an_unassigned_question_is_refused_and_nothing_stored(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    base = shared["base"]
    login(client, shared["contributor"].email)
    before = _stored(app, base)
    page = client.get(base + SCOPE).text
    token = csrf_from(page)
    # a field of another section slipped into their own section's form
    r = client.post(
        base + SCOPE,
        data={
            "csrf_token": token,
            "version": version_from(page),
            "body_type": "federal",
            "pia_done": "yes",
        },
        follow_redirects=False,
    )
    assert r.status_code == 403
    # the other section's form
    r = client.post(
        base + GOVERNANCE,
        data={"csrf_token": token, "version": version_from(page), "pia_done": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = client.post(
        base + GOVERNANCE + "/check",
        data={"csrf_token": token, "version": version_from(page), "completed": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    # and through the API
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=shared["contributor"], name="t")
    api = f"/api/v1/assessments/{before.id}"
    auth = {"Authorization": f"Bearer {secret}", "If-Match": f'"{before.version}"'}
    r = client.patch(api + "/answers", json={"answers": {"pia_done": "yes"}}, headers=auth)
    assert r.status_code == 403, r.text
    r = client.patch(
        api + "/answers",
        json={"answers": {"body_type": "federal"}, "evidence": {"pia_done": "note"}},
        headers=auth,
    )
    assert r.status_code == 403, r.text
    after = _stored(app, base)
    assert (after.version, after.answers, after.evidence, after.section_status) == (
        before.version,
        before.answers,
        before.evidence,
        before.section_status,
    )


def test_contributor_answers_their_part_on_the_pages_and_the_api(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    base = shared["base"]
    login(client, shared["contributor"].email)
    r = post_form(
        client,
        base + SCOPE,
        base + SCOPE,
        {"body_type": "municipal", "uses": "live", "searches": "4", "action": "continue"},
    )
    assert r.status_code == 303, r.text
    # a section given whole: they may say it is completed
    r = post_form(client, base + SCOPE + "/check", base + SCOPE + "/check", {"completed": "yes"})
    assert r.status_code == 303
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=shared["contributor"], name="t")
    stored = _stored(app, base)
    api = f"/api/v1/assessments/{stored.id}"
    auth = {"Authorization": f"Bearer {secret}"}
    shown = client.get(api, headers=auth).json()
    assert shown["answers"] == {"body_type": "municipal", "uses": ["live"], "searches": 4}
    r = client.patch(
        api + "/answers",
        json={"answers": {"searches": 5}},
        headers={**auth, "If-Match": f'"{stored.version}"'},
    )
    assert r.status_code == 200, r.text
    assert (
        client.post(api + "/submit", headers={**auth, "If-Match": r.headers["etag"]}).status_code
        == 403
    )
    assert client.get(api + "/result", headers=auth).status_code == 403
    assert client.get(api + "/submissions", headers=auth).status_code == 403
    assert [a["program"] for a in client.get("/api/v1/assessments", headers=auth).json()] == [
        "Mugshot search"
    ]


def test_contributor_adds_evidence_only_to_their_questions(
    app: FastAPI, client: TestClient, shared: dict[str, Any], world: World
) -> None:
    base = shared["base"]
    # the officer attaches a document to a governance question, not the contributor's
    page = client.get(base + GOVERNANCE + "/documents")
    r = client.post(
        base + GOVERNANCE + "/documents",
        data={"csrf_token": csrf_from(page.text), "question": "pia_done"},
        files={"file": ("pia.pdf", files.PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    login(client, shared["contributor"].email)
    page = client.get(base + SCOPE + "/documents")
    assert page.status_code == 200
    token = csrf_from(page.text)
    r = client.post(
        base + SCOPE + "/documents",
        data={"csrf_token": token, "question": "body_type"},
        files={"file": ("org.pdf", files.PDF + b"%x", "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert client.get(base + GOVERNANCE + "/documents").status_code == 403
    r = client.post(
        base + GOVERNANCE + "/documents",
        data={"csrf_token": token, "question": "pia_done"},
        files={"file": ("x.pdf", files.PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 403
    from service.documents.models import Document

    with db.new_session(app.state.engine) as s:
        docs = {d.question_id: d for d in s.exec(select(Document)).all()}
    assert set(docs) == {"pia_done", "body_type"}
    # the officer's document: neither downloaded nor removed by the contributor
    assert client.get(f"{base}/documents/{docs['pia_done'].sha256}").status_code == 404
    r = client.post(
        f"{base}/documents/{docs['pia_done'].id}/remove",
        data={"csrf_token": token, "slug": "governance"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert client.get(f"{base}/documents/{docs['body_type'].sha256}").status_code == 200


def test_a_single_question_shows_alone_and_the_officer_still_sees_the_whole_section(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """A contributor's page of a section holds only their question; the officer's page of the
    same section, drawn after it, still holds every question (the pages' cache is per section)."""
    contributor = _person(app, world)
    login(client, world.officer_a.email)
    base = start_assessment(client)
    assert _assign(client, base, "question:pia_done", contributor).status_code == 303
    with TestClient(app) as other:
        login(other, contributor.email)
        page = other.get(base + GOVERNANCE).text
        assert "Was a privacy impact assessment done?" in page
        assert "Who owns the program?" not in page
        assert 'name="owner"' not in page
        r = post_form(other, base + GOVERNANCE, base + GOVERNANCE, {"pia_done": "yes"})
        assert r.status_code == 303, r.text
        # the section is not theirs whole: they answer, the officer says it is completed
        check = other.get(base + GOVERNANCE + "/check").text
        assert 'name="completed"' not in check
    page = client.get(base + GOVERNANCE).text
    assert "Who owns the program?" in page
    assert _stored(app, base).answers == {"pia_done": "yes"}


def test_contributor_cannot_open_the_result_or_report_once_submitted(
    app: FastAPI, client: TestClient, shared: dict[str, Any]
) -> None:
    """Regression: the result page, the report (HTML, PDF) and the API's PDF checked no
    permission (every role but the contributor holds ``report.read``), so a contributor opened
    the score and the report of a submitted assessment they had a part of."""
    base = shared["base"]
    submit_mini(client, base)
    assert client.get(base + "/result").status_code == 200  # the officer reads it
    login(client, shared["contributor"].email)
    assert client.get(base + "/").status_code == 200  # still their assessment
    for path in ("/result", "/report.html", "/report.pdf", "/submitted"):
        r = client.get(base + path, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
    with db.new_session(app.state.engine) as s:
        secret = auth_service.create_api_token(session=s, user=shared["contributor"], name="t")
    api = "/api/v1/assessments/" + base.rsplit("/", 1)[-1]
    r = client.get(api + "/report.pdf", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403, r.status_code
