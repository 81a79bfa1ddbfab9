"""Background jobs: what must happen after a request without keeping it waiting (rendering the
PDFs of a submission; later notices and reminders).

A job function is registered once with ``@task(name)`` and takes a ``JobContext`` and its
arguments (JSON values). It must be idempotent: a job may run again after its worker died.
Two engines run the same functions:

- PostgreSQL: procrastinate (``jobs.postgres``). Workers on any number of machines; a job whose
  worker stopped sending heartbeats is retried by a periodic task; its schema comes from an
  Alembic migration.
- SQLite (the default): rows of the ``job`` table (``jobs.sqlite``), run by one worker at a
  time for the whole database (an ``flock`` on ``<database>.jobs.lock``, released by the kernel
  when its process dies); the worker that takes the lock next requeues the jobs left running.

A periodic job (``@periodic(name, cron)``, the cron read from the settings) is deferred once per
tick of its cron whichever workers run: on PostgreSQL by procrastinate's periodic deferrer (one
row per task and tick in ``procrastinate_periodic_defers``), on SQLite by the one worker holding
the queue's lock (and once when it takes the lock). It is given ``timestamp`` (the tick, Unix
seconds) and, like every job, must be idempotent.

Failures are retried up to ``POLICYGAP_JOB_MAX_ATTEMPTS`` times, except a ``NoRetry`` (a render
that ran past its timeout would only hang again). Each app instance runs an embedded worker
(a thread) unless ``POLICYGAP_EMBEDDED_WORKER=0``; ``policygap worker`` runs one in the
foreground.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from service.config import Settings

log = logging.getLogger(__name__)


class NoRetry(Exception):
    """A failure that running the job again cannot cure."""


@dataclass
class JobContext:
    """What a job function is given: the settings, the database, the worker's resources (kept
    between jobs, e.g. the render process) and which attempt this is (1 for the first)."""

    settings: Settings
    engine: Engine
    resources: Resources
    attempt: int = 1


class Resources:
    """Things a worker keeps between jobs and closes when it stops (``shutdown()``), made on
    first use; the app shares its own with its embedded worker (one render process)."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._items:
                self._items[name] = make()
            return self._items[name]

    def peek(self, name: str) -> Any:
        return self._items.get(name)

    def close(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for item in items:
            stop = getattr(item, "shutdown", None)
            if stop is not None:
                stop()


Handler = Callable[..., None]


@dataclass(frozen=True)
class Task:
    name: str
    fn: Handler = field(compare=False)


TASKS: dict[str, Task] = {}


def task(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn(ctx: JobContext, **args)`` as the job ``name``."""

    def register(fn: Handler) -> Handler:
        TASKS[name] = Task(name, fn)
        return fn

    return register


# periodic task name -> its cron expression, read from the settings
PERIODIC: dict[str, Callable[[Settings], str]] = {}


def periodic(name: str, cron: Callable[[Settings], str]) -> Callable[[Handler], Handler]:
    """Register ``fn(ctx: JobContext, *, timestamp: int)`` as the job ``name``, deferred at every
    tick of ``cron(settings)`` (five fields, or six with seconds)."""

    def register(fn: Handler) -> Handler:
        TASKS[name] = Task(name, fn)
        PERIODIC[name] = cron
        return fn

    return register


def last_tick(cron: str, now: float) -> int:
    """The latest tick of ``cron`` at or before ``now`` (Unix seconds)."""
    from croniter import croniter

    it = croniter(cron, now + 0.001)
    return int(it.get_prev(float))


def run(name: str, ctx: JobContext, args: dict[str, Any]) -> None:
    """Run one job (both engines call this)."""
    TASKS[name].fn(ctx, **args)


class Queue(Protocol):
    def defer(self, task: str, *, key: str, **args: Any) -> None:
        """Queue ``task(**args)`` unless a job with ``key`` is already queued."""

    def pending(self, key: str) -> bool:
        """Whether a job with ``key`` is queued or running."""

    def close(self) -> None: ...


class Worker(Protocol):
    def run(self, stop: threading.Event) -> None:
        """Run jobs until ``stop`` is set."""


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def open_queue(settings: Settings, engine: Engine) -> Queue:
    """The queue of this database (opened lazily: nothing connects until the first job)."""
    if is_postgres(engine):
        from service.jobs import postgres

        return postgres.ProcrastinateQueue(settings)
    from service.jobs import sqlite

    return sqlite.TableQueue(engine, settings)


def make_worker(
    settings: Settings, engine: Engine, resources: Resources, *, name: str = "worker"
) -> Worker:
    if is_postgres(engine):
        from service.jobs import postgres

        return postgres.ProcrastinateWorker(settings, engine, resources, name=name)
    from service.jobs import sqlite

    return sqlite.TableWorker(settings, engine, resources, name=name)


class EmbeddedWorker:
    """A worker in a thread of the app's process (started and stopped by the app's lifespan)."""

    def __init__(self, settings: Settings, engine: Engine, resources: Resources) -> None:
        self.worker = make_worker(settings, engine, resources, name="embedded")
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="job-worker", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run(self.stop_event)
        except Exception:
            log.exception("the embedded job worker stopped")

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)
