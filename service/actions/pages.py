"""The action plan's pages: the plan of an assessment, one action (the officer changes it, the
regulator comments on it), and the plan as CSV and as a spreadsheet.

Routes stay thin: they parse, call ``service.actions.service`` and render.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from service.actions import export
from service.actions import service as action_service
from service.actions.service import ActionVersionRequired, Plan, PlanItem, StaleAction
from service.assessments.frame import (
    Page,
    PageDep,
    PageForm,
    form_version,
    parse_id,
    redirect,
    today,
)
from service.assessments.models import Assessment
from service.auth import policy
from service.auth.policy import Permission
from service.errors import Unprocessable
from service.models import Organisation
from service.questionnaire.schema import Questionnaire

router = APIRouter(tags=["pages"], include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan(page: Page, assessment_id: str) -> tuple[Assessment, Organisation, Questionnaire, Plan]:
    policy.check(page.viewer.user, Permission.actions_read)
    assessment, agency, questionnaire = page.load(assessment_id)
    found = action_service.plan(
        session=page.session,
        viewer=page.viewer,
        assessment=assessment,
        questionnaire=questionnaire,
        lang=page.visitor.lang,
    )
    return assessment, agency, questionnaire, found


def _context(
    page: Page, assessment: Assessment, agency: Organisation, questionnaire: Questionnaire
) -> dict[str, Any]:
    return page.common(assessment, agency, questionnaire) | {
        "may_edit": action_service.may_edit(page.viewer, assessment),
        "may_comment": policy.allowed(page.viewer.user.role, Permission.actions_comment),
        "plan_url": f"/assessments/{assessment.id}/actions",
        "today": today(),
    }


@router.get("/assessments/{assessment_id}/actions", name="show_actions")
def show_actions(page: PageDep, assessment_id: str) -> HTMLResponse:
    assessment, agency, questionnaire, plan = _plan(page, assessment_id)
    return page.render(
        "actions/plan.html",
        _context(page, assessment, agency, questionnaire) | {"plan": plan},
    )


def _filename(assessment: Assessment, extension: str) -> str:
    return f"action-plan-{assessment.id}.{extension}"


@router.get("/assessments/{assessment_id}/actions.csv", name="export_actions_csv")
def export_actions_csv(page: PageDep, assessment_id: str) -> Response:
    assessment, _agency, _q, plan = _plan(page, assessment_id)
    return page.finish(
        Response(
            export.to_csv(plan, page.visitor.lang),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{_filename(assessment, "csv")}"'
            },
        )
    )


@router.get("/assessments/{assessment_id}/actions.xlsx", name="export_actions_xlsx")
def export_actions_xlsx(page: PageDep, assessment_id: str) -> Response:
    assessment, _agency, _q, plan = _plan(page, assessment_id)
    title = page._("Action plan")
    return page.finish(
        Response(
            export.to_xlsx(plan, page.visitor.lang, title=title),
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="{_filename(assessment, "xlsx")}"'
            },
        )
    )


def _values(item: PlanItem) -> dict[str, str]:
    return {
        "owner": item.owner,
        "target_date": item.target_date.isoformat() if item.target_date else "",
        "status": item.status.value,
        "risk_reason": item.risk_reason,
        "risk_accepted_by": item.risk_accepted_by,
        "note": item.note,
    }


def _render_action(
    page: Page,
    assessment_id: str,
    criterion_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[tuple[str, str]] | None = None,
    comment: str = "",
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    assessment, agency, questionnaire, plan = _plan(page, assessment_id)
    item = plan.item(criterion_id)
    errors = errors or []
    return page.render(
        "actions/action.html",
        _context(page, assessment, agency, questionnaire)
        | {
            "item": item,
            "values": values if values is not None else _values(item),
            "saved": _values(item) if values is not None else None,
            "errors": [(name, page._(message)) for name, message in errors],
            "error_of": dict.fromkeys((*action_service.FIELDS, "comment"), "")
            | {name: page._(message) for name, message in reversed(errors)},
            "comment": comment,
            "problem": page._(problem) if problem else "",
            "statuses": action_service.STATUSES,
        },
        status_code=status_code,
        errors=bool(errors or problem),
    )


@router.get("/assessments/{assessment_id}/actions/{criterion_id}", name="show_action")
def show_action(page: PageDep, assessment_id: str, criterion_id: str) -> HTMLResponse:
    return _render_action(page, assessment_id, criterion_id)


@router.post("/assessments/{assessment_id}/actions/{criterion_id}", name="save_action")
def save_action(page: PageDep, assessment_id: str, criterion_id: str, form: PageForm) -> Response:
    policy.check(page.viewer.user, Permission.actions_edit)
    page.label_fields(
        {
            "owner": page._("Owner"),
            "target_date": page._("Target date"),
            "risk_reason": page._("Why the risk is accepted"),
            "risk_accepted_by": page._("Risk accepted by"),
            "note": page._("Note"),
        }
    )
    change, typed, problems = action_service.parse_form(form)
    if problems:
        return _render_action(
            page, assessment_id, criterion_id, values=typed, errors=problems, status_code=422
        )
    try:
        action_service.update(
            session=page.session,
            viewer=page.viewer,
            assessment_id=parse_id(assessment_id),
            criterion_id=criterion_id,
            expected_version=form_version(form),
            change=change,
        )
    except (StaleAction, ActionVersionRequired) as refused:
        # Nothing typed is lost: the form keeps the user's values beside the saved ones, and
        # carries the saved version, so saving again is a deliberate choice.
        return _render_action(
            page,
            assessment_id,
            criterion_id,
            values=typed,
            problem=refused.message,
            status_code=refused.status_code,
        )
    return redirect(f"/assessments/{assessment_id}/actions#action-{criterion_id}")


@router.post("/assessments/{assessment_id}/actions/{criterion_id}/comments", name="comment_action")
def comment_action(
    page: PageDep, assessment_id: str, criterion_id: str, form: PageForm
) -> Response:
    policy.check(page.viewer.user, Permission.actions_comment)
    raw = form.get("comment")
    text = raw if isinstance(raw, str) else ""
    page.label_fields({"comment": page._("Comment on this action")})
    try:
        action_service.comment(
            session=page.session,
            viewer=page.viewer,
            assessment_id=parse_id(assessment_id),
            criterion_id=criterion_id,
            body=text,
        )
    except Unprocessable as refused:
        return _render_action(
            page,
            assessment_id,
            criterion_id,
            errors=[("comment", refused.message)],
            comment=text,
            status_code=422,
        )
    return redirect(f"/assessments/{assessment_id}/actions/{criterion_id}#comments")
