"""The board's pages: the accepted assessments of its agency, and the summary of one.

Routes stay thin: they parse, call ``service.board.service`` (and the review use cases they
read) and render.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.actions import service as action_service
from service.assessments import service as assessment_service
from service.assessments.frame import PageDep
from service.auth import policy
from service.auth.policy import Permission
from service.board import service as board_service
from service.errors import NotFound
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
    view = assessment_service.report_view(
        questionnaire, assessment, page.visitor.lang, submission=submission
    )
    return page.render(
        "board/summary.html",
        page.common(assessment, agency, questionnaire)
        | {
            "submission": submission,
            "result": view.report.result,
            "gaps": view.gap_rows,
            "critical": [g for g in view.gap_rows if g.severity is Severity.critical],
            "section_rows": view.section_scores,
            "acceptance": review_service.acceptance(
                session=page.session, assessment_id=assessment.id
            ),
            "comments": assessment_service.latest_comments(
                session=page.session, assessment_id=assessment.id, number=submission.number
            ),
            # the accepted plan with the agency's progress since
            "plan": action_service.plan(
                session=page.session,
                viewer=page.viewer,
                assessment=assessment,
                questionnaire=questionnaire,
                lang=page.visitor.lang,
            ),
        },
    )
