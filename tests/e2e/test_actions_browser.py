"""The action plan in a real browser: axe on every page and state, a keyboard-only pass from the
task list to a saved action (with an error on the way), the regulator's comment and the board's
view; screenshots in English and French at 1,280 and 390 px under docs/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from service import db
from tests.builders import World, make_world, server
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_browser import _axe, press, sign_in, tab_to, type_into
from tests.e2e.test_browser import audit as audit_wcag
from tests.review.helpers import GOOD, decide, submitted

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).parent.parent.parent / "docs" / "screenshots"
WIDTHS = (1280, 390)


@dataclass
class Site:
    base: str
    world: World
    submitted: str  # waiting for review: the regulator comments on its plan
    accepted: str  # the board reads its plan


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("e2e-actions") / "actions.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    bad = {**GOOD, "pia_done": "no", "pia_date": None}
    waiting = submitted(engine, world.officer_a, bad, program="Live facial recognition pilot")
    accepted = submitted(engine, world.officer_a, bad, program="Retrospective search")
    decide(engine, world.reviewer_on, accepted, "accept")
    engine.dispose()
    SCREENSHOTS.mkdir(exist_ok=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    with server(url) as (base, _proc):
        yield Site(base, world, str(waiting), str(accepted))


def audit(page: Page, name: str) -> None:
    """axe's WCAG 2.1 A/AA rules (the suite's check, with its screenshot), then every other rule
    of axe too (best practices such as ``region`` and ``landmark-one-main``): 0 violations."""
    audit_wcag(page, name)
    results = _axe.run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def shoot(page: Page, name: str) -> None:
    """The page at each width, for people to look at (docs/screenshots/NAME-WIDTH.png)."""
    size = page.viewport_size or {"width": 1280, "height": 900}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(DOCS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def switch_language(page: Page, lang: str) -> None:
    url = page.url
    press(page, f"button[lang='{lang}']")
    page.wait_for_url(url)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def test_officer_keeps_the_plan_with_the_keyboard_only(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.officer_a.email)
    page.goto(site.base + f"/assessments/{site.submitted}/")
    press(page, f"a[href='/assessments/{site.submitted}/actions']")
    page.wait_for_url(re.compile(r".*/actions$"))
    expect(page.locator("h1")).to_have_text("Action plan")
    audit(page, "80-action-plan")
    press(page, f"a[href='/assessments/{site.submitted}/actions/GOV-01']")
    page.wait_for_url(re.compile(r".*/actions/GOV-01$"))
    audit(page, "81-action")
    type_into(page, "#owner", "Records management")
    type_into(page, "#target_date", "31/03/2027")
    # the status radios: Tab reaches the checked one (To do), arrows move to Accepted as risk
    tab_to(page, "input[name='status']:checked")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[value='risk_accepted']")).to_be_checked()
    press(page, "button.button")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#owner")).to_have_value("Records management")
    audit(page, "82-action-errors")
    shoot(page, "actions-errors-en")
    # the summary's first link takes the focus to the field
    press(page, ".error-summary a[href='#target_date']")
    expect(page.locator("#target_date")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("2027-03-31")
    type_into(page, "#risk_reason", "The vendor contract ends in March 2027")
    type_into(page, "#risk_accepted_by", "Deputy Chief A. Smith")
    type_into(page, "#note", "Decided at the March board meeting")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/actions(#action-GOV-01)?$"))
    row = page.locator("#action-GOV-01")
    expect(row).to_contain_text("Records management")
    expect(row).to_contain_text("2027-03-31")
    expect(row).to_contain_text("Accepted as risk")
    expect(page.locator("body")).to_contain_text("1 of 1 action closed")
    audit(page, "83-action-plan-saved")
    shoot(page, "actions-plan-en")
    page.goto(site.base + f"/assessments/{site.submitted}/actions/GOV-01")
    shoot(page, "actions-action-en")
    switch_language(page, "fr")
    audit(page, "84-action-fr")
    shoot(page, "actions-action-fr")
    page.goto(site.base + f"/assessments/{site.submitted}/actions")
    expect(page.locator("h1")).to_have_text("Plan d'action")
    audit(page, "85-action-plan-fr")
    shoot(page, "actions-plan-fr")
    switch_language(page, "en")


def test_regulator_comments_on_an_action(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.reviewer_on.email)
    page.goto(site.base + f"/review/{site.submitted}")
    press(page, f"a[href='/assessments/{site.submitted}/actions']")
    page.wait_for_url(re.compile(r".*/actions$"))
    audit(page, "86-action-plan-regulator")
    press(page, f"a[href='/assessments/{site.submitted}/actions/GOV-01']")
    page.wait_for_url(re.compile(r".*/actions/GOV-01$"))
    press(page, "button.button")  # no comment typed
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_be_focused()
    audit(page, "87-action-comment-error")
    type_into(page, "#comment", "A target date in 2027 is late for a critical gap.")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/actions/GOV-01#comments$"))
    expect(page.locator(".comments")).to_contain_text("A target date in 2027 is late")
    audit(page, "88-action-commented")
    shoot(page, "actions-regulator-en")


def test_board_reads_the_accepted_plan(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.board_a.email)
    page.goto(site.base + f"/board/{site.accepted}")
    expect(page.locator("body")).to_contain_text("0 of 1 action closed")
    audit(page, "89-board-summary-plan")
    shoot(page, "actions-board-en")
    page.goto(site.base + f"/assessments/{site.accepted}/actions")
    audit(page, "90-action-plan-board")
    expect(page.locator("form[action$='/GOV-01']")).to_have_count(0)
