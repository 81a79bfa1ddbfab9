"""Several ``policygap migrate`` at once on a fresh database all succeed (issue 20): without a
lock around the migrations, one crashed (PostgreSQL: a unique violation on ``alembic_version``;
SQLite: "database is locked")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from service import db
from tests.builders import ROOT
from tests.conftest import create_pg_database, drop_pg_database

ROUNDS = 4
RUNS = 3
# Each process imports the command line first, then waits for the same instant, so that the
# migrations (not the imports) overlap.
AT_ONCE = (
    "import sys, time\n"
    "from service.cli import app\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "app(['migrate'])\n"
)


def _migrate_at_once(url: str) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "POLICYGAP_DATABASE_URL": url, "POLICYGAP_ENV": "test"}
    start = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", AT_ONCE, str(start)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNS)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _cause(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if "Error" in line]
    return errors[-1] if errors else stderr[-300:]


def _assert_all_at_head(url: str, runs: list[subprocess.CompletedProcess[str]]) -> None:
    failures = [_cause(r.stderr) for r in runs if r.returncode != 0]
    assert failures == [], failures
    head = ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()
    engine = db.make_engine(url, single_use=True)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head,)
    finally:
        engine.dispose()


def test_concurrent_migrate_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    for n in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'fresh-{n}.sqlite3'}"
        _assert_all_at_head(url, _migrate_at_once(url))


@pytest.mark.postgres
def test_concurrent_migrate_on_a_fresh_postgres_database(pg_server_url: str) -> None:
    for _ in range(ROUNDS):
        url = create_pg_database(pg_server_url, prefix="policygap_race")
        try:
            _assert_all_at_head(url, _migrate_at_once(url))
        finally:
            drop_pg_database(pg_server_url, url)
