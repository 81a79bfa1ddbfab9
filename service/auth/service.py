"""Users, passwords, server-side sessions, the sign-in rate limit and API tokens.

Use cases that finish a change commit (through ``db.writing``); helpers never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, delete, func, select

from service import db
from service.config import Settings
from service.errors import RateLimited
from service.models import ApiToken, LoginAttempt, Organisation, Role, User, WebSession, utcnow
from service.security import new_token, token_hash

_hasher = PasswordHasher()
# Verified against when the email is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("policygap-dummy-password")
MIN_PASSWORD_LENGTH = 10


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
    if password_hash is None and len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        email=normalise_email(email),
        full_name=full_name,
        password_hash=password_hash or hash_password(password),
        role=role.value,
        organisation_id=organisation_id,
        language=language,
    )
    with db.writing(session):
        session.add(user)
    return user


def _recent_failures(*, session: Session, email: str, since: datetime) -> int:
    query = select(func.count()).where(
        LoginAttempt.email == email, col(LoginAttempt.success).is_(False), LoginAttempt.at >= since
    )
    return int(session.exec(query).one())


def authenticate(
    *, session: Session, settings: Settings, email: str, password: str, ip: str
) -> User | None:
    """The active user with these credentials, or None; refuses after too many failures."""
    email = normalise_email(email)[:254]
    now = utcnow()
    window = now - timedelta(seconds=settings.login_window_seconds)
    if _recent_failures(session=session, email=email, since=window) >= settings.login_max_failures:
        raise RateLimited()
    user = get_user_by_email(session=session, email=email)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    with db.writing(session):
        session.add(LoginAttempt(email=email, ip=ip[:64], success=ok, at=now))
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
            # Sign-in is a good moment to forget expired sessions.
            session.exec(delete(WebSession).where(col(WebSession.expires_at) < now))
    return NewSession(token=token, row=row)


def find_session(
    *, session: Session, token: str
) -> tuple[WebSession, User | None, Organisation | None] | None:
    """The live session for a cookie token, with its active user and their organisation
    (one query: this runs on every request)."""
    query = (
        select(WebSession, User, Organisation)
        .join(User, col(User.id) == col(WebSession.user_id), isouter=True)
        .join(Organisation, col(Organisation.id) == col(User.organisation_id), isouter=True)
        .where(WebSession.id == token_hash(token))
    )
    found = session.exec(query).first()
    if found is None:
        return None
    row, user, organisation = found
    if row.expires_at <= utcnow():
        return None
    if user is None or not user.active:
        return row, None, None
    return row, user, organisation


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
        kind=kind,
        name_en=name_en,
        name_fr=name_fr,
        body_type=body_type,
        province=province,
        agency_id=agency_id,
    )
    with db.writing(session):
        session.add(org)
    return org
