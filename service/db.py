"""Engines, sessions, migrations, and the one write path for SQLite.

SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout, foreign keys and one writer at a time
(docs/production.md, "With SQLite": left to SQLite's busy handler, writers from several
workers slept and retried and saved more slowly than one): a thread lock
within a process and an ``flock`` on a file beside the database between processes, so writers
from several workers queue and wake as soon as the lock is free instead of sleeping and retrying.
PostgreSQL uses psycopg 3 with ``pool_pre_ping``. Tables come from Alembic, never ``create_all``.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session

from service.config import normalise_database_url
from service.questionnaire.text import scrubbed

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: a web worker needs it only for /readyz, and importing it
# is a fifth of a worker's start-up.

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
# The thread pool's size (anyio's default): every request running there can hold a connection.
SQLITE_POOL_SIZE = 40


# How long a writer waits for the write lock before "database is locked" (the busy timeout
# bounds only SQLite's own wait, which the lock makes rare).
SQLITE_WRITE_WAIT_SECONDS = 30.0


def _locked() -> OperationalError:
    """What SQLite's own wait gives when it runs out: "database is locked"."""
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


class _WriteLock:
    """One writer at a time on one SQLite database: re-entrant across this process's threads and,
    for a database file, exclusive across processes through ``flock`` on ``<file>.lock`` (its own
    file: closing a descriptor of the database itself would drop SQLite's POSIX locks).

    The lock file is opened for each outermost write and closed after it, which releases the
    ``flock``: no descriptor outlives the write or is shared with a forked child."""

    def __init__(self, path: str | None) -> None:
        self._lock_file = None if path is None else path + ".lock"
        self._threads = threading.RLock()
        self._depth = 0

    @contextmanager
    def held(self, wait: float | None = None) -> Iterator[None]:
        """Hold the lock; give up with "database is locked" after ``wait`` seconds (by default
        ``SQLITE_WRITE_WAIT_SECONDS``)."""
        wait = SQLITE_WRITE_WAIT_SECONDS if wait is None else wait
        deadline = time.monotonic() + wait
        if not self._threads.acquire(timeout=wait):
            raise _locked()
        try:
            fd = self._take_file(deadline) if self._depth == 0 else None
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if fd is not None:
                    os.close(fd)
        finally:
            self._threads.release()

    def _take_file(self, deadline: float) -> int | None:
        if self._lock_file is None:
            return None
        try:
            fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        except PermissionError:  # made by another account: a read-only descriptor locks as well
            fd = os.open(self._lock_file, os.O_RDONLY | os.O_CLOEXEC)
        try:
            # Polled, as flock has no timeout; one thread per process polls (the others wait
            # for the thread lock), and a millisecond's sleep is a small fraction of a write.
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise _locked() from None
                    time.sleep(0.001)
        except BaseException:
            os.close(fd)
            raise


_WRITE_LOCKS: dict[str | None, _WriteLock] = {}  # by the database file's real path
_ENGINE_LOCKS: weakref.WeakKeyDictionary[Engine, _WriteLock] = weakref.WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


def _sqlite_write_lock(engine: Engine) -> _WriteLock:
    """The write lock of the SQLite database behind ``engine`` (one per file, whatever the
    spelling of its path, so that nested writes through two engines re-enter it)."""
    lock = _ENGINE_LOCKS.get(engine)
    if lock is None:
        database = engine.url.database
        path = os.path.realpath(database) if database not in (None, "", ":memory:") else None
        with _WRITE_LOCKS_GUARD:
            lock = _WRITE_LOCKS.setdefault(path, _WriteLock(path))
            _ENGINE_LOCKS[engine] = lock
    return lock


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, emit BEGIN (so SAVEPOINTs and the write lock work).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_IMMEDIATE = "policygap_begin_immediate"


def _on_sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_BAD_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def _read_json(raw: str | bytes) -> Any:
    """JSON columns as read: a lone surrogate or NUL stored before text was checked at the edge
    comes back as U+FFFD, so that one poisoned answer never breaks the pages that show it."""
    value = json.loads(raw)
    probe = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    if _BAD_ESCAPE.search(probe):  # only an escape can carry those
        return scrubbed(value)
    return value


def make_engine(url: str, *, echo: bool = False, single_use: bool = False) -> Engine:
    """An engine with the options each back end needs (``single_use``: no pool, for migrations)."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        if not memory and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        pooled = not memory and not single_use
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=StaticPool if memory else (NullPool if single_use else None),
            json_deserializer=_read_json,
            # A connection per request in flight, kept: an overflow connection is opened (with
            # its pragmas) and closed again for every request beyond the pool's size (the default
            # of 5 churned at 16 concurrent clients). Beyond it, overflow without a limit.
            **({"pool_size": SQLITE_POOL_SIZE, "max_overflow": -1} if pooled else {}),
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if single_use:
        return create_engine(url, echo=echo, poolclass=NullPool, json_deserializer=_read_json)
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        json_deserializer=_read_json,
    )


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on error.

    On SQLite it holds the database's write lock (``_WriteLock``) and starts with ``BEGIN
    IMMEDIATE``, so reads inside it see the latest data and the write cannot fail on a stale WAL
    snapshot. Any read transaction the session had open is ended first (its pending changes
    committed).
    """
    if session.in_transaction():
        session.commit()
    bind = session.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    lock = _sqlite_write_lock(bind.engine).held() if sqlite else nullcontext()
    with lock:
        if sqlite:
            session.connection(execution_options={_IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Migrations take turns: on PostgreSQL through a session-level advisory lock on the migration's
# connection (any 64-bit key the app uses for nothing else: "policygap" in ASCII, truncated), on
# SQLite through the write lock (so the app's writers wait for the schema too). A second
# `policygap migrate` or `serve` waits, then finds the database at head and does nothing.
MIGRATION_LOCK_KEY = 0x706F6C6963796761
MIGRATION_WAIT_SECONDS = 600.0


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to run migrations on, held under the migration lock until it closes."""
    if engine.dialect.name == "sqlite":
        with _sqlite_write_lock(engine).held(MIGRATION_WAIT_SECONDS), engine.connect() as conn:
            # Batch mode rebuilds a table (copy, drop the old one, rename), and dropping a
            # table that other tables' rows refer to fails while foreign keys are enforced.
            # The pragma has no effect inside a transaction, so it goes first, on the driver's
            # connection; ``check_foreign_keys`` checks every reference before the commit.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            yield conn
        return
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":  # pragma: no cover - only the two back ends
            yield conn
            return
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
        conn.commit()  # the lock belongs to the session and outlives this transaction
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            # Closing the connection (no pool for migrations) would release it as well.
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
            conn.commit()


def check_foreign_keys(connection: Connection) -> None:
    """On SQLite, fail (so the migration's transaction rolls back) if any row refers to a row
    that does not exist; PostgreSQL checks its foreign keys itself."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration leaves broken foreign keys: {broken[:5]}")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """What Alembic compares with the models: everything but procrastinate's tables (the job
    engine on PostgreSQL; its schema comes whole from the jobs migration, not from models)."""
    return not (
        type_ == "table" and compare_to is None and (name or "").startswith("procrastinate_")
    )


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that works from any working directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration's revision (what a migrated database's ``alembic_version`` holds)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:  # pragma: no cover - tests/db/test_migrations.py checks for one head
        raise RuntimeError(f"no migration in {MIGRATIONS_DIR}")
    return head


def schema_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at: ``()`` when it was never migrated."""
    from alembic.migration import MigrationContext

    return tuple(MigrationContext.configure(connection).get_current_heads())


def upgrade_to_head(url: str) -> None:
    """Apply every pending migration to the database at ``url``."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def new_session(engine: Engine) -> Session:
    """A new session on ``engine``; objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)
