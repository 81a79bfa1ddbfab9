"""Jobs as rows of the ``job`` table, for SQLite: one worker at a time for the whole database.

Every app instance (each uvicorn worker process) may run an embedded worker, but only the one
holding ``flock`` on ``<database>.jobs.lock`` runs jobs; the others try again every poll. The
kernel releases the lock when its holder dies, and the worker that takes it next puts the jobs
left running back in the queue (a job may so run twice: job functions are idempotent).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import traceback
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, update
from sqlmodel import col, delete, select

from service import db
from service.config import Settings
from service.jobs import PERIODIC, JobContext, NoRetry, Resources, last_tick, run
from service.jobs.models import JobRow
from service.models import utcnow

log = logging.getLogger(__name__)
QUEUED, RUNNING, FAILED = "queued", "running", "failed"
# Deferring in this process wakes its worker at once; a job queued by another process is
# found at the next poll.
_WAKE = threading.Event()


class TableQueue:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings

    def defer(self, task: str, *, key: str, **args: Any) -> None:
        with db.new_session(self.engine) as session, db.writing(session):
            queued = session.exec(
                select(JobRow.id).where(JobRow.key == key, JobRow.status == QUEUED)
            ).first()
            if queued is None:
                session.add(JobRow(task=task, key=key, args=args))
        _WAKE.set()

    def pending(self, key: str) -> bool:
        with db.new_session(self.engine) as session:
            found = session.exec(
                select(JobRow.id).where(
                    JobRow.key == key, col(JobRow.status).in_((QUEUED, RUNNING))
                )
            ).first()
            return found is not None

    def close(self) -> None:
        pass


def _lock_path(engine: Engine) -> str | None:
    database = engine.url.database
    if database in (None, "", ":memory:"):
        return None
    return os.path.realpath(database) + ".jobs.lock"


_DUE = (
    select(JobRow.id)
    .where(JobRow.status == QUEUED, col(JobRow.run_after) <= bindparam("now"))
    .limit(1)
)


class TableWorker:
    def __init__(
        self, settings: Settings, engine: Engine, resources: Resources, *, name: str = "worker"
    ) -> None:
        self.settings, self.engine, self.resources, self.name = settings, engine, resources, name
        self._fd: int | None = None
        self._memory_lock = threading.Lock() if _lock_path(engine) is None else None
        self._ticks: dict[str, int] = {}  # periodic task -> the last tick deferred

    # --- the lock: one worker for the database ----------------------------------------------

    def _take_lock(self) -> bool:
        path = _lock_path(self.engine)
        if path is None:
            return self._memory_lock is not None and self._memory_lock.acquire(blocking=False)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _release_lock(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        elif self._memory_lock is not None and self._memory_lock.locked():
            self._memory_lock.release()

    # --- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        poll = self.settings.job_poll_seconds
        holding = False
        try:
            while not stop.is_set():
                if not holding:
                    holding = self._take_lock()
                    if not holding:
                        stop.wait(poll)
                        continue
                    log.info("job worker %s runs the queue (pid %s)", self.name, os.getpid())
                    self.requeue_running()
                    self._ticks = {}  # the current ticks are deferred once more (idempotent)
                self.defer_periodic()
                if not self.run_one():
                    _WAKE.wait(poll)
                    _WAKE.clear()
        finally:
            if holding:
                self._release_lock()

    def requeue_running(self) -> int:
        """Jobs left running by a worker that died go back in the queue (the lock is ours, so
        no live worker runs them)."""
        with db.new_session(self.engine) as session, db.writing(session):
            running = col(JobRow.status) == RUNNING
            spent = col(JobRow.attempts) >= self.settings.job_max_attempts
            session.exec(
                update(JobRow)
                .where(running, spent)
                .values(status=FAILED, error="its worker stopped during every attempt")
            )
            result = session.exec(update(JobRow).where(running).values(status=QUEUED))
            count = int(result.rowcount or 0)
        if count:
            log.warning("requeued %s job(s) left running by a stopped worker", count)
        return count

    def defer_periodic(self, now: float | None = None) -> list[str]:
        """Defer each periodic task whose cron ticked since this worker last deferred it (and
        at once when it has just taken the queue). Only the lock's holder calls this."""
        deferred: list[str] = []
        moment = time.time() if now is None else now
        for name, cron in PERIODIC.items():
            tick = last_tick(cron(self.settings), moment)
            if self._ticks.get(name) == tick:
                continue
            self._ticks[name] = tick
            TableQueue(self.engine, self.settings).defer(
                name, key=f"periodic:{name}:{tick}", timestamp=tick
            )
            deferred.append(name)
        return deferred

    def _claim(self) -> JobRow | None:
        # A read first: most polls find nothing due, and a read takes no write lock, so the
        # poll never makes a save wait (bench/web.py runs with the embedded worker, as serve).
        with self.engine.connect() as connection:
            if connection.execute(_DUE, {"now": utcnow()}).first() is None:
                return None
        with db.new_session(self.engine) as session, db.writing(session):
            row = session.exec(
                select(JobRow)
                .where(JobRow.status == QUEUED, JobRow.run_after <= utcnow())
                .order_by(col(JobRow.run_after), col(JobRow.id))
                .limit(1)
            ).first()
            if row is None:
                return None
            row.status, row.attempts = RUNNING, row.attempts + 1
            session.add(row)
            session.flush()
            session.expunge(row)
        return row

    def run_one(self) -> bool:
        """Run the next due job, if any (False when there was none)."""
        row = self._claim()
        if row is None:
            return False
        ctx = JobContext(self.settings, self.engine, self.resources, attempt=row.attempts)
        try:
            run(row.task, ctx, dict(row.args))
        except Exception as error:
            self._failed(row, error)
        else:
            with db.new_session(self.engine) as session, db.writing(session):
                session.exec(delete(JobRow).where(col(JobRow.id) == row.id))
        return True

    def _failed(self, row: JobRow, error: Exception) -> None:
        retry = not isinstance(error, NoRetry) and row.attempts < self.settings.job_max_attempts
        log.error(
            "job %s %s (attempt %s) failed%s: %s",
            row.task,
            row.key,
            row.attempts,
            "; retried" if retry else "",
            error,
        )
        with db.new_session(self.engine) as session, db.writing(session):
            stored = session.get(JobRow, row.id)
            if stored is None:
                return
            stored.error = "".join(traceback.format_exception_only(error)).strip()[:2000]
            stored.status = QUEUED if retry else FAILED
            stored.run_after = utcnow() + timedelta(seconds=min(60, 2 ** (row.attempts - 1)))
            session.add(stored)
