"""Who is asking: the visitor from the session cookie (pages, through the page context of
``service/web/page.py``) or an API token (the JSON API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from service import db
from service.auth import service as auth_service
from service.auth import totp
from service.config import Settings
from service.deps import SessionDep
from service.errors import NotSignedIn
from service.models import Organisation, Role, User, WebSession, utcnow
from service.security import CSRF_FIELD, check_csrf

LANGUAGES = ("en", "fr")
_TOUCH_AFTER = timedelta(minutes=5)


@dataclass
class Visitor:
    """The session (if any), the signed-in user (if any), their organisation and language."""

    web_session: WebSession | None
    user: User | None
    organisation: Organisation | None
    lang: str
    new_session_token: str | None = None  # set when a session was created during this request
    # A second factor is required for the user's role and not set up yet.
    second_factor_missing: bool = False

    @property
    def role(self) -> Role | None:
        return Role(self.user.role) if self.user else None


def _language(
    request: Request, user: User | None, web_session: WebSession | None, default: str
) -> str:
    for candidate in (
        user.language if user else None,
        web_session.language if web_session else None,
    ):
        if candidate in LANGUAGES:
            return candidate
    accept = request.headers.get("accept-language", "")
    if accept.lower().startswith("fr"):
        return "fr"
    return default


def visitor_for(request: Request, session: Session, settings: Settings) -> Visitor:
    """Who is asking, from the session cookie (touching the session at most every few minutes)."""
    token = request.cookies.get(settings.session_cookie_name)
    found = (
        auth_service.find_session(session=session, token=token, settings=settings)
        if token
        else None
    )
    web_session, user, organisation = found if found else (None, None, None)
    now = utcnow()
    touch_after = min(_TOUCH_AFTER, timedelta(seconds=settings.session_idle_seconds / 4))
    if (
        web_session is not None
        and user is not None
        and now - web_session.last_seen_at > touch_after
    ):
        with db.writing(session):
            row = session.get(WebSession, web_session.id)
            if row is not None:
                row.last_seen_at = now
                row.expires_at = now + timedelta(seconds=settings.session_max_age_seconds)
    lang = _language(request, user, web_session, settings.default_language)
    visitor = Visitor(
        web_session=web_session,
        user=user,
        organisation=organisation,
        lang=lang,
        second_factor_missing=user is not None
        and user.totp_secret is None
        and totp.required_for(session, user.role),
    )
    request.state.visitor = visitor
    return visitor


# Pages a user who must still set up a second factor may reach.
_ENROLMENT_PATHS = frozenset({"/account/totp", "/logout", "/language"})


def signed_in_user(request: Request, visitor: Visitor) -> User:
    """The visitor's user; NotSignedIn without one, SecondFactorRequired while it must enrol."""
    if visitor.user is None:
        raise NotSignedIn()
    if visitor.second_factor_missing and request.url.path not in _ENROLMENT_PATHS:
        raise totp.SecondFactorRequired()
    return visitor.user


@asynccontextmanager
async def checked_form(request: Request, visitor: Visitor) -> AsyncIterator[FormData]:
    """The posted form once its CSRF token matches the visitor's session (403 otherwise)."""
    form = await request.form()
    try:
        given = form.get(CSRF_FIELD)
        check_csrf(
            expected=visitor.web_session.csrf_token if visitor.web_session else None,
            given=given if isinstance(given, str) else None,
            sec_fetch_site=request.headers.get("sec-fetch-site"),
        )
        yield form
    finally:
        await form.close()


def get_api_user(request: Request, session: SessionDep) -> User:
    """The owner of the ``Authorization: Bearer`` personal API token (401 otherwise)."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotSignedIn("Send a personal API token: Authorization: Bearer <token>")
    user = auth_service.user_for_api_token(session=session, secret=secret.strip())
    if user is None:
        raise NotSignedIn("The API token is not valid")
    return user


ApiUser = Annotated[User, Depends(get_api_user)]
