"""The notices pages: the list (newest first, mark read) and the user's e-mail choices."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.auth import policy
from service.auth.policy import Permission
from service.notices import service as notice_service
from service.notices import text
from service.notices.models import Notice
from service.web.page import PageContext, PageContextDep, PageContextForm, redirect

router = APIRouter(tags=["pages"], include_in_schema=False)


def _row(notice: Notice, lang: str) -> dict[str, Any]:
    said = text.words(notice.kind, notice.params, lang)
    link = str(notice.params.get("link") or "")
    return {
        "id": notice.id,
        "title": said.title,
        "next_step": said.next_step,
        # a path of the app only: never an address elsewhere nor a javascript: URL
        "link": link if link.startswith("/") and not link.startswith("//") else "",
        "at": notice.created_at,
        "unread": notice.read_at is None,
    }


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


@router.get("/notices", name="show_notices")
def show_notices(page: PageContextDep, request: Request) -> HTMLResponse:
    policy.check(page.user, Permission.notices)
    found = notice_service.list_(page.session, page.user, page=_page_number(request))
    return page.render(
        "notices/list.html",
        {
            "notices": [_row(n, page.lang) for n in found.notices],
            "found": found,
            "done": request.query_params.get("done") == "read",
        },
    )


@router.post("/notices/read", name="mark_notices_read")
def mark_notices_read(page: PageContextDep, form: PageContextForm) -> Response:
    policy.check(page.user, Permission.notices)
    raw = form.get("notice")
    notice_id: uuid.UUID | None = None
    if isinstance(raw, str) and raw:
        try:
            notice_id = uuid.UUID(raw)
        except ValueError:
            return redirect("/notices")
    notice_service.mark_read(page.session, page.user, notice_id=notice_id)
    return redirect("/notices?done=read" + (f"#notice-{notice_id}" if notice_id else ""))


def _settings_context(page: PageContext, chosen: set[str], saved: bool) -> dict[str, Any]:
    return {
        "kinds": [(k.value, text.kind_name(k, page.lang)) for k in notice_service.KINDS],
        "chosen": chosen,
        "saved": saved,
        "mail_on": bool(page.settings.smtp_url),
    }


@router.get("/account/notices", name="show_notice_settings")
def show_notice_settings(page: PageContextDep, request: Request) -> HTMLResponse:
    policy.check(page.user, Permission.notices)
    chosen = {k.value for k in notice_service.email_kinds(page.session, page.user.id)}
    saved = request.query_params.get("done") == "saved"
    return page.render("notices/settings.html", _settings_context(page, chosen, saved))


@router.post("/account/notices", name="save_notice_settings")
def save_notice_settings(page: PageContextDep, form: PageContextForm) -> Response:
    policy.check(page.user, Permission.notices)
    kinds = [value for value in form.getlist("email") if isinstance(value, str)]
    notice_service.set_email_kinds(page.session, page.user, kinds)
    return redirect("/account/notices?done=saved")
