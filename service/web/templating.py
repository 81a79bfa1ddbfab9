"""The Jinja environment for pages (autoescape on, undefined variables fail) and ``render``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from service.auth import service as auth_service
from service.auth.deps import Visitor
from service.config import Settings
from service.questionnaire.schema import localize
from service.security import CSRF_FIELD
from service.web.i18n import Translator

TEMPLATES_DIR = Path(__file__).parent / "templates"
SERVICE_DIR = Path(__file__).parent.parent
# Each feature keeps its page templates in its own ``templates/`` folder, named here by the
# feature's folder ("assessments/section.html" is ``service/assessments/templates/section.html``);
# the shared layout, error page and components stay in ``service/web/templates``.
FEATURES = ("account", "admin", "assessments", "board", "documents", "report_delivery", "review")

_env = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(TEMPLATES_DIR),
            PrefixLoader(
                {
                    name: FileSystemLoader(SERVICE_DIR / name / "templates")
                    for name in FEATURES
                    if (SERVICE_DIR / name / "templates").is_dir()
                }
            ),
        ]
    ),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def set_session_cookie(response: Any, *, settings: Settings, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    session: Session,
    settings: Settings,
    visitor: Visitor,
    status_code: int = 200,
    errors: bool = False,
) -> HTMLResponse:
    """Render a page; makes sure the visitor has a session (and so a CSRF token) first."""
    web_session = visitor.web_session
    if web_session is None:
        created = auth_service.start_session(
            session=session, settings=settings, user=None, language=visitor.lang
        )
        web_session = visitor.web_session = created.row
        visitor.new_session_token = created.token
    translate = Translator(visitor.lang)
    values: dict[str, Any] = {
        "_": translate,
        "lang": visitor.lang,
        "other_lang": "fr" if visitor.lang == "en" else "en",
        "visitor": visitor,
        "user": visitor.user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": web_session.csrf_token,
        "localize": lambda value: localize(value, visitor.lang),
        "has_errors": errors,
        "current_path": request.url.path + (("?" + request.url.query) if request.url.query else ""),
    }
    values.update(context or {})
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    # The page is rendered: end its read transaction here, in the worker thread, rather than
    # when the session closes on the event loop (where a database call stalls every request).
    # Never a write: changes are committed by the use cases (``db.writing``); should any be
    # pending here, they are left for the close, which discards them.
    if not (session.new or session.dirty or session.deleted):
        session.commit()
    if visitor.new_session_token:
        set_session_cookie(
            response,
            settings=settings,
            token=visitor.new_session_token,
            max_age=settings.anonymous_session_max_age_seconds,
        )
    return response
