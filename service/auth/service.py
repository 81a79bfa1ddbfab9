"""Users, passwords, server-side sessions, the sign-in rate limit and API tokens.

Use cases that finish a change commit (through ``db.writing``); helpers never commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from math import ceil
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, func, select, update
from zxcvbn import zxcvbn

from service import db
from service.auth import totp
from service.config import Settings
from service.errors import RateLimited
from service.i18n.catalogue import N_
from service.models import (
    ApiToken,
    AuditEvent,
    BodyType,
    LoginAttempt,
    Organisation,
    OrgKind,
    RecoveryCode,
    Role,
    TokenScope,
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


# zxcvbn's scores run 0 (guessed in under 10^3 tries) to 4 (over 10^10); 3 resists an offline
# attack on a slow hash (ASVS 5.0 6.2.x: checked against breached and common passwords).
MIN_STRENGTH = 3
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are judged


def _email_parts(email: str) -> list[str]:
    """The address, its local part and the words in it (a password made of them is weak)."""
    email = normalise_email(email)
    local = email.partition("@")[0]
    return [part for part in {email, local, *re.split(r"[._+-]", local)} if len(part) >= 3]


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why ``password`` is refused (English msgid), or None when it is acceptable.

    The shipped list (``common_passwords.txt``) first, then ``zxcvbn`` (its word lists include
    passwords from public breaches, plus names, words, keyboard walks, repeats and sequences).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "Use a password of at least 12 characters"
    folded = password.strip().lower()
    if folded in common_passwords() or folded.replace(" ", "") in common_passwords():
        return "This password is too common. Choose another"
    if email and folded == normalise_email(email):
        return "Do not use your email address as your password"
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_email_parts(email))
    if result["score"] >= MIN_STRENGTH:
        return None
    patterns = {match["pattern"] for match in result["sequence"]}
    dictionaries = {match.get("dictionary_name") for match in result["sequence"]}
    if "user_inputs" in dictionaries:
        return N_("Do not build your password from your email address")
    if "passwords" in dictionaries:
        return N_(
            "This password is too common: it is on lists of passwords leaked in breaches. Choose another"
        )
    if "repeat" in patterns:
        return N_(
            "This password repeats characters (like aaa), which makes it easy to guess. Choose another"
        )
    if "sequence" in patterns:
        return N_(
            "This password is a sequence (like abc or 654), which makes it easy to guess. Choose another"
        )
    return N_("This password is too easy to guess. Use three or four unrelated words")


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


def _failures(
    *, session: Session, since: datetime, email: str | None = None, ip: str | None = None
) -> tuple[int, datetime | None, datetime | None]:
    """How many failed attempts since ``since``, the first and the last."""
    query = select(func.count(), func.min(LoginAttempt.at), func.max(LoginAttempt.at)).where(
        col(LoginAttempt.success).is_(False), LoginAttempt.at >= since
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    count, first, last = session.exec(query).one()
    return int(count), _aware(first), _aware(last)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # aggregates come back without the column's type


def sign_in_delay(failures: int, settings: Settings) -> int:
    """Seconds an account waits after its last failure: none for the first few, then 15, 30,
    60... (``login_first_delay_seconds`` doubling) up to ``login_max_delay_seconds``."""
    over = failures - settings.login_delay_after_failures
    if over < 0:
        return 0
    delay: int = settings.login_first_delay_seconds * 2 ** min(over, 30)
    return min(settings.login_max_delay_seconds, delay)


@dataclass(frozen=True)
class Refusal:
    limit: str  # "account" (the progressive delay) or "address" (the per-client limit)
    seconds: int  # how long until the next attempt is heard


def throttled(*, session: Session, settings: Settings, email: str, ip: str) -> Refusal | None:
    """Why a sign-in attempt is refused for now, or None. An account is never locked: after a
    few failures each attempt waits a little longer (so an attacker cannot lock a reviewer out
    for long); a client address that fails too often across accounts waits for the window."""
    now = utcnow()
    since = now - timedelta(seconds=settings.login_window_seconds)
    email = normalise_email(email)[:254]
    count, _first, last = _failures(session=session, email=email, since=since)
    delay = sign_in_delay(count, settings)
    if delay and last is not None and now < last + timedelta(seconds=delay):
        return Refusal(
            "account", max(1, ceil((last + timedelta(seconds=delay) - now).total_seconds()))
        )
    if ip:
        count, first, _last = _failures(session=session, ip=ip[:64], since=since)
        if count >= settings.login_max_failures_per_address and first is not None:
            free_at = first + timedelta(seconds=settings.login_window_seconds)
            return Refusal("address", max(1, ceil((free_at - now).total_seconds())))
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
    refusal = throttled(session=session, settings=settings, email=email, ip=ip)
    if refusal is not None:
        user = get_user_by_email(session=session, email=email)
        record(
            session,
            action="sign_in_throttled",
            actor_id=user.id if user else None,
            email=email,
            ip=ip[:64],
            limit=refusal.limit,
        )
        raise RateLimited(seconds=refusal.seconds, limit=refusal.limit)
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
    """Sign out everywhere: end every session of a user and revoke their API tokens."""
    with db.writing(session):
        result = session.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))
        revoke_all_api_tokens(session, user_id)
    return int(result.rowcount or 0)


def set_password(*, session: Session, user_id: uuid.UUID, password: str) -> None:
    """Change a password (policy checked; ValueError with the reason), end every session and
    revoke every API token."""
    with db.writing(session):
        user = session.get(User, user_id)
        if user is None:
            raise ValueError("no such user")
        problem = password_problem(password, email=user.email)
        if problem is not None:
            raise ValueError(problem)
        user.password_hash = hash_password(password)
        session.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))
        revoke_all_api_tokens(session, user_id)


def _locked_user(session: Session, user_id: uuid.UUID) -> User | None:
    """The user's row, locked until the transaction ends (PostgreSQL; SQLite writes take turns):
    two requests with the same code cannot both see it unused."""
    return session.exec(select(User).where(User.id == user_id).with_for_update()).first()


def use_second_factor(*, session: Session, user_id: uuid.UUID, code: str) -> bool:
    """Whether ``code`` is a code of the user's authenticator app newer than the last one
    accepted, or one of their unused recovery codes; either way it is used up (commits)."""
    with db.writing(session):
        user = _locked_user(session, user_id)
        if user is None or user.totp_secret is None:
            return False
        step = totp.matching_step(user.totp_secret, code)
        if step is not None:
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed, or older than one already used
            user.totp_last_step = step
            return True
        digest = totp.recovery_code_hash(code)
        if digest is None:
            return False
        row = session.exec(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == digest,
                col(RecoveryCode.used_at).is_(None),
            )
        ).first()
        if row is None:
            return False
        row.used_at = utcnow()
        left = session.exec(
            select(func.count()).where(
                RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None)
            )
        ).one()
        audit(session, action="recovery_code_used", actor_id=user_id, left=int(left) - 1)
        return True


def reauthenticate(*, session: Session, user_id: uuid.UUID, password: str, code: str) -> bool:
    """The password and, when the user has a second factor, a current code (or a recovery
    code): asked before the second factor is removed or replaced, or new recovery codes made.
    A failure counts as a failed sign-in (the same limits apply)."""
    user = session.get(User, user_id)
    if user is None:
        return False
    ok = verify_password(user.password_hash, password)
    if ok and user.totp_secret is not None:
        ok = use_second_factor(session=session, user_id=user_id, code=code)
    if not ok:
        with db.writing(session):
            session.add(LoginAttempt(email=user.email, success=False, at=utcnow()))
            audit(session, action="reauthentication_failed", actor_id=user_id)
    return ok


def _replace_recovery_codes(session: Session, user_id: uuid.UUID) -> list[str]:
    codes = totp.new_recovery_codes()
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    for code in codes:
        digest = totp.recovery_code_hash(code)
        if digest is not None:  # always: the code was just made
            session.add(RecoveryCode(user_id=user_id, code_hash=digest))
    return codes


def new_recovery_codes(*, session: Session, user_id: uuid.UUID) -> list[str]:
    """Ten new recovery codes in place of the old ones; returned once, only hashes are kept."""
    with db.writing(session):
        codes = _replace_recovery_codes(session, user_id)
        audit(session, action="recovery_codes_created", actor_id=user_id)
    return codes


def recovery_codes_left(*, session: Session, user_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None)
    )
    return int(session.exec(query).one())


def enrol_totp(*, session: Session, user_id: uuid.UUID, secret: str, code: str) -> list[str] | None:
    """Set the user's authenticator app once ``code`` proves it (None otherwise); the code is
    used up and ten new recovery codes are returned, to be shown once."""
    step = totp.matching_step(secret, code) if len(secret) >= 16 else None
    if step is None:
        return None
    with db.writing(session):
        user = _locked_user(session, user_id)
        if user is None:
            return None
        replaced = user.totp_secret is not None
        user.totp_secret = secret
        user.totp_last_step = step
        codes = _replace_recovery_codes(session, user_id)
        audit(session, action="totp_replaced" if replaced else "totp_enrolled", actor_id=user_id)
    return codes


def remove_totp(*, session: Session, user_id: uuid.UUID) -> None:
    with db.writing(session):
        user = session.get(User, user_id)
        if user is not None:
            user.totp_secret = None
            user.totp_last_step = None
        session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
        audit(session, action="totp_removed", actor_id=user_id)


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


TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 366
_TOUCH_TOKEN_AFTER = timedelta(minutes=1)


def create_api_token(
    *,
    session: Session,
    user: User,
    name: str,
    days: int = TOKEN_DAYS_DEFAULT,
    scope: TokenScope = TokenScope.write,
) -> str:
    """A new personal API token valid ``days`` days (1 to 366), reading only or reading and
    writing; the secret is returned once and only its hash is kept."""
    days = max(1, min(TOKEN_DAYS_MAX, days))
    secret = "pgt_" + new_token()
    now = utcnow()
    with db.writing(session):
        session.add(
            ApiToken(
                user_id=user.id,
                name=name[:100],
                token_hash=token_hash(secret),
                scope=scope.value,
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
        )
        audit(
            session,
            action="api_token_created",
            actor_id=user.id,
            name=name[:100],
            scope=scope.value,
            expires=(now + timedelta(days=days)).date().isoformat(),
        )
    return secret


def list_api_tokens(*, session: Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work (not revoked, not expired)."""
    query = (
        select(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > utcnow(),
        )
        .order_by(col(ApiToken.created_at))
    )
    return list(session.exec(query))


def revoke_api_token(*, session: Session, user: User, token_id: uuid.UUID) -> None:
    with db.writing(session):
        token = session.get(ApiToken, token_id)
        if token is not None and token.user_id == user.id and token.revoked_at is None:
            token.revoked_at = utcnow()
            audit(session, action="api_token_revoked", actor_id=user.id, name=token.name)


def revoke_all_api_tokens(session: Session, user_id: uuid.UUID) -> None:
    """Revoke every token of the user, for good (inside the caller's transaction)."""
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def api_token_for(*, session: Session, secret: str) -> tuple[ApiToken, User] | None:
    """The live token (not revoked, not expired) for a secret and its active user; notes when
    it was used (at most once a minute, so a busy script does not write on every request)."""
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).first()
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_TOKEN_AFTER:
        with db.writing(session):
            session.exec(
                update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now)
            )
        session.refresh(token)
    return token, user


def user_for_api_token(*, session: Session, secret: str) -> User | None:
    found = api_token_for(session=session, secret=secret)
    return found[1] if found else None


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
