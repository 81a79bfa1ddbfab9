"""The demo's accepted sample is accepted in the inbox too (its digest follows the status)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from service import db
from service.admin_cli import ensure_demo
from service.assessments.models import Assessment, SubmissionDigest
from service.questionnaire.loader import load_directory
from tests.builders import ROOT


def test_demo_digests_follow_status(engine: Engine) -> None:
    registry = load_directory(ROOT / "questionnaires")
    with db.new_session(engine) as session:
        ensure_demo(
            session=session, registry=registry, examples_dir=ROOT / "questionnaires" / "examples"
        )
        rows = session.exec(
            select(SubmissionDigest, Assessment).join(
                Assessment,
                Assessment.id == SubmissionDigest.assessment_id,  # type: ignore[arg-type]
            )
        ).all()
    assert rows
    assert {d.status for d, _ in rows} >= {"submitted", "accepted"}
    assert all(d.status == a.status for d, a in rows)
