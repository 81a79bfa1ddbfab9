"""The questionnaires this instance has loaded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.auth import policy
from service.auth.policy import Permission
from service.questionnaire.schema import localize
from service.web.page import PageContextDep

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/questionnaires", name="list_questionnaires")
def list_questionnaires(page: PageContextDep) -> HTMLResponse:
    registry, visitor, user = page.registry, page.visitor, page.user
    items = [
        {
            "id": q.id,
            "version": q.version,
            "title": localize(q.title, visitor.lang),
            "description": localize(q.description, visitor.lang) if q.description else "",
            "sections": len(q.sections),
            "questions": len(q.questions()),
            "criteria": len(q.criteria),
            "sha256": q.sha256,
        }
        for q in sorted(registry.all(), key=lambda q: (q.id, q.version))
    ]
    problems = (
        [p.format() for r in registry.results for p in r.errors]
        if policy.allowed(user.role, Permission.admin_questionnaires)
        else []
    )
    return page.render("assessments/questionnaires.html", {"items": items, "problems": problems})
