"""The application factory: ``uvicorn service.main:create_app --factory``.

Start-up loads the questionnaires; it never migrates the database (``policygap serve`` and
``policygap migrate`` do that once, before any worker starts).
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InternalError, OperationalError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service import db, jobs, logs
from service.account import pages as account
from service.account import security_pages as account_security
from service.actions import endpoints as action_api
from service.actions import pages as action_pages
from service.actions import service as action_service
from service.admin import endpoints as admin_api
from service.admin import pages as admin_routes
from service.admin import service as admin_service
from service.assessments import assignment_pages, events
from service.assessments import endpoints as api_routes
from service.assessments import pages as assessment_pages
from service.assessments import questionnaire_pages as questionnaires
from service.assessments import service as assessment_service
from service.board import endpoints as board_api
from service.board import pages as board_pages
from service.config import Settings, get_settings
from service.documents import endpoints as document_api
from service.documents import pages as document_routes
from service.documents import store as document_store
from service.errors import AppError, NotSignedIn
from service.i18n.catalogue import Translator
from service.notices import endpoints as notice_api
from service.notices import pages as notice_pages
from service.notices import service as notice_service
from service.publication import pages as publication_pages
from service.questionnaire.loader import load_directory
from service.report_delivery import endpoints as report_api
from service.report_delivery import pages as report_pages
from service.report_delivery import service as web_reports
from service.review import endpoints as api_review
from service.review import pages as review_pages
from service.security import (
    BodySizeLimitMiddleware,
    JsonTextMiddleware,
    SecurityHeadersMiddleware,
)
from service.web import health
from service.web.page import PageContext

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(
    request: Request,
    *,
    status_code: int,
    title: str,
    message: str | Callable[[Translator], str],
) -> Response:
    """The error page in the visitor's language; ``message`` is a catalogue msgid or says
    itself in the language it is given (``AppError.describe``)."""
    page = PageContext.for_error(request)
    try:
        text = page._(message) if isinstance(message, str) else message(page._)
        return page.render(
            "error.html",
            {"title": page._(title), "message": text},
            status_code=status_code,
        )
    finally:
        page.session.close()


async def handle_app_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, AppError):  # pragma: no cover - registered for AppError only
        raise exc
    if _is_api(request):
        return JSONResponse(
            {"detail": exc.describe(Translator("en")), "code": exc.code, **exc.detail},
            status_code=exc.status_code,
            headers=exc.headers or None,
        )
    if isinstance(exc, NotSignedIn):
        target = request.url.path + (("?" + request.url.query) if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    titles = {403: "You cannot do this", 404: "Page not found", 409: "This could not be saved"}
    response = _error_page(
        request,
        status_code=exc.status_code,
        title=titles.get(exc.status_code, "There is a problem"),
        message=exc.describe,
    )
    response.headers.update(exc.headers)
    return response


async def handle_http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    if _is_api(request):
        return JSONResponse(
            {"detail": exc.detail, "code": "http_error"},
            status_code=exc.status_code,
            headers=exc.headers,
        )
    title = "Page not found" if exc.status_code == 404 else "There is a problem"
    message = "Check the address and try again" if exc.status_code == 404 else str(exc.detail)
    return _error_page(request, status_code=exc.status_code, title=title, message=message)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    if _is_api(request):
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors, "code": "invalid"}, status_code=422)
    return _error_page(
        request, status_code=400, title="There is a problem", message="The address is not valid"
    )


async def handle_disconnect(request: Request, exc: Exception) -> Response:
    """The client went away before its request was read: one line, no traceback; the response
    goes nowhere."""
    log.info("client disconnected before the request was read: %s", request.method)
    return Response(status_code=400)


# A database or a disk that cannot take a write now: full, read-only, gone away. Not a bug of
# the request: it is answered with 503 (and, on a page, what the user typed, to copy).
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
# Form fields that are not what a person typed.
NOT_TYPED = frozenset({"version", "action", "next"})


async def handle_unavailable(request: Request, exc: Exception) -> Response:
    """503 for a database (or documents directory) that cannot be written or reached.

    The use case has rolled back and the request's session is closed, so the connection goes
    back to the pool clean and the next request works. The cause goes to the log; the page
    shows back the text fields that were posted, so that nothing typed is lost."""
    if isinstance(exc, OSError) and exc.errno not in STORAGE_ERRNOS:
        raise exc
    log.error("storage unavailable: %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    headers = {"Retry-After": "60"}
    message = "The service cannot save changes right now. Nothing was saved. Try again later"
    if _is_api(request):
        return JSONResponse(
            {"detail": message, "code": "unavailable"}, status_code=503, headers=headers
        )
    posted = getattr(request.state, "posted", None) or []
    labels: dict[str, str] = getattr(request.state, "field_labels", None) or {}
    typed = [
        (labels.get(name, name), value)
        for name, value in posted
        if name not in NOT_TYPED and value.strip()
    ]
    page = PageContext.for_error(request)
    try:
        response = page.render(
            "unavailable.html", {"typed": typed, "back_url": request.url.path}, status_code=503
        )
    finally:
        page.session.close()
    response.headers.update(headers)
    return response


REGISTRY_CHECK_SECONDS = 5.0


def refresh_registry(app: FastAPI) -> None:
    """The questionnaires every page serves: the folder's files (read at start) and the
    versions published in the database (read now). Called at start, after a publish, and by
    `RegistryRefreshMiddleware` when another instance published one."""
    try:
        with db.new_session(app.state.engine) as session:
            stamp = admin_service.published_stamp(session)
            registry = admin_service.build_registry(session, app.state.directory_registry)
    except SQLAlchemyError as error:  # a database not migrated yet: the folder's files only
        log.error("questionnaire versions not read from the database: %s", error)
        stamp, registry = (-1, ""), app.state.directory_registry
    app.state.registry = registry
    app.state.registry_stamp = stamp
    app.state.registry_checked = time.monotonic()


class RegistryRefreshMiddleware:
    """At most every few seconds, one query: has any instance published a version since this
    one loaded its registry? Then reload it, so every instance serves the same versions."""

    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.owner.state
        checked = getattr(state, "registry_checked", None)
        if (
            scope["type"] == "http"
            and checked is not None
            and time.monotonic() - checked > REGISTRY_CHECK_SECONDS
        ):
            state.registry_checked = time.monotonic()
            await run_in_threadpool(self._check)
        await self.app(scope, receive, send)

    def _check(self) -> None:
        with db.new_session(self.owner.state.engine) as session:
            stamp = admin_service.published_stamp(session)
        if stamp != getattr(self.owner.state, "registry_stamp", None):
            refresh_registry(self.owner)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application (settings from the environment unless given)."""
    settings = settings or get_settings()
    logs.configure(settings.log_format, settings.log_level)
    assessment_service.use_documents(document_store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        directory = load_directory(settings.questionnaires_dir)
        app.state.directory_registry = directory
        refresh_registry(app)
        for result in app.state.registry.results:
            for problem in result.errors:
                log.error("questionnaire not loaded: %s", problem.format())
        notice_service.tell_mail_setting(settings)
        if settings.report_prerender:
            web_reports.start_renderer(app.state.job_resources, settings)
        worker = None
        if settings.embedded_worker:
            worker = jobs.EmbeddedWorker(settings, app.state.engine, app.state.job_resources)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            app.state.jobs.close()
            web_reports.shutdown(app)
            app.state.job_resources.close()
            app.state.engine.dispose()

    app = FastAPI(
        title="PolicyGap",
        version="0.1.0",
        summary="Self-assessment of police facial-recognition programs against Canadian privacy guidance",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = db.make_engine(settings.database_url)
    app.state.job_resources = jobs.Resources()  # the render process, shared with the worker
    app.state.jobs = jobs.open_queue(settings, app.state.engine)
    app.state.refresh_registry = lambda: refresh_registry(app)  # after a publish (admin)
    events.on_submission_changed(app, web_reports.prerender_latest)
    events.on_report_preparing(app, web_reports.preparing_languages)
    # notices: the header's unread count, and the send job queued after a notice is recorded
    app.state.unread_notices = notice_service.unread_count
    events.on_overdue_actions(app, action_service.overdue_counts)
    notice_service.use_queue(app.state.engine, app.state.jobs if settings.smtp_url else None)
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(ClientDisconnect, handle_disconnect)
    app.add_middleware(JsonTextMiddleware)  # inside the size limit: reads a bounded body
    for unavailable in (OperationalError, InternalError, OSError):
        app.add_exception_handler(unavailable, handle_unavailable)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        routes=[
            *document_routes.upload_limits(settings),
            *report_pages.upload_limits(settings),
            *admin_routes.upload_limits(),
        ],
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.secure_cookies,
        session_cookie=settings.session_cookie_name,
    )
    if settings.trusted_proxies.strip():
        # The one place the client's address and scheme are read from X-Forwarded-For and
        # X-Forwarded-Proto: only when the TCP peer is one of these proxies (uvicorn runs with
        # --no-proxy-headers). The sign-in limits count request.client.host.
        app.add_middleware(
            ProxyHeadersMiddleware,
            trusted_hosts=[h.strip() for h in settings.trusted_proxies.split(",") if h.strip()],
        )
    app.add_middleware(RegistryRefreshMiddleware, owner=app)
    app.add_middleware(logs.RequestContextMiddleware)  # outermost: every record has the id
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Routes are matched in order, one router after another (each a pass over its routes), so
    # the busiest pages come first: the assessment pages (the section page and its save). The
    # old section addresses match any page of an assessment, so they come last.
    # tests/ops/test_routes_order.py: no route hides another.
    app.include_router(assessment_pages.router)
    app.include_router(document_routes.router)
    app.include_router(review_pages.router)
    app.include_router(board_pages.router)
    app.include_router(publication_pages.router)
    app.include_router(action_pages.router)
    app.include_router(report_pages.router)
    app.include_router(assignment_pages.router)
    app.include_router(health.router)
    app.include_router(account.router)
    app.include_router(notice_pages.router)
    app.include_router(questionnaires.router)
    app.include_router(document_api.router)
    app.include_router(api_review.router)
    app.include_router(board_api.router)
    app.include_router(action_api.router)
    app.include_router(api_routes.router)
    app.include_router(report_api.router)
    app.include_router(notice_api.router)
    app.include_router(account_security.router)
    admin_routes.install(app)
    app.include_router(admin_api.router)
    app.include_router(assessment_pages.old_section_urls)
    return app
