"""The questionnaires this instance has loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.auth.deps import CurrentUser, VisitorDep
from service.deps import RegistryDep, SessionDep, SettingsDep
from service.questionnaire.schema import localize
from service.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/questionnaires", name="list_questionnaires")
def list_questionnaires(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    registry: RegistryDep,
    visitor: VisitorDep,
    user: CurrentUser,
) -> HTMLResponse:
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
        [p.format() for r in registry.results for p in r.errors] if user.role == "admin" else []
    )
    return render(
        request,
        "assessments/questionnaires.html",
        {"items": items, "problems": problems},
        session=session,
        settings=settings,
        visitor=visitor,
    )
