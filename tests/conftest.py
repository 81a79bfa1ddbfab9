"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), settings, app, clients.

PostgreSQL: ``POLICYGAP_TEST_DATABASE_URL`` names a server (any database on it); otherwise the local
server on 127.0.0.1:5432 is tried. A fresh database ``policygap_test_<random>`` is created for the
session, migrated once, emptied after each test, and dropped at the end. With
``POLICYGAP_REQUIRE_POSTGRES=1`` an unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from service import db
from service.config import Settings, normalise_database_url
from service.tables import metadata

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_server_url() -> str | None:
    url = os.environ.get("POLICYGAP_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_PG_URL
    except OSError:
        return None


def _require(what: str, env: str) -> None:
    if os.environ.get(env) == "1":
        pytest.fail(f"{what} is required ({env}=1) but not available")
    pytest.skip(f"{what} not available")


def _admin_engine(server_url: str) -> Engine:
    return create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def create_pg_database(server_url: str, prefix: str = "policygap_test") -> str:
    """Create an empty database next to ``server_url``'s and return its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = _pg_server_url()
    if url is None:
        _require("PostgreSQL", "POLICYGAP_REQUIRE_POSTGRES")
    assert url is not None
    try:
        _admin_engine(url).connect().close()
    except Exception as exc:
        if os.environ.get("POLICYGAP_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    return url


@pytest.fixture(scope="session")
def pg_session_url(pg_server_url: str) -> Iterator[str]:
    """One migrated PostgreSQL database for the whole session."""
    url = create_pg_database(pg_server_url)
    db.upgrade_to_head(url)
    yield url
    drop_pg_database(pg_server_url, url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db.upgrade_to_head(f"sqlite:///{path}")
    return path


def _empty_tables(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "policygap.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_session_url: str) -> Iterator[str]:
    yield pg_session_url
    _empty_tables(pg_session_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database on each back end."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(any_db_url: str) -> Iterator[Engine]:
    eng = db.make_engine(any_db_url)
    yield eng
    eng.dispose()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret",
        "questionnaires_dir": Path(__file__).parent / "data_web" / "questionnaires",
        "report_prerender": False,
        "embedded_worker": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    # pytest-alembic 0.13 binds its built-in tests to tests/conftest.py and crashes under
    # pytest 9 (TestCollector has no _nodeid); tests/db/test_migrations.py does the same checks.
    config.pluginmanager.set_blocked("pytest-alembic")


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[object]:
    from service.main import create_app

    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: object) -> Iterator[object]:
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:  # type: ignore[arg-type]
        yield test_client


@pytest.fixture
def world(app: object) -> object:
    from tests.builders import make_world

    return make_world(app.state.engine)  # type: ignore[attr-defined]
