"""Logs and shutdown: structured records with the request's id, user and route and no secrets;
a client that disconnects is one log line; the render pool stops without leaking semaphores."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import db, logs
from service.auth import service as auth_service
from service.main import create_app
from tests.builders import PASSWORD, World, csrf_from, login, start_assessment
from tests.conftest import make_settings

ROOT = Path(__file__).parent.parent.parent
ANSWER = "ANSWER-TEXT-7f3a the officer's private note"


def test_json_records_carry_request_id_user_and_route_and_no_secret(
    app: FastAPI, client: TestClient, world: World
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        with db.new_session(app.state.engine) as s:
            secret = auth_service.create_api_token(session=s, user=world.officer_a, name="t")
        auth = {"Authorization": f"Bearer {secret}"}
        api = base.replace("/assessments/", "/api/v1/assessments/")
        version = client.get(api, headers=auth).headers["etag"]
        r = client.patch(
            api + "/answers",
            json={"answers": {"description": ANSWER}, "evidence": {"pia_done": ANSWER}},
            headers={**auth, "If-Match": version, "X-Request-ID": "client-chosen-id-1"},
        )
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"] == "client-chosen-id-1"
        client.get("/account/set-password/a-secret-reset-token-123")
        logging.getLogger("service.test").warning("password=hunter2 token: abc123 Bearer xyz")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    # the test client's own records (httpx2 logs each URL it requests) are not the server's
    lines = [line for line in stream.getvalue().splitlines() if '"logger": "httpx' not in line]
    out = "\n".join(lines)
    for secret_text in (PASSWORD, secret, ANSWER, "a-secret-reset-token-123", "hunter2", "abc123"):
        assert secret_text not in out, secret_text
    records = [json.loads(line) for line in out.splitlines()]
    requests = [r for r in records if r["logger"] == "service.request"]
    assert requests
    assert all(r["request_id"] and r["route"] for r in requests)
    patch = next(r for r in requests if r["method"] == "PATCH")
    assert patch["request_id"] == "client-chosen-id-1"
    assert patch["route"] == "/api/v1/assessments/{assessment_id}/answers"
    assert patch["user_id"] == str(world.officer_a.id)
    assert patch["status"] == 200
    assert any(r["route"] == "/account/set-password/{token}" for r in requests)


def test_the_log_format_setting_chooses_json(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, log_format="json"))
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "policygap")
    assert isinstance(handler.formatter, logs.JsonFormatter)
    app.state.engine.dispose()
    logs.configure("text")


def test_a_client_that_disconnects_is_one_log_line(
    app: FastAPI, client: TestClient, world: World, caplog: object
) -> None:
    """A visibility POST whose client goes away while the form is read: today an 88-line
    ClientDisconnect traceback from the server."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/sections/scope")
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    body = f"csrf_token={csrf_from(page.text)}&body_type=muni".encode()
    messages = [
        {"type": "http.request", "body": body, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": base + "/sections/scope/visibility",
        "raw_path": (base + "/sections/scope/visibility").encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"100000"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "app": app,
    }
    caplog.set_level(logging.INFO)  # type: ignore[attr-defined]
    # in a thread of its own: the browser tests' event loop may be running in this one
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    records = caplog.records  # type: ignore[attr-defined]
    assert not any(r.exc_info for r in records), [r.getMessage() for r in records if r.exc_info]
    disconnects = [r for r in records if "disconnected" in r.getMessage()]
    assert len(disconnects) == 1
    assert "\n" not in disconnects[0].getMessage()


def test_the_render_pool_shuts_down_without_leaking(tmp_path: Path) -> None:
    """Stopping the server reported "leaked semaphore objects" from the render pool."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from service import db
        from service.main import create_app
        from service.report_delivery import service as web_reports
        from tests.conftest import make_settings

        if __name__ != "__main__":
            raise SystemExit  # a spawned worker re-reads this script
        url = "sqlite:///{tmp_path / "db.sqlite3"}"
        db.upgrade_to_head(url)
        app = create_app(make_settings(url))
        child = web_reports.app_renderer(app)
        assert child.call(int, "3", timeout=60) == 3
        import time

        processes = list(child._executor._processes.values())
        assert processes, "no render process was started"
        web_reports.shutdown(app)
        # shutdown joins, terminates, then kills a process that outlives its grace; on a busy
        # host the last reaping may trail the return by a moment
        deadline = time.monotonic() + 15
        while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [(p.pid, p.exitcode) for p in processes if p.is_alive()]
        assert not left, f"workers left running: {{left}}"
        print("done")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "done" in result.stdout
    assert "leaked" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_the_log_level_setting_leaves_out_the_line_per_request(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from fastapi.testclient import TestClient

    from service.main import create_app
    from tests.conftest import make_settings

    quiet = create_app(make_settings(sqlite_url, log_level="warning"))
    try:
        with TestClient(quiet) as client:
            client.get("/healthz")
        assert not [r for r in caplog.records if r.name == "service.request"]
        assert logging.getLogger().level == logging.WARNING
    finally:
        quiet.state.engine.dispose()
        logging.getLogger().setLevel(logging.INFO)
