"""Property-based requests against the OpenAPI document: no input gives a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from service import db
from service.auth import service as auth_service
from service.main import create_app
from tests.builders import make_world
from tests.conftest import make_settings

_state: dict[str, object] = {}


def _app() -> FastAPI:
    app = _state.get("app")
    if app is None:
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="policygap-st-")) / "db.sqlite3"
        db.upgrade_to_head(f"sqlite:///{path}")
        app = create_app(make_settings(f"sqlite:///{path}"))
        _state["app"] = app
    assert isinstance(app, FastAPI)
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


ROLES = ("officer_a", "reviewer_on", "board_a", "admin")


@pytest.fixture(scope="module")
def tokens() -> Iterator[dict[str, dict[str, str]]]:
    """A personal API token for an officer, a reviewer, a board member and an admin."""
    app = _app()
    from fastapi.testclient import TestClient

    with TestClient(app):  # runs the lifespan: questionnaires loaded
        world = make_world(app.state.engine)
        out: dict[str, dict[str, str]] = {}
        for role in ROLES:
            with db.new_session(app.state.engine) as s:
                token = auth_service.create_api_token(
                    session=s, user=getattr(world, role), name="schemathesis"
                )
            out[role] = {"Authorization": f"Bearer {token}"}
        yield out


@pytest.fixture(params=ROLES)
def auth(request: pytest.FixtureRequest, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    return tokens[request.param]


# Bounded: about 40 operations x 4 roles x 8 examples (well under a minute on two cores).
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_answers_5xx(case: schemathesis.Case, auth: dict[str, str]) -> None:
    app = _app()
    if not hasattr(app.state, "registry"):
        from service.questionnaire.loader import load_directory

        app.state.registry = load_directory(app.state.settings.questionnaires_dir)
    response = case.call(headers=auth)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
