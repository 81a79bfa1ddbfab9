"""The public edition's use cases on each database back end: prepare, release, list with search
and filters, withdraw (the record stays and says so); each step audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from service import db
from service.errors import Unprocessable
from service.models import AuditEvent, EditionStatus
from service.publication import service as publication
from service.publication.models import PublicEdition
from tests.builders import make_world
from tests.publication_helpers import accepted, questionnaire, released, write_questionnaires
from tests.review.helpers import viewer


def test_release_list_filter_and_withdraw(engine: Engine, tmp_path: Path) -> None:
    q = questionnaire(write_questionnaires(tmp_path / "q"))
    world = make_world(engine)
    aid = accepted(engine, world.officer_a, world.reviewer_on, q)
    record = released(
        engine, world.officer_a, world.reviewer_on, q, aid, {"evidence/pia_done": "fippa-14-1-c"}
    )
    with db.new_session(engine) as s:
        rows = publication.published(s)
        assert [r.edition.id for r in rows] == [record]
        regulator = rows[0].regulator
        assert regulator is not None
        assert [r.edition.id for r in publication.published(s, query="mugshot")] == [record]
        assert publication.published(s, query="no such program") == []
        assert [r.edition.id for r in publication.published(s, regulator_id=regulator.id)] == [
            record
        ]
        assert publication.published(s, agency_id=world.agency_b.id) == []
        regulators, agencies = publication.filters(s)
        assert [o.id for o in regulators] == [regulator.id]
        assert [o.id for o in agencies] == [world.agency_a.id]
    with db.new_session(engine) as s:
        edition = s.get_one(PublicEdition, record)
        publication.withdraw(
            session=s,
            viewer=viewer(engine, world.reviewer_on),
            assessment_id=aid,
            expected_version=edition.version,
            reason="Superseded",
        )
    with db.new_session(engine) as s:
        row = publication.published_one(s, record)
        assert row.edition.status == EditionStatus.withdrawn
        assert row.edition.withdrawal_reason == "Superseded"
        assert publication.published(s, include_withdrawn=False) == []
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.at))]
        assert actions[-3:] == [
            "public_edition_proposed",
            "public_edition_released",
            "public_edition_withdrawn",
        ]


def test_a_withheld_item_without_a_reason_cannot_be_proposed(
    engine: Engine, tmp_path: Path
) -> None:
    q = questionnaire(write_questionnaires(tmp_path / "q"))
    world = make_world(engine)
    aid = accepted(engine, world.officer_a, world.reviewer_on, q)
    with db.new_session(engine) as s:
        with pytest.raises(Unprocessable):
            publication.save(
                session=s,
                viewer=viewer(engine, world.officer_a),
                questionnaire=q,
                assessment_id=aid,
                expected_version=0,
                proposal=publication.Proposal({"evidence/pia_done": (False, "")}, None),
                propose=True,
            )
        assert s.exec(select(PublicEdition)).first() is None
