"""The job engine (issue 20): renders as jobs that survive a dead render process, a hung render
and a dead worker, on SQLite (one worker at a time) and PostgreSQL (procrastinate)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import select

from service import db, jobs
from service.config import Settings
from service.jobs.child import ChildProcess, ChildTimeout
from service.jobs.models import JobRow
from service.main import create_app
from service.report_delivery import service as web_reports
from service.report_delivery.models import ReportCache
from tests import jobs_helpers
from tests.builders import login, make_world, submit_mini
from tests.conftest import create_pg_database, drop_pg_database, make_settings

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT / "tests" / "data_web" / "questionnaires"


def _wait(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _cached(engine: Engine) -> list[tuple[str, str]]:
    with db.new_session(engine) as s:
        return sorted((r.language, r.review_state) for r in s.exec(select(ReportCache)).all())


def _jobs(engine: Engine) -> list[JobRow]:
    with db.new_session(engine) as s:
        return list(s.exec(select(JobRow)).all())


@pytest.fixture
def jobs_app(sqlite_url: str) -> Iterator[FastAPI]:
    app = create_app(
        make_settings(
            sqlite_url, report_prerender=True, embedded_worker=True, report_timeout_seconds=20
        )
    )
    yield app
    app.state.engine.dispose()


def _idle(child: ChildProcess) -> bool:
    return child.started >= 1 and not child._calls.locked()


def test_a_dead_render_process_is_replaced_and_the_job_retried(
    jobs_app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """kill -9 of the render process during a job: the job fails, is retried in a new render
    process, and the PDF is produced (the pool used to stay broken: 503 until a restart)."""
    monkeypatch.setattr(web_reports, "render_in_child", jobs_helpers.slow_render)
    engine = jobs_app.state.engine
    with TestClient(jobs_app) as client:
        child = web_reports.app_renderer(jobs_app)
        _wait(lambda: _idle(child), 90, "the warm-up")
        login(client, make_world(engine).officer_a.email)
        submit_mini(client)
        _wait(lambda: child._calls.locked() and child.pid(), 30, "a render")
        time.sleep(0.5)
        os.kill(child.pid() or 0, signal.SIGKILL)
        with caplog.at_level(logging.ERROR):
            _wait(lambda: len(_cached(engine)) == 2, 120, "both PDFs")
        assert _cached(engine) == [("en", "submitted"), ("fr", "submitted")]
        assert child.started == 2  # the dead process was replaced
        assert any("retried" in r.getMessage() for r in caplog.records)
        _wait(lambda: _jobs(engine) == [], 30, "done jobs to leave the table")


def test_a_hung_render_is_killed_at_its_timeout_and_the_next_pdf_renders(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_reports, "render_in_child", jobs_helpers.hang_in_english)
    app = create_app(
        make_settings(
            sqlite_url, report_prerender=True, embedded_worker=True, report_timeout_seconds=15
        )
    )
    engine = app.state.engine
    try:
        with TestClient(app) as client:
            child = web_reports.app_renderer(app)
            _wait(lambda: _idle(child), 90, "the warm-up")
            login(client, make_world(engine).officer_a.email)
            submit_mini(client)
            _wait(lambda: _cached(engine) == [("fr", "submitted")], 60, "the French PDF")
            # the French job leaves the table just after its PDF is cached: wait for it
            _wait(lambda: all(j.status == "failed" for j in _jobs(engine)), 30, "the French job")
            failed = _jobs(engine)
            assert [(j.args["lang"], j.status, j.attempts) for j in failed] == [
                ("en", "failed", 1)  # not retried: it would hang again
            ]
            assert "ran past 15" in failed[0].error
            assert child.started == 2
    finally:
        engine.dispose()


def test_child_process_timeout_kills_and_the_next_call_runs() -> None:
    child = ChildProcess(memory_mb=512, cpu_seconds=30, name="test")
    try:
        with pytest.raises(ChildTimeout):
            child.call(time.sleep, 60, timeout=1.5)
        assert child.call(sum, [1, 2], timeout=30) == 3
        assert child.started == 2
    finally:
        child.shutdown()


def test_the_render_process_runs_at_a_lower_cpu_priority_than_the_server() -> None:
    """A render yields the CPU to the pages people wait for (bench/journey.py's page p99)."""
    settings = Settings(database_url="sqlite://", questionnaires_dir=Path("questionnaires"))
    child = web_reports.renderer(jobs.Resources(), settings)
    try:
        child_nice = child.call(os.nice, 0, timeout=60)
        assert child_nice == min(os.nice(0) + web_reports.RENDER_NICE, 19)  # 19: the lowest
        assert web_reports.RENDER_NICE > 0
    finally:
        child.shutdown()


SLOW_WORKER = (
    "import sys; from tests import jobs_helpers;"
    " from service.report_delivery import service as web_reports;"
    " web_reports.render_in_child = jobs_helpers.slow_render;"
    " from service.cli import main; sys.argv = ['policygap', 'worker']; main()"
)


def _worker(
    url: str, *, extra: dict[str, str] | None = None, slow: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLICYGAP_DATABASE_URL": url,
        "POLICYGAP_QUESTIONNAIRES_DIR": str(QUESTIONNAIRES),
        "POLICYGAP_SECRET_KEY": "test-secret",
        "POLICYGAP_ENV": "test",
        **(extra or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_WORKER]
        if slow
        else [sys.executable, "-m", "service.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # killing its group kills its render process too, as a crash
    )


def _kill(process: subprocess.Popen[bytes], signum: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signum)
    process.wait(30)


def test_a_killed_worker_leaves_its_job_to_the_next_one_on_sqlite(sqlite_url: str) -> None:
    """kill -9 of the worker running a job: the next worker to hold the queue requeues it and
    the PDFs are produced; only one worker runs jobs at a time."""
    app = create_app(make_settings(sqlite_url, report_prerender=True))
    engine = app.state.engine
    first = _worker(sqlite_url, slow=True)
    second: subprocess.Popen[bytes] | None = None
    try:
        with TestClient(app) as client:
            login(client, make_world(engine).officer_a.email)
            submit_mini(client)
        _wait(lambda: any(j.status == "running" for j in _jobs(engine)), 90, "a running job")
        second = _worker(sqlite_url)  # waits for the lock
        time.sleep(1)
        assert len([j for j in _jobs(engine) if j.status == "running"]) == 1
        _kill(first)
        _wait(lambda: len(_cached(engine)) == 2, 120, "both PDFs")
        _wait(lambda: _jobs(engine) == [], 30, "the jobs to leave the table")
    finally:
        _kill(first)
        if second is not None:
            _kill(second, signal.SIGTERM)
        engine.dispose()


# --- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture
def pg_jobs_url(pg_server_url: str) -> Iterator[str]:
    url = create_pg_database(pg_server_url, prefix="policygap_jobs")
    db.upgrade_to_head(url)
    yield url
    drop_pg_database(pg_server_url, url)


def _submissions(app: FastAPI, count: int) -> None:
    from tests.review.helpers import submitted

    world = make_world(app.state.engine)
    for n in range(count):
        submitted(app.state.engine, world.officer_a, program=f"Program {n}")


def _defer_all(app: FastAPI) -> None:
    from service.assessments.models import Submission

    with db.new_session(app.state.engine) as s:
        for submission in s.exec(select(Submission)).all():
            web_reports.prerender(app, s, submission=submission)


def _job_rows(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT j.status::text, j.queueing_lock,"
                " (SELECT count(*) FROM procrastinate_events e"
                "  WHERE e.job_id = j.id AND e.type = 'started')"
                " FROM procrastinate_jobs j WHERE j.task_name = 'render_report'"
            )
        ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


@pytest.mark.postgres
def test_two_instances_and_two_workers_render_each_job_once(pg_jobs_url: str) -> None:
    apps = [create_app(make_settings(pg_jobs_url, report_prerender=True)) for _ in range(2)]
    workers = [_worker(pg_jobs_url) for _ in range(2)]
    try:
        with TestClient(apps[0]), TestClient(apps[1]):
            _submissions(apps[0], 3)
            for app in apps:  # both instances hear of the same submissions
                _defer_all(app)
            engine = apps[0].state.engine
            _wait(lambda: len(_cached(engine)) == 6, 180, "six PDFs")
            _wait(
                lambda: all(status == "succeeded" for status, _, _ in _job_rows(engine)),
                30,
                "the jobs to finish",
            )
            rows = _job_rows(engine)
        assert len(rows) == 6  # deferred twice, queued once
        assert len({lock for _, lock, _ in rows}) == 6
        assert all(started == 1 for _, _, started in rows), rows  # each ran once
    finally:
        for worker in workers:
            _kill(worker, signal.SIGTERM)
        for app in apps:
            app.state.engine.dispose()


@pytest.mark.postgres
def test_a_killed_worker_s_job_is_retried_on_postgres(pg_jobs_url: str) -> None:
    """kill -9 of the worker running a job: a periodic task of another worker sees it stalled
    (no heartbeat) and retries it; the PDFs are produced."""
    fast = {
        "POLICYGAP_JOB_STALLED_SECONDS": "2",
        "POLICYGAP_JOB_RECOVERY_CRON": "* * * * * *",  # every second
    }
    app = create_app(make_settings(pg_jobs_url, report_prerender=True))
    engine = app.state.engine
    first = _worker(pg_jobs_url, extra=fast, slow=True)
    second: subprocess.Popen[bytes] | None = None
    try:
        with TestClient(app):
            _submissions(app, 1)
            _defer_all(app)
            _wait(
                lambda: any(status == "doing" for status, _, _ in _job_rows(engine)),
                90,
                "a running job",
            )
            _kill(first)
            second = _worker(pg_jobs_url, extra=fast)
            _wait(lambda: len(_cached(engine)) == 2, 180, "both PDFs")
        assert any(started == 2 for _, _, started in _job_rows(engine))  # started again
    finally:
        _kill(first)
        if second is not None:
            _kill(second, signal.SIGTERM)
        engine.dispose()


# --- the PDF ready before anyone asks -----------------------------------------------------------


def test_submit_return_and_accept_each_queue_both_languages(sqlite_url: str) -> None:
    """Each change of the report's review state queues its two PDFs (the job's key is the PDF's
    cache key, which holds the review state); the pages say the PDF is being prepared."""
    from tests.builders import post_form

    app = create_app(make_settings(sqlite_url, report_prerender=True))  # no worker: jobs wait
    engine = app.state.engine
    try:
        with TestClient(app) as officer, TestClient(app) as reviewer:
            world = make_world(engine)
            login(officer, world.officer_a.email)
            login(reviewer, world.reviewer_on.email)
            base = submit_mini(officer)
            aid = base.rsplit("/", 1)[-1]
            page = officer.get(base + "/submitted").text
            assert 'id="pdf-preparing"' in page
            assert "Preparing the PDF" in page
            assert 'http-equiv="refresh"' not in page.lower()
            assert 'id="pdf-preparing"' in officer.get(base + "/result").text
            queued = [(j.args["lang"], j.key) for j in _jobs(engine)]
            assert sorted(lang for lang, _ in queued) == ["en", "fr"]
            r = post_form(
                reviewer,
                f"/review/{aid}",
                f"/review/{aid}",
                {"action": "return", "general": "Redo"},
            )
            assert r.status_code == 303  # type: ignore[attr-defined]
            submit_mini(officer, base)
            r = post_form(reviewer, f"/review/{aid}", f"/review/{aid}", {"action": "accept"})
            assert r.status_code == 303  # type: ignore[attr-defined]
            # accepting is confirmed on a page of its own
            accept = f"/review/{aid}/accept"
            r = post_form(reviewer, accept, accept, {})
            assert r.status_code == 303  # type: ignore[attr-defined]
            assert 'id="pdf-preparing"' in reviewer.get(f"/review/{aid}").text
            rows = _jobs(engine)
            # submitted, returned (submission 1); submitted, accepted (submission 2)
            assert len(rows) == 8
            assert len({j.key for j in rows}) == 8
            assert all(j.task == web_reports.RENDER_TASK and j.status == "queued" for j in rows)
            # submitting again the same does not queue it twice
            app.state.jobs.defer(web_reports.RENDER_TASK, key=rows[-1].key, **rows[-1].args)
            assert len(_jobs(engine)) == 8
    finally:
        engine.dispose()


def test_a_download_during_its_render_job_waits_for_that_job(
    jobs_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_reports, "render_in_child", jobs_helpers.slow_render)
    renders: list[str] = []
    real = web_reports._render_pdf

    def counted(child: ChildProcess, settings: object, job: object) -> bytes:
        renders.append(job.lang)  # type: ignore[attr-defined]
        return real(child, settings, job)  # type: ignore[arg-type]

    monkeypatch.setattr(web_reports, "_render_pdf", counted)
    engine = jobs_app.state.engine
    with TestClient(jobs_app) as client:
        child = web_reports.app_renderer(jobs_app)
        _wait(lambda: _idle(child), 90, "the warm-up")
        login(client, make_world(engine).officer_a.email)
        base = submit_mini(client)
        _wait(lambda: renders, 30, "the first render job")
        assert _cached(engine) == []
        pdf = client.get(base + "/report.pdf?lang=en")  # arrives while the job renders
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        _wait(lambda: len(_cached(engine)) == 2, 120, "both PDFs")
        assert sorted(renders) == ["en", "fr"]  # the download rendered nothing itself
        with db.new_session(engine) as s:
            stored = s.exec(select(ReportCache).where(ReportCache.language == "en")).one()
        assert pdf.content == stored.pdf
        assert 'id="pdf-preparing"' not in client.get(base + "/result").text
