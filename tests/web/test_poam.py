"""The OSCAL plan of action and milestones on the web: a download beside the other OSCAL
downloads of a submission (`/assessments/{id}/open-data?format=oscal-poam`, and the API), for
the roles that get those (report.export, and actions.read for the plan), holding the action
plan as it stands, valid, the same bytes until the plan changes."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from service import db
from service.actions import service as action_service
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.models import ActionStatus, AuditEvent, Role
from tests.builders import World, login
from tests.oscal_schemas import problems
from tests.review.helpers import GOOD, decide, submitted, viewer
from tests.web.access_matrix import ROLE_OF, ROUTES

BAD = {**GOOD, "pia_done": "no"}  # one gap: GOV-01 (critical)
GAP = "GOV-01"
ROLES = ("signed_out", "officer_a", "officer_b", "reviewer_on", "reviewer_fed", "board_a", "admin")


def _engine(app: FastAPI) -> Any:
    return app.state.engine


def _url(aid: object, lang: str = "en") -> str:
    return f"/assessments/{aid}/open-data?format=oscal-poam&lang={lang}"


def _save(app: FastAPI, world: World, aid: uuid.UUID, change: action_service.ActionChange) -> None:
    with db.new_session(_engine(app)) as s:
        current = action_service.tracked(session=s, assessment_id=aid)
        action_service.update(
            session=s,
            viewer=viewer(_engine(app), world.officer_a),
            assessment_id=aid,
            criterion_id=GAP,
            expected_version=1 if current else 0,
            change=change,
        )


def _item(document: bytes) -> dict[str, Any]:
    poam = json.loads(document)["plan-of-action-and-milestones"]
    (item,) = poam["poam-items"]
    return item  # type: ignore[no-any-return]


def _prop(item: dict[str, Any], name: str) -> str | None:
    return next((p["value"] for p in item.get("props", []) if p["name"] == name), None)


def test_officer_downloads_the_poam_with_the_live_plan_valid_and_identical(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/result")
    assert f"/assessments/{aid}/open-data?format=oscal-poam&amp;number=1" in page.text
    assert "OSCAL plan of action and milestones (JSON)</a>, with the action plan as it stands" in (
        page.text
    )
    first = client.get(_url(aid))
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-disposition"] == (
        f'attachment; filename="policygap-{aid}-1-en.oscal-poam.json"'
    )
    assert problems(first.content, "poam") == []
    assert _prop(_item(first.content), "action-status") == "todo"
    assert client.get(_url(aid)).content == first.content  # same plan, same bytes

    _save(
        app,
        world,
        aid,
        action_service.ActionChange(
            owner="Records management",
            target_date=date(2027, 3, 31),
            status=ActionStatus.in_progress,
            note="PIA drafted",
        ),
    )
    second = client.get(_url(aid))
    assert problems(second.content, "poam") == []
    assert second.content != first.content
    assert client.get(_url(aid)).content == second.content
    item = _item(second.content)
    assert (_prop(item, "action-status"), _prop(item, "owner"), _prop(item, "target-date")) == (
        "in_progress",
        "Records management",
        "2027-03-31",
    )
    assert "Note: PIA drafted" in item["remarks"]
    # the ids stay: the item, and the finding of the assessment results it rests on
    assert item["uuid"] == _item(first.content)["uuid"]
    results = json.loads(client.get(f"/assessments/{aid}/open-data?format=oscal").content)
    findings = {f["uuid"] for f in results["assessment-results"]["results"][0]["findings"]}
    assert item["related-findings"][0]["finding-uuid"] in findings

    _save(
        app,
        world,
        aid,
        action_service.ActionChange(
            status=ActionStatus.risk_accepted,
            risk_reason="The search ends in March",
            risk_accepted_by="Deputy Chief",
        ),
    )
    accepted = client.get(_url(aid, "fr"))
    assert problems(accepted.content, "poam") == []
    poam = json.loads(accepted.content)["plan-of-action-and-milestones"]
    (risk,) = poam["risks"]
    assert risk["status"] == "deviation-approved"
    assert risk["risk-log"]["entries"][0]["description"] == "The search ends in March"
    assert poam["metadata"]["title"].startswith("Plan d'action et jalons\u00a0: ")
    with db.new_session(_engine(app)) as s:
        audited = s.exec(
            select(AuditEvent).where(
                AuditEvent.assessment_id == aid, col(AuditEvent.action) == "open_data_downloaded"
            )
        ).all()
    assert len(audited) == 6


def test_poam_of_a_submission_without_gaps_is_not_offered(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, GOOD)
    login(client, world.officer_a.email)
    page = client.get(f"/assessments/{aid}/result")
    assert page.status_code == 200
    assert "format=oscal-poam" not in page.text
    assert "format=oscal-plan" in page.text
    assert client.get(_url(aid)).status_code == 404


def test_api_gives_the_same_poam_as_the_page(
    client: TestClient, world: World, app: FastAPI
) -> None:
    aid = submitted(_engine(app), world.officer_a, BAD)
    with db.new_session(_engine(app)) as s:
        secret = auth_service.create_api_token(session=s, user=world.officer_a, name="t")
    api = client.get(
        f"/api/v1/assessments/{aid}/open-data?format=oscal-poam&lang=fr",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert api.status_code == 200
    login(client, world.officer_a.email)
    assert api.content == client.get(_url(aid, "fr")).content
    plain = submitted(_engine(app), world.officer_a, GOOD)
    none = client.get(
        f"/api/v1/assessments/{plain}/open-data?format=oscal-poam",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert none.status_code == 404


def test_poam_reaches_the_roles_of_the_other_oscal_downloads() -> None:
    """The route's permission (report.export) and the plan's (actions.read): every role that
    gets the OSCAL assessment results may read the plan, so the POA&M reaches the same roles."""
    for route in (("GET", "/assessments/{assessment_id}/open-data"),):
        assert ROUTES[route] is Permission.report_export
    for role in Role:
        if policy.allowed(role, Permission.report_export):
            assert policy.allowed(role, Permission.actions_read), role


@pytest.fixture
def gaps(app: FastAPI, world: World) -> dict[str, str]:
    """An assessment of agency A with a gap, accepted by its regulator; an unknown id."""
    aid = submitted(_engine(app), world.officer_a, BAD, program="With a gap")
    decide(_engine(app), world.reviewer_on, aid, "accept")
    return {"a": str(aid), "x": str(uuid.uuid4())}


# who may download (record-level answers; the 403s come from the permission table)
RECORD: dict[str, dict[str, int]] = {
    "a": {"officer_b": 404, "reviewer_fed": 404},
    "x": {r: 404 for r in ROLES if r != "signed_out"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["a", "x"])
def test_poam_download_access_by_role(
    client: TestClient, world: World, gaps: dict[str, str], role: str, which: str
) -> None:
    if role != "signed_out":
        login(client, getattr(world, role).email)
    response = client.get(_url(gaps[which]), follow_redirects=False)
    if role == "signed_out":
        assert response.status_code in (302, 303)
        assert "/login" in response.headers["location"]
        return
    expected = RECORD[which].get(role, 200)
    allowed = policy.allowed(ROLE_OF[role], Permission.report_export) and policy.allowed(
        ROLE_OF[role], Permission.actions_read
    )
    if expected == 200 and not allowed:
        expected = 403
    assert response.status_code == expected, response.text[:200]
    if expected == 200:
        assert problems(response.content, "poam") == []
        assert json.loads(response.content)["plan-of-action-and-milestones"]["poam-items"]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "signed_out"])
def test_poam_api_access_by_role(
    client: TestClient, world: World, app: FastAPI, gaps: dict[str, str], role: str
) -> None:
    user = getattr(world, role)
    with db.new_session(_engine(app)) as s:
        secret = auth_service.create_api_token(session=s, user=user, name="t")
    response = client.get(
        f"/api/v1/assessments/{gaps['a']}/open-data?format=oscal-poam",
        headers={"Authorization": f"Bearer {secret}"},
    )
    expected = RECORD["a"].get(role, 200)
    if expected == 200 and not policy.allowed(ROLE_OF[role], Permission.report_export):
        expected = 403
    assert response.status_code == expected, response.text[:200]
    signed_out = client.get(f"/api/v1/assessments/{gaps['a']}/open-data?format=oscal-poam")
    assert signed_out.status_code == 401
