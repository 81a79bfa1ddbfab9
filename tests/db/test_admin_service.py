"""Administration use cases on SQLite and PostgreSQL: invitation, deactivation ending sessions,
the audit log's filters (who, what, when, organisation) and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from service import db
from service.admin import service as admin_service
from service.admin.service import AuditFilter
from service.auth import service as auth_service
from service.config import Settings
from service.models import User, WebSession, utcnow
from tests.builders import make_world


def test_invite_deactivate_and_audit_filters(engine: Engine) -> None:
    world = make_world(engine)
    settings = Settings(env="test", secret_key="x", database_url="sqlite://")
    with db.new_session(engine) as s:
        admin = s.get(User, world.admin.id)
        assert admin is not None
        user, token = admin_service.invite_user(
            s,
            admin,
            email="Invited@Example.test",
            full_name="Invited",
            role="officer",
            organisation_id=world.agency_a.id,
        )
        assert admin_service.find_account_token(session=s, token=token) is not None
        admin_service.use_account_token(session=s, token=token, password="orchid canyon ledger")
        assert admin_service.find_account_token(session=s, token=token) is None
        signed = auth_service.authenticate(
            session=s,
            settings=settings,
            email="invited@example.test",
            password="orchid canyon ledger",
            ip="10.0.0.1",
        )
        assert signed is not None
        auth_service.start_session(session=s, settings=settings, user=signed)
        admin_service.update_user(s, admin, user.id, active=False)
        assert s.exec(select(WebSession).where(WebSession.user_id == user.id)).all() == []

        rows = admin_service.audit_log(s, AuditFilter(who="INVITED@"))
        assert {r.event.action for r in rows} >= {"sign_in", "password_set"}
        by_org = admin_service.audit_log(s, AuditFilter(organisation_id=world.agency_a.id))
        assert by_org
        assert all(r.organisation is not None for r in by_org)
        assert all(r.organisation.id == world.agency_a.id for r in by_org if r.organisation)
        assert admin_service.audit_log(s, AuditFilter(since=utcnow() + timedelta(hours=1))) == []
        changed = admin_service.audit_log(s, AuditFilter(what="user_changed"))
        assert len(changed) == 1
        assert changed[0].actor is not None
        assert changed[0].actor.id == admin.id
        text = admin_service.audit_csv(admin_service.audit_log(s, AuditFilter(), limit=None))
        table = list(csv.DictReader(io.StringIO(text)))
        assert {"user_invited", "user_changed", "sign_in"} <= {r["action"] for r in table}


def test_csv_cells_cannot_run_as_formulas() -> None:
    assert admin_service._csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert admin_service._csv_safe("plain") == "plain"
