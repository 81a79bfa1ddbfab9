"""Review, portfolio, board and reassessment pages in a real browser: axe on every page and
state, screenshots in tests/e2e/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from service import db
from tests.builders import World, make_world, server
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_browser import audit, press, sign_in, type_into
from tests.review.helpers import GOOD, answer, decide, resubmit, submitted

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    base: str
    world: World
    changed: str  # returned, then resubmitted: the review page shows the changes
    returned: str  # returned with comments: the officer sees them
    accepted: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("e2e-review") / "review.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    bad = {**GOOD, "pia_done": "no", "pia_date": None}
    changed = submitted(engine, world.officer_a, bad, program="Live facial recognition pilot")
    decide(engine, world.reviewer_on, changed, "return", {"GOV-01": "Complete the PIA first"})
    answer(engine, world.officer_a, changed, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, world.officer_a, changed)
    returned = submitted(engine, world.officer_a, bad, program="Mugshot database search")
    decide(
        engine,
        world.reviewer_on,
        returned,
        "return",
        {"GOV-01": "A PIA is required before use"},
        "Please answer the governance questions again",
    )
    accepted = submitted(engine, world.officer_a, bad, program="Retrospective search")
    decide(engine, world.reviewer_on, accepted, "accept", {"GOV-01": "Plan the PIA this year"})
    engine.dispose()
    SCREENSHOTS.mkdir(exist_ok=True)
    with server(url) as (base, _proc):
        yield Site(base, world, str(changed), str(returned), str(accepted))


def test_reviewer_pages(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.reviewer_on.email)
    page.goto(site.base + "/review/")
    expect(page.locator("h1")).to_have_text("Review inbox")
    audit(page, "60-review-inbox")
    page.goto(site.base + "/review/?from=yesterday")
    expect(page).to_have_title(re.compile(r"^Error: "))
    audit(page, "61-review-inbox-error")
    page.goto(site.base + f"/review/{site.changed}")
    expect(page.locator("#changes")).to_be_visible()
    audit(page, "62-review-page-changes")
    press(page, "button[value='return']")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_be_focused()
    audit(page, "63-review-return-error")
    # GOV-01 is met since the resubmission: shown among the changes, its comment box on demand
    press(page, "button[data-show='changed']")
    press(page, "#crit-GOV-01 .crit__comment summary")
    type_into(page, "#comment-GOV-01", "Ask for the PIA before deciding")
    press(page, "button[value='save_draft']")
    page.wait_for_url(re.compile(r".*done=save_draft&show=changed"))
    expect(page.locator("#draft-saved")).to_be_visible()
    expect(page.locator("#comment-GOV-01")).to_have_value("Ask for the PIA before deciding")
    audit(page, "63b-review-draft-saved")
    page.goto(site.base + f"/review/{site.accepted}")
    audit(page, "64-review-page-accepted")
    page.goto(site.base + f"/assessments/{site.accepted}/result")
    expect(page.locator("a[href*='/open-data?format=oscal&']")).to_be_visible()
    audit(page, "64b-result-open-data")
    page.goto(site.base + "/review/portfolio")
    expect(page.locator(".heat-map")).to_be_visible()
    expect(page.locator("a[href^='/review/portfolio.json']")).to_be_visible()
    audit(page, "65-portfolio")
    page.goto(site.base + "/review/")
    press(page, "button[lang='fr']")
    page.wait_for_url(re.compile(r".*/review/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    audit(page, "66-review-inbox-fr")
    page.goto(site.base + "/review/portfolio")
    audit(page, "67-portfolio-fr")
    press(page, "button[lang='en']")
    # the choice is kept for the account: wait until it is stored (a later test signs in)
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_board_pages(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.board_a.email)
    page.goto(site.base + "/board/")
    expect(page.locator("h1")).to_have_text("Accepted assessments")
    audit(page, "68-board-list")
    page.goto(site.base + f"/board/{site.accepted}")
    expect(page.locator("body")).to_contain_text("Plan the PIA this year")
    audit(page, "69-board-summary")


def test_officer_sees_comments_and_reassesses(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.officer_a.email)
    page.goto(site.base + f"/assessments/{site.returned}/")
    expect(page.locator(".review-comments")).to_be_visible()
    audit(page, "70-task-list-returned")
    page.goto(site.base + f"/assessments/{site.returned}/sections/governance")
    expect(page.locator(".review-comments")).to_contain_text("A PIA is required before use")
    audit(page, "71-section-returned-comments")
    page.goto(site.base + f"/assessments/{site.accepted}/reassess")
    audit(page, "72-reassess")
    press(page, "button.button")
    expect(page).to_have_title(re.compile(r"^Error: "))
    audit(page, "73-reassess-error")
