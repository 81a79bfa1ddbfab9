"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.deps import RegistryDep, SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", name="readyz", response_model=None)
def readyz(session: SessionDep, registry: RegistryDep) -> JSONResponse | dict[str, object]:
    """The database answers and at least one questionnaire is loaded."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception:  # any database failure means "not ready"
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    count = len(registry.all())
    if count == 0:
        return JSONResponse({"status": "unavailable", "questionnaires": 0}, status_code=503)
    return {"status": "ok", "questionnaires": count}
