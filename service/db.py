"""Engines, sessions, migrations, and the one write path for SQLite.

SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout, foreign keys and one writer at a time
(``pitfalls.md``: the default busy-handler back-off gives a p99 near one second): a thread lock
within a process and an ``flock`` on a file beside the database between processes, so writers
from several workers queue and wake as soon as the lock is free instead of sleeping and retrying.
PostgreSQL uses psycopg 3 with ``pool_pre_ping``. Tables come from Alembic, never ``create_all``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session

from service.config import normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
# The thread pool's size (anyio's default): every request running there can hold a connection.
SQLITE_POOL_SIZE = 40


class _WriteLock:
    """One writer at a time on one SQLite database: re-entrant across this process's threads and,
    for a database file, exclusive across processes through ``flock`` on ``<file>.lock`` (its own
    file: closing a descriptor of the database itself would drop SQLite's POSIX locks)."""

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._pid != os.getpid():  # a forked child must not share its parent's lock
            self._fd = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._file() if self._depth == 0 else None
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)


_WRITE_LOCKS: dict[str | None, _WriteLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _sqlite_write_lock(engine: Engine) -> _WriteLock:
    """The write lock of the SQLite database behind ``engine`` (shared by its engines)."""
    database = engine.url.database
    lock = _WRITE_LOCKS.get(database)
    if lock is None:
        with _WRITE_LOCKS_GUARD:
            lock = _WRITE_LOCKS.get(database)
            if lock is None:
                # Two spellings of one file get two objects, which still exclude each other
                # through the flock (taken per open file, even within one process).
                path = (
                    os.path.realpath(database) if database not in (None, "", ":memory:") else None
                )
                lock = _WRITE_LOCKS[database] = _WriteLock(path)
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
            # A connection per request in flight, kept: an overflow connection is opened (with
            # its pragmas) and closed again for every request beyond the pool's size (the default
            # of 5 churned at 16 concurrent clients). Beyond it, overflow without a limit.
            **({"pool_size": SQLITE_POOL_SIZE, "max_overflow": -1} if pooled else {}),
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if single_use:
        return create_engine(url, echo=echo, poolclass=NullPool)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5)


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on error.

    On SQLite it holds the database's write lock (``_WriteLock``) and starts with ``BEGIN
    IMMEDIATE``, so reads inside it see the latest data and the write cannot fail on a stale WAL
    snapshot. Any read
    transaction the session had open is ended first (its pending changes committed).
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


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that works from any working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_to_head(url: str) -> None:
    """Apply every pending migration to the database at ``url``."""
    command.upgrade(alembic_config(url), "head")


def new_session(engine: Engine) -> Session:
    """A new session on ``engine``; objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)
