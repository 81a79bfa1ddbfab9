"""The audit log's detail of an action change named the fields changed by their code names
("Fields changed: owner, target_date"); it says them in words, in the reader's language."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from sqlmodel import col, select

from service import db
from service.actions import service as action_service
from service.i18n import labels
from service.models import ActionStatus, AuditEvent
from tests.builders import World
from tests.review.helpers import GOOD, submitted, viewer

NBSP = "\u00a0"


def test_action_change_in_the_audit_log_names_the_fields_in_words(
    world: World, app: FastAPI
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "pia_done": "no"})
    with db.new_session(engine) as s:
        action_service.update(
            session=s,
            viewer=viewer(engine, world.officer_a),
            assessment_id=aid,
            criterion_id="GOV-01",
            expected_version=0,
            change=action_service.ActionChange(
                owner="Records management",
                target_date=date(2027, 3, 31),
                status=ActionStatus.risk_accepted,
                risk_reason="Ends soon",
                risk_accepted_by="Chief",
                note="n",
            ),
        )
        event = s.exec(
            select(AuditEvent).where(
                AuditEvent.assessment_id == aid, col(AuditEvent.action) == "action_update"
            )
        ).one()
    fields = dict(labels.detail_items(event.detail, "en"))["Fields changed"]
    assert fields == (
        "Owner, Target date, Status, Why the risk is accepted, Risk accepted by, Note"
    )
    french = dict(labels.detail_items(event.detail, "fr"))
    assert french["Champs modifiés"].startswith("Responsable, Date cible, Statut, ")
    line = labels.detail_text({"fields": ["owner", "target_date"]}, "fr")
    assert line.endswith(f"{NBSP}: Responsable, Date cible")
    assert "owner" not in line
    assert "target_date" not in line
