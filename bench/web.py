"""Web benchmark: a section page GET and a save POST, each against a bare baseline.

Baselines, served the same way in the same run: the same section page template rendered by a
bare FastAPI app from a constant context (no database, session or dependencies), and a bare
FastAPI save that writes the same form into SQLite with the standard library (read the row,
update it, append an audit row, commit; one writer at a time). What the real app adds is the
measured cost.

Every app runs under uvicorn (uvloop, httptools) on a fresh SQLite database. The load comes from
separate client processes using keep-alive ``http.client`` connections (16 clients: 4 processes
of 4 threads), so the figures measure the server rather than the client's own GIL: a pure
Python client such as httpx in 16 threads of one process cost more CPU per request than the
bare save itself. Each client does REQUESTS requests back to back; baseline and app take turns for
ROUNDS rounds, and we report the medians of requests per second, p50 and p95, and the one-connection p50 (the keep-alive latency check of pitfalls.md).

Targets: the section page at least half the bare page's throughput; save p95 under 50 ms.

    uv run python bench/web.py [--clients 16] [--requests 50] [--rounds 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import multiprocessing
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import db  # noqa: E402
from service.auth import service as auth_service  # noqa: E402
from service.models import Role  # noqa: E402
from service.questionnaire.loader import load_directory  # noqa: E402
from service.questionnaire.schema import Questionnaire, Section  # noqa: E402

EMAIL = "bench@example.test"
PASSWORD = "bench password 1234"  # noqa: S105 - a throwaway benchmark account
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


def bare_app() -> object:
    """The same section page template, rendered from a constant context by a bare FastAPI app:
    no database, no session, no dependencies. What the real page adds is the measured cost.

    The context is captured from one real request (so it never drifts from the real page)."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from fastapi.testclient import TestClient

    from service.config import Settings
    from service.main import create_app
    from service.web import templating

    captured: dict[str, object] = {}
    original = templating.templates.TemplateResponse

    def capture(request: object, name: str, context: dict[str, object], **kwargs: object) -> object:
        if name == "assessments/section.html":
            captured.update(context)
        return original(request, name, context, **kwargs)  # type: ignore[arg-type]

    templating.templates.TemplateResponse = capture  # type: ignore[method-assign]
    try:
        real = create_app(Settings())
        with TestClient(real) as client:
            client_base, slug = sign_in_and_start(client, "Bare page")
            assert client.get(f"{client_base}/sections/{slug}").status_code == 200
    finally:
        templating.templates.TemplateResponse = original  # type: ignore[method-assign]
    template = templating.templates.env.get_template("assessments/section.html")
    app = FastAPI()

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return template.render(captured)

    return app


def bare_save_app() -> object:
    """A bare save: the same form posted to a FastAPI route that updates one SQLite row with the
    standard library (version check, JSON merge, audit row, commit) under a write lock, in the
    thread pool as the real route. The database is made by ``main`` (``BENCH_BARE_DB``)."""
    conn = sqlite3.connect(
        os.environ["BENCH_BARE_DB"], check_same_thread=False, isolation_level=None
    )
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA synchronous=NORMAL")
    lock = threading.Lock()
    app = FastAPI()

    def write(row: int, version: int, fields: dict[str, str]) -> bool:
        with lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                current, evidence = conn.execute(
                    "SELECT version, evidence FROM draft WHERE id = ?", (row,)
                ).fetchone()
                if current != version:
                    return False
                notes = json.loads(evidence) | fields
                conn.execute(
                    "UPDATE draft SET version = ?, evidence = ? WHERE id = ? AND version = ?",
                    (version + 1, json.dumps(notes), row, version),
                )
                conn.execute(
                    "INSERT INTO audit (draft_id, detail) VALUES (?, ?)",
                    (row, json.dumps(sorted(fields))),
                )
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        return True

    @app.post("/save/{row}")
    async def save(row: int, request: Request) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items() if k.startswith("evidence-")}
        ok = await run_in_threadpool(write, row, int(str(form["version"])), fields)
        return RedirectResponse("/page", status_code=303) if ok else Response(status_code=409)

    return app


def make_bare_db(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE draft (id INTEGER PRIMARY KEY, version INTEGER, evidence TEXT)")
    conn.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, draft_id INTEGER, detail TEXT)")
    conn.executemany("INSERT INTO draft VALUES (?, 1, '{}')", [(i,) for i in range(rows)])
    conn.close()


def sign_in_and_start(client: httpx.Client, program: str) -> tuple[str, str]:
    """Sign the bench user in on ``client``, start an assessment; its path and the section slug."""
    questionnaire, section = bench_section()
    page = client.get("/login").text
    client.post(
        "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": _CSRF.search(page).group(1)},
    )  # type: ignore[union-attr]
    page = client.get("/assessments/new").text
    r = client.post(
        "/assessments/",
        data={
            "csrf_token": _CSRF.search(page).group(1),
            "questionnaire": questionnaire.id,
            "program": program,
        },  # type: ignore[union-attr]
        follow_redirects=False,
    )
    return r.headers["location"].rstrip("/"), section.id.replace("_", "-")


def bench_section() -> tuple[Questionnaire, Section]:
    """The shipped questionnaire and its section with the most questions."""
    questionnaire = load_directory(
        os.environ.get("POLICYGAP_QUESTIONNAIRES_DIR", ROOT / "questionnaires")
    ).all()[0]
    return questionnaire, max(questionnaire.sections, key=lambda s: len(s.questions))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(target: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
            "--app-dir",
            str(ROOT),
        ],
        env={**os.environ, **env},
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/healthz" if "create_app" in target else url + "/page", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass(frozen=True)
class Job:
    """What one client sends: a GET of ``path``, or a POST of ``form`` with a ``version`` field
    that goes up by one after each accepted save (as a browser's page would carry it)."""

    path: str
    cookie: str = ""
    form: tuple[tuple[str, str], ...] = ()
    version: int | None = None
    expect: int = 200


def after(job: Job, saves: int) -> Job:
    """The same client once ``saves`` saves have been accepted."""
    assert job.version is not None
    return dataclasses.replace(job, version=job.version + saves)


def _client_process(port: int, jobs: list[Job], requests: int, barrier: Any, out: Any) -> None:
    """One client process: a thread and a keep-alive connection per job."""
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def loop(job: Job) -> None:
        try:
            timed(job)
        except Exception as error:  # reported to the parent, which stops the run
            with lock:
                errors.append(f"{job.path}: {error!r}")

    def timed(job: Job) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Cookie": job.cookie} if job.cookie else {}
        version = job.version
        mine = []
        for i in range(requests):
            if job.form:
                fields = (
                    [*job.form, ("version", str(version))]
                    if version is not None
                    else list(job.form)
                )
                body = urllib.parse.urlencode([(k, v.format(n=i)) for k, v in fields])
                started = time.perf_counter()
                conn.request("POST", job.path, body=body, headers=headers | _FORM)
            else:
                started = time.perf_counter()
                conn.request("GET", job.path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            assert response.status == job.expect, (job.path, response.status)
            if version is not None:
                version += 1
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=loop, args=(job,)) for job in jobs]
    barrier.wait()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(errors or times)


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def run(url: str, jobs: list[Job], requests: int, processes: int = 4) -> dict[str, float]:
    """All ``jobs`` at once (one client each), spread over client processes."""
    port = int(url.rsplit(":", 1)[1])
    context = multiprocessing.get_context("fork")
    processes = max(1, min(processes, len(jobs)))
    barrier = context.Barrier(processes + 1)
    out = context.Queue()
    workers = [
        context.Process(
            target=_client_process, args=(port, jobs[i::processes], requests, barrier, out)
        )
        for i in range(processes)
    ]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    parts = [out.get() for _ in workers]
    elapsed = time.perf_counter() - started
    failed = [e for part in parts for e in part if isinstance(e, str)]
    if failed:
        raise SystemExit(f"client requests failed: {failed[:3]}")
    times: list[float] = [t for part in parts for t in part]
    for w in workers:
        w.join()
    times.sort()
    return {
        "rps": len(times) / elapsed,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50, help="per client and round")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for every app")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/app turns (medians)")
    parser.add_argument("--saves-only", action="store_true", help="skip the page GETs")
    parser.add_argument(
        "--questionnaires",
        type=Path,
        default=None,
        help="the questionnaire directory (default: questionnaires/; the first version loaded is "
        "used: point at a directory with one file to compare trees on the same questionnaire)",
    )
    args = parser.parse_args()
    os.environ["POLICYGAP_QUESTIONNAIRES_DIR"] = str(
        (args.questionnaires or ROOT / "questionnaires").resolve()
    )

    questionnaire, section = bench_section()
    first = section.questions[0]
    workdir = Path(tempfile.mkdtemp(prefix="policygap-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    with db.new_session(engine) as session:
        agency = auth_service.get_or_create_organisation(
            session=session,
            slug="bench",
            kind="agency",
            name_en="Bench",
            name_fr="Bench",
            body_type="municipal",
            province="ON",
        )
        auth_service.create_user(
            session=session,
            email=EMAIL,
            password=PASSWORD,
            full_name="Bench",
            role=Role.officer,
            organisation_id=agency.id,
        )
    engine.dispose()
    make_bare_db(workdir / "bare.sqlite3", args.clients)
    env = {
        "POLICYGAP_DATABASE_URL": url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "bench",
        "POLICYGAP_QUESTIONNAIRES_DIR": os.environ["POLICYGAP_QUESTIONNAIRES_DIR"],
        "POLICYGAP_REPORT_PRERENDER": "false",
        # as uvicorn's --log-level warning above: no line per request (the baselines write none)
        "POLICYGAP_LOG_LEVEL": "warning",
        "BENCH_BARE_DB": str(workdir / "bare.sqlite3"),
    }
    note = (("evidence-" + first.id, "evidence note {n}"), ("action", "later"))
    n, workers, rounds = args.requests, args.workers, args.rounds
    with (
        serve("bench.web:bare_app", env, workers) as bare_page,
        serve("bench.web:bare_save_app", env, workers) as bare_save,
        serve("service.main:create_app", env, workers) as app,
    ):
        gets: list[Job] = []
        posts: list[Job] = []
        for i in range(args.clients):
            with httpx.Client(base_url=app) as client:
                base, slug = sign_in_and_start(client, f"Bench {i}")
                text = client.get(f"{base}/sections/{slug}").text
                cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
            token = _CSRF.search(text).group(1)  # type: ignore[union-attr]
            version = int(_VERSION.search(text).group(1))  # type: ignore[union-attr]
            gets.append(Job(f"{base}/sections/{slug}", cookie=cookie))
            posts.append(
                Job(
                    f"{base}/sections/{slug}",
                    cookie=cookie,
                    form=(("csrf_token", token), *note),
                    version=version,
                    expect=303,
                )
            )
        bare_posts = [
            Job(f"/save/{i}", form=(("csrf_token", "x" * 43), *note), version=1, expect=303)
            for i in range(args.clients)
        ]
        bare_gets = [Job("/page")] * args.clients
        # Baseline and app take turns, round after round, so a machine that speeds up or slows
        # down during the run moves both sides of each ratio alike.
        measures: dict[str, list[dict[str, float]]] = {}
        for _round in range(rounds):
            steps: list[tuple[str, str, list[Job]]] = [
                ("bare page GET", bare_page, bare_gets),
                ("section page GET", app, gets),
                ("bare page GET, 1 client", bare_page, bare_gets[:1]),
                ("section page GET, 1 client", app, gets[:1]),
            ] * (not args.saves_only) + [
                ("bare save POST", bare_save, bare_posts),
                ("save POST", app, posts),
            ]
            for name, url_, jobs in steps:
                measures.setdefault(name, []).append(run(url_, jobs, n))
            # Each draft is now n saves further on; the first one n more after this.
            bare_posts = [after(j, n) for j in bare_posts]
            posts = [after(j, n) for j in posts]
            measures.setdefault("save POST, 1 client", []).append(run(app, posts[:1], n))
            posts[0] = after(posts[0], n)

    print(
        f"questionnaire {questionnaire.id} {questionnaire.version}, section {section.id}"
        f" ({len(section.questions)} questions); {args.clients} clients x {n} requests,"
        f" {rounds} rounds, {workers} uvicorn worker(s); load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'measure (median of rounds)':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, per_round in measures.items():
        m = {k: statistics.median(r[k] for r in per_round) for k in ("rps", "p50_ms", "p95_ms")}
        print(f"{name:32} {m['rps']:8.1f} {m['p50_ms']:8.1f} {m['p95_ms']:8.1f}")

    def ratios(mine: str, baseline: str) -> list[float]:
        return [
            a["rps"] / b["rps"] for a, b in zip(measures[mine], measures[baseline], strict=True)
        ]

    page_ratios = [] if args.saves_only else ratios("section page GET", "bare page GET")
    save_ratios = ratios("save POST", "bare save POST")
    ratio = statistics.median(page_ratios) if page_ratios else float("nan")
    save_p95 = statistics.median(r["p95_ms"] for r in measures["save POST"])
    bare_p95 = statistics.median(r["p95_ms"] for r in measures["bare save POST"])
    ok_ratio, ok_save = args.saves_only or ratio >= 0.5, save_p95 < 50
    if page_ratios:
        print(
            f"section page / bare page throughput: {ratio:.2f} (rounds: "
            f"{', '.join(f'{x:.2f}' for x in page_ratios)}; target >= 0.50) {'PASS' if ok_ratio else 'FAIL'}"
        )
    print(
        f"save / bare save throughput: {statistics.median(save_ratios):.2f} (rounds: "
        f"{', '.join(f'{x:.2f}' for x in save_ratios)}); bare save p95 {bare_p95:.1f} ms"
    )
    print(
        f"save p95 at {args.clients} clients: {save_p95:.1f} ms (target < 50) {'PASS' if ok_save else 'FAIL'}"
    )
    return 0 if ok_ratio and ok_save else 1


if __name__ == "__main__":
    sys.exit(main())
