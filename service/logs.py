"""Structured logs: every record carries the request id, the user id and the route.

``POLICYGAP_LOG_FORMAT=json`` writes one JSON object a line (for a log collector), ``text`` (the
default) one readable line. The route is the template (``/account/set-password/{token}``), never
the address, so a secret in a path or query string is never written; records are also passed
through ``redact``, which blanks the values of fields named like a password, token, secret or
code. Answers and evidence notes are never logged: no code path formats them into a message.

``RequestContextMiddleware`` gives each request its id (a client's ``X-Request-ID`` when it is a
short token, else a new one), echoes it in the response, and writes one line when the request
ends: method, route, status, duration. ``set_user`` is called where the user is found.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("service.request")

_context: ContextVar[dict[str, Any] | None] = ContextVar("policygap_request", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|token|totp|code|authorization|bearer|csrf_token|cookie)"
    r"(\"?\s*[:=]\s*\"?|\s+)([^\s&\"',;}]+)"
)
_HANDLER_NAME = "policygap"


def redact(text: str) -> str:
    """``text`` with the value after each ``password=``, ``token:``, ``Bearer ``... blanked."""
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


def set_user(user_id: object) -> None:
    """Name the signed-in user (or the API token's owner) in this request's records."""
    context = _context.get()
    if context is not None:
        context["user_id"] = str(user_id)


def current() -> dict[str, Any]:
    """This request's id, user id and route (empty outside a request)."""
    context = _context.get()
    if context is None:
        return {}
    route = getattr(context["scope"].get("route"), "path", None)
    return {"request_id": context["request_id"], "user_id": context["user_id"], "route": route}


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id`` and ``route`` to every record; redacts its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current()
        record.request_id = fields.get("request_id")
        record.user_id = fields.get("user_id")
        record.route = fields.get("route")
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "route": getattr(record, "route", None),
        }
        for key in ("method", "status", "duration_ms"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user_id)s %(route)s] %(message)s"
)


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def configure(kind: str, level: str = "info") -> None:
    """Send the app's and uvicorn's records to stderr in ``kind`` (``json`` or ``text``), once
    per process. uvicorn's access log is replaced by the middleware's line (it writes the full
    address, which may hold a password-setting token)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter(kind))
    root.setLevel(getattr(logging, level.upper()))
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True


class RequestContextMiddleware:
    """A request id for every request, and one log line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", []) if k == b"x-request-id"), b"")
        given_text = given.decode("latin-1")
        request_id = given_text if _REQUEST_ID.fullmatch(given_text) else uuid.uuid4().hex
        token = _context.set({"request_id": request_id, "user_id": None, "scope": scope})
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).setdefault("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope.get("method"),
                current().get("route") or "(no route)",
                status,
                extra={
                    "method": scope.get("method"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            _context.reset(token)
