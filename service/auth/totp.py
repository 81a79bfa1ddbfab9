"""The optional second factor: time-based one-time passwords (RFC 6238, ``pyotp``).

Admins may require it for some roles (site setting ``require_totp_roles``, e.g. ``reviewer,admin``);
a user of such a role who has not set it up is sent to ``/account/totp`` before anything else.
"""

from __future__ import annotations

import pyotp
from sqlmodel import Session

from service.errors import AppError
from service.models import SiteSetting

REQUIRE_SETTING = "require_totp_roles"
ISSUER = "PolicyGap"
ENROLABLE_ROLES = ("reviewer", "admin")


class SecondFactorRequired(AppError):
    """A page request by a user who must set up the second factor first (redirected)."""

    status_code = 403
    code = "second_factor_required"
    message = "Set up a second factor (an authenticator app) before you continue"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def verify(secret: str, code: str) -> bool:
    """Whether ``code`` is the current code (or the one either side, for clock drift)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return False
    return pyotp.TOTP(secret).verify(digits, valid_window=1)


def required_roles(session: Session) -> frozenset[str]:
    row = session.get(SiteSetting, REQUIRE_SETTING)
    if row is None or not row.value:
        return frozenset()
    return frozenset(part.strip() for part in row.value.split(",") if part.strip())


def required_for(session: Session, role: str) -> bool:
    if role not in ENROLABLE_ROLES:
        return False
    return role in required_roles(session)
