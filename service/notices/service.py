"""Notices: record one (``notify``), list a user's, count the unread, mark them read, the
user's e-mail choices; the job that e-mails them and the periodic job of reminders.

``notify`` is called by the features' use cases inside their write transaction; a notice
wanted by e-mail is left ``pending`` and, once the transaction commits, the send job is queued
(``use_queue``: the app gives its job queue for its engine). The send job (never a request)
claims each pending notice with a conditional UPDATE, so two workers never send one twice.

Reminders: each feature that has due dates registers a source (``@due_source``) that lists its
items due within 7 days or overdue, with who should hear of them. The periodic job
(``notice_reminders``) turns each into a ``due_soon`` or ``overdue`` notice whose key is (kind,
item, due date, user): inserted with ``ON CONFLICT DO NOTHING``, a reminder is recorded and sent
once, whatever number of app instances and workers look at the same time.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Insert, bindparam, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from service import db, jobs
from service.auth import scope
from service.auth import service as auth_service
from service.config import Settings
from service.models import Organisation, Role, User, utcnow
from service.notices import mail
from service.notices.models import EmailState, Notice, NoticeKind, NoticePreference

log = logging.getLogger(__name__)

SEND_TASK = "send_notices"
REMINDERS_TASK = "notice_reminders"
DUE_SOON_DAYS = 7
PAGE_SIZE = 50
# a claim older than this is taken for the claim of a worker that died: sent again
CLAIM_TIMEOUT = timedelta(minutes=10)
BATCH = 100
KINDS = tuple(NoticeKind)


# --- recording ---------------------------------------------------------------------------------

_QUEUES: weakref.WeakKeyDictionary[Engine, jobs.Queue | None] = weakref.WeakKeyDictionary()


def use_queue(engine: Engine, queue: jobs.Queue | None) -> None:
    """The job queue the send job is deferred on after a transaction that recorded a notice
    wanted by e-mail (the app's queue for its engine). None: this app sends no e-mail (no SMTP
    server), so its notices are recorded as not e-mailed. An engine nobody registered (a
    command, a worker) leaves them pending for the periodic job."""
    _QUEUES[engine] = queue


def _send_after_commit(session: Session) -> None:
    if session.info.get("notices_to_send"):
        return
    session.info["notices_to_send"] = True

    def defer(committed: Session) -> None:
        committed.info.pop("notices_to_send", None)
        queue = _QUEUES.get(committed.get_bind().engine)
        if queue is None:
            return
        try:
            queue.defer(SEND_TASK, key=SEND_TASK)
        except Exception:  # the notice is recorded; the periodic job sends it
            log.exception("the e-mail of a notice could not be queued now")

    def forget(rolled_back: Session) -> None:
        rolled_back.info.pop("notices_to_send", None)

    event.listen(session, "after_commit", defer, once=True)
    event.listen(session, "after_rollback", forget, once=True)


def wants_email(session: Session, user_id: uuid.UUID, kind: NoticeKind) -> bool:
    row = session.get(NoticePreference, (user_id, kind))
    return True if row is None else row.email


def notify(
    session: Session,
    user_id: uuid.UUID,
    kind: NoticeKind | str,
    params: dict[str, Any],
    *,
    key: str | None = None,
) -> bool:
    """Record a notice of ``kind`` for ``user_id`` inside the caller's transaction (the caller
    commits). ``params`` hold titles, dates and ``link`` (a path of the app), never assessment
    content. With ``key``, only the first notice of that key is recorded (reminders). Returns
    whether one was recorded."""
    kind = NoticeKind(kind)
    email = wants_email(session, user_id, kind)
    bind = session.get_bind().engine
    mail_off = bind in _QUEUES and _QUEUES[bind] is None
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "kind": kind,
        "params": dict(params),
        "key": key,
        "created_at": utcnow(),
        "email_state": (
            EmailState.none if not email else EmailState.off if mail_off else EmailState.pending
        ),
    }
    if key is None:
        session.add(Notice(**values))
    else:
        table = Notice.__table__  # type: ignore[attr-defined]
        statement: Insert
        if bind.dialect.name == "postgresql":
            on_pg = postgresql.insert(table).values(**values)
            statement = on_pg.on_conflict_do_nothing(index_elements=["key"])
        else:
            on_sqlite = sqlite.insert(table).values(**values)
            statement = on_sqlite.on_conflict_do_nothing(index_elements=["key"])
        # RETURNING says whether the row went in (psycopg gives no rowcount here)
        if session.exec(statement.returning(table.c.id)).first() is None:
            return False
    if email and not mail_off:
        _send_after_commit(session)
    return True


def agency_officers(session: Session, agency_id: uuid.UUID) -> list[uuid.UUID]:
    """The active officers of an agency: who hears of its assessments' decisions and dates."""
    query = select(User.id).where(
        User.organisation_id == agency_id, User.role == Role.officer, col(User.active).is_(True)
    )
    return list(session.exec(query.order_by(col(User.email))))


def overseeing_reviewers(session: Session, agency: Organisation) -> list[uuid.UUID]:
    """The active reviewers of the regulators that oversee an agency: who hears of what awaits
    the regulator (a public edition to release)."""
    regulators = [r.id for r in scope.regulators_for(session, agency)]
    if not regulators:
        return []
    query = select(User.id).where(
        col(User.organisation_id).in_(regulators),
        User.role == Role.reviewer,
        col(User.active).is_(True),
    )
    return list(session.exec(query.order_by(col(User.email))))


def notify_many(
    session: Session,
    user_ids: Iterable[uuid.UUID],
    kind: NoticeKind | str,
    params: dict[str, Any],
    *,
    key: str | None = None,
) -> int:
    """``notify`` each user (with ``key``, the user's id is added to it)."""
    count = 0
    for user_id in user_ids:
        count += notify(
            session, user_id, kind, params, key=f"{key}:{user_id}" if key is not None else None
        )
    return count


# --- reading -----------------------------------------------------------------------------------


# Core, not the ORM: the header shows this count on every page, and setting up an ORM query cost
# several times running it (bench/web.py).
_NOTICE = Notice.__table__  # type: ignore[attr-defined]
_UNREAD = (
    select(func.count())
    .select_from(_NOTICE)
    .where(_NOTICE.c.user_id == bindparam("user_id"), _NOTICE.c.read_at.is_(None))
)


def unread_count(session: Session, user_id: uuid.UUID) -> int:
    return int(session.connection().execute(_UNREAD, {"user_id": user_id}).scalar_one())


@dataclass(frozen=True)
class NoticePage:
    notices: list[Notice]
    total: int
    unread: int
    page: int
    per_page: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_(session: Session, user: User, *, page: int = 1) -> NoticePage:
    """The user's notices, newest first."""
    page = max(1, page)
    total = int(session.exec(select(func.count()).where(Notice.user_id == user.id)).one())
    query = (
        select(Notice)
        .where(Notice.user_id == user.id)
        .order_by(col(Notice.created_at).desc(), col(Notice.id))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return NoticePage(
        notices=list(session.exec(query)),
        total=total,
        unread=unread_count(session, user.id),
        page=page,
    )


def mark_read(session: Session, user: User, *, notice_id: uuid.UUID | None = None) -> int:
    """Mark one of the user's notices read (``notice_id``), or all of them. Returns how many
    changed; another user's notice is never touched."""
    with db.writing(session):
        statement = (
            update(Notice)
            .where(col(Notice.user_id) == user.id, col(Notice.read_at).is_(None))
            .values(read_at=utcnow())
        )
        if notice_id is not None:
            statement = statement.where(col(Notice.id) == notice_id)
        result = session.exec(statement)
        return int(result.rowcount or 0)


# --- preferences -------------------------------------------------------------------------------


def email_kinds(session: Session, user_id: uuid.UUID) -> set[NoticeKind]:
    """The kinds the user gets by e-mail too."""
    rows = {
        row.kind: row.email
        for row in session.exec(select(NoticePreference).where(NoticePreference.user_id == user_id))
    }
    return {kind for kind in KINDS if rows.get(kind, True)}


def set_email_kinds(session: Session, user: User, kinds: Iterable[str]) -> set[NoticeKind]:
    """Keep ``kinds`` (values of NoticeKind; others are ignored) as the ones the user gets by
    e-mail; every notice still appears in the app."""
    chosen = {NoticeKind(k) for k in kinds if k in NoticeKind.__members__.values()}
    with db.writing(session):
        for kind in KINDS:
            row = session.get(NoticePreference, (user.id, kind))
            if row is None:
                row = NoticePreference(user_id=user.id, kind=kind)
            row.email = kind in chosen
            session.add(row)
        auth_service.audit(
            session,
            action="notice_settings",
            actor_id=user.id,
            email_kinds=sorted(k.value for k in chosen),
        )
    return chosen


# --- sending -----------------------------------------------------------------------------------


def _claim(session: Session, now: datetime) -> list[uuid.UUID]:
    """Claim up to BATCH notices to e-mail (pending, or claimed by a worker that died)."""
    stale = now - CLAIM_TIMEOUT
    waiting = (col(Notice.email_state) == EmailState.pending) | (
        (col(Notice.email_state) == EmailState.sending) & (col(Notice.email_claimed_at) < stale)
    )
    candidates = list(
        session.exec(select(Notice.id).where(waiting).order_by(col(Notice.created_at)).limit(BATCH))
    )
    claimed: list[uuid.UUID] = []
    for notice_id in candidates:
        with db.writing(session):
            result = session.exec(
                update(Notice)
                .where(col(Notice.id) == notice_id, waiting)
                .values(email_state=EmailState.sending, email_claimed_at=now)
            )
            if result.rowcount:
                claimed.append(notice_id)
    return claimed


def send_pending(engine: Engine, settings: Settings) -> int:
    """E-mail the notices waiting to be sent; returns how many were sent. With no SMTP server
    configured they are marked ``off`` (they stay in the app)."""
    sent = 0
    with db.new_session(engine) as session:
        if not settings.smtp_url:
            with db.writing(session):
                session.exec(
                    update(Notice)
                    .where(col(Notice.email_state) == EmailState.pending)
                    .values(email_state=EmailState.off)
                )
            return 0
        while True:
            claimed = _claim(session, utcnow())
            if not claimed:
                return sent
            sent += _send_claimed(session, settings, claimed)


def _send_claimed(session: Session, settings: Settings, claimed: Sequence[uuid.UUID]) -> int:
    sent = 0
    done: set[uuid.UUID] = set()
    assert settings.smtp_url is not None  # noqa: S101 - checked by the caller
    try:
        with mail.Mailer(settings.smtp_url) as mailer:
            for notice_id in claimed:
                notice = session.get_one(Notice, notice_id)
                user = session.get(User, notice.user_id)
                state = EmailState.none
                if user is not None and user.active:
                    mailer.send(
                        mail.message(
                            settings,
                            to=user.email,
                            kind=notice.kind,
                            params=notice.params,
                            lang=user.language,
                        )
                    )
                    state = EmailState.sent
                    sent += 1
                with db.writing(session):
                    notice.email_state = state
                    notice.emailed_at = utcnow() if state is EmailState.sent else None
                    session.add(notice)
                done.add(notice_id)
    except (smtplib.SMTPException, OSError):
        # what was not sent goes back in the queue; the job fails and is retried (then the
        # periodic job tries again)
        left = [n for n in claimed if n not in done]
        with db.writing(session):
            session.exec(
                update(Notice)
                .where(col(Notice.id).in_(left), col(Notice.email_state) == EmailState.sending)
                .values(email_state=EmailState.pending, email_claimed_at=None)
            )
        raise
    return sent


@jobs.task(SEND_TASK)
def send_notices(ctx: jobs.JobContext) -> None:
    """The job: e-mail every notice waiting to be sent."""
    count = send_pending(ctx.engine, ctx.settings)
    if count:
        log.info("%s notice(s) sent by e-mail", count)


def tell_mail_setting(settings: Settings) -> None:
    """Say at start (once per app or worker process) where notices go: the log."""
    if settings.smtp_url:
        log.info("notices are also sent by e-mail through %s", mail.describe(settings.smtp_url))
    else:
        log.info("no POLICYGAP_SMTP_URL: notices stay in the app, none is sent by e-mail")


# --- reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    """Something due: ``key`` names it (e.g. ``action:<id>``), ``params`` hold its titles and
    link (with ``subject``: submission, resubmission, action or assignment)."""

    key: str
    due_on: date
    recipients: tuple[uuid.UUID, ...]
    params: dict[str, Any] = field(default_factory=dict)


DueSource = Callable[[Session, date, date], Iterable[DueItem]]
DUE_SOURCES: dict[str, DueSource] = {}


def due_source(name: str) -> Callable[[DueSource], DueSource]:
    """Register ``source(session, today, until)``: the open items due on or before ``until``."""

    def register(source: DueSource) -> DueSource:
        DUE_SOURCES[name] = source
        return source

    return register


def remind(session: Session, today: date) -> int:
    """Record the due-soon and overdue notices not yet recorded (in one transaction); returns
    how many were recorded now."""
    until = today + timedelta(days=DUE_SOON_DAYS)
    count = 0
    with db.writing(session):
        for source in list(DUE_SOURCES.values()):
            for item in source(session, today, until):
                kind = NoticeKind.overdue if item.due_on < today else NoticeKind.due_soon
                params = item.params | {"date": item.due_on.isoformat()}
                count += notify_many(
                    session,
                    item.recipients,
                    kind,
                    params,
                    key=f"{kind.value}:{item.key}:{item.due_on.isoformat()}",
                )
    return count


def _cron(settings: Settings) -> str:
    return settings.reminder_cron


@jobs.periodic(REMINDERS_TASK, _cron)
def notice_reminders(ctx: jobs.JobContext, *, timestamp: int) -> None:
    """The periodic job: reminders of what is due within 7 days or overdue (once each), then
    the e-mail of any notice still waiting (one whose send job was never queued)."""
    today = datetime.fromtimestamp(timestamp, UTC).date()
    with db.new_session(ctx.engine) as session:
        count = remind(session, today)
    if count:
        log.info("%s reminder(s) recorded", count)
    send_pending(ctx.engine, ctx.settings)


def overdue_words(due_on: date | None, today: date) -> str | None:
    """``"overdue"`` or ``"due_soon"`` for a due date (None: neither): what pages mark."""
    if due_on is None:
        return None
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return None
