"""Shared work, as pages: the officer gives sections or questions to colleagues and sees each
person's progress (``assessments.assignments`` holds the use cases)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from service.assessments import assignments
from service.assessments.frame import Page, PageDep, PageForm, redirect, today
from service.assessments.models import Assessment
from service.auth import policy
from service.auth.policy import Permission
from service.errors import NotFound, Unprocessable
from service.i18n import labels
from service.i18n.catalogue import N_
from service.models import AssignmentKind, Organisation
from service.questionnaire.schema import Questionnaire, localize

router = APIRouter(tags=["pages"], include_in_schema=False)


def _part_value(kind: AssignmentKind | str, target: str) -> str:
    return f"{kind}:{target}"


def _parse_part(raw: object) -> tuple[AssignmentKind, str] | None:
    if not isinstance(raw, str):
        return None
    kind, sep, target = raw.partition(":")
    if not sep or kind not in {k.value for k in AssignmentKind} or not target:
        return None
    return AssignmentKind(kind), target


def _parse_date(raw: object) -> date | str | None:
    """The due date typed (None: none given; "bad": not a date)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return "bad"


def _context(
    page: Page,
    assessment: Assessment,
    agency: Organisation,
    questionnaire: Questionnaire,
    *,
    form: dict[str, str] | None = None,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    lang = page.visitor.lang
    rows = assignments.of_assessment(page.session, assessment.id)
    now = today()
    parts = []
    for assignment, user in rows:
        counts = assignments.progress(questionnaire, assessment, [(assignment, user)], today=now)[0]
        parts.append(
            {
                "id": assignment.id,
                "kind": assignment.kind.value,
                "title": assignments.part_title(
                    questionnaire, assignment.kind, assignment.target, lang
                ),
                "who": user.full_name,
                "role": labels.role_label(user.role, lang),
                "due_on": assignment.due_on.isoformat() if assignment.due_on else "",
                "answered": counts.answered,
                "assigned": counts.assigned,
                "overdue": counts.overdue,
            }
        )
    people = [
        {
            "name": p.user.full_name,
            "role": labels.role_label(p.user.role, lang),
            "answered": p.answered,
            "assigned": p.assigned,
            "due_on": p.due_on.isoformat() if p.due_on else "",
            "overdue": p.overdue,
            "done": p.done,
        }
        for p in assignments.progress(questionnaire, assessment, rows, today=now)
    ]
    choices = [
        {
            "title": localize(section.title, lang),
            "section": _part_value(AssignmentKind.section, section.id),
            "questions": [
                {
                    "value": _part_value(AssignmentKind.question, q.id),
                    "text": localize(q.text, lang),
                }
                for q in section.questions
            ],
        }
        for section in questionnaire.sections
    ]
    colleagues = [
        {"id": str(u.id), "name": u.full_name, "role": labels.role_label(u.role, lang)}
        for u in assignments.colleagues(page.session, page.viewer)
    ]
    return page.common(assessment, agency, questionnaire) | {
        "parts": parts,
        "people": people,
        "choices": choices,
        "colleagues": colleagues,
        "form": form or {"part": "", "assignee": "", "due_on": ""},
        "form_errors": errors or [],
        "notice": notice,
    }


NOTICES = {
    "assigned": N_("The part was assigned."),
    "removed": N_("The assignment was removed."),
}


@router.get("/assessments/{assessment_id}/assignments", name="show_assignments")
def show_assignments(page: PageDep, assessment_id: str, notice: str | None = None) -> Response:
    policy.check(page.viewer.user, Permission.assessment_assign)
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    message = page._(NOTICES[notice]) if notice in NOTICES else None
    return page.render(
        "assessments/assignments.html",
        _context(page, assessment, agency, questionnaire, notice=message),
    )


@router.post("/assessments/{assessment_id}/assignments", name="assign_part")
def assign_part(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    policy.check(page.viewer.user, Permission.assessment_assign)
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    _ = page._
    typed = {
        "part": str(form.get("part") or ""),
        "assignee": str(form.get("assignee") or ""),
        "due_on": str(form.get("due_on") or ""),
    }
    errors: list[tuple[str, str]] = []
    part = _parse_part(typed["part"])
    if part is None or not assignments.part_exists(questionnaire, *part):
        errors.append(("part", _("Select the section or question to assign")))
    assignee_id: uuid.UUID | None = None
    try:
        assignee_id = uuid.UUID(typed["assignee"])
    except ValueError:
        errors.append(("assignee", _("Select the colleague to assign it to")))
    due = _parse_date(typed["due_on"])
    if due == "bad":
        errors.append(("due_on", _("Enter a real date in the format YYYY-MM-DD, like 2024-05-31")))
    if not errors and part is not None and assignee_id is not None:
        try:
            assignments.assign(
                session=page.session,
                viewer=page.viewer,
                assessment_id=assessment.id,
                questionnaire=questionnaire,
                kind=part[0],
                target=part[1],
                assignee_id=assignee_id,
                due_on=due if isinstance(due, date) else None,
            )
        except Unprocessable:
            errors.append(("assignee", _("Select the colleague to assign it to")))
        else:
            return redirect(f"/assessments/{assessment.id}/assignments?notice=assigned")
    return page.render(
        "assessments/assignments.html",
        _context(page, assessment, agency, questionnaire, form=typed, errors=errors),
        status_code=422,
        errors=True,
    )


@router.post(
    "/assessments/{assessment_id}/assignments/{assignment_id}/remove", name="remove_assignment"
)
def remove_assignment(
    page: PageDep, assessment_id: str, assignment_id: str, form: PageForm
) -> Response:
    policy.check(page.viewer.user, Permission.assessment_assign)
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    try:
        target = uuid.UUID(assignment_id)
    except ValueError as error:
        raise NotFound() from error
    assignments.unassign(
        session=page.session, viewer=page.viewer, assessment_id=assessment.id, assignment_id=target
    )
    return redirect(f"/assessments/{assessment.id}/assignments?notice=removed")


def task_list_parts(
    page: Page, assessment: Assessment, questionnaire: Questionnaire
) -> dict[str, Any]:
    """For the task list: who has each section (or questions of it), and each person's
    progress."""
    rows = assignments.of_assessment(page.session, assessment.id)
    by_section: dict[str, list[str]] = {}
    section_of = questionnaire.section_of()
    for assignment, user in rows:
        if assignment.kind == AssignmentKind.section:
            by_section.setdefault(assignment.target, []).append(user.full_name)
        else:
            sid = section_of.get(assignment.target)
            if sid is not None:
                by_section.setdefault(sid, []).append(
                    page._("{name} (one question)", name=user.full_name)
                )
    people = [
        {
            "name": p.user.full_name,
            "answered": p.answered,
            "assigned": p.assigned,
            "due_on": p.due_on.isoformat() if p.due_on else "",
            "overdue": p.overdue,
            "done": p.done,
        }
        for p in assignments.progress(questionnaire, assessment, rows, today=today())
    ]
    return {"by_section": by_section, "people": people}
