"""Users, passwords, server-side sessions, the sign-in rate limit and API tokens.

Use cases that finish a change commit (through ``db.writing``); helpers never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, func, select

from service import db
from service.config import Settings
from service.errors import RateLimited
from service.models import (
    ApiToken,
    AuditEvent,
    BodyType,
    LoginAttempt,
    Organisation,
    OrgKind,
    Role,
    User,
    WebSession,
    utcnow,
)
from service.security import new_token, token_hash

_hasher = PasswordHasher()
# Verified against when the email is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("policygap-dummy-password")
MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why ``password`` is refused (English msgid), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "Use a password of at least 12 characters"
    folded = password.strip().lower()
    if folded in common_passwords() or folded.replace(" ", "") in common_passwords():
        return "This password is too common. Choose another"
    if email and folded == normalise_email(email):
        return "Do not use your email address as your password"
    return None


def audit(
    session: Session,
    *,
    action: str,
    actor_id: uuid.UUID | None = None,
    assessment_id: uuid.UUID | None = None,
    **detail: Any,
) -> None:
    """Add an audit event to the current transaction (the caller commits)."""
    session.add(
        AuditEvent(actor_id=actor_id, assessment_id=assessment_id, action=action, detail=detail)
    )


def record(
    session: Session,
    *,
    action: str,
    actor_id: uuid.UUID | None = None,
    assessment_id: uuid.UUID | None = None,
    **detail: Any,
) -> None:
    """Write one audit event in its own transaction (reads: report views, downloads...)."""
    with db.writing(session):
        audit(session, action=action, actor_id=actor_id, assessment_id=assessment_id, **detail)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    full_name: str,
    role: Role,
    organisation_id: uuid.UUID | None,
    language: str = "en",
    password_hash: str | None = None,
) -> User:
    """Create an account (the password is hashed with Argon2)."""
    if password_hash is None:
        problem = password_problem(password, email=email)
        if problem is not None:
            raise ValueError(problem)
    user = User(
        email=normalise_email(email),
        full_name=full_name,
        password_hash=password_hash or hash_password(password),
        role=Role(role),
        organisation_id=organisation_id,
        language=language,
    )
    with db.writing(session):
        session.add(user)
    return user


def _recent_failures(
    *, session: Session, since: datetime, email: str | None = None, ip: str | None = None
) -> int:
    query = select(func.count()).where(
        col(LoginAttempt.success).is_(False), LoginAttempt.at >= since
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    return int(session.exec(query).one())


def throttled(*, session: Session, settings: Settings, email: str, ip: str) -> str | None:
    """``"account"`` or ``"address"`` when sign-in is refused for now, else None."""
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    email = normalise_email(email)[:254]
    if _recent_failures(session=session, email=email, since=since) >= settings.login_max_failures:
        return "account"
    if ip and (
        _recent_failures(session=session, ip=ip[:64], since=since)
        >= settings.login_max_failures_per_address
    ):
        return "address"
    return None


def authenticate(
    *, session: Session, settings: Settings, email: str, password: str, ip: str
) -> User | None:
    """The active user with these credentials, or None; refuses after too many failures
    (per account and per address, counted in the database so every instance agrees).

    Every attempt is in the audit log: ``sign_in_password`` (the password was right; the
    session starts with ``sign_in`` once any second factor is given), ``sign_in_failed`` and
    ``sign_in_throttled``."""
    email = normalise_email(email)[:254]
    now = utcnow()
    which = throttled(session=session, settings=settings, email=email, ip=ip)
    if which is not None:
        user = get_user_by_email(session=session, email=email)
        record(
            session,
            action="sign_in_throttled",
            actor_id=user.id if user else None,
            email=email,
            ip=ip[:64],
            limit=which,
        )
        raise RateLimited(minutes=max(1, settings.login_window_seconds // 60), limit=which)
    user = get_user_by_email(session=session, email=email)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    with db.writing(session):
        session.add(LoginAttempt(email=email, ip=ip[:64], success=ok, at=now))
        if not ok:
            audit(
                session,
                action="sign_in_failed",
                actor_id=user.id if user else None,
                email=email,
                ip=ip[:64],
            )
    return user if ok else None


@dataclass(frozen=True)
class NewSession:
    token: str  # goes in the cookie; only its hash is stored
    row: WebSession


def start_session(
    *, session: Session, settings: Settings, user: User | None, language: str | None = None
) -> NewSession:
    """A new server-side session (anonymous when ``user`` is None)."""
    token = new_token()
    now = utcnow()
    max_age = (
        settings.session_max_age_seconds if user else settings.anonymous_session_max_age_seconds
    )
    row = WebSession(
        id=token_hash(token),
        user_id=user.id if user else None,
        csrf_token=new_token(),
        language=language,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=max_age),
    )
    with db.writing(session):
        session.add(row)
        if user is not None:
            audit(session, action="sign_in", actor_id=user.id, email=user.email)
            # Sign-in is a good moment to forget expired sessions.
            session.exec(delete(WebSession).where(col(WebSession.expires_at) < now))
    return NewSession(token=token, row=row)


def session_expired(row: WebSession, settings: Settings | None, now: datetime) -> bool:
    """Past its stored expiry, idle too long, or older than the absolute lifetime."""
    if row.expires_at <= now:
        return True
    if settings is None or row.user_id is None:
        return False
    if now - row.last_seen_at > timedelta(seconds=settings.session_idle_seconds):
        return True
    return now - row.created_at > timedelta(seconds=settings.session_absolute_seconds)


# Built once: building the statement cost more than running it (this runs on every request).
_FIND_SESSION = (
    select(WebSession, User, Organisation)
    .join(User, col(User.id) == col(WebSession.user_id), isouter=True)
    .join(Organisation, col(Organisation.id) == col(User.organisation_id), isouter=True)
    .where(col(WebSession.id) == bindparam("session_id"))
)


def find_session(
    *, session: Session, token: str, settings: Settings | None = None
) -> tuple[WebSession, User | None, Organisation | None] | None:
    """The live session for a cookie token, with its active user and their organisation
    (one query: this runs on every request). With ``settings``, the idle and absolute limits
    apply too."""
    found = session.exec(_FIND_SESSION, params={"session_id": token_hash(token)}).first()
    if found is None:
        return None
    row, user, organisation = found
    if session_expired(row, settings, utcnow()):
        return None
    if user is None or not user.active:
        return row, None, None
    return row, user, organisation


def end_all_sessions(*, session: Session, user_id: uuid.UUID) -> int:
    """End every session of a user (sign out everywhere, deactivation, password change)."""
    with db.writing(session):
        result = session.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))
    return int(result.rowcount or 0)


def set_password(*, session: Session, user_id: uuid.UUID, password: str) -> None:
    """Change a password (policy checked; ValueError with the reason) and end every session."""
    with db.writing(session):
        user = session.get(User, user_id)
        if user is None:
            raise ValueError("no such user")
        problem = password_problem(password, email=user.email)
        if problem is not None:
            raise ValueError(problem)
        user.password_hash = hash_password(password)
        session.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))


def end_session(*, session: Session, session_id: str) -> None:
    with db.writing(session):
        session.exec(delete(WebSession).where(col(WebSession.id) == session_id))


def set_language(
    *, session: Session, web_session: WebSession | None, user: User | None, language: str
) -> None:
    """Remember the interface language for the user (or the anonymous session)."""
    with db.writing(session):
        if user is not None:
            fresh = session.get(User, user.id)
            if fresh is not None:
                fresh.language = language
        if web_session is not None:
            row = session.get(WebSession, web_session.id)
            if row is not None:
                row.language = language


def create_api_token(*, session: Session, user: User, name: str) -> str:
    """A new personal API token; the secret is returned once and only its hash is kept."""
    secret = "pgt_" + new_token()
    with db.writing(session):
        session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=token_hash(secret)))
    return secret


def list_api_tokens(*, session: Session, user: User) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.created_at))
    )
    return list(session.exec(query))


def revoke_api_token(*, session: Session, user: User, token_id: uuid.UUID) -> None:
    with db.writing(session):
        token = session.get(ApiToken, token_id)
        if token is not None and token.user_id == user.id and token.revoked_at is None:
            token.revoked_at = utcnow()


def user_for_api_token(*, session: Session, secret: str) -> User | None:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    return user if user is not None and user.active else None


def get_or_create_organisation(
    *,
    session: Session,
    slug: str,
    kind: str,
    name_en: str,
    name_fr: str,
    body_type: str | None = None,
    province: str | None = None,
    agency_id: uuid.UUID | None = None,
) -> Organisation:
    found = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if found is not None:
        return found
    org = Organisation(
        slug=slug,
        kind=OrgKind(kind),
        name_en=name_en,
        name_fr=name_fr,
        body_type=BodyType(body_type) if body_type else None,
        province=province,
        agency_id=agency_id,
    )
    with db.writing(session):
        session.add(org)
    return org
