"""The web-app commands: migrate, createuser, demo (through a Typer app, as cli.py mounts them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlmodel import select
from typer.testing import CliRunner

from service import admin_cli, db
from service.auth import service as auth_service
from service.config import get_settings
from service.models import User

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[typer.Typer, str]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("POLICYGAP_DATABASE_URL", url)
    monkeypatch.setenv("POLICYGAP_ENV", "test")
    monkeypatch.setenv("POLICYGAP_QUESTIONNAIRES_DIR", str(ROOT / "questionnaires"))
    get_settings.cache_clear()
    app = typer.Typer()
    admin_cli.register(app)
    yield app, url
    get_settings.cache_clear()


def test_migrate_createuser_and_demo(cli: tuple[typer.Typer, str]) -> None:
    app, url = cli
    runner = CliRunner()
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "createuser",
            "--email",
            "Root@Example.test",
            "--role",
            "admin",
            "--password",
            "a long password",
        ],
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        app,
        [
            "createuser",
            "--email",
            "root@example.test",
            "--role",
            "admin",
            "--password",
            "a long password",
        ],
    )
    assert again.exit_code == 2
    no_org = runner.invoke(
        app,
        [
            "createuser",
            "--email",
            "o@example.test",
            "--role",
            "officer",
            "--password",
            "a long password",
        ],
    )
    assert no_org.exit_code == 2
    short = runner.invoke(
        app, ["createuser", "--email", "s@example.test", "--role", "admin", "--password", "short"]
    )
    assert short.exit_code == 2
    demo = runner.invoke(app, ["demo"])
    assert demo.exit_code == 0, demo.output
    for email, password, *_ in admin_cli.DEMO_USERS:
        assert email in demo.output
        assert password in demo.output
    engine = db.make_engine(url)
    with db.new_session(engine) as s:
        root = s.exec(select(User).where(User.email == "root@example.test")).one()
        assert auth_service.verify_password(root.password_hash, "a long password")
        assert root.password_hash.startswith("$argon2")
    engine.dispose()
