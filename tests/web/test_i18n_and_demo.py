"""English and French; every shipped questionnaire renders; the demo command is idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from service import db
from service.admin_cli import DEMO_USERS, ensure_demo
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.auth.principal import Viewer
from service.main import create_app
from service.models import Organisation, User
from service.questionnaire.loader import load_directory
from service.web.i18n import catalogue
from service.web.templating import TEMPLATES_DIR
from tests.builders import ROOT, World, csrf_from, login, parse, start_assessment
from tests.conftest import make_settings

_MSG = re.compile(r"""_\(\s*"((?:[^"\\]|\\.)*)"|_\(\s*'((?:[^'\\]|\\.)*)'""")


def test_every_interface_string_has_a_french_translation() -> None:
    sources = [
        *TEMPLATES_DIR.rglob("*.html"),
        *(ROOT / "service").glob("*/templates/**/*.html"),
        *(ROOT / "service" / "web").glob("*.py"),
        *(ROOT / "service").glob("*/*pages.py"),
        ROOT / "service" / "assessments" / "forms.py",
    ]
    ids = {m.group(1) or m.group(2) for path in sources for m in _MSG.finditer(path.read_text())}
    assert len(ids) > 100
    missing = sorted(ids - set(catalogue("fr")))
    assert missing == []


def test_language_switch_is_remembered_for_the_user(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    page = client.get("/assessments/")
    r = client.post(
        "/language",
        data={"csrf_token": csrf_from(page.text), "lang": "fr", "next": "/assessments/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    fr = client.get("/assessments/")
    assert '<html lang="fr">' in fr.text
    assert "Commencer une nouvelle évaluation" in fr.text
    base = start_assessment(client)
    section = client.get(base + "/sections/governance")
    assert "Vérifier la gouvernance" in section.text  # questionnaire text from the YAML
    client.cookies.clear()
    login(client, world.officer_a.email)  # a new session: the choice was stored with the user
    assert '<html lang="fr">' in client.get("/assessments/").text


def test_error_title_prefix_in_french(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    page = client.get("/assessments/")
    client.post("/language", data={"csrf_token": csrf_from(page.text), "lang": "fr", "next": "/"})
    page = client.get("/assessments/new")
    r = client.post("/assessments/", data={"csrf_token": csrf_from(page.text)})
    assert parse(r.text).title.startswith("Erreur\u00a0: ")
    assert "Il y a un problème" in r.text


SHIPPED = ROOT / "questionnaires"


@pytest.mark.skipif(not list(SHIPPED.glob("*.yaml")), reason="no shipped questionnaire yet")
def test_every_section_of_the_shipped_questionnaires_renders(sqlite_url: str) -> None:
    registry = load_directory(SHIPPED)
    app = create_app(make_settings(sqlite_url, questionnaires_dir=SHIPPED))
    with TestClient(app) as client:
        from tests.builders import make_world

        world = make_world(app.state.engine)
        login(client, world.officer_a.email)
        page = client.get("/assessments/new")
        for questionnaire in registry.all():
            # every shipped version, not only the one offered for new assessments (the latest):
            # assessments under an earlier version still open
            with db.new_session(app.state.engine) as s:
                officer = s.get_one(User, world.officer_a.id)
                viewer = Viewer(
                    user=officer, organisation=s.get(Organisation, officer.organisation_id)
                )
                started = assessment_service.start(
                    session=s, viewer=viewer, questionnaire=questionnaire, program="Smoke"
                )
                base = f"/assessments/{started.id}"
            assert client.get(base + "/").status_code == 200
            for section in questionnaire.sections:
                slug = section.id.replace("_", "-")
                for lang in ("en", "fr"):
                    client.post(
                        "/language",
                        data={"csrf_token": csrf_from(page.text), "lang": lang, "next": "/"},
                    )
                    html = client.get(f"{base}/{slug}")
                    assert html.status_code == 200, (section.id, lang)
                    ids = parse(html.text).ids
                    assert {q.id for q in section.questions} <= ids
    app.state.engine.dispose()


def test_demo_is_idempotent(sqlite_url: str, tmp_path: Path) -> None:
    registry = load_directory(SHIPPED)
    engine = db.make_engine(sqlite_url)
    with db.new_session(engine) as session:
        first = ensure_demo(session=session, registry=registry, examples_dir=SHIPPED / "examples")
        second = ensure_demo(session=session, registry=registry, examples_dir=SHIPPED / "examples")
        users = session.exec(select(func.count()).select_from(User)).one()
        assessments = session.exec(select(func.count()).select_from(Assessment)).one()
    engine.dispose()
    assert any(line.startswith("account ") for line in first)
    assert second == []
    assert users >= len(DEMO_USERS)
    assert assessments == sum(
        1 for line in first if line.split(":")[0] in ("draft", "submitted", "accepted")
    )
