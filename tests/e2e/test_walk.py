"""Issue 14 in a real browser: the walk from a return to an acceptance, and every page the board
and the reviewer then see (axe on each; screenshots in tests/e2e/screenshots/).

The officer submits; the regulator returns it with a comment; the officer removes a document on
the draft, changes an answer in Applicability that reveals questions in Governance (which shows
"In progress" again), answers them and resubmits; the regulator accepts. Then: the board sees
the accepted submission and nothing of submission 1; the reviewer's page shows what changed; the
portfolio counts the programs and critical gaps that the programs' own reports give.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from service import db
from service.questionnaire.loader import load_directory
from service.questionnaire.schema import Questionnaire, Severity
from tests.builders import ROOT, World, make_world, server
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_browser import audit, press, sign_in, tab_to, type_into
from tests.e2e.test_documents_browser import _choose_file_by_keyboard, _intercept_file_choosers
from tests.review.helpers import submitted

pytestmark = pytest.mark.e2e

WALK = ROOT / "tests" / "data_web" / "questionnaires_walk"
PROGRAM = "Live search walk"
RETURN_COMMENT = "Ask the records office: a PIA was done in 2025"
DOCUMENT = "Draft policy 2026.pdf"
RESULT_LINE = re.compile(r"policygap-result: rating=(\w+); score=[^;]+; gaps=([A-Z0-9 -]+|none)")


def walk() -> Questionnaire:
    q = load_directory(WALK).get("walk-mini", "1.0")
    assert q is not None
    return q


@dataclass
class Site:
    base: str
    world: World
    others: list[uuid.UUID]  # programs submitted through the use cases (the portfolio's others)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("e2e-walk") / "walk.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    q = walk()
    others = [
        # another program of the same agency, submitted, never accepted: not the board's
        submitted(
            engine,
            world.officer_a,
            {
                "pia_exists": "yes",
                "owner": "Ops",
                "policy": "yes",
                "pia_approved": "no",
                "pia_reviewed": "no",
            },
            program="Second program",
            questionnaire=q,
        ),
        # a program of another agency under the same regulator
        submitted(
            engine,
            world.officer_b,
            {"pia_exists": "no", "owner": "Chief", "policy": "no"},
            program="Agency B program",
            questionnaire=q,
        ),
    ]
    engine.dispose()
    SCREENSHOTS.mkdir(exist_ok=True)
    with server(url, POLICYGAP_QUESTIONNAIRES_DIR=str(WALK)) as (base, _proc):
        yield Site(base, world, others)


def _as(browser: Browser, site: Site, email: str) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, site.base, email)
    return page


def _complete(page: Page, assessment: str, section: str) -> None:
    page.goto(f"{assessment}/sections/{section}/check")
    tab_to(page, "#completed")
    page.keyboard.press("Space")
    press(page, "main form button.button")
    page.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/(\?.*)?$"))


def _section_status(page: Page, title: str) -> str:
    return page.locator("li.task-list__item", has_text=title).inner_text()


def _submit(page: Page, assessment: str, name: str) -> None:
    page.goto(assessment + "/check-your-answers")
    audit(page, f"{name}-check-answers")
    press(page, "form[action$='/check-your-answers'] button")
    page.wait_for_url(re.compile(r".*/submitted$"))
    audit(page, f"{name}-submitted")


def _gaps(report_html: str) -> list[str]:
    found = RESULT_LINE.search(report_html)
    assert found is not None, "the report states no result line"
    return [] if found[2].strip() == "none" else found[2].split()


def test_return_remove_reveal_resubmit_accept_and_what_each_role_sees(
    page: Page, browser: Browser, site: Site, tmp_path: Path
) -> None:
    world = site.world
    # --- the officer answers, attaches a document and submits ---------------------------------
    officer = page
    _intercept_file_choosers(officer)
    sign_in(officer, site.base, world.officer_a.email)
    officer.goto(site.base + "/assessments/new")
    type_into(officer, "#program", PROGRAM)
    press(officer, "main form button.button")
    officer.wait_for_url(re.compile(r".*/assessments/[0-9a-f-]{36}/$"))
    assessment = officer.url.rstrip("/")
    aid = assessment.rsplit("/", 1)[1]

    officer.goto(assessment + "/sections/applicability")
    officer.check(
        "input[name='pia_exists'][value='no']"
    )  # No: Governance asks nothing about the PIA
    press(officer, "button[value='continue']")
    officer.wait_for_url(re.compile(r".*/applicability/check$"))
    _complete(officer, assessment, "applicability")
    officer.goto(assessment + "/sections/governance")
    expect(officer.locator("[data-question-id='pia_approved']")).to_be_hidden()
    type_into(officer, "#owner", "Deputy chief, operations")
    officer.check("input[name='policy'][value='no']")  # No
    press(officer, "button[value='continue']")
    officer.wait_for_url(re.compile(r".*/governance/check$"))
    _complete(officer, assessment, "governance")

    officer.goto(assessment + "/sections/governance/documents")
    policy = tmp_path / DOCUMENT
    policy.write_bytes(b"%PDF-1.4\n% a draft use policy\n%%EOF\n")
    _choose_file_by_keyboard(officer, "#file-policy", policy)
    press(officer, "#q-policy button.button")
    officer.wait_for_url(re.compile(r".*/governance/documents\?notice=attached.*"))
    expect(officer.locator("#q-policy table")).to_contain_text(DOCUMENT)
    audit(officer, "80-walk-document-attached")
    _submit(officer, assessment, "81-walk")

    # --- the regulator returns it with a comment -----------------------------------------------
    reviewer = _as(browser, site, world.reviewer_on.email)
    reviewer.goto(f"{site.base}/review/{aid}")
    expect(reviewer.locator("body")).to_contain_text(DOCUMENT)
    audit(reviewer, "82-walk-review-submission-1")
    # every criterion (APP-01 may be met, and the page shows the gaps by default); the comment
    # box opens on demand
    reviewer.goto(f"{site.base}/review/{aid}?show=all")
    press(reviewer, "#crit-APP-01 .crit__comment summary")
    type_into(reviewer, "#comment-APP-01", RETURN_COMMENT)  # reopens Applicability only
    press(reviewer, "button[value='return']")
    reviewer.wait_for_url(re.compile(r".*\?done=return$"))
    expect(reviewer.locator("main")).to_contain_text("Returned to the agency for changes.")

    # --- the officer removes the document on the draft ------------------------------------------
    officer.goto(assessment + "/")
    assert "In progress" in _section_status(officer, "Applicability")
    assert "Completed" in _section_status(officer, "Governance")
    audit(officer, "83-walk-task-list-returned")
    officer.goto(assessment + "/sections/governance/documents")
    press(officer, "#q-policy form[action$='/remove'] button")
    officer.wait_for_url(re.compile(r".*/documents\?notice=removed$"))
    expect(officer.locator("main")).to_contain_text("The file was removed.")
    expect(officer.locator("#q-policy")).not_to_contain_text(DOCUMENT)
    audit(officer, "84-walk-document-removed")

    # --- an answer in Applicability reveals questions in Governance ----------------------------
    officer.goto(assessment + "/sections/applicability")
    expect(officer.locator(".review-comments")).to_contain_text(RETURN_COMMENT)
    officer.check("input[name='pia_exists'][value='yes']")  # Yes
    press(officer, "button[value='continue']")
    officer.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/\?notice=reopened.*"))
    expect(officer.locator(".notice[role=status]")).to_contain_text(
        "are In progress again: Governance"
    )
    assert "In progress" in _section_status(officer, "Governance")
    audit(officer, "85-walk-governance-reopened")
    officer.goto(assessment + "/sections/governance")
    expect(officer.locator("[data-question-id='pia_approved']")).to_be_visible()
    officer.check("input[name='policy'][value='yes']")  # Yes: the policy is now written
    officer.check(
        "input[name='pia_approved'][value='no']"
    )  # No: a critical gap the report must show
    officer.check("input[name='pia_reviewed'][value='yes']")  # Yes
    press(officer, "button[value='continue']")
    officer.wait_for_url(re.compile(r".*/governance/check$"))
    _complete(officer, assessment, "governance")
    if "Completed" not in _section_status(officer, "Applicability"):
        _complete(officer, assessment, "applicability")
    officer.goto(assessment + "/")
    assert "Completed" in _section_status(officer, "Governance")
    assert "Completed" in _section_status(officer, "Applicability")
    _submit(officer, assessment, "86-walk-resubmit")
    officer.goto(assessment + "/sections/governance/documents")
    expect(officer.locator("main")).not_to_contain_text(DOCUMENT)  # the removal stuck

    # --- the reviewer sees what changed, then accepts -------------------------------------------
    reviewer.goto(f"{site.base}/review/{aid}")
    changes = reviewer.locator("table", has=reviewer.locator("caption", has_text="Answers changed"))
    expect(reviewer.locator("#changes")).to_contain_text("What changed since submission 1")
    for qid in ("pia_exists", "policy", "pia_approved", "pia_reviewed"):
        expect(changes).to_contain_text(f"({qid})")
    # the withdrawn document is named only as removed, in the documents changed since submission 1
    documents = reviewer.locator(
        "table", has=reviewer.locator("caption", has_text="Documents changed")
    )
    expect(documents).to_contain_text(DOCUMENT)
    expect(documents).to_contain_text("Removed")
    assert reviewer.locator("main").inner_text().count(DOCUMENT) == 1
    expect(reviewer.locator("main")).to_contain_text(RETURN_COMMENT)  # earlier comments
    audit(reviewer, "87-walk-review-diff")
    press(reviewer, "button[value='accept']")
    reviewer.wait_for_url(re.compile(r".*/accept$"))  # the confirmation page
    audit(reviewer, "87b-walk-review-confirm-accept")
    press(reviewer, "#confirm-accept")
    reviewer.wait_for_url(re.compile(r".*\?done=accept$"))
    expect(reviewer.locator("main")).to_contain_text("Accepted by")
    audit(reviewer, "88-walk-review-accepted")

    # --- the board: the accepted submission, nothing of submission 1 ----------------------------
    board = _as(browser, site, world.board_a.email)
    board.goto(site.base + "/board/")
    expect(board.locator("main")).to_contain_text(PROGRAM)
    expect(board.locator("main")).not_to_contain_text("Second program")  # never accepted
    audit(board, "89-walk-board-list")
    board.goto(f"{site.base}/board/{aid}")
    summary = board.locator("main")
    expect(summary).to_contain_text("Accepted by")
    expect(summary).to_contain_text("GOV-02")  # the critical gap of submission 2
    for of_submission_1 in (RETURN_COMMENT, DOCUMENT, "APP-01"):
        expect(summary).not_to_contain_text(of_submission_1)
    audit(board, "90-walk-board-summary")
    report = board.goto(f"{assessment}/report.html?number=2&lang=en")
    assert report is not None
    assert report.status == 200
    board_report = board.content()
    for of_submission_1 in (RETURN_COMMENT, DOCUMENT):
        assert of_submission_1 not in board_report
    assert "Accepted" in board_report
    audit(board, "91-walk-board-report")
    for path in ("/report.html?number=1", "/report.pdf?number=1", "/result?number=1"):
        response = board.request.get(assessment + path)
        assert response.status == 404, path
    response = board.request.get(f"{site.base}/board/{site.others[0]}")
    assert response.status == 404  # the agency's other program was never accepted

    # --- the portfolio agrees with the programs' own reports ------------------------------------
    reviewer.goto(site.base + "/review/portfolio")
    audit(reviewer, "92-walk-portfolio")
    programs = [aid, *(str(o) for o in site.others)]
    expect(reviewer.locator("main")).to_contain_text(f"Programs shown: {len(programs)}")
    expect(reviewer.locator("table.heat-map tbody tr")).to_have_count(len(programs) + 1)
    severity = {c.id: c.severity for c in walk().criteria}
    expected: Counter[str] = Counter()
    ratings: Counter[str] = Counter()
    for program in programs:
        html = reviewer.request.get(f"{site.base}/assessments/{program}/report.html?lang=en")
        assert html.status == 200
        text = html.text()
        ratings[RESULT_LINE.search(text)[1]] += 1  # type: ignore[index]
        expected.update(g for g in _gaps(text) if severity[g] is Severity.critical)
    critical_table = reviewer.locator(
        "table", has=reviewer.locator("caption", has_text="Most common critical gaps")
    )
    shown: dict[str, int] = {}
    for row in critical_table.locator("tbody tr").all():
        criterion, count = (cell.inner_text() for cell in row.locator("td").all())
        shown[criterion.split()[0]] = int(count)
    assert shown == dict(expected)
    assert expected["GOV-02"] == 2  # the walk's program and the agency's second program
    rating_table = reviewer.locator(
        "table", has=reviewer.locator("caption", has_text="Distribution of ratings")
    )
    shown_ratings = {
        row.locator("td").nth(0).inner_text().strip().lower(): int(
            row.locator("td").nth(1).inner_text()
        )
        for row in rating_table.locator("tbody tr").all()
    }
    assert {k: v for k, v in shown_ratings.items() if v} == dict(ratings)
