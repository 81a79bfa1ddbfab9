"""A database that cannot be written (full disk, read-only file) answers 503, keeps what the
user typed on screen, logs the cause, and leaves the app usable (issue 20, item 4).

It used to answer 500 (the connection reset by the server) and discard what the user typed; a
new sign-in got 500 too."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from service import db
from service.assessments.models import Assessment
from service.main import create_app
from tests.builders import csrf_from, login, make_world, start_assessment, version_from
from tests.conftest import make_settings

GOVERNANCE = "/sections/governance"
TYPED = "Our PIA was signed by the chief on 3 March <b>2024</b>"


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """While ``on["full"]``, every commit fails as SQLite does on a full disk."""
    on = {"full": False}
    real = Session.commit

    def commit(self: Session) -> None:
        if on["full"] and (self.new or self.dirty or self.deleted):
            raise OperationalError(
                "COMMIT", None, sqlite3.OperationalError("database or disk is full")
            )
        real(self)

    monkeypatch.setattr(Session, "commit", commit)
    return on


def test_a_full_disk_keeps_what_was_typed_and_the_app_usable(
    sqlite_url: str, full_disk: dict[str, bool], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(sqlite_url))
    world = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        page = client.get(base + GOVERNANCE)
        full_disk["full"] = True
        with caplog.at_level(logging.ERROR):
            r = client.post(
                base + GOVERNANCE,
                data={
                    "csrf_token": csrf_from(page.text),
                    "version": version_from(page.text),
                    "pia_done": "yes",
                    "evidence-pia_done": TYPED,
                    "action": "continue",
                },
                follow_redirects=False,
            )
        assert r.status_code == 503, r.text[:300]
        assert r.headers.get("retry-after")
        assert "Our PIA was signed by the chief on 3 March &lt;b&gt;2024&lt;/b&gt;" in r.text
        # labelled with the questions, as on the form
        assert "Was a privacy impact assessment done?" in r.text
        assert "evidence-pia_done" not in r.text
        assert csrf_from(page.text) not in r.text.split("<main", 1)[-1].split("</main>")[0]
        assert "database or disk is full" in caplog.text  # the cause, in the log
        # the app still answers: pages read, and a new sign-in is refused with 503, not 500
        assert client.get(base + "/").status_code == 200
        with TestClient(app, raise_server_exceptions=False) as other:
            login_page = other.get("/login")
            assert login_page.status_code in (200, 503)
        full_disk["full"] = False
        again = client.get(base + GOVERNANCE)
        r = client.post(
            base + GOVERNANCE,
            data={
                "csrf_token": csrf_from(again.text),
                "version": version_from(again.text),
                "pia_done": "yes",
                "evidence-pia_done": TYPED,
                "action": "later",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303  # saved once the disk has room again
    with db.new_session(app.state.engine) as s:
        assert s.exec(select(Assessment)).one().evidence == {"pia_done": TYPED}
    app.state.engine.dispose()


def test_a_read_only_database(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """SQLite's own refusal ("attempt to write a readonly database"), as for a file the
    server may not write: every new connection is read-only (``PRAGMA query_only``)."""
    app = create_app(make_settings(sqlite_url))
    world = make_world(app.state.engine)
    engine = app.state.engine

    def read_only(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, world.officer_a.email)
        base = start_assessment(client)
        page = client.get(base + GOVERNANCE)
        event.listen(engine, "connect", read_only)
        engine.dispose()  # new connections, read-only
        with caplog.at_level(logging.ERROR):
            r = client.post(
                base + GOVERNANCE,
                data={
                    "csrf_token": csrf_from(page.text),
                    "version": version_from(page.text),
                    "pia_done": "no",
                    "evidence-pia_done": TYPED,
                    "action": "continue",
                },
                follow_redirects=False,
            )
        assert r.status_code == 503, r.text[:300]
        assert "Our PIA was signed by the chief" in r.text
        assert "readonly database" in caplog.text
        # reading still works, and so does a new visitor's sign-in page
        assert client.get(base + GOVERNANCE).status_code == 200
        with TestClient(app, raise_server_exceptions=False) as other:
            assert other.get("/login").status_code in (200, 503)
        event.remove(engine, "connect", read_only)
        engine.dispose()
        again = client.get(base + GOVERNANCE)
        r = client.post(
            base + GOVERNANCE,
            data={
                "csrf_token": csrf_from(again.text),
                "version": version_from(again.text),
                "pia_done": "no",
                "evidence-pia_done": TYPED,
                "action": "later",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
    engine.dispose()
