"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: this instance can
serve pages: the database answers, its schema is at the newest migration, and at least one
questionnaire is loaded). Not ready answers 503 with a short reason."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service import db
from service.deps import RegistryDep, SessionDep

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _not_ready(reason: str, **detail: object) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason, **detail}, status_code=503)


@router.get("/readyz", name="readyz", response_model=None)
def readyz(session: SessionDep, registry: RegistryDep) -> JSONResponse | dict[str, object]:
    """Ready: the database answers, is migrated to head, and a questionnaire is loaded."""
    try:
        current = db.schema_revisions(session.connection())
    except Exception as error:  # any database failure means "not ready"
        log.warning("not ready: the database does not answer: %s", error)
        session.rollback()
        return _not_ready("the database does not answer")
    if current != (db.head_revision(),):
        return _not_ready(
            "the database is not migrated to the latest revision (run policygap migrate)",
            revision=list(current),
        )
    count = len(registry.all())
    if count == 0:
        return _not_ready("no questionnaire is loaded", questionnaires=0)
    return {"status": "ok", "questionnaires": count}
