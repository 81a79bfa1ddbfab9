"""The page context every HTML route takes: the request's records, the visitor, a translator
and ``render``, as one dependency (``PageDep``), with ``PageForm`` for its checked form."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from service.auth.deps import Visitor, signed_in_user, visitor_for
from service.auth.principal import Viewer
from service.config import Settings
from service.deps import request_session
from service.errors import NotFound
from service.questionnaire.loader import Registry
from service.web.i18n import Translator
from service.web.templating import render


def today() -> date:
    return datetime.now(UTC).date()


def parse_id(raw: str) -> uuid.UUID:
    """A UUID from the path; anything else is a page that does not exist (404)."""
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise NotFound() from error


def form_version(form: FormData) -> int | None:
    raw = form.get("version")
    try:
        return int(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class PageContext:
    """What every page needs: the request, its database session, the settings, the loaded
    questionnaires, the visitor (and, signed in, the viewer) and ``render``."""

    def __init__(
        self,
        request: Request,
        session: Session,
        settings: Settings,
        registry: Registry,
        visitor: Visitor,
        viewer: Viewer,
    ) -> None:
        self.request = request
        self.session = session
        self.settings = settings
        self.registry = registry
        self.visitor = visitor
        self.viewer = viewer
        self._ = Translator(visitor.lang)

    def render(
        self, name: str, context: dict[str, Any], *, status_code: int = 200, errors: bool = False
    ) -> HTMLResponse:
        return render(
            self.request,
            name,
            context,
            session=self.session,
            settings=self.settings,
            visitor=self.visitor,
            status_code=status_code,
            errors=errors,
        )


P = TypeVar("P", bound=PageContext)


@asynccontextmanager
async def open_page(request: Request, kind: type[P]) -> AsyncIterator[P]:
    """Everything a page needs, as one dependency.

    It does what ``get_db``, ``get_visitor`` and ``get_user`` do, in one node of FastAPI's
    dependency graph and one thread-pool trip: solving a graph costs about 0.1 ms per node on
    every request."""
    state = request.app.state
    async with request_session(request) as session:
        visitor = await run_in_threadpool(visitor_for, request, session, state.settings)
        viewer = Viewer(user=signed_in_user(request, visitor), organisation=visitor.organisation)
        yield kind(request, session, state.settings, state.registry, visitor, viewer)


async def get_page_context(request: Request) -> AsyncIterator[PageContext]:
    async with open_page(request, PageContext) as page:
        yield page


PageContextDep = Annotated[PageContext, Depends(get_page_context)]
