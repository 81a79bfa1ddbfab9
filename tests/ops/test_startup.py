"""Worker start-up (issue 20): on a loaded host uvicorn killed workers that took more than its
default 5 s health check to start, and each worker imported the whole command line (the
``policygap`` script is the main module that multiprocessing's spawn runs again in every
worker). A worker imports the app only, and gets a longer start-up check."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.builders import QUESTIONNAIRES, ROOT, free_port

POLICYGAP = Path(sys.executable).parent / "policygap"  # the console script, as deployed


def test_the_app_does_not_import_weasyprint_or_the_command_line() -> None:
    code = (
        "import sys, service.main\n"
        "heavy = ('weasyprint', 'service.cli', 'service.admin_cli', 'service.ops_cli', 'typer')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def _imported(stderr: str, module: str) -> int:
    """How many processes imported ``module`` (``-X importtime`` lines, one per process)."""
    return len(re.findall(rf"\| +{re.escape(module)}\n", stderr))


def test_serve_workers_import_the_app_only(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "POLICYGAP_DATABASE_URL": sqlite_url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "test-secret",
        "POLICYGAP_QUESTIONNAIRES_DIR": str(QUESTIONNAIRES),
        "POLICYGAP_REPORT_PRERENDER": "false",
        "PYTHONPROFILEIMPORTTIME": "1",  # every process, workers included, lists its imports
    }
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [str(POLICYGAP), "serve", "--workers", "2", "--port", str(port), "--no-migrate"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if log.read_text().count("Application startup complete") >= 2:
                break
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    text = log.read_text()
    # uvicorn imports service.main through importlib, which -X importtime does not list; the
    # modules it imports are listed, once per worker.
    assert _imported(text, "service.web.health") >= 2, text[-2000:]
    assert _imported(text, "service.admin_cli") == 1  # the command itself, not the workers
    assert _imported(text, "weasyprint") == 0
    assert "died" not in text  # no worker killed for starting slowly
