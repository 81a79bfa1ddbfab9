"""Builders for review tests: submitted assessments made through the use cases (fast)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from service import db
from service.assessments import service as assessment_service
from service.assessments.service import Viewer
from service.models import Organisation, User
from service.questionnaire.loader import load_directory
from service.questionnaire.schema import Questionnaire
from service.review import service as review_service

DATA = Path(__file__).parent.parent / "data_web" / "questionnaires"
AS_OF = date(2026, 11, 26)
GOOD: dict[str, Any] = {
    "body_type": "municipal",
    "uses": ["live"],
    "searches": 10,
    "pia_done": "yes",
    "pia_date": "2026-01-01",
}


def mini() -> Questionnaire:
    q = load_directory(DATA).get("web-mini", "1.0")
    assert q is not None
    return q


def viewer(engine: Engine, user: User) -> Viewer:
    with db.new_session(engine) as s:
        u = s.get_one(User, user.id)
        org = s.get(Organisation, u.organisation_id) if u.organisation_id else None
        s.expunge_all()
        return Viewer(user=u, organisation=org)


def submitted(
    engine: Engine,
    officer: User,
    answers: dict[str, Any] | None = None,
    *,
    program: str = "Mugshot search",
    questionnaire: Questionnaire | None = None,
) -> uuid.UUID:
    q = questionnaire or mini()
    v = viewer(engine, officer)
    with db.new_session(engine) as s:
        a = assessment_service.start(session=s, viewer=v, questionnaire=q, program=program)
        aid = a.id
    answer(engine, officer, aid, answers or GOOD, questionnaire=q)
    resubmit(engine, officer, aid, questionnaire=q)
    return aid


def answer(
    engine: Engine,
    officer: User,
    aid: uuid.UUID,
    answers: dict[str, Any],
    *,
    questionnaire: Questionnaire | None = None,
) -> None:
    q = questionnaire or mini()
    v = viewer(engine, officer)
    with db.new_session(engine) as s:
        assessment_service.save_answers(
            session=s,
            viewer=v,
            assessment_id=aid,
            expected_version=None,
            questionnaire=q,
            values=answers,
            evidence={},
            as_of=AS_OF,
        )


def resubmit(
    engine: Engine, officer: User, aid: uuid.UUID, *, questionnaire: Questionnaire | None = None
) -> None:
    q = questionnaire or mini()
    v = viewer(engine, officer)
    with db.new_session(engine) as s:
        for section in q.sections:
            assessment_service.mark_section(
                session=s,
                viewer=v,
                assessment_id=aid,
                expected_version=None,
                questionnaire=q,
                section_id=section.id,
                completed=True,
                as_of=AS_OF,
            )
        assessment_service.submit(
            session=s, viewer=v, assessment_id=aid, expected_version=None, questionnaire=q
        )


def decide(
    engine: Engine,
    reviewer: User,
    aid: uuid.UUID,
    action: str,
    comments: dict[str, str] | None = None,
    general: str = "",
    *,
    questionnaire: Questionnaire | None = None,
) -> None:
    v = viewer(engine, reviewer)
    with db.new_session(engine) as s:
        review_service.decide(
            session=s,
            viewer=v,
            assessment_id=aid,
            action=action,
            expected_version=None,
            questionnaire=questionnaire or mini(),
            criterion_comments=comments or {},
            general_comment=general,
        )


NEW_QUESTION = """      - id: dpo_named
        type: yes_no
        text: {en: Is a privacy officer named for the program?, fr: Un responsable de la vie privée est-il désigné?}
"""
PIA_STATUS = """      - id: pia_status
        type: single_choice
        text: {en: Where is the privacy impact assessment?, fr: Où en est l'évaluation des facteurs relatifs à la vie privée?}
        options:
          - {value: none, label: {en: Not started, fr: Pas commencée}}
          - {value: in_progress, label: {en: In progress, fr: En cours}}
          - {value: completed, label: {en: Completed, fr: Terminée}}
"""
MAPPING = """answers_from:
  - version: "1.0"
    questions:
      - id: pia_status
        was: pia_done
        options: {"yes": completed, partly: in_progress, "no": none}
    new: [dpo_named]
"""


def version_2(text: str) -> str:
    """web-mini 1.0 with pia_done renamed (and its options renamed) and one new question."""
    text = text.replace('version: "1.0"', 'version: "2.0"')
    start = text.index("      - id: pia_done\n")
    end = text.index("      - id: pia_date\n")
    text = text[:start] + PIA_STATUS + text[end:]
    text = text.replace(
        "visible_if: 'pia_done == \"yes\"'", "visible_if: 'pia_status == \"completed\"'"
    )
    text = text.replace(
        "applies_if: 'pia_done == \"yes\"'", "applies_if: 'pia_status == \"completed\"'"
    )
    text = text.replace(
        "rule: {answer: pia_done}",
        "rule: {answer: pia_status, map: {none: not_met, in_progress: partial, completed: met}}",
    )
    marker = "      - id: owner\n"
    text = text.replace(marker, NEW_QUESTION + marker)
    text = text.replace(
        "    rule:\n      cases:\n        - when: 'answered(body_type)",
        "    rule:\n      cases:\n        - when: 'answered(dpo_named) and answered(body_type)",
    )
    return text + MAPPING
