"""Model behaviour that depends on the back end: versions, UTC datetimes, foreign keys, pragmas."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from service import db
from service.assessments.models import Assessment
from service.models import Organisation


def _agency(session: Session) -> Organisation:
    org = Organisation(kind="agency", slug=f"a-{uuid.uuid4().hex[:8]}", name_en="A", name_fr="A")
    with db.writing(session):
        session.add(org)
    return org


def test_assessment_version_detects_lost_update(engine: Engine) -> None:
    with Session(engine) as s:
        org = _agency(s)
        a = Assessment(
            organisation_id=org.id, questionnaire_id="q", questionnaire_version="1", program="p"
        )
        with db.writing(s):
            s.add(a)
        assert a.version == 1
        aid = a.id
    with db.new_session(engine) as first, db.new_session(engine) as second:
        one = first.get(Assessment, aid)
        two = second.get(Assessment, aid)
        assert one is not None
        assert two is not None
        with db.writing(first):
            one.answers = {"q1": "yes"}
        assert one.version == 2
        with pytest.raises(StaleDataError), db.writing(second):
            two.answers = {"q1": "no"}
    with Session(engine) as s:
        stored = s.get(Assessment, aid)
        assert stored is not None
        assert stored.answers == {"q1": "yes"}
        assert stored.version == 2


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    with Session(engine) as s:
        org = _agency(s)
        s.expire_all()
        again = s.get(Organisation, org.id)
        assert again is not None
        assert again.created_at.tzinfo is not None
        assert again.created_at.utcoffset() == UTC.utcoffset(datetime.now(UTC))


def test_foreign_keys_enforced(engine: Engine) -> None:
    with Session(engine) as s, pytest.raises(IntegrityError), db.writing(s):
        s.add(
            Assessment(
                organisation_id=uuid.uuid4(),
                questionnaire_id="q",
                questionnaire_version="1",
                program="p",
            )
        )


def test_sqlite_file_pragmas(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_sqlite_connections_are_kept_for_16_requests_at_once(sqlite_url: str) -> None:
    """16 requests in flight need 16 connections; the next 16 reuse them rather than open
    (and set up) new ones, which is what the pool's default size of 5 did."""
    from sqlalchemy import event

    engine = db.make_engine(sqlite_url)
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, _record: opened.append(conn))
    for _wave in range(2):
        sessions = [db.new_session(engine) for _ in range(16)]
        for session in sessions:
            session.execute(text("SELECT 1"))
        for session in sessions:
            session.close()
    assert len(opened) == 16
    engine.dispose()


_HOLD_THE_WRITE_LOCK = """
import sys
from service import db
from service.models import Organisation
engine = db.make_engine(sys.argv[1])
with db.new_session(engine) as session, db.writing(session):
    session.add(Organisation(kind="agency", slug="child", name_en="C", name_fr="C"))
    session.flush()
    print("holding", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


@contextmanager
def _write_lock_held_by_another_process(sqlite_url: str) -> Iterator[Callable[[], None]]:
    """A child process inside ``db.writing`` on ``sqlite_url``; call the function to let it
    commit (it has added the organisation "child")."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_WRITE_LOCK, sqlite_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdin is not None
        assert child.stdout.readline().strip() == "holding"

        def release() -> None:
            assert child.stdin is not None
            assert child.stdout is not None
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "released"

        try:
            yield release
        finally:
            if child.poll() is None and not child.stdin.closed:
                child.stdin.write("go\n")
                child.stdin.flush()
            assert child.wait(10) == 0


def _add(engine: Engine, slug: str) -> None:
    with db.new_session(engine) as session, db.writing(session):
        session.add(Organisation(kind="agency", slug=slug, name_en=slug, name_fr=slug))


def _start_writer(engine: Engine, slug: str) -> tuple[threading.Thread, list[BaseException]]:
    """A thread adding the organisation ``slug``, and the list that receives its error."""
    failures: list[BaseException] = []

    def write() -> None:
        try:
            _add(engine, slug)
        except BaseException as error:  # reported to the test
            failures.append(error)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer, failures


def test_sqlite_writers_in_two_processes_take_turns(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer in another process (another uvicorn worker) waits for the write lock and then
    writes, even past SQLite's busy timeout (cut here to 0.1 s), instead of sleeping and
    retrying in SQLite's busy handler and failing with "database is locked"."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    engine = db.make_engine(sqlite_url)
    with _write_lock_held_by_another_process(sqlite_url) as release:
        writer, failures = _start_writer(engine, "parent")
        writer.join(0.5)  # five busy timeouts
        assert writer.is_alive()
        assert not failures
        release()
        writer.join(10)
    assert not writer.is_alive()
    assert not failures
    with engine.connect() as conn:
        slugs = conn.execute(text("SELECT slug FROM organisation ORDER BY slug")).scalars().all()
    assert slugs == ["child", "parent"]
    engine.dispose()


def test_sqlite_writer_gives_up_after_the_write_wait(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer does not wait for ever: past ``SQLITE_WRITE_WAIT_SECONDS`` it fails with
    "database is locked", as SQLite would, and writes nothing."""
    monkeypatch.setattr(db, "SQLITE_WRITE_WAIT_SECONDS", 0.3)
    engine = db.make_engine(sqlite_url)
    with _write_lock_held_by_another_process(sqlite_url) as release:
        started = time.monotonic()
        writer, failures = _start_writer(engine, "parent")
        writer.join(5)  # a writer that waited for ever would still be alive here
        waited = time.monotonic() - started
        release()
    assert not writer.is_alive()
    assert 0.3 <= waited < 5
    assert len(failures) == 1
    assert isinstance(failures[0], OperationalError)
    assert "database is locked" in str(failures[0])
    with engine.connect() as conn:
        slugs = conn.execute(text("SELECT slug FROM organisation ORDER BY slug")).scalars().all()
    assert slugs == ["child"]
    _add(engine, "parent")  # the lock is free again
    engine.dispose()


def test_postgres_urls_are_normalised() -> None:
    from service.config import normalise_database_url

    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"
