"""A new user's first run: every demo account is printed, the language chosen at sign-in is kept,
the secret-key note is printed once by the server command (not by every settings load)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from service import db
from service.cli import app as cli
from service.config import PLACEHOLDER_WARNING, Settings
from service.models import User
from tests.builders import ROOT, World, csrf_from, login


def test_demo_prints_every_account_it_creates(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYGAP_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("POLICYGAP_QUESTIONNAIRES_DIR", str(ROOT / "questionnaires"))
    from service.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["demo"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    engine = db.make_engine(sqlite_url)
    with db.new_session(engine) as s:
        emails = {u.email for u in s.exec(select(User))}
    engine.dispose()
    printed = set(re.findall(r"[\w.+-]+@demo\.policygap\.ca", result.output))
    assert emails <= printed, sorted(emails - printed)
    assert "officer.border@demo.policygap.ca" in printed


def test_language_chosen_on_the_sign_in_page_is_kept(
    app: object, client: TestClient, world: World
) -> None:
    page = client.get("/login")
    client.post(
        "/language", data={"csrf_token": csrf_from(page.text), "lang": "fr", "next": "/login"}
    )
    assert 'lang="fr"' in client.get("/login").text
    login(client, world.officer_a.email)
    assert 'lang="fr"' in client.get("/assessments/").text
    with db.new_session(app.state.engine) as s:  # type: ignore[attr-defined]
        assert s.get_one(User, world.officer_a.id).language == "fr"


def test_signing_in_without_choosing_keeps_the_account_language(
    app: object, client: TestClient, world: World
) -> None:
    with db.new_session(app.state.engine) as s, db.writing(s):  # type: ignore[attr-defined]
        s.get_one(User, world.officer_a.id).language = "fr"
    login(client, world.officer_a.email)
    assert 'lang="fr"' in client.get("/assessments/").text


def test_the_placeholder_secret_note_says_how_and_settings_load_quietly(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with caplog.at_level(logging.WARNING):
        settings = Settings(env="development", database_url=f"sqlite:///{tmp_path}/x.sqlite3")
    assert settings.placeholder_secret
    assert caplog.records == []  # every worker loads settings: no note from there
    assert "export POLICYGAP_SECRET_KEY=" in PLACEHOLDER_WARNING
