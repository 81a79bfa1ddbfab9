"""The board's pages: the accepted assessments of its agency, and the summary of one.

Routes stay thin: they parse, call ``service.board.service`` (and the review use cases they
read) and render.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.assessments import service as assessment_service
from service.assessments.frame import PageDep
from service.auth import policy
from service.auth.policy import Permission
from service.board import service as board_service
from service.errors import NotFound
from service.i18n.labels import verdict_label
from service.questionnaire import scoring
from service.questionnaire.schema import Severity, localize
from service.review import service as review_service

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/board/", name="show_board")
def show_board(page: PageDep) -> HTMLResponse:
    policy.check(page.viewer.user, Permission.board_read)
    rows = board_service.board_list(session=page.session, viewer=page.viewer)
    lang = page.visitor.lang
    items = []
    for assessment, digest in rows:
        q = page.registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
        items.append(
            {
                "assessment": assessment,
                "digest": digest,
                "q_title": localize(q.title, lang) if q else assessment.questionnaire_id,
            }
        )
    return page.render("board/list.html", {"items": items})


@router.get("/board/{assessment_id}", name="show_board_summary")
def show_board_summary(page: PageDep, assessment_id: str) -> HTMLResponse:
    policy.check(page.viewer.user, Permission.board_read)
    assessment, agency, questionnaire = page.load(assessment_id)
    submission = assessment_service.get_submission(
        session=page.session, assessment_id=assessment.id, viewer=page.viewer
    )
    if submission is None:
        raise NotFound()
    lang = page.visitor.lang
    result = scoring.Result.model_validate(submission.result)
    criteria = {c.id: c for c in questionnaire.criteria}
    gaps = [
        {
            "id": c.id,
            "title": localize(criteria[c.id].title, lang) if c.id in criteria else c.id,
            "severity": c.severity.value,
            "verdict": verdict_label(c.verdict, page.visitor.lang),
            "recommendation": localize(criteria[c.id].recommendation, lang)
            if c.id in criteria and criteria[c.id].recommendation
            else "",
        }
        for c in result.criteria
        if c.verdict.is_gap
    ]
    gaps.sort(key=lambda g: Severity(g["severity"]).rank)
    sections = {s.id: localize(s.title, lang) for s in questionnaire.sections}
    return page.render(
        "board/summary.html",
        page.common(assessment, agency, questionnaire)
        | {
            "submission": submission,
            "result": result,
            "gaps": gaps,
            "critical": [g for g in gaps if g["severity"] == "critical"],
            "section_rows": [
                {"title": sections.get(s.id, s.id), "score": s.score} for s in result.sections
            ],
            "acceptance": review_service.acceptance(
                session=page.session, assessment_id=assessment.id
            ),
            "comments": assessment_service.latest_comments(
                session=page.session, assessment_id=assessment.id
            ),
        },
    )
