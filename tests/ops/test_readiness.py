"""``/readyz`` answers ready only when the database answers and is migrated to head (issue 20:
it said ready on an unmigrated database while ``/login`` failed); ``/healthz`` only says the
process is up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient

from service import db
from service.main import create_app
from tests.conftest import create_pg_database, drop_pg_database, make_settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server_url")
    url = create_pg_database(server, prefix="policygap_ready")
    yield url
    drop_pg_database(server, url)


def _ready(url: str) -> tuple[int, dict[str, object], int]:
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        health = client.get("/healthz").status_code
    app.state.engine.dispose()
    return ready.status_code, ready.json(), health


def test_readyz_on_an_unmigrated_then_a_migrated_database(fresh_db_url: str) -> None:
    status, body, health = _ready(fresh_db_url)
    assert (status, health) == (503, 200)
    assert body["status"] == "unavailable"
    assert "migrat" in str(body["reason"])

    db.upgrade_to_head(fresh_db_url)
    status, body, _ = _ready(fresh_db_url)
    assert status == 200, body
    assert body["status"] == "ok"

    command.downgrade(db.alembic_config(fresh_db_url), "-1")  # one revision behind
    status, body, _ = _ready(fresh_db_url)
    assert status == 503
    assert "migrat" in str(body["reason"])


def test_readyz_when_the_database_does_not_answer(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1
    status, body, health = _ready(url)
    assert (status, health) == (503, 200)
    assert body["status"] == "unavailable"
    assert "database" in str(body["reason"])
