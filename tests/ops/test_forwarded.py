"""Issue 16: the client address behind a proxy. ``policygap serve`` ran uvicorn with
``--proxy-headers`` and uvicorn's default trust of 127.0.0.1, so any local process (or a proxy
passing the header through) chose its own address with ``X-Forwarded-For`` and escaped the
per-address sign-in limit. Only the proxies in ``POLICYGAP_TRUSTED_PROXIES`` are believed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.builders import QUESTIONNAIRES, ROOT, csrf_from, free_port

POLICYGAP = Path(sys.executable).parent / "policygap"


def _failed_sign_ins(base: str, forwarded: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n, address in enumerate(forwarded):
            page = client.get("/login")
            r = client.post(
                "/login",
                data={
                    "email": f"nobody-{n}@example.test",  # a new account each time
                    "password": "wrong password!",
                    "csrf_token": csrf_from(page.text),
                },
                headers={"X-Forwarded-For": address},
            )
            statuses.append(r.status_code)
    return statuses


def _serve(sqlite_url: str, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        [str(POLICYGAP), "serve", "--port", str(port)],
        env={
            **os.environ,
            "POLICYGAP_DATABASE_URL": sqlite_url,
            "POLICYGAP_ENV": "test",
            "POLICYGAP_SECRET_KEY": "test-secret",
            "POLICYGAP_QUESTIONNAIRES_DIR": str(QUESTIONNAIRES),
            "POLICYGAP_REPORT_PRERENDER": "false",
            "POLICYGAP_LOGIN_MAX_FAILURES_PER_ADDRESS": "2",
            **env,
        },
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return base, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise RuntimeError("policygap serve did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def test_forwarded_for_from_an_untrusted_peer_does_not_escape_the_address_limit(
    sqlite_url: str,
) -> None:
    base, proc = _serve(sqlite_url)
    try:
        statuses = _failed_sign_ins(base, ["10.9.9.1", "10.9.9.2", "10.9.9.3"])
    finally:
        _stop(proc)
    assert statuses == [422, 422, 429]  # all three came from 127.0.0.1


def test_forwarded_for_from_a_trusted_proxy_names_the_client(sqlite_url: str) -> None:
    base, proc = _serve(sqlite_url, POLICYGAP_TRUSTED_PROXIES="127.0.0.1")
    try:
        statuses = _failed_sign_ins(base, ["10.9.9.1", "10.9.9.2", "10.9.9.1", "10.9.9.1"])
    finally:
        _stop(proc)
    assert statuses == [422, 422, 422, 429]  # 10.9.9.1's third attempt is over its limit
