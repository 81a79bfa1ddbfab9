"""The action plan: each gap an action the agency keeps after submitting (owner, target date,
status, note), versioned and audited; the regulator's comments; the board's view with progress;
the plan as at the decision in the report; exports; the JSON API; a reassessment starting from
the open actions."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.actions import export
from service.actions import service as action_service
from service.actions.models import ActionPlanSnapshot, RemediationAction
from service.auth import service as auth_service
from service.models import AuditEvent, Role
from service.report import cache
from service.report.inputs import PlanEntry, ReviewInfo
from tests.builders import World, csrf_from, login, make_user, parse, version_from
from tests.review.helpers import GOOD, decide, mini, submitted, viewer

BAD = {**GOOD, "pia_done": "no"}  # one gap: GOV-01 (critical)
GAP = "GOV-01"


def _engine(app: FastAPI) -> Any:
    return app.state.engine


def _plan_url(aid: object) -> str:
    return f"/assessments/{aid}/actions"


def _save(
    client: TestClient, aid: object, data: dict[str, str], *, version: str | None = "auto"
) -> Any:
    page = client.get(f"{_plan_url(aid)}/{GAP}")
    payload = {"csrf_token": csrf_from(page.text), **data}
    if version == "auto":
        payload["version"] = version_from(page.text)
    elif version is not None:
        payload["version"] = version
    return client.post(f"{_plan_url(aid)}/{GAP}", data=payload, follow_redirects=False)


FULL = {
    "owner": "Records management",
    "target_date": "2027-03-31",
    "status": "in_progress",
    "risk_reason": "",
    "risk_accepted_by": "",
    "note": "PIA drafted",
}


def _row(app: FastAPI, aid: uuid.UUID) -> RemediationAction | None:
    with db.new_session(_engine(app)) as s:
        row = s.exec(
            select(RemediationAction).where(
                RemediationAction.assessment_id == aid, RemediationAction.criterion_id == GAP
            )
        ).first()
        if row is not None:
            s.expunge(row)
        return row


# --- the plan and one action -----------------------------------------------------------------


def test_plan_lists_each_gap_of_the_latest_submission_as_an_action(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    page = client.get(_plan_url(aid))
    assert page.status_code == 200
    assert f"{GAP} " in page.text
    assert "To do" in page.text
    assert "0 of 1 action closed" in page.text
    assert f'href="{_plan_url(aid)}/{GAP}"' in page.text
    # a criterion that is not a gap has no action
    assert client.get(f"{_plan_url(aid)}/GOV-02").status_code == 404


def test_officer_keeps_the_plan_after_submission_and_each_change_is_audited(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    r = _save(client, aid, FULL)
    assert r.status_code == 303, r.text[:300]
    assert r.headers["location"] == f"{_plan_url(aid)}#action-{GAP}"
    row = _row(app, aid)
    assert row is not None
    assert (row.owner, row.target_date, row.status, row.note, row.version) == (
        "Records management",
        date(2027, 3, 31),
        "in_progress",
        "PIA drafted",
        1,
    )
    page = client.get(_plan_url(aid)).text
    assert "Records management" in page
    assert "2027-03-31" in page
    assert "In progress" in page
    r = _save(client, aid, {**FULL, "status": "done"})
    assert r.status_code == 303
    assert _row(app, aid).version == 2  # type: ignore[union-attr]
    with db.new_session(_engine(app)) as s:
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.assessment_id == aid, AuditEvent.action == "action_update")
            .order_by(AuditEvent.at)  # type: ignore[arg-type]
        ).all()
    assert [e.detail["action_status"] for e in events] == ["in_progress", "done"]
    assert events[0].actor_id == world.officer_a.id
    assert events[1].detail["fields"] == ["status"]
    assert events[0].detail["criterion"] == GAP
    # the submission itself did not change: the assessment is still submitted, version 1 plan
    assert "1 of 1 action closed" in client.get(_plan_url(aid)).text


def test_save_without_a_version_is_428_and_a_stale_one_409_keeping_what_was_typed(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    for version in (None, "", "abc", "1.0", " 0"):
        r = _save(client, aid, FULL, version=version)
        assert r.status_code == 428, version
        assert _row(app, aid) is None
        assert 'value="Records management"' in r.text
    assert _save(client, aid, FULL, version="0").status_code == 303
    r = _save(client, aid, {**FULL, "owner": "IT security"}, version="0")  # read before the save
    assert r.status_code == 409
    assert 'value="IT security"' in r.text  # what was typed is kept
    assert "Someone else saved this action after you opened it" in r.text
    assert version_from(r.text) == "1"  # saving again is a deliberate choice
    assert _row(app, aid).owner == "Records management"  # type: ignore[union-attr]


def test_invalid_action_is_shown_again_with_an_error_summary(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    r = _save(
        client,
        aid,
        {**FULL, "target_date": "31/03/2027", "status": "risk_accepted", "note": "x" * 5001},
    )
    assert r.status_code == 422
    doc = parse(r.text)
    assert doc.title.startswith("Error:")
    assert doc.summary_links == ["target_date", "risk_reason", "risk_accepted_by", "note"]
    assert 'value="31/03/2027"' in r.text
    assert _row(app, aid) is None
    ok = _save(
        client,
        aid,
        {
            **FULL,
            "status": "risk_accepted",
            "risk_reason": "Vendor contract ends in 2027",
            "risk_accepted_by": "Deputy Chief Smith",
        },
    )
    assert ok.status_code == 303
    row = _row(app, aid)
    assert row is not None
    assert row.risk_accepted_by == "Deputy Chief Smith"


def test_regulator_comments_on_an_action_and_cannot_change_it(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    review = client.get(f"/review/{aid}").text
    assert f'href="/assessments/{aid}/actions"' in review  # the plan beside the review
    page = client.get(f"{_plan_url(aid)}/{GAP}")
    assert page.status_code == 200
    assert 'name="owner"' not in page.text  # no form to change it
    token = csrf_from(page.text)
    r = client.post(
        f"{_plan_url(aid)}/{GAP}/comments",
        data={"csrf_token": token, "comment": "A target date in 2029 is too late."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    empty = client.post(
        f"{_plan_url(aid)}/{GAP}/comments",
        data={"csrf_token": token, "comment": "  "},
        follow_redirects=False,
    )
    assert empty.status_code == 422
    assert parse(empty.text).summary_links == ["comment"]
    r = client.post(
        f"{_plan_url(aid)}/{GAP}",
        data={"csrf_token": token, "version": "0", **FULL},
        follow_redirects=False,
    )
    assert r.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, world.officer_a.email)
    plan = client.get(_plan_url(aid)).text
    assert "1 comment from the regulator" in plan
    assert "A target date in 2029 is too late." in client.get(f"{_plan_url(aid)}/{GAP}").text
    token = csrf_from(plan)
    r = client.post(
        f"{_plan_url(aid)}/{GAP}/comments",
        data={"csrf_token": token, "comment": "no"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_board_sees_the_accepted_plan_with_progress(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    decide(_engine(app), world.reviewer_on, aid, "accept")
    login(client, world.officer_a.email)
    assert _save(client, aid, {**FULL, "status": "done"}).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/assessments/").text)})
    login(client, world.board_a.email)
    summary = client.get(f"/board/{aid}").text
    assert "1 of 1 action closed" in summary
    assert "Records management" in summary
    assert "Done" in summary
    assert client.get(_plan_url(aid)).status_code == 200


def test_board_does_not_see_a_plan_before_acceptance(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.board_a.email)
    assert client.get(_plan_url(aid)).status_code == 404


# --- the plan at the decision, in the report -------------------------------------------------


def test_report_prints_the_plan_as_at_the_decision_and_not_later_changes(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    assert _save(client, aid, FULL).status_code == 303
    decide(_engine(app), world.reviewer_on, aid, "accept")
    with db.new_session(_engine(app)) as s:
        snapshot = s.exec(select(ActionPlanSnapshot)).one()
        decided = snapshot.taken_at
    assert snapshot.items[0]["owner"] == "Records management"
    report = client.get(f"/assessments/{aid}/report.html").text
    assert f"as at {decided:%Y-%m-%d}" in report
    assert "Records management" in report
    assert "2027-03-31" in report
    assert "In progress" in report
    # the agency goes on: the pages show it, the report of the decision does not
    assert _save(client, aid, {**FULL, "owner": "IT security", "status": "done"}).status_code == 303
    report = client.get(f"/assessments/{aid}/report.html").text
    assert "Records management" in report
    assert "IT security" not in report
    assert "IT security" in client.get(_plan_url(aid)).text
    pdf = client.get(f"/assessments/{aid}/report.pdf")
    assert pdf.status_code == 200
    text = " ".join(
        (page.extract_text() or "") for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    )
    text = " ".join(text.split())
    assert f"as at {decided:%Y-%m-%d}" in text
    assert "Owner: Records management. Target date: 2027-03-31. Status: In progress." in text
    assert "IT security" not in text


def test_report_cache_key_includes_the_plan_as_at_the_decision() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    base = ReviewInfo(decided_by="R", decided_at=at)
    one = ReviewInfo(
        decided_by="R", decided_at=at, plan=(PlanEntry("GOV-01", owner="A"),), plan_as_at=at
    )
    two = ReviewInfo(
        decided_by="R", decided_at=at, plan=(PlanEntry("GOV-01", owner="B"),), plan_as_at=at
    )
    keys = {
        cache.cache_key(sha256="0" * 64, format="pdf", lang="en", status="accepted", review=r)
        for r in (base, one, two)
    }
    assert len(keys) == 3
    # a review with no plan keeps the key it had before plans existed
    assert cache.review_state("accepted", base) == cache.review_state(
        "accepted", ReviewInfo(decided_by="R", decided_at=at, plan=())
    )


def test_a_return_freezes_the_plan_of_that_submission(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    assert _save(client, aid, FULL).status_code == 303
    decide(_engine(app), world.reviewer_on, aid, "return", comments={GAP: "Do the PIA."})
    with db.new_session(_engine(app)) as s:
        entries, at = action_service.snapshot_of(
            session=s, submission_id=s.exec(select(ActionPlanSnapshot)).one().submission_id
        )
    assert at is not None
    assert entries == (
        PlanEntry(
            GAP, owner="Records management", target_date=date(2027, 3, 31), status="in_progress"
        ),
    )


# --- exports ---------------------------------------------------------------------------------

INJECTED = {
    **FULL,
    "owner": '=HYPERLINK("http://evil.invalid","x")',
    "note": "+1+2",
}


def test_csv_export_headers_in_each_language_and_no_formula(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    assert _save(client, aid, INJECTED).status_code == 303
    r = client.get(f"{_plan_url(aid)}.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:7] == [
        "Criterion", "Gap", "Section", "Severity", "Status", "Owner", "Target date"
    ]  # fmt: skip
    assert rows[1][0] == GAP
    assert rows[1][5] == '\'=HYPERLINK("http://evil.invalid","x")'
    assert rows[1][6] == "2027-03-31"
    assert rows[1][9] == "'+1+2"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    client.post(
        "/language",
        data={"csrf_token": csrf_from(client.get("/assessments/").text), "lang": "fr", "next": "/"},
    )
    fr = list(csv.reader(io.StringIO(client.get(f"{_plan_url(aid)}.csv").text)))
    assert fr[0][:7] == [
        "Critère", "Écart", "Section", "Gravité", "Statut", "Responsable", "Date cible"
    ]  # fmt: skip
    assert fr[1][4] == "En cours"


def test_xlsx_export_has_dates_as_dates_and_text_never_a_formula(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    assert _save(client, aid, INJECTED).status_code == 303
    r = client.get(f"{_plan_url(aid)}.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:7] == [
        "Criterion",
        "Gap",
        "Section",
        "Severity",
        "Status",
        "Owner",
        "Target date",
    ]
    row = sheet[2]
    assert row[0].value == GAP
    assert row[6].is_date
    assert row[6].value.date() == date(2027, 3, 31)
    assert row[5].data_type == "s"
    assert row[5].value.startswith("'=")
    assert row[9].value == "'+1+2"
    assert all(c.data_type != "f" for line in sheet.iter_rows() for c in line)


def test_export_safe_prefixes_every_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert export.safe(start + "1") == "'" + start + "1"
    assert export.safe("Records") == "Records"


# --- the JSON API ----------------------------------------------------------------------------


def _token(app: FastAPI, user: Any) -> dict[str, str]:
    with db.new_session(_engine(app)) as s:
        return {
            "Authorization": "Bearer "
            + auth_service.create_api_token(session=s, user=user, name="t")
        }


def test_api_reads_and_updates_actions_with_labels_in_the_request_language(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    officer = _token(app, world.officer_a)
    url = f"/api/v1/assessments/{aid}/actions"
    plan = client.get(url, headers={**officer, "Accept-Language": "fr-CA"}).json()
    assert plan["progress"] == {
        "total": 1,
        "closed": 0,
        "by_status": {"todo": 1, "in_progress": 0, "done": 0, "risk_accepted": 0},
    }
    action = plan["actions"][0]
    assert (
        action["criterion_id"],
        action["status"],
        action["status_label"],
        action["version"],
    ) == (
        GAP,
        "todo",
        "À faire",
        0,
    )
    body = {"owner": "Records", "target_date": "2027-03-31", "status": "in_progress", "note": "n"}
    assert client.put(f"{url}/{GAP}", json=body, headers=officer).status_code == 428
    assert (
        client.put(f"{url}/{GAP}", json=body, headers={**officer, "If-Match": "x"}).status_code
        == 428
    )
    r = client.put(f"{url}/{GAP}", json=body, headers={**officer, "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert r.json()["status_label"] == "In progress"
    assert r.json()["target_date"] == "2027-03-31"
    stale = client.put(f"{url}/{GAP}", json=body, headers={**officer, "If-Match": '"0"'})
    assert stale.status_code == 412  # as every API write with a stale If-Match
    assert stale.json()["code"] == "precondition_failed"
    bad = client.put(
        f"{url}/{GAP}",
        json={**body, "status": "risk_accepted"},
        headers={**officer, "If-Match": '"1"'},
    )
    assert bad.status_code == 422
    assert (
        client.put(f"{url}/GOV-02", json=body, headers={**officer, "If-Match": '"0"'}).status_code
        == 404
    )
    got = client.get(f"{url}/{GAP}?lang=fr", headers=officer)
    assert got.headers["etag"] == '"1"'
    assert got.json()["status_label"] == "En cours"
    reviewer = _token(app, world.reviewer_on)
    assert (
        client.put(f"{url}/{GAP}", json=body, headers={**reviewer, "If-Match": '"1"'}).status_code
        == 403
    )
    c = client.post(f"{url}/{GAP}/comments", json={"body": "Too late"}, headers=reviewer)
    assert c.status_code == 201
    assert (
        client.post(f"{url}/{GAP}/comments", json={"body": "x"}, headers=officer).status_code == 403
    )
    assert client.get(f"{url}/{GAP}", headers=officer).json()["comments"][0]["body"] == "Too late"
    other = _token(app, world.officer_b)
    assert client.get(url, headers=other).status_code == 404
    assert client.get(url).status_code == 401


# --- access, role by role --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("officer_a", (200, 200)),
        ("officer_b", (404, 404)),
        ("reviewer_on", (200, 403)),
        ("reviewer_fed", (404, 403)),  # the role cannot change any action: 403 first
        ("board_a", (404, 403)),  # the plan of a submitted (not accepted) assessment: hidden
        ("admin", (200, 403)),
    ],
)
def test_plan_access_by_role(
    role: str, expected: tuple[int, int], client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, getattr(world, role).email)
    page = client.get(_plan_url(aid))
    assert page.status_code == expected[0]
    token = csrf_from(client.get("/assessments/").text)
    r = client.post(
        f"{_plan_url(aid)}/{GAP}",
        data={"csrf_token": token, "version": "0", **FULL},
        follow_redirects=False,
    )
    assert r.status_code == (303 if expected[1] == 200 else expected[1])


def test_contributor_cannot_read_the_plan(client: TestClient, world: World, app: FastAPI) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    with db.new_session(_engine(app)) as s:
        contributor = make_user(s, role=Role.contributor, org=world.agency_a)
    login(client, contributor.email)
    assert client.get(_plan_url(aid)).status_code == 403


# --- a reassessment starts from the open actions ---------------------------------------------


def test_reassessment_starts_from_the_open_actions_and_shows_the_closed_ones(
    client: TestClient, world: World, app: FastAPI
) -> None:
    from service.review import service as review_service

    engine = _engine(app)
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.officer_a.email)
    assert _save(client, aid, FULL).status_code == 303
    decide(engine, world.reviewer_on, aid, "accept")
    v = viewer(engine, world.officer_a)
    with db.new_session(engine) as s:
        draft, _link = review_service.reassess(
            session=s,
            viewer=v,
            previous_id=aid,
            questionnaire=mini(),
            previous_questionnaire=mini(),
        )
        new_id = draft.id
    page = client.get(_plan_url(new_id))
    assert page.status_code == 200
    assert "still open when this reassessment started" in page.text
    assert "Records management" in page.text
    assert "Carried over from the previous assessment" in page.text
    # the previous assessment's action is closed now; the new submission no longer has the gap
    assert _save(client, aid, {**FULL, "status": "done"}).status_code == 303
    from tests.review.helpers import answer, resubmit

    answer(engine, world.officer_a, new_id, GOOD)
    resubmit(engine, world.officer_a, new_id)
    page = client.get(_plan_url(new_id)).text
    assert "Closed in the previous assessment" in page
    assert f"{GAP} " in page
    assert "Done" in page
    assert "No longer a gap" in page
