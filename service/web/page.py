"""The page context every HTML route takes, as one dependency: the request, its database
session, the settings, the loaded questionnaires, the visitor (and, signed in, the viewer), a
translator and ``render``, the only way a page is rendered (error pages too)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import inspect
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from service import db
from service.auth import policy
from service.auth import service as auth_service
from service.auth.deps import Visitor, checked_form, signed_in_user, visitor_for
from service.auth.policy import Permission
from service.auth.principal import Viewer
from service.config import Settings
from service.deps import request_session
from service.errors import NotFound
from service.i18n.catalogue import Translator
from service.models import User
from service.questionnaire.loader import Registry
from service.questionnaire.schema import localize
from service.security import CSRF_FIELD
from service.web import templating


def today() -> date:
    return datetime.now(UTC).date()


def parse_id(raw: str) -> uuid.UUID:
    """A UUID from the path; anything else is a page that does not exist (404)."""
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise NotFound() from error


def form_version(form: FormData) -> int | None:
    """The record version a form was filled in on: its ``version`` field, digits only (None when
    it is missing or anything else: ``""``, ``abc``, ``1.0``, `` 1``, ``+1``, ``1_0``)."""
    raw = form.get("version")
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


def _expired(visitor: Visitor) -> bool:
    """Whether a row the visitor holds has attributes that must be read again."""
    rows = (visitor.user, visitor.web_session, visitor.organisation)
    return any(row is not None and inspect(row).expired_attributes for row in rows)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


R = TypeVar("R", bound=Response)


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
        *,
        error_page: bool = False,
    ) -> None:
        self.request = request
        self.session = session
        self.settings = settings
        self.registry = registry
        self.visitor = visitor
        self._ = Translator(visitor.lang)
        self._viewer: Viewer | None = None
        # An error page is rendered after the request's database session has closed: it reads
        # nothing and writes nothing (no new session for an anonymous visitor, no commit).
        self._error_page = error_page

    @classmethod
    def for_error(cls, request: Request) -> PageContext:
        """The context of an error page: the visitor if the request got that far (else an
        anonymous one in the default language) and a database session it never uses."""
        state = request.app.state
        settings: Settings = state.settings
        visitor = getattr(request.state, "visitor", None)
        if not isinstance(visitor, Visitor):
            visitor = Visitor(None, None, None, lang=settings.default_language)
        elif _expired(visitor):
            # A failed write rolled the request's session back, which expired its rows, and the
            # session is closed: they cannot be read again. The page is shown without them.
            visitor = Visitor(None, None, None, lang=visitor.lang)
        session = db.new_session(state.engine)  # no I/O until used, and it is not used
        # Before start-up has loaded the questionnaires there are none (an error page uses none).
        registry: Registry = getattr(state, "registry", None) or Registry([])
        return cls(request, session, settings, registry, visitor, error_page=True)

    @property
    def lang(self) -> str:
        return self.visitor.lang

    @property
    def viewer(self) -> Viewer:
        """The signed-in user with their organisation (NotSignedIn without one)."""
        if self._viewer is None:
            user = signed_in_user(self.request, self.visitor)
            self._viewer = Viewer(user=user, organisation=self.visitor.organisation)
        return self._viewer

    @property
    def user(self) -> User:
        return self.viewer.user

    @property
    def csrf_token(self) -> str | None:
        """The visitor's CSRF token. An anonymous visitor without a session gets one (and so a
        token) the first time a page asks for it; ``finish`` sets its cookie on the response."""
        if self.visitor.web_session is None and not self._error_page:
            # no language stored: the session's language is one the visitor chose (/language),
            # which signing in then keeps for the account (security_pages.signed_in)
            created = auth_service.start_session(
                session=self.session, settings=self.settings, user=None
            )
            self.visitor.web_session = created.row
            self.visitor.new_session_token = created.token
        return self.visitor.web_session.csrf_token if self.visitor.web_session else None

    def unread_notices(self) -> int | None:
        """The signed-in user's unread notices, for the header (None: not shown). The notices
        feature gives the count (``app.state.unread_notices``; main.create_app)."""
        count: Callable[[Session, uuid.UUID], int] | None = getattr(
            self.request.app.state, "unread_notices", None
        )
        user = self.visitor.user
        if count is None or user is None or self._error_page:
            return None
        return count(self.session, user.id)

    def layout(self, *, errors: bool) -> dict[str, Any]:
        """What the layout shows on every page."""
        url = self.request.url
        lang = self.lang
        return {
            "_": self._,
            "ngettext": self._.ngettext,  # plural forms: pure, no I/O
            "lang": lang,
            "other_lang": "fr" if lang == "en" else "en",
            "user": self.visitor.user,
            # what the user's role may do (``service.auth.policy``): templates ask this, not the role
            "permissions": policy.permissions_of(
                self.visitor.user.role if self.visitor.user else None
            ),
            "csrf_field": CSRF_FIELD,
            "csrf_token": self.csrf_token,
            "localize": lambda value: localize(value, lang),
            "has_errors": errors,
            "unread_notices": self.unread_notices(),
            "current_path": url.path + (("?" + url.query) if url.query else ""),
        }

    def render(
        self, name: str, context: dict[str, Any], *, status_code: int = 200, errors: bool = False
    ) -> HTMLResponse:
        """The page ``name`` with ``context`` (data only: no callables that do I/O)."""
        values = self.layout(errors=errors) | context
        response = templating.render(self.request, name, values, status_code=status_code)
        if not self._error_page:
            # The page is rendered: end its read transaction here, in the worker thread, rather
            # than when the session closes on the event loop (where a database call stalls
            # every request). Never a write: changes are committed by the use cases
            # (``db.writing``); should any be pending here, they are left for the close, which
            # discards them.
            session = self.session
            if not (session.new or session.dirty or session.deleted):
                session.commit()
        return self.finish(response)

    def finish(self, response: R) -> R:
        """``response`` with the cookie of the session started for this visitor, if any."""
        if self.visitor.new_session_token:
            templating.set_session_cookie(
                response,
                settings=self.settings,
                token=self.visitor.new_session_token,
                max_age=self.settings.anonymous_session_max_age_seconds,
            )
        return response

    def label_fields(self, labels: dict[str, str]) -> None:
        """The words to show for the form's fields should a change fail because the database
        cannot be written (the 503 page shows back what was typed, under these labels)."""
        self.request.state.field_labels = labels

    def require_user(self) -> None:
        """NotSignedIn (or SecondFactorRequired) now, before the page's handler runs."""
        _ = self.viewer


P = TypeVar("P", bound=PageContext)


async def open_page(
    request: Request, session: Session, kind: type[P], *, signed_in: bool = True
) -> P:
    """Everything a page needs, on the request's database session (``request_session``).

    A page's dependency opens the session, then this finds the visitor and (``signed_in``) the
    user, in one node of FastAPI's dependency graph and one thread-pool trip: solving a graph
    costs about 0.1 ms per node on every request, and each async context manager around it
    more (bench/web.py). ``signed_in`` pages refuse an anonymous visitor before their handler
    runs."""
    state = request.app.state
    visitor = await run_in_threadpool(visitor_for, request, session, state.settings)
    page = kind(request, session, state.settings, state.registry, visitor)
    if signed_in:
        page.require_user()
    return page


async def get_page_context(request: Request) -> AsyncIterator[PageContext]:
    async with request_session(request) as session:
        yield await open_page(request, session, PageContext)


async def get_public_page(request: Request) -> AsyncIterator[PageContext]:
    async with request_session(request) as session:
        yield await open_page(request, session, PageContext, signed_in=False)


PageContextDep = Annotated[PageContext, Depends(get_page_context)]
"""A page for signed-in users."""
PublicPageDep = Annotated[PageContext, Depends(get_public_page)]
"""A page anyone may open (signing in, the one-time password link, the language switch)."""


async def get_page_context_form(request: Request, page: PageContextDep) -> AsyncIterator[FormData]:
    """The posted form of a ``PageContextDep`` page, after the CSRF check (403 otherwise)."""
    async with checked_form(request, page.visitor) as form:
        yield form


async def get_public_page_form(request: Request, page: PublicPageDep) -> AsyncIterator[FormData]:
    """The posted form of a ``PublicPageDep`` page, after the CSRF check (403 otherwise)."""
    async with checked_form(request, page.visitor) as form:
        yield form


PageContextForm = Annotated[FormData, Depends(get_page_context_form)]
PublicPageForm = Annotated[FormData, Depends(get_public_page_form)]


def holding(permission: Permission) -> Callable[[PageContext], User]:
    """A dependency of a page that needs the signed-in user to hold ``permission``: that user
    (403 otherwise). Routes that take the page context call ``policy.check`` themselves."""

    def dependency(page: PageContextDep) -> User:
        policy.check(page.user, permission)
        return page.user

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
