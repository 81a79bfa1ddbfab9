"""Notices in a real browser (issue 21): the list with its unread count and the settings page,
axe on each page and state, read with the keyboard only, in English and French."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from service import db
from service.notices import service as notice_service
from service.review import service as review_service
from service.web.page import today
from tests.builders import World, make_world, server
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_actions_browser import DOCS, audit, shoot, switch_language
from tests.e2e.test_browser import press, sign_in, type_into
from tests.review.helpers import GOOD, mini, resubmit, submitted, viewer

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    base: str
    world: World
    returned: str
    accepted: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("e2e-notices") / "notices.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    bad = {**GOOD, "pia_done": "no", "pia_date": None}
    reviewer = viewer(engine, world.reviewer_on)

    def decide(aid: object, action: str, due: int | None = None) -> None:
        with db.new_session(engine) as s:
            review_service.decide(
                session=s,
                viewer=reviewer,
                assessment_id=aid,  # type: ignore[arg-type]
                action=action,
                expected_version=None,
                questionnaire=mini(),
                criterion_comments={},
                general_comment="Please complete the PIA",
                due_on=today() + timedelta(days=due) if due is not None else None,
            )

    accepted = submitted(engine, world.officer_a, bad, program="Retrospective search")
    decide(accepted, "return")
    resubmit(engine, world.officer_a, accepted)
    decide(accepted, "accept")
    returned = submitted(engine, world.officer_a, bad, program="Live facial recognition pilot")
    decide(returned, "return", due=5)
    with db.new_session(engine) as s:  # the reminder the server's periodic job would record
        notice_service.remind(s, today())
    engine.dispose()
    SCREENSHOTS.mkdir(exist_ok=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    with server(url) as (base, _proc):
        yield Site(base, world, str(returned), str(accepted))


def test_officer_reads_notices_and_chooses_e_mails_with_the_keyboard(
    page: Page, site: Site
) -> None:
    sign_in(page, site.base, site.world.officer_a.email)
    expect(page.locator("header a[href='/notices']")).to_have_text("Notices (4 unread)")
    # the dashboard says when the returned assessment is due, in words
    expect(page.locator("main")).to_contain_text("Due soon: ")
    audit(page, "notices-01-dashboard-due")
    press(page, "header a[href='/notices']")
    page.wait_for_url(site.base + "/notices")
    expect(page.locator("h1")).to_have_text("Notices")
    # returned and accepted (Retrospective search), returned (Live facial recognition pilot)
    # and its resubmission due in 5 days: newest first
    expect(page.locator(".notice-list__item")).to_have_count(4)
    expect(page.locator(".notice-list__item").first).to_contain_text(
        "The resubmission of Live facial recognition pilot is due on"
    )
    expect(page.locator(".notice-list__item").nth(1)).to_contain_text(
        "Live facial recognition pilot was returned for changes"
    )
    audit(page, "notices-02-list")
    shoot(page, "notices-list")
    press(page, ".notice-list__item:first-child button.link-button")
    page.wait_for_url(re.compile(r".*/notices\?done=read.*"))
    expect(page.locator("header a[href='/notices']")).to_have_text("Notices (3 unread)")
    audit(page, "notices-03-one-read")
    press(page, "button.button--secondary")  # mark all as read
    expect(page.locator("main")).to_contain_text("You have 0 unread notices.")
    expect(page.locator("header a[href='/notices']")).to_have_text("Notices")
    press(page, "main a[href='/account/notices']")
    page.wait_for_url(site.base + "/account/notices")
    audit(page, "notices-04-settings")
    shoot(page, "notices-settings")
    press(page, "#email", key="Space")  # untick "returned"
    press(page, "form button.button")
    page.wait_for_url(re.compile(r".*/account/notices\?done=saved$"))
    expect(page.locator("#email")).not_to_be_checked()
    expect(page.locator("#email-2")).to_be_checked()
    audit(page, "notices-05-settings-saved")
    switch_language(page, "fr")
    expect(page.locator("h1")).to_have_text("Paramètres des avis")
    audit(page, "notices-06-settings-fr")
    page.goto(site.base + "/notices")
    expect(page.locator("h1")).to_have_text("Avis")
    expect(page.locator(".notice-list__item").nth(1)).to_contain_text(
        "Live facial recognition pilot a été renvoyée pour modifications"
    )
    audit(page, "notices-07-list-fr")
    switch_language(page, "en")


def test_reviewer_sees_and_changes_the_due_date(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.reviewer_on.email)
    expect(page.locator("main")).to_contain_text("Due soon: ")
    audit(page, "notices-08-inbox-due")
    page.goto(site.base + f"/review/{site.returned}")
    expect(page.locator("#due-title")).to_be_visible()
    audit(page, "notices-09-review-due")
    page.locator("#due_date").fill("")
    type_into(page, "#due_date", "2026-31-12")
    press(page, "form[action$='/due'] button")
    expect(page.locator(".error-summary")).to_contain_text("Enter the due date as year-month-day")
    audit(page, "notices-10-review-due-error")
    page.goto(site.base + f"/review/{site.accepted}")
    expect(page.locator("#due-title")).to_have_text("When the next assessment is due")
    audit(page, "notices-11-review-next-assessment-due")
