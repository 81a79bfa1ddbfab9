"""Regulator jurisdictions (service.auth.scope) on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine

from service import db
from service.auth import scope
from service.models import Organisation, Role
from tests.builders import make_org, make_user


def test_visible_agencies_follow_jurisdictions(engine: Engine) -> None:
    with db.new_session(engine) as s:
        on_police = make_org(s, slug="on-police", body_type="municipal", province="ON")
        qc_police = make_org(s, slug="qc-police", body_type="provincial", province="QC")
        rcmp = make_org(s, slug="rcmp", body_type="federal", province="ON")
        ipc = make_org(s, slug="ipc", kind="regulator", body_type=None, province="ON")
        cai = make_org(s, slug="cai", kind="regulator", body_type=None, province="QC")
        opc = make_org(s, slug="opc", kind="regulator", body_type=None, province=None)
        board = make_org(s, slug="board", kind="board", body_type=None, agency_id=on_police.id)
        officer = make_user(s, role=Role.officer, org=on_police)
        reviewer_on = make_user(s, role=Role.reviewer, org=ipc)
        reviewer_qc = make_user(s, role=Role.reviewer, org=cai)
        reviewer_fed = make_user(s, role=Role.reviewer, org=opc)
        board_user = make_user(s, role=Role.board, org=board)
        admin = make_user(s, role=Role.admin, org=None)
        orphan = make_user(s, role=Role.reviewer, org=None)

        assert scope.visible_agency_ids(s, reviewer_on) == {on_police.id}
        assert scope.visible_agency_ids(s, reviewer_qc) == {qc_police.id}
        assert scope.visible_agency_ids(s, reviewer_fed) == {rcmp.id}
        assert scope.visible_agency_ids(s, officer) == {on_police.id}
        assert scope.visible_agency_ids(s, board_user) == {on_police.id}
        assert scope.visible_agency_ids(s, admin) is None
        assert scope.visible_agency_ids(s, orphan) == set()
        assert scope.can_see_agency(s, reviewer_fed, rcmp.id)
        assert not scope.can_see_agency(s, reviewer_fed, on_police.id)
        assert scope.can_see_agency(s, admin, qc_police.id)
        assert [r.slug for r in scope.regulators_for(s, rcmp)] == ["opc"]

        # An explicit regulator wins over the jurisdiction rule.
        with db.writing(s):
            row = s.get(Organisation, qc_police.id)
            assert row is not None
            row.regulator_id = ipc.id
        assert scope.visible_agency_ids(s, reviewer_on) == {on_police.id, qc_police.id}
        assert scope.visible_agency_ids(s, reviewer_qc) == set()

        # A regulator with several jurisdictions (an explicit list).
        with db.writing(s):
            row = s.get(Organisation, opc.id)
            assert row is not None
            row.jurisdictions = ["federal", "ON"]
        assert scope.visible_agency_ids(s, reviewer_fed) == {rcmp.id, on_police.id}

        # A deactivated reviewer sees nothing.
        with db.writing(s):
            fresh = s.get(type(reviewer_on), reviewer_on.id)
            assert fresh is not None
            fresh.active = False
        assert scope.visible_agency_ids(s, fresh) == set()


def test_named_regulator_moves_access_on_pages_and_api(
    client: object, app: object, world: object
) -> None:
    """An agency's named regulator decides which reviewers see its submissions, everywhere."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from service.auth import service as auth_service
    from tests.builders import World, login
    from tests.web.test_access import _make

    assert isinstance(app, FastAPI)
    assert isinstance(client, TestClient)
    assert isinstance(world, World)
    submitted = _make(app, world.officer_a, submit=True)

    def sees(user: object) -> tuple[int, int]:
        assert isinstance(user, type(world.admin))
        client.cookies.clear()
        login(client, user.email)
        page = client.get(f"/assessments/{submitted}/").status_code
        with db.new_session(app.state.engine) as s:
            token = auth_service.create_api_token(session=s, user=user, name="t")
        api = client.get(
            f"/api/v1/assessments/{submitted}", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        return page, api

    assert sees(world.reviewer_on) == (200, 200)
    assert sees(world.reviewer_fed) == (404, 404)
    with db.new_session(app.state.engine) as s, db.writing(s):
        agency = s.get(Organisation, world.agency_a.id)
        assert agency is not None
        agency.regulator_id = world.reviewer_fed.organisation_id
    assert sees(world.reviewer_on) == (404, 404)
    assert sees(world.reviewer_fed) == (200, 200)
