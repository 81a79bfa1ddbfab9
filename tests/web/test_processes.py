"""Real server processes: two instances on one PostgreSQL; a SIGKILL in the middle of saves."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from service import db
from service.auth import service as auth_service
from tests.builders import make_world, server
from tests.conftest import create_pg_database, drop_pg_database

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


def _post(
    client: httpx.Client, base: str, page: str, url: str, data: dict[str, object]
) -> httpx.Response:
    html = client.get(base + page).text
    payload: dict[str, object] = {"csrf_token": _CSRF.search(html).group(1)}  # type: ignore[union-attr]
    version = _VERSION.search(html)
    if version:
        payload["version"] = version.group(1)
    unanswered = re.findall(r'name="unanswered" value="([^"]+)"', html)
    if unanswered:
        payload["unanswered"] = unanswered
    return client.post(base + url, data={**payload, **data})  # type: ignore[arg-type]


@pytest.mark.postgres
@pytest.mark.slow
def test_two_servers_share_sessions_and_data_on_postgres(pg_server_url: str) -> None:
    url = create_pg_database(pg_server_url, prefix="policygap_two")
    try:
        db.upgrade_to_head(url)
        engine = db.make_engine(url)
        world = make_world(engine)
        engine.dispose()
        with server(url) as (one, _p1), server(url) as (two, _p2), httpx.Client() as browser:
            # Sign in on one; the session is seen by two.
            r = _post(
                browser,
                one,
                "/login",
                "/login",
                {"email": world.officer_a.email, "password": "correct horse battery staple"},
            )
            assert r.status_code == 303
            assert browser.get(two + "/assessments/").status_code == 200
            r = _post(
                browser,
                two,
                "/assessments/new",
                "/assessments/",
                {"questionnaire": "web-mini", "program": "Two servers"},
            )
            assert r.status_code == 303
            path = r.headers["location"].rstrip("/")
            # Save on one, read on two.
            assert (
                _post(
                    browser,
                    one,
                    path + "/sections/scope",
                    path + "/sections/scope",
                    {
                        "body_type": "federal",
                        "uses": "live",
                        "searches": "42",
                        "action": "continue",
                    },
                ).status_code
                == 303
            )
            assert "42" in browser.get(two + path + "/sections/scope/check").text
            assert (
                _post(
                    browser,
                    two,
                    path + "/sections/scope/check",
                    path + "/sections/scope/check",
                    {"completed": "yes"},
                ).status_code
                == 303
            )
            assert (
                _post(
                    browser,
                    one,
                    path + "/sections/governance",
                    path + "/sections/governance",
                    {"pia_done": "no", "action": "continue"},
                ).status_code
                == 303
            )
            assert (
                _post(
                    browser,
                    two,
                    path + "/sections/governance/check",
                    path + "/sections/governance/check",
                    {"completed": "yes"},
                ).status_code
                == 303
            )
            # Submit on two, seen as submitted on one; a stale save on one is refused.
            stale = browser.get(one + path + "/sections/scope").text
            assert (
                _post(
                    browser,
                    two,
                    path + "/check-your-answers",
                    path + "/check-your-answers",
                    {"confirm": "yes"},
                ).status_code
                == 303
            )
            assert "Assessment submitted" in browser.get(one + path + "/submitted").text
            r = browser.post(
                one + path + "/sections/scope",
                data={
                    "csrf_token": _CSRF.search(stale).group(1),
                    "version": _VERSION.search(stale).group(1),
                    "searches": "1",
                },
            )  # type: ignore[union-attr]
            assert r.status_code == 409
            # Sign out on two ends the session on one.
            token = _CSRF.search(browser.get(two + "/assessments/").text).group(1)  # type: ignore[union-attr]
            browser.post(two + "/logout", data={"csrf_token": token})
            assert browser.get(one + "/assessments/").status_code == 303
    finally:
        drop_pg_database(pg_server_url, url)


@pytest.mark.slow
def test_sigkill_mid_saves_keeps_database_consistent(sqlite_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(sqlite_url)
    world = make_world(engine)
    with db.new_session(engine) as s:
        token = auth_service.create_api_token(session=s, user=world.officer_a, name="crash")
    engine.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    acknowledged: list[int] = []
    with server(sqlite_url) as (base, proc):
        created = httpx.post(
            base + "/api/v1/assessments",
            json={"questionnaire": "web-mini", "program": "Crash"},
            headers=auth,
        )
        assert created.status_code == 201
        url = base + created.headers["location"]
        etag = created.headers["etag"]
        stop = threading.Event()

        def saves() -> None:
            nonlocal etag
            with httpx.Client(timeout=30) as client:
                for n in range(1, 100_000):
                    if stop.is_set():
                        return
                    try:
                        r = client.patch(
                            url + "/answers",
                            json={"answers": {"searches": n}},
                            headers={**auth, "If-Match": etag},
                        )
                    except httpx.HTTPError:
                        return
                    if r.status_code != 200:
                        return
                    etag = r.headers["etag"]
                    acknowledged.append(n)

        worker = threading.Thread(target=saves)
        worker.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 40 and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        worker.join(10)
    assert len(acknowledged) >= 40
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with server(sqlite_url) as (base, _proc):
        stored = httpx.get(url.replace(url.split("/api/")[0], base), headers=auth).json()
    last = acknowledged[-1]
    assert stored["answers"]["searches"] in (
        last,
        last + 1,
    )  # the last acknowledged save, or one in flight
