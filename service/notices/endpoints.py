"""The notices API: the user's notices (newest first), marking them read, and which kinds also
come by e-mail. Words in the request's language (``?lang=`` or ``Accept-Language``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import LangDep, ViewerDep, require
from service.api.responses import ERRORS
from service.auth.policy import Permission
from service.deps import SessionDep
from service.notices import service as notice_service
from service.notices import text
from service.notices.schemas import EmailSettings, Marked, MarkRead, NoticeList, NoticePublic

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["notices"])


@router.get(
    "/notices",
    response_model=NoticeList,
    summary="Your notices, newest first",
    dependencies=[require(Permission.notices)],
)
def api_notices(
    session: SessionDep,
    viewer: ViewerDep,
    lang: LangDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> NoticeList:
    found = notice_service.list_(session, viewer.user, page=page)
    notices = []
    for notice in found.notices:
        said = text.words(notice.kind, notice.params, lang)
        notices.append(
            NoticePublic(
                id=notice.id,
                kind=notice.kind,
                title=said.title,
                next_step=said.next_step,
                link=str(notice.params.get("link") or ""),
                created_at=notice.created_at,
                read=notice.read_at is not None,
            )
        )
    return NoticeList(
        notices=notices, unread=found.unread, total=found.total, page=found.page, pages=found.pages
    )


@router.post(
    "/notices/read",
    response_model=Marked,
    summary="Mark one of your notices read, or all of them",
    dependencies=[require(Permission.notices)],
)
def api_mark_read(body: MarkRead, session: SessionDep, viewer: ViewerDep) -> Marked:
    return Marked(marked=notice_service.mark_read(session, viewer.user, notice_id=body.notice_id))


@router.get(
    "/notices/settings",
    response_model=EmailSettings,
    summary="Which kinds of notice also come to you by e-mail",
    dependencies=[require(Permission.notices)],
)
def api_notice_settings(session: SessionDep, viewer: ViewerDep) -> EmailSettings:
    kinds = notice_service.email_kinds(session, viewer.user.id)
    return EmailSettings(email=[k for k in notice_service.KINDS if k in kinds])


@router.put(
    "/notices/settings",
    response_model=EmailSettings,
    summary="Choose which kinds of notice also come to you by e-mail",
    dependencies=[require(Permission.notices)],
)
def api_save_notice_settings(
    body: EmailSettings, session: SessionDep, viewer: ViewerDep
) -> EmailSettings:
    chosen = notice_service.set_email_kinds(session, viewer.user, body.email)
    return EmailSettings(email=[k for k in notice_service.KINDS if k in chosen])
