"""Web benchmark: a section page GET and a save POST, against a bare FastAPI + Jinja2 page.

Both apps run the same way (one uvicorn worker with uvloop and httptools) in this run, on a fresh
SQLite database. 16 concurrent clients (threads, keep-alive connections) each do REQUESTS
requests; we report requests per second, p50 and p95. Also one-connection p50 (the keep-alive
latency check from pitfalls.md).

Targets: the section page at least half the bare page's throughput; save p95 under 50 ms.

    uv run python bench/web.py [--clients 16] [--requests 100]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

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
        if name == "section.html":
            captured.update(context)
        return original(request, name, context, **kwargs)  # type: ignore[arg-type]

    templating.templates.TemplateResponse = capture  # type: ignore[method-assign]
    try:
        real = create_app(Settings())
        with TestClient(real) as client:
            client_base, slug = sign_in_and_start(client, "Bare page")
            assert client.get(f"{client_base}/{slug}").status_code == 200
    finally:
        templating.templates.TemplateResponse = original  # type: ignore[method-assign]
    template = templating.templates.env.get_template("section.html")
    app = FastAPI()

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return template.render(captured)

    return app


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


def run(
    clients: int, requests: int, make: Callable[[int], Callable[[], float]]
) -> dict[str, float]:
    """``make(i)`` prepares client i and returns a function doing one timed request (seconds)."""
    workers = [make(i) for i in range(clients)]
    times: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def loop(one: Callable[[], float]) -> None:
        barrier.wait()
        mine = [one() for _ in range(requests)]
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    times.sort()
    return {
        "rps": len(times) / elapsed,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for both apps")
    args = parser.parse_args()

    questionnaire, section = bench_section()
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
    env = {
        "POLICYGAP_DATABASE_URL": url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "bench",
        "POLICYGAP_QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
        "POLICYGAP_REPORT_PRERENDER": "false",
    }
    results: dict[str, dict[str, float]] = {}
    with serve("bench.web:bare_app", env, args.workers) as bare:

        def make_bare(_i: int) -> Callable[[], float]:
            client = httpx.Client(base_url=bare)

            def one() -> float:
                t = time.perf_counter()
                assert client.get("/page").status_code == 200
                return time.perf_counter() - t

            return one

        results["bare page GET"] = run(args.clients, args.requests, make_bare)
        results["bare page GET, 1 client"] = run(1, args.requests, make_bare)

    with serve("service.main:create_app", env, args.workers) as app:
        sessions: list[tuple[httpx.Client, str, str]] = []

        def signed_in(i: int) -> tuple[httpx.Client, str, str]:
            while len(sessions) <= i:
                client = httpx.Client(base_url=app)
                sessions.append((client, *sign_in_and_start(client, f"Bench {i}")))
            return sessions[i]

        def make_get(i: int) -> Callable[[], float]:
            client, base, slug = signed_in(i)

            def one() -> float:
                t = time.perf_counter()
                assert client.get(f"{base}/{slug}").status_code == 200
                return time.perf_counter() - t

            return one

        def make_save(i: int) -> Callable[[], float]:
            client, base, slug = signed_in(i)
            page = client.get(f"{base}/{slug}").text
            token = _CSRF.search(page).group(1)  # type: ignore[union-attr]
            state = {"version": int(_VERSION.search(page).group(1)), "n": 0}  # type: ignore[union-attr]
            first = section.questions[0]

            def one() -> float:
                state["n"] += 1
                note = f"evidence note {state['n']}"
                t = time.perf_counter()
                r = client.post(
                    f"{base}/{slug}",
                    data={
                        "csrf_token": token,
                        "version": str(state["version"]),
                        f"evidence-{first.id}": note,
                        "action": "later",
                    },
                    follow_redirects=False,
                )
                elapsed = time.perf_counter() - t
                assert r.status_code == 303, r.status_code
                state["version"] += 1
                return elapsed

            return one

        results["section page GET"] = run(args.clients, args.requests, make_get)
        results["section page GET, 1 client"] = run(1, args.requests, make_get)
        results["save POST"] = run(args.clients, args.requests, make_save)

    print(
        f"questionnaire {questionnaire.id} {questionnaire.version}, section {section.id} ({len(section.questions)} questions)"
    )
    print(f"{'measure':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, r in results.items():
        print(f"{name:32} {r['rps']:8.1f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f}")
    ratio = results["section page GET"]["rps"] / results["bare page GET"]["rps"]
    save_p95 = results["save POST"]["p95_ms"]
    ok_ratio, ok_save = ratio >= 0.5, save_p95 < 50
    print(
        f"section page / bare page throughput: {ratio:.2f} (target >= 0.50) {'PASS' if ok_ratio else 'FAIL'}"
    )
    print(
        f"save p95 at {args.clients} clients: {save_p95:.1f} ms (target < 50) {'PASS' if ok_save else 'FAIL'}"
    )
    return 0 if ok_ratio and ok_save else 1


if __name__ == "__main__":
    sys.exit(main())
