"""Shared work in a real browser (issue 21): the officer assigns two sections to two colleagues
(a contributor and another officer) on the assignment page, both answer their section at the same
moment without a conflict, the officer sees both parts done and submits. axe on the assignment
page (empty, with errors, with parts given), the contributor's dashboard and task list, in
English and French; screenshots under docs/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from service import db
from service.models import Role, User
from service.web.page import today
from tests.builders import World, make_user, make_world, server
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_actions_browser import DOCS, audit, shoot, switch_language
from tests.e2e.test_browser import audit as audit_wcag
from tests.e2e.test_browser import press, sign_in, tab_to, type_into

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    base: str
    world: World
    contributor: User
    colleague: User


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("e2e-shared") / "shared.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    with db.new_session(engine) as s:
        contributor = make_user(
            s, role=Role.contributor, org=world.agency_a, email="records@example.test"
        )
        contributor.full_name = "Robin Records"
        colleague = make_user(s, role=Role.officer, org=world.agency_a, email="it@example.test")
        colleague.full_name = "Ines Security"
        s.add(contributor)
        s.add(colleague)
        s.commit()
        s.refresh(contributor)
        s.refresh(colleague)
    engine.dispose()
    SCREENSHOTS.mkdir(exist_ok=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    with server(url) as (base, _proc):
        yield Site(base, world, contributor, colleague)


def _choose(page: Page, selector: str, label: str) -> None:
    """Pick an option of a select with the keyboard: focus it, then arrows until it shows."""
    tab_to(page, selector)
    for _ in range(40):
        if page.eval_on_selector(selector, "s => s.options[s.selectedIndex].text") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{label!r} is not an option of {selector}")


def _open(browser: Browser, site: Site, email: str) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, site.base, email)
    return page


def test_assign_answer_at_once_and_submit(page: Page, browser: Browser, site: Site) -> None:
    yesterday = (today() - timedelta(days=1)).isoformat()
    later = (today() + timedelta(days=14)).isoformat()
    # the officer starts an assessment and opens the assignment page from the task list
    sign_in(page, site.base, site.world.officer_a.email)
    page.goto(site.base + "/assessments/new")
    type_into(page, "#program", "Live facial recognition pilot")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/assessments/[0-9a-f-]{36}/$"))
    base = page.url.rstrip("/")
    press(page, f"a[href='{base.removeprefix(site.base)}/assignments']")
    page.wait_for_url(re.compile(r".*/assignments$"))
    expect(page.locator("h1")).to_have_text("Assign parts to colleagues")
    audit(page, "90-assignments-empty")
    # nothing chosen: the errors, linked from the summary
    press(page, "form[action$='/assignments'] button.button")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_be_focused()
    audit(page, "91-assignments-errors")
    shoot(page, "assignments-errors-en")
    # the scope section to the contributor, due yesterday; governance to the IT officer
    _choose(page, "#part", "The whole section: Describe the program")
    _choose(page, "#assignee", "Robin Records (Contributor)")
    type_into(page, "#due_on", yesterday)
    press(page, "form[action$='/assignments'] button.button")
    page.wait_for_url(re.compile(r".*/assignments\?notice=assigned$"))
    _choose(page, "#part", "The whole section: Check governance")
    _choose(page, "#assignee", "Ines Security (Privacy officer)")
    type_into(page, "#due_on", later)
    press(page, "form[action$='/assignments'] button.button")
    page.wait_for_url(re.compile(r".*/assignments\?notice=assigned$"))
    table = page.locator("table").first
    expect(table).to_contain_text("Robin Records")
    expect(table).to_contain_text("Overdue")  # in words
    expect(table).to_contain_text("0 of 4")
    audit(page, "92-assignments")
    shoot(page, "assignments-en")
    switch_language(page, "fr")
    expect(page.locator("h1")).to_have_text("Attribuer des parties à des collègues")
    expect(page.locator("table").first).to_contain_text("En retard")
    audit(page, "93-assignments-fr")
    shoot(page, "assignments-fr")
    switch_language(page, "en")

    # the contributor's dashboard: their part, its date, overdue in words
    robin = _open(browser, site, site.contributor.email)
    mine = robin.locator("table").first
    expect(mine).to_contain_text("Section: Describe the program")
    expect(mine).to_contain_text(yesterday)
    expect(mine).to_contain_text("Overdue")
    audit(robin, "94-contributor-dashboard")
    shoot(robin, "contributor-dashboard-en")
    switch_language(robin, "fr")
    expect(robin.locator("table").first).to_contain_text("Section\u00a0: Décrire le programme")
    audit(robin, "95-contributor-dashboard-fr")
    shoot(robin, "contributor-dashboard-fr")
    switch_language(robin, "en")
    robin.goto(base + "/")
    expect(robin.locator("body")).not_to_contain_text("Check governance")
    audit(robin, "96-contributor-task-list")
    shoot(robin, "contributor-task-list-en")

    # both colleagues fill their section, then save at the same moment: no conflict
    ines = _open(browser, site, site.colleague.email)
    robin.goto(base + "/sections/scope")
    ines.goto(base + "/sections/governance")
    audit_wcag(robin, "97-contributor-section")  # the suite's check on the pages it had
    robin.check("input[name='body_type'][value='municipal']")
    robin.check("input[name='uses'][value='live']")
    robin.fill("#searches", "120")
    ines.check("input[name='pia_done'][value='no']")
    with robin.expect_navigation(), ines.expect_navigation():
        robin.click("button[value='continue']", no_wait_after=True)
        ines.click("button[value='continue']", no_wait_after=True)
    expect(robin).to_have_url(re.compile(r".*/sections/scope/check$"))
    expect(ines).to_have_url(re.compile(r".*/sections/governance/check$"))
    for who, answer in ((robin, "Municipal police"), (ines, "No")):
        expect(who.locator(".summary-list")).to_contain_text(answer)
        tab_to(who, "#completed")
        who.keyboard.press("Space")
        press(who, "button.button")
        who.wait_for_url(re.compile(r".*/assessments/[0-9a-f-]{36}/$"))

    # the officer sees both parts done, and submits
    page.goto(base + "/")
    expect(page.locator("body")).to_contain_text("You have completed 2 of 2 sections.")
    progress = page.locator("table", has_text="Robin Records")
    expect(progress).to_contain_text("3 of 4")  # the description is optional, left blank
    expect(progress).to_contain_text("1 of 2")  # the PIA date is not asked after "No"
    audit_wcag(page, "98-task-list-shared")
    shoot(page, "task-list-shared-en")
    press(page, f"a[href='{base.removeprefix(site.base)}/check-your-answers']")
    page.wait_for_url(re.compile(r".*/check-your-answers$"))
    tab_to(page, "#confirm")  # optional questions left blank: submitted knowingly
    page.keyboard.press("Space")
    press(page, "form button.button")
    page.wait_for_url(re.compile(r".*/submitted$"))
    for other in (robin, ines):
        other.context.close()
