"""The optional second factor: time-based one-time passwords (RFC 6238, ``pyotp``).

Admins may require it for some roles (site setting ``require_totp_roles``, e.g. ``reviewer,admin``);
a user of such a role who has not set it up is sent to ``/account/totp`` before anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from sqlmodel import Session

from service.errors import AppError
from service.i18n.catalogue import N_
from service.models import Role, SiteSetting

REQUIRE_SETTING = "require_totp_roles"
ISSUER = "PolicyGap"
ENROLABLE_ROLES = (Role.reviewer, Role.admin)


class SecondFactorRequired(AppError):
    """A page request by a user who must set up the second factor first (redirected)."""

    status_code = 403
    code = "second_factor_required"
    message = N_("Set up a second factor (an authenticator app) before you continue")


class SecondFactorRequiredForApi(SecondFactorRequired):
    """An API token of a user who must set up the second factor first (403 until they do)."""

    message = (
        "Your role must use a second factor: set up an authenticator app at /account/totp, "
        "then this token works again"
    )


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


STEP_SECONDS = 30
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: read aloud, typed


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (Unix time // 30) whose code is ``code``: the current one or the one either
    side, for clock drift; None when it matches none. The caller refuses a step at or before
    the last one it accepted, so each code works once."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6 or len(code.strip()) > 12:
        return None
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    otp = pyotp.TOTP(secret)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(otp.generate_otp(step), digits):
            return step
    return None


def verify(secret: str, code: str) -> bool:
    """Whether ``code`` is the current code (or the one either side, for clock drift)."""
    return matching_step(secret, code) is not None


def new_recovery_codes() -> list[str]:
    """Ten random single-use codes, ``xxxxx-xxxxx`` (50 bits each)."""
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODES:
        text = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.add(f"{text[:5]}-{text[5:]}")
    return sorted(codes)


def recovery_code_hash(code: str) -> str | None:
    """What is stored of a recovery code, from what a person typed (case, spaces and dashes
    ignored); None when it cannot be one."""
    text = "".join(ch for ch in code.lower() if ch.isalnum())
    if len(text) != 10 or any(ch not in _RECOVERY_ALPHABET for ch in text):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def required_roles(session: Session) -> frozenset[str]:
    row = session.get(SiteSetting, REQUIRE_SETTING)
    if row is None or not row.value:
        return frozenset()
    return frozenset(part.strip() for part in row.value.split(",") if part.strip())


def required_for(session: Session, role: str) -> bool:
    if role not in ENROLABLE_ROLES:
        return False
    return role in required_roles(session)
