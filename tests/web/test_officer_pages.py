"""The officer's pages: the evidence note says what it does, check-your-answers names the "met"
answers that lack evidence, documents appear beside their question, the note has a line of its
own, and long pages have an in-page index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.builders import QUESTIONNAIRES, World, csrf_from, login, make_world, post_form
from tests.builders import start_assessment as _start
from tests.conftest import make_settings
from tests.documents import files


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    """The web-mini questionnaire whose PIA criterion needs evidence."""
    text = (QUESTIONNAIRES / "web-mini.yaml").read_text(encoding="utf-8")
    criterion = "  - id: GOV-01\n    section: governance\n"
    assert criterion in text
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    changed = text.replace(criterion, criterion + "    evidence_required: true\n")
    (folder / "web-mini.yaml").write_text(changed, encoding="utf-8")
    return make_settings(sqlite_url, questionnaires_dir=folder)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def world(app: FastAPI) -> World:
    return make_world(app.state.engine)


def start_assessment(client: TestClient) -> str:
    return _start(client)


def _governance(client: TestClient, base: str, **answers: str) -> None:
    """Save the governance answers, and mark both sections completed (check your answers
    opens once every section is)."""
    scope = base + "/sections/scope"
    post_form(
        client,
        scope,
        scope,
        {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"},
    )
    url = base + "/sections/governance"
    post_form(client, url, url, {**answers, "action": "continue"})
    for section in (scope, url):
        post_form(client, section + "/check", section + "/check", {"completed": "yes"})


def test_the_evidence_note_says_what_it_does(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/sections/governance").text
    assert "Without it, “Met” counts as partly met." in page


def test_check_your_answers_names_met_answers_without_evidence(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    _governance(client, base, pia_done="yes", pia_date="2024-05-31")
    page = client.get(base + "/check-your-answers").text
    box = page.split('id="met-without-evidence"', 1)[1].split("</div>", 1)[0]
    assert "1 “Met” answer has no evidence" in box
    assert 'href="#answer-pia_done"' in box
    assert "GOV-01" in box
    row = page.split('id="answer-pia_done"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert "No evidence: this “Met” counts as partly met" in row
    # with a note, the answer is evidenced and the box is gone
    _governance(client, base, pia_done="yes", pia_date="2024-05-31", **{"evidence-pia_done": "x"})
    assert 'id="met-without-evidence"' not in client.get(base + "/check-your-answers").text


def test_the_evidence_note_has_a_line_of_its_own(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    note = "PIA v2, approved 2024-05-31, records office"
    _governance(client, base, pia_done="yes", pia_date="2024-05-31", **{"evidence-pia_done": note})
    for url in (base + "/check-your-answers", base + "/sections/governance/check"):
        page = client.get(url).text
        row = page.split('id="answer-pia_done"', 1)[1]
        answer = re.search(r'<div class="summary-list__answer">([^<]*)</div>', row)
        assert answer
        assert answer.group(1) == "Yes"
        assert re.search(
            r'<div class="summary-list__evidence"><span class="meta">Evidence note:</span> '
            rf'<span class="summary-list__text">{note}</span></div>',
            row,
        ), url


def test_documents_appear_beside_their_question(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    documents = base + "/sections/governance/documents"
    page = client.get(documents)
    response = client.post(
        documents,
        data={"csrf_token": csrf_from(page.text), "question": "pia_done"},
        files={"file": ("PIA 2024.pdf", files.PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    _governance(client, base, pia_done="yes", pia_date="2024-05-31")
    section = client.get(base + "/sections/governance").text
    question = section.split('data-question-id="pia_done"', 1)[1].split("</fieldset>", 1)[0]
    assert "Documents attached to this answer" in question
    assert "PIA 2024.pdf" in question
    for url in (base + "/check-your-answers", base + "/sections/governance/check"):
        row = client.get(url).text.split('id="answer-pia_done"', 1)[1].split("</dd>", 1)[0]
        assert "PIA 2024.pdf" in row, url
    # a document is evidence: the "met" is not flagged
    assert 'id="met-without-evidence"' not in client.get(base + "/check-your-answers").text


def test_check_your_answers_has_an_index_of_its_sections(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    _governance(client, base, pia_done="no")
    page = client.get(base + "/check-your-answers").text
    index = page.split('class="page-index"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="#([a-z_-]+)"', index) == [
        "group-scope",
        "group-governance",
        "submit",
    ]
    for anchor in ("group-scope", "group-governance", "submit"):
        assert f'id="{anchor}"' in page


def test_history_names_questions_and_dates_as_the_reader_writes_them(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    _governance(client, base, pia_done="no")
    body = client.get(base + "/history").text.split("<tbody>", 1)[1]
    assert "Was a privacy impact assessment done?" in body
    assert "pia_done" not in body
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">[A-Z][a-z]{2} \d{1,2}, \d{4}', body)
