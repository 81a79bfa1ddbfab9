"""Migrations on SQLite and PostgreSQL: one head, upgrade, no pending diff, down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from service import db
from service.tables import metadata
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server_url")
    url = create_pg_database(server, prefix="policygap_mig")
    yield url
    drop_pg_database(server, url)


def test_migrations_single_head() -> None:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_migration_files_are_dated() -> None:
    names = [p.name for p in (db.MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    assert all(n[:4].isdigit() and n[4] == "-" and n[10] == "_" for n in names)


def test_migrations_upgrade_match_models_and_round_trip(empty_db_url: str) -> None:
    db.upgrade_to_head(empty_db_url)
    engine = db.make_engine(empty_db_url, single_use=True)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": db.include_object}
            ),
            metadata,
        )
        assert diff == []
        tables = set(inspect(conn).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables

    from alembic import command

    command.downgrade(db.alembic_config(empty_db_url), "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    db.upgrade_to_head(empty_db_url)
    with engine.connect() as conn:
        assert {t.name for t in metadata.sorted_tables} <= set(inspect(conn).get_table_names())
    engine.dispose()


def test_every_downgrade_steps_to_base_and_back_with_data(empty_db_url: str) -> None:
    """Each migration's downgrade runs on its own, one revision at a time down to base, on a
    database holding rows in every table (SQLite's batch mode copies tables: foreign keys and
    data must survive it), then everything upgrades again (issue 20: SQLite downgrades below
    three revisions failed on ``DROP TABLE user``)."""
    from alembic import command

    from tests.builders import make_world

    config = db.alembic_config(empty_db_url)
    revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
    db.upgrade_to_head(empty_db_url)
    engine = db.make_engine(empty_db_url, single_use=True)
    make_world(engine)
    for revision in revisions:  # newest first
        with engine.connect() as conn:
            assert db.schema_revisions(conn) == (revision,)
        command.downgrade(config, "-1")
    with engine.connect() as conn:
        assert db.schema_revisions(conn) == ()
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    for revision in reversed(revisions):
        command.upgrade(config, "+1")
        with engine.connect() as conn:
            assert db.schema_revisions(conn) == (revision,)
    engine.dispose()
