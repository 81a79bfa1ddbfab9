"""Publishing a questionnaire version in the app: an upload is checked by the strict loader
(every problem located, nothing stored when invalid), becomes a draft that only admins and
reviewers can preview, and is published only when a second person approves it; every app
instance on the database serves it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service import main as main_module
from service.admin.models import QuestionnaireUpload
from service.assessments import service as assessment_service
from service.config import Settings
from service.main import create_app
from service.models import AuditEvent
from tests.builders import World, csrf_from, login
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
MINI = (ROOT / "tests" / "data_web" / "questionnaires" / "web-mini.yaml").read_bytes()
VERSION_3 = MINI.replace(b'version: "1.0"', b'version: "3.0"')
BROKEN = (ROOT / "tests" / "data" / "broken" / "dangling_section.yaml").read_bytes()


@pytest.fixture
def settings(any_db_url: str) -> Settings:
    """Every test here on SQLite and on PostgreSQL (two app instances share one database)."""
    return make_settings(any_db_url)


def _upload(client: TestClient, name: str, raw: bytes) -> object:
    page = client.get("/admin/questionnaires/upload")
    assert page.status_code == 200
    return client.post(
        "/admin/questionnaires/upload",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": (name, raw, "application/yaml")},
        follow_redirects=False,
    )


def _uploads(app: object) -> list[QuestionnaireUpload]:
    with db.new_session(app.state.engine) as s:  # type: ignore[attr-defined]
        return list(s.exec(select(QuestionnaireUpload)))


def test_invalid_upload_lists_each_located_problem_and_stores_nothing(
    client: TestClient, world: World, app: object
) -> None:
    login(client, world.admin.email)
    response = _upload(client, "dangling_section.yaml", BROKEN)
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "<title>Error: " in text
    row = re.search(
        r"<tr><td>19</td><td>14</td><td><span class=\"code\">criteria\[0\]\.section</span></td><td>([^<]+)</td></tr>",
        text,
    )
    assert row is not None, text
    assert "there is no section &#39;scopes&#39;" in row.group(1)
    assert _uploads(app) == []
    too_big = _upload(client, "big.yaml", b"#" * (2 * 1024 * 1024 + 1))
    assert too_big.status_code in (413, 422)  # type: ignore[attr-defined]
    assert _uploads(app) == []
    again = _upload(client, "web-mini.yaml", MINI)  # version 1.0 is loaded already
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert "version 1.0 of web-mini exists already" in again.text  # type: ignore[attr-defined]
    assert _uploads(app) == []


def test_draft_is_invisible_to_officers_and_publishing_needs_a_second_person(
    client: TestClient, world: World, app: object
) -> None:
    login(client, world.admin.email)
    created = _upload(client, "web-mini-3.0.yaml", VERSION_3)
    assert created.status_code == 303  # type: ignore[attr-defined]
    draft_url = created.headers["location"]  # type: ignore[attr-defined]
    (row,) = _uploads(app)
    assert (row.questionnaire_id, row.version, row.status) == ("web-mini", "3.0", "draft")
    registry = app.state.registry  # type: ignore[attr-defined]
    assert registry.get("web-mini", "3.0") is None  # a draft is served to nobody
    preview = client.get(draft_url)
    assert preview.status_code == 200
    assert (
        "You uploaded this file: another administrator or a reviewer must approve it."
        in preview.text
    )
    # the uploader cannot approve (four eyes)
    refused = client.post(
        draft_url + "/approve", data={"csrf_token": csrf_from(preview.text)}, follow_redirects=False
    )
    assert refused.status_code == 422
    assert _uploads(app)[0].status == "draft"
    client.post("/logout", data={"csrf_token": csrf_from(preview.text)})
    # officers: no preview, and the version is not offered
    login(client, world.officer_a.email)
    assert client.get(draft_url).status_code == 403
    assert "3.0" not in client.get("/questionnaires").text
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/assessments/").text)})
    # a reviewer previews the whole form in both languages and approves
    login(client, world.reviewer_on.email)
    preview = client.get(draft_url)
    assert preview.status_code == 200
    assert 'lang="en"><strong>Which kind of body runs the program?</strong>' in preview.text
    assert (
        'lang="fr"><strong>Quel type d&#39;organisme exploite le programme?</strong>'
        in preview.text
    )
    approved = client.post(
        draft_url + "/approve", data={"csrf_token": csrf_from(preview.text)}, follow_redirects=False
    )
    assert approved.status_code == 303
    assert _uploads(app)[0].status == "published"
    registry = app.state.registry  # type: ignore[attr-defined]
    assert registry.get("web-mini", "3.0") is not None
    with db.new_session(app.state.engine) as s:  # type: ignore[attr-defined]
        actions = {e.action: e for e in s.exec(select(AuditEvent))}
        assert actions["questionnaire_upload"].actor_id == world.admin.id
        assert actions["questionnaire_approve"].actor_id == world.reviewer_on.id
        offered = assessment_service.offered_for_new(s, registry)
    assert ("web-mini", "3.0") in {(q.id, q.version) for q in offered}


def test_two_instances_serve_a_version_published_on_one(
    client: TestClient,
    world: World,
    app: object,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(main_module, "REGISTRY_CHECK_SECONDS", 0.0)
    other = create_app(settings)
    with TestClient(other) as second:
        assert other.state.registry.get("web-mini", "3.0") is None
        login(client, world.admin.email)
        draft_url = _upload(client, "web-mini-3.0.yaml", VERSION_3).headers["location"]  # type: ignore[attr-defined]
        login(second, world.reviewer_on.email)
        preview = second.get(draft_url)
        assert preview.status_code == 200  # the draft is in the database, not on a disk
        second.post(draft_url + "/approve", data={"csrf_token": csrf_from(preview.text)})
        assert other.state.registry.get("web-mini", "3.0") is not None
        # the first instance picks it up on its next request
        client.get("/admin/questionnaires")
        assert app.state.registry.get("web-mini", "3.0") is not None  # type: ignore[attr-defined]
    other.state.engine.dispose()
