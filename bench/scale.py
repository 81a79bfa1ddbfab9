"""Scale-out on PostgreSQL: one instance with one worker against two instances with two workers
each, behind nothing but the clients' round robin (client i talks to instance i mod n); then the
pages while a job worker renders PDFs.

1. Section page GETs and save POSTs at 16 clients (keep-alive ``http.client`` connections from
   4 client processes, as bench/web.py): requests per second and p95 for each layout, and the
   ratio. On a 2-core machine four server processes, the clients and PostgreSQL share the same
   two cores: the ratio measures contention, not capacity. Run it on a machine with more cores
   (or instances on other machines) to see capacity.
2. Page p99 at 4 clients on one instance (its embedded worker off) while a ``policygap worker``
   renders PDFs (the demo submissions, both languages, TA-1 among them), against the same load
   with nothing rendering. Target: under 60 ms while rendering.

    uv run python bench/scale.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web import (  # noqa: E402
    _CSRF,
    _VERSION,
    EMAIL,
    PASSWORD,
    Job,
    _client_process,
    serve,
    sign_in_and_start,
)

from service import db  # noqa: E402
from service.auth import service as auth_service  # noqa: E402
from service.models import Role  # noqa: E402


def make_database(server_url: str) -> str:
    name = f"policygap_scale_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str) -> None:
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


def clients_for(bases: list[str], clients: int, program: str) -> list[tuple[str, Job, Job]]:
    """Client i signs in on instance i mod n and starts its own assessment: (instance, GET, POST)."""
    out = []
    for i in range(clients):
        base_url = bases[i % len(bases)]
        with httpx.Client(base_url=base_url) as client:
            path, slug = sign_in_and_start(client, f"{program} {i}")
            page = client.get(f"{path}/sections/{slug}").text
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        token = _CSRF.search(page).group(1)  # type: ignore[union-attr]
        version = int(_VERSION.search(page).group(1))  # type: ignore[union-attr]
        from web import bench_section

        first = bench_section()[1].questions[0]
        note = (("evidence-" + first.id, "evidence note {n}"), ("action", "later"))
        get = Job(f"{path}/sections/{slug}", cookie=cookie)
        post = Job(
            f"{path}/sections/{slug}",
            cookie=cookie,
            form=(("csrf_token", token), *note),
            version=version,
            expect=303,
        )
        out.append((base_url, get, post))
    return out


def load(targets: list[tuple[str, Job]], requests: int, processes: int = 4) -> dict[str, float]:
    """Each (instance, job) is one client; clients spread over client processes per instance."""
    context = multiprocessing.get_context("fork")
    by_port: dict[int, list[Job]] = {}
    for base_url, job in targets:
        by_port.setdefault(int(base_url.rsplit(":", 1)[1]), []).append(job)
    groups = []
    per = max(1, processes // len(by_port))
    for port, jobs in by_port.items():
        for i in range(per):
            part = jobs[i::per]
            if part:
                groups.append((port, part))
    barrier = context.Barrier(len(groups) + 1)
    out = context.Queue()
    workers = [
        context.Process(target=_client_process, args=(port, part, requests, barrier, out))
        for port, part in groups
    ]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    parts = [out.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for w in workers:
        w.join()
    failed = [e for part in parts for e in part if isinstance(e, str)]
    if failed:
        raise SystemExit(f"client requests failed: {failed[:3]}")
    times = sorted(t for part in parts for t in part)
    return {
        "rps": len(times) / elapsed,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
    }


def layout(url: str, env: dict[str, str], instances: int, workers: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:  # fmt: skip
    with ExitStack() as stack:
        bases = [
            stack.enter_context(serve("service.main:create_app", env, workers))
            for _ in range(instances)
        ]
        clients = clients_for(bases, args.clients, f"Scale {instances}x{workers}")
        saves = [(b, post) for b, _get, post in clients]
        pages = [(b, get) for b, get, _post in clients]
        results: dict[str, list[dict[str, float]]] = {"pages": [], "saves": []}
        for _round in range(args.rounds):
            results["pages"].append(load(pages, args.requests))
            # each round's saves carry on from the versions the previous rounds reached
            step = [(b, j) for b, j in saves]
            saves = [
                (b, Job(j.path, j.cookie, j.form, (j.version or 0) + args.requests, j.expect))
                for b, j in saves
            ]
            results["saves"].append(load(step, args.requests))
        return {
            kind: {k: statistics.median(m[k] for m in runs) for k in runs[0]}
            for kind, runs in results.items()
        }


def queue_renders(url: str) -> int:
    """Queue the PDFs of every submission in the database (both languages)."""
    from sqlmodel import select

    from service import jobs
    from service.assessments.models import Assessment, Submission
    from service.config import Settings
    from service.questionnaire.loader import load_directory
    from service.report_delivery import service as web_reports

    settings = Settings(database_url=url, questionnaires_dir=ROOT / "questionnaires")
    registry = load_directory(ROOT / "questionnaires")
    engine = db.make_engine(url)
    queue = jobs.open_queue(settings, engine)
    count = 0
    with db.new_session(engine) as session:
        for submission in session.exec(select(Submission)).all():
            assessment = session.get_one(Assessment, submission.assessment_id)
            questionnaire = registry.get(
                assessment.questionnaire_id, assessment.questionnaire_version
            )
            assert questionnaire is not None
            for lang in web_reports.LANGUAGES:
                job = web_reports.render_job(
                    session, questionnaire=questionnaire, assessment=assessment,
                    submission=submission, lang=lang, settings=settings,
                )  # fmt: skip
                queue.defer(web_reports.RENDER_TASK, key=job.cache_key(),
                            submission_id=str(submission.id), lang=lang)  # fmt: skip
                count += 1
    queue.close()
    engine.dispose()
    return count


def cached_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM report_cache")).scalar_one()
    engine.dispose()
    return int(n)


def while_rendering(url: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    subprocess.run([sys.executable, "-m", "service.cli", "demo"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    quiet_env = env | {"POLICYGAP_EMBEDDED_WORKER": "false"}
    with serve("service.main:create_app", quiet_env, 1) as base:
        clients = clients_for([base], 4, "Rendering")
        pages = [(base, get) for _b, get, _post in clients]
        idle = load(pages, args.requests * 2, processes=2)
        worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=env,
                                  cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
        try:
            time.sleep(8)  # the worker's render process starts and warms up
            queued = queue_renders(url)
            samples: list[dict[str, float]] = []
            started = time.perf_counter()
            while cached_count(url) < queued and time.perf_counter() - started < 600:
                samples.append(load(pages, 25, processes=2))
            rendered = cached_count(url)
            render_seconds = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(30)
    busy = {k: statistics.median(s[k] for s in samples) for k in samples[0]} if samples else {}
    return {
        "queued": queued,
        "rendered": rendered,
        "render_seconds": render_seconds,
        "idle_p99_ms": idle["p99_ms"],
        "busy_p99_ms": busy.get("p99_ms", 0.0),
        "busy_max_p99_ms": max((s["p99_ms"] for s in samples), default=0.0),
        "busy_rps": busy.get("rps", 0.0),
        "idle_rps": idle["rps"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "POLICYGAP_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server (a database is made on it and dropped after)",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=30, help="per client and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server_url = (
        make_url(args.database_url).set(database="postgres").render_as_string(hide_password=False)
    )
    url = make_database(server_url)
    env = {
        "POLICYGAP_DATABASE_URL": url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "bench",
        "POLICYGAP_QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
        "POLICYGAP_REPORT_PRERENDER": "false",
        "POLICYGAP_LOG_LEVEL": "warning",
    }
    try:
        seed(url)
        one = layout(url, env, 1, 1, args)
        two = layout(url, env, 2, 2, args)
        rendering = while_rendering(url, env | {"POLICYGAP_REPORT_PRERENDER": "true"}, args)
    finally:
        drop_database(server_url, url)
    load1, load5, _ = os.getloadavg()
    print(f"load average {load1:.1f} (1 min), {load5:.1f} (5 min) on {os.cpu_count()} cores; "
          "the machine is shared with other work")  # fmt: skip
    print(f"PostgreSQL, {args.clients} clients, client round robin over the instances")
    for kind in ("pages", "saves"):
        a, b = one[kind], two[kind]
        print(f"{kind:5}: 1x1 {a['rps']:6.0f} req/s p95 {a['p95_ms']:5.0f} ms | "
              f"2x2 {b['rps']:6.0f} req/s p95 {b['p95_ms']:5.0f} ms | "
              f"ratio 2x2/1x1 {b['rps'] / a['rps']:.2f}")  # fmt: skip
    print("on 2 cores the ratio measures contention (4 server processes, the clients and "
          "PostgreSQL on the same cores), not the capacity of more machines")  # fmt: skip
    r = rendering
    print(f"pages at 4 clients while a job worker renders {r['rendered']:.0f}/{r['queued']:.0f} "
          f"PDFs in {r['render_seconds']:.1f} s: p99 {r['busy_p99_ms']:.0f} ms (median of "
          f"samples; worst sample {r['busy_max_p99_ms']:.0f} ms), idle p99 "
          f"{r['idle_p99_ms']:.0f} ms, ratio {r['busy_p99_ms'] / r['idle_p99_ms']:.2f}; "
          f"{r['busy_rps']:.0f} against {r['idle_rps']:.0f} req/s (target p99 < 60 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
