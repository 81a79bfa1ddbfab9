"""Expected errors carry their HTTP status; one handler turns them into JSON or a page.

Routes raise these; nothing else decides a status code. A signed-out page request is redirected
to the sign-in page, a signed-out API request gets 401 JSON.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from service.i18n.catalogue import N_, Translator


class AppError(Exception):
    """An expected failure with a status code, a stable code and a message (a catalogue msgid;
    with ``format_detail``, its ``{placeholders}`` are filled from ``detail`` once translated)."""

    status_code = 400
    code = "bad_request"
    message = N_("The request could not be processed")
    format_detail = False

    def __init__(self, message: str | None = None, **detail: Any) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.detail = detail

    def describe(self, _: Translator) -> str:
        """The message in the language of ``_``, its placeholders filled."""
        text = _(self.message)
        return text.format(**self.detail) if self.format_detail else text

    @property
    def headers(self) -> dict[str, str]:
        """Headers the response carries besides the body."""
        return {"WWW-Authenticate": "Bearer"} if self.status_code == 401 else {}


class NotSignedIn(AppError):
    status_code = 401
    code = "not_signed_in"
    message = N_("Sign in to continue")


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = N_("You cannot do this with your role")


class CsrfRefused(Forbidden):
    code = "csrf"
    message = N_("The form was out of date or came from another site. Go back and try again")


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = N_("Page not found")


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = N_("The request conflicts with the current state")


class StaleVersion(Conflict):
    code = "stale_version"
    message = N_("Someone else saved this assessment after you opened it")


class AlreadySubmitted(Conflict):
    code = "already_submitted"
    message = N_("This assessment has been submitted and can no longer be changed")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = N_("This assessment cannot move to that status")


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"
    message = N_("The If-Match version does not match the assessment's version")


class PreconditionRequired(AppError):
    status_code = 428
    code = "precondition_required"
    message = N_("Send the assessment's version in an If-Match header")


class Unprocessable(AppError):
    status_code = 422
    code = "invalid"
    message = N_("The request is not valid")


class InvalidText(Unprocessable):
    """A form field holds a lone surrogate or a NUL: no page, response or database holds it."""

    code = "not_text"
    message = N_("The field “{field}” holds a character that is not text. Remove it and try again")
    format_detail = True


class RateLimited(AppError):
    """Refused for now; ``seconds`` (from the limiter) says how long until the next attempt is
    heard, and the message says it: in minutes from two minutes on, else in seconds."""

    status_code = 429
    code = "rate_limited"
    message = N_("Too many attempts. Wait a moment, then try again")

    @property
    def seconds(self) -> int | None:
        seconds = self.detail.get("seconds")
        return seconds if isinstance(seconds, int) and seconds > 0 else None

    def describe(self, _: Translator) -> str:
        seconds = self.seconds
        if seconds is None:
            return _(self.message)
        if seconds < 120:
            return _.ngettext(
                "Too many attempts. Wait {count} second, then try again",
                "Too many attempts. Wait {count} seconds, then try again",
                seconds,
                count=seconds,
            )
        minutes = ceil(seconds / 60)
        return _.ngettext(
            "Too many attempts. Wait {count} minute, then try again",
            "Too many attempts. Wait {count} minutes, then try again",
            minutes,
            count=minutes,
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.seconds)} if self.seconds else {}
