"""Jobs on PostgreSQL through procrastinate: workers on any number of machines, each job taken
by one of them (``FOR UPDATE SKIP LOCKED``), LISTEN/NOTIFY to start at once.

Each worker sends a heartbeat every third of ``job_stalled_seconds``; a periodic task
(``job_recovery_cron``, deferred once per tick whichever workers run) retries the jobs of
workers silent for longer, as procrastinate's documentation recommends; each worker also does so
when it starts. The schema is procrastinate's own, installed by an Alembic migration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from service.config import Settings
from service.jobs import PERIODIC, TASKS, JobContext, NoRetry, Resources, run

log = logging.getLogger(__name__)
RECOVERY_TASK = "policygap.retry_stalled_jobs"
ACTIVE = ("todo", "doing")


def conninfo(database_url: str) -> str:
    """A libpq connection string from the SQLAlchemy URL (``postgresql+psycopg://...``)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class _Retry(procrastinate.BaseRetryStrategy):
    """Up to ``job_max_attempts`` runs in all, one second then doubling between them; never
    for ``NoRetry``."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        if isinstance(exception, NoRetry) or job.attempts + 1 >= self.max_attempts:
            return None
        return procrastinate.RetryDecision(retry_in={"seconds": min(60, 2**job.attempts)})


def _register(
    app: procrastinate.App, settings: Settings, engine: Engine, resources: Resources
) -> None:
    retry = _Retry(settings.job_max_attempts)
    for name in TASKS:

        def handler(context: procrastinate.JobContext, /, _name: str = name, **args: Any) -> None:
            attempt = (context.job.attempts or 0) + 1
            run(_name, JobContext(settings, engine, resources, attempt=attempt), args)

        registered = app.task(name=name, pass_context=True, retry=retry)(handler)
        if name in PERIODIC:
            # deferred once per tick whichever workers run (procrastinate_periodic_defers)
            app.periodic(cron=PERIODIC[name](settings), periodic_id=name)(registered)  # type: ignore[arg-type]

    async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        await recover(context.app, settings)

    recovery = app.task(name=RECOVERY_TASK, pass_context=True)(retry_stalled)
    app.periodic(cron=settings.job_recovery_cron, periodic_id="stalled")(recovery)


async def recover(app: procrastinate.App, settings: Settings) -> int:
    """Retry the jobs of workers that stopped sending heartbeats."""
    stalled = list(
        await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.job_stalled_seconds)
    )
    for job in stalled:
        log.warning("job %s %s: its worker stopped; retried", job.task_name, job.queueing_lock)
        await app.job_manager.retry_job(job)
    return len(stalled)


class ProcrastinateQueue:
    """Deferring and looking up jobs from the web process (a small synchronous pool, opened at
    first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._app: procrastinate.App | None = None
        self._lock = threading.Lock()

    def _open(self) -> procrastinate.App:
        with self._lock:
            if self._app is None:
                connector = procrastinate.SyncPsycopgConnector(
                    conninfo=conninfo(self.settings.database_url), min_size=1, max_size=4
                )
                app = procrastinate.App(connector=connector)
                app.open()
                self._app = app
            return self._app

    def defer(self, task: str, *, key: str, **args: Any) -> None:
        deferrer = self._open().configure_task(name=task, queueing_lock=key, allow_unknown=True)
        with contextlib.suppress(procrastinate_errors.AlreadyEnqueued):
            deferrer.defer(**args)

    def pending(self, key: str) -> bool:
        jobs = self._open().job_manager.list_jobs(queueing_lock=key)
        return any(job.status in ACTIVE for job in jobs)

    def close(self) -> None:
        with self._lock:
            app, self._app = self._app, None
        if app is not None:
            app.close()


class ProcrastinateWorker:
    def __init__(
        self, settings: Settings, engine: Engine, resources: Resources, *, name: str = "worker"
    ) -> None:
        self.settings, self.engine, self.resources = settings, engine, resources
        self.name = f"{name}-{os.getpid()}"

    def build(self) -> procrastinate.App:
        connector = procrastinate.PsycopgConnector(
            conninfo=conninfo(self.settings.database_url), min_size=1, max_size=3
        )
        app = procrastinate.App(connector=connector)
        _register(app, self.settings, self.engine, self.resources)
        return app

    def run(self, stop: threading.Event) -> None:
        asyncio.run(self._run(stop))

    async def _run(self, stop: threading.Event) -> None:
        app = self.build()
        heartbeat = max(0.2, self.settings.job_stalled_seconds / 3)
        async with app.open_async():
            await recover(app, self.settings)
            worker = asyncio.create_task(
                app.run_worker_async(
                    name=self.name,
                    concurrency=1,
                    install_signal_handlers=False,
                    update_heartbeat_interval=heartbeat,
                    stalled_worker_timeout=self.settings.job_stalled_seconds,
                    fetch_job_polling_interval=max(1.0, self.settings.job_poll_seconds),
                    delete_jobs="never",
                )
            )
            log.info("job worker %s runs the queue", self.name)
            while not stop.is_set() and not worker.done():
                await asyncio.sleep(0.2)
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
