"""Builders for the public-edition tests: web-mini with a public-edition block, an accepted
assessment with free text, and an edition prepared and released through the use cases."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from service import db
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.models import User
from service.publication import service as publication
from service.questionnaire import publication as redaction
from service.questionnaire.loader import load_directory
from service.questionnaire.schema import Questionnaire
from tests.review.helpers import AS_OF, decide, resubmit, viewer

DATA = Path(__file__).parent / "data_web" / "questionnaires" / "web-mini.yaml"
SECRET_NOTE = "SECRET-EVIDENCE-Zq81 probe tuning thresholds"
SECRET_OWNER = "SECRET-OWNER-Kx27 Detective Sergeant"
PUBLIC_TEXT = "Retrospective searches of the mugshot gallery"
REASON = "FIPPA s. 14(1)(c), law enforcement (investigative techniques)"
PUBLIC_BLOCK = """public_edition:
  summary_questions: [uses, description]
  detail_questions: [owner, pia_done]
  reasons:
    - key: fippa-14-1-c
      label: {en: "FIPPA s. 14(1)(c), law enforcement (investigative techniques)", fr: "LAIPVP, al. 14(1)c), exécution de la loi (techniques d'enquête)"}
      reference: {source: PA, section: "14(1)(c)", verification: secondary}
    - key: fippa-21-1
      label: {en: "FIPPA s. 21(1), personal privacy", fr: "LAIPVP, par. 21(1), vie privée"}
"""
ANSWERS: dict[str, Any] = {
    "body_type": "municipal",
    "uses": ["retrospective"],
    "searches": 10,
    "description": PUBLIC_TEXT,
    "pia_done": "yes",
    "pia_date": "2026-01-01",
    "owner": SECRET_OWNER,
}


def write_questionnaires(folder: Path) -> Path:
    """web-mini with a public-edition block in ``folder``: the description is proposed for
    publication; the owner (text) and every evidence note start withheld."""
    text = DATA.read_text(encoding="utf-8")
    text = text.replace(
        "      - id: description\n", "      - id: description\n        publication: publish\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "web-mini.yaml").write_text(text + PUBLIC_BLOCK, encoding="utf-8")
    return folder


def questionnaire(folder: Path) -> Questionnaire:
    found = load_directory(folder).get("web-mini", "1.0")
    assert found is not None
    return found


def accepted(engine: Engine, officer: User, reviewer: User, q: Questionnaire) -> uuid.UUID:
    """An assessment answered with free text and a secret evidence note, submitted, accepted."""
    v = viewer(engine, officer)
    with db.new_session(engine) as s:
        aid = assessment_service.start(
            session=s, viewer=v, questionnaire=q, program="Mugshot search"
        ).id
        assessment_service.save_answers(
            session=s,
            viewer=v,
            assessment_id=aid,
            expected_version=None,
            questionnaire=q,
            values=ANSWERS,
            evidence={"pia_done": SECRET_NOTE},
            as_of=AS_OF,
        )
    resubmit(engine, officer, aid, questionnaire=q)
    decide(engine, reviewer, aid, "accept", questionnaire=q)
    return aid


def released(
    engine: Engine,
    officer: User,
    reviewer: User,
    q: Questionnaire,
    aid: uuid.UUID,
    withheld: dict[str, str],
) -> uuid.UUID:
    """Prepare (withholding ``withheld``: path -> reason key) and release; the record's id."""
    with db.new_session(engine) as s:
        v = viewer(engine, officer)
        assessment = s.get_one(Assessment, aid)
        submission = publication.accepted_submission(s, v, assessment)
        assert submission is not None
        items = redaction.items(q, publication.sealed_of(submission))
        decisions = {i.path: (i.path not in withheld, withheld.get(i.path, "")) for i in items}
        edition = publication.save(
            session=s,
            viewer=v,
            questionnaire=q,
            assessment_id=aid,
            expected_version=0,
            proposal=publication.Proposal(decisions, AS_OF.replace(year=AS_OF.year + 1)),
            propose=True,
        )
        publication.release(
            session=s,
            viewer=viewer(engine, reviewer),
            questionnaire=q,
            assessment_id=aid,
            expected_version=edition.version,
        )
        return edition.id
