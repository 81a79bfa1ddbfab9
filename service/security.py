"""Security middleware and the CSRF check.

- Security headers on every response (a CSP with no inline script).
- A request-body limit: 413 before the body is read.
- CSRF: a synchronizer token kept with the server-side session, compared on every form POST,
  plus a refusal of ``Sec-Fetch-Site: cross-site``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import CsrfRefused
from service.questionnaire.text import MESSAGE, first_bad_text

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_FIELD = "csrf_token"


def new_token() -> str:
    """A random URL-safe secret (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a secret token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_csrf(*, expected: str | None, given: str | None, sec_fetch_site: str | None) -> None:
    """Refuse a state-changing request that did not come from our own form."""
    if sec_fetch_site == "cross-site":
        raise CsrfRefused()
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfRefused()


class SecurityHeadersMiddleware:
    """The security headers on every response, and ``Cache-Control: no-store`` on every
    answer to a request that carries credentials (the session cookie or an API token) or that
    sets a cookie, unless the route declared the answer ``public`` (the report's CSS)."""

    def __init__(
        self, app: ASGIApp, *, hsts: bool = False, session_cookie: str = "policygap_session"
    ) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        self.cookie_prefix = session_cookie.encode() + b"="

    def _has_credentials(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                return True
            if name == b"cookie" and any(
                part.strip().startswith(self.cookie_prefix) for part in value.split(b";")
            ):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credentials = self._has_credentials(scope)
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                cache = headers.get("cache-control", "")
                if (
                    (credentials or "set-cookie" in headers)
                    and not static
                    and "public" not in cache
                    and "no-store" not in cache
                ):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming.

    ``routes`` gives other limits to the paths that fully match a pattern (uploads)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, routes: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = [(re.compile(pattern), limit) for pattern, limit in routes]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.routes:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await _send_413(send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send)


class JsonTextMiddleware:
    """Refuse a JSON request body that Python reads but no response can hold: a string or key
    with a lone surrogate (``"\\ud800"``) or a NUL, nesting deeper than the parser's recursion
    limit, an integer of thousands of digits. 422 with the path of the field, before any route
    sees it; other bodies pass unchanged (the route reports malformed JSON itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        content_type = next(
            (v for k, v in scope.get("headers", []) if k == b"content-type"), b""
        ).lower()
        if not (content_type.startswith(b"application/json") or b"+json" in content_type):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # disconnected: let the route see it
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _json_problem(body)
        if problem is not None:
            await _send_json(send, 422, problem)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_problem(body: bytes) -> dict[str, object] | None:
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None  # the route's own parser answers 422 with where
    except RecursionError:
        error = {"loc": ["body"], "msg": "the JSON nests too deeply", "type": "too_deep"}
        return {"detail": [error], "code": "invalid"}
    except ValueError:  # an integer of more digits than Python converts
        error = {"loc": ["body"], "msg": "a number has too many digits", "type": "number"}
        return {"detail": [error], "code": "invalid"}
    path = first_bad_text(data)
    if path is None:
        return None
    loc: list[str | int] = ["body", *path]
    return {
        "detail": [{"loc": loc, "msg": f"the text {MESSAGE}", "type": "not_text"}],
        "code": "invalid",
    }


async def _send_json(send: Send, status: int, content: dict[str, object]) -> None:
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


async def _send_413(send: Send) -> None:
    body = b'{"detail":"The request is too large","code":"too_large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to (never another site); by default the home page, which sends
    each role to the page of its main job."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
