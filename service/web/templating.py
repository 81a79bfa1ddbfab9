"""The Jinja environment for pages (autoescape on, undefined variables fail) and ``render``,
which only renders: the page context (``service/web/page.py``) gives it its values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from service.config import Settings
from service.i18n import formats, labels

TEMPLATES_DIR = Path(__file__).parent / "templates"
SERVICE_DIR = Path(__file__).parent.parent
# Each feature keeps its page templates in its own ``templates/`` folder, named here by the
# feature's folder ("assessments/section.html" is ``service/assessments/templates/section.html``);
# the shared layout, error page and components stay in ``service/web/templates``.
FEATURES = (
    "account",
    "actions",
    "admin",
    "assessments",
    "board",
    "documents",
    "publication",
    "notices",
    "report_delivery",
    "review",
)

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
    # Templates are part of the release: checking each file's time on every render (Jinja's
    # default) cost a fifth of a section page (bench/web.py). Restart to see a template change.
    auto_reload=False,
)


def _label_filter(label: Any) -> Any:
    @pass_context
    def apply(context: Context, value: object) -> str:
        return str(label(value, context.get("lang", "en")))

    return apply


# One label per concept, in the page's language: ``{{ item.status|status_label }}``.
LABEL_FILTERS = {
    "verdict_label": labels.verdict_label,
    "rating_label": labels.rating_label,
    "severity_label": labels.severity_label,
    "status_label": labels.status_label,
    "section_status_label": labels.section_status_label,
    "action_status_label": labels.action_status_label,
    "carry_status_label": labels.carry_status_label,
    "role_label": labels.role_label,
    "org_kind_label": labels.org_kind_label,
    "body_type_label": labels.body_type_label,
    "province_label": labels.province_label,
    "action_label": labels.action_label,
    "audit_detail": labels.detail_text,
    "size": formats.format_size,
    "decimal": formats.format_decimal,
    "percent": formats.format_percent,
    "medium_date": formats.format_day,
    "time_of_day": formats.format_time,
}
_env.filters.update({name: _label_filter(label) for name, label in LABEL_FILTERS.items()})
templates = Jinja2Templates(env=_env)


def set_session_cookie(response: Any, *, settings: Settings, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def render(
    request: Request, name: str, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """The template ``name`` rendered with ``values``: no I/O, no database. Pages render through
    ``PageContext.render`` (service/web/page.py), which adds what the layout needs."""
    return templates.TemplateResponse(request, name, values, status_code=status_code)
