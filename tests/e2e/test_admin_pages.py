"""Administration pages in a real browser: axe on every admin page (EN and FR), an invitation
used in the browser, and TOTP enrolment then sign-in with the code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from service import db
from tests.builders import PASSWORD, World, make_world, server
from tests.e2e.test_browser import audit, press, type_into

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """Its own server and database: this module changes site settings (TOTP required)."""
    path: Path = tmp_path_factory.mktemp("e2e-admin") / "admin.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    engine.dispose()
    with server(url) as (base, _proc):
        yield base, world


def _sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/login")
    type_into(page, "#email", email)
    type_into(page, "#password", password)
    press(page, "button.button")


def test_admin_pages_pass_axe(page: Page, admin_live: tuple[str, World]) -> None:
    base, world = admin_live
    _sign_in(page, base, world.admin.email)
    page.wait_for_url(re.compile(r".*/admin/organisations$"))
    pages = {
        "admin-01-home": "/admin",
        "admin-02-organisations": "/admin/organisations",
        "admin-03-new-agency": "/admin/organisations/new?kind=agency",
        "admin-04-new-regulator": "/admin/organisations/new?kind=regulator",
        "admin-05-new-board": "/admin/organisations/new?kind=board",
        "admin-06-users": "/admin/users",
        "admin-07-invite": "/admin/users/new",
        "admin-08-user": f"/admin/users/{world.officer_a.id}",
        "admin-09-questionnaires": "/admin/questionnaires",
        "admin-10-audit": "/admin/audit",
        "admin-11-security": "/account/security",
    }
    for name, url in pages.items():
        page.goto(base + url)
        audit(page, name)
    # An organisation form with errors.
    page.goto(base + "/admin/organisations/new?kind=agency")
    press(page, "form[action='/admin/organisations'] button.button")
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, "admin-12-agency-errors")
    # Invite a user; the one-time link is shown.
    page.goto(base + "/admin/users/new")
    type_into(page, "#email", "invited@example.test")
    type_into(page, "#full_name", "Ivy Invited")
    page.select_option("#organisation_id", str(world.agency_a.id))
    press(page, "form[action='/admin/users'] button.button")
    expect(page.locator("#one-time-link")).to_be_visible()
    link = page.locator("#one-time-link").inner_text()
    assert "/account/set-password/" in link
    audit(page, "admin-13-invitation-link")
    # French.
    page.goto(base + "/admin")
    press(page, "button[lang='fr']")
    page.wait_for_url(re.compile(r".*/admin$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    for name, url in (("admin-14-users-fr", "/admin/users"), ("admin-15-audit-fr", "/admin/audit")):
        page.goto(base + url)
        audit(page, name)
    page.goto(base + "/admin")
    press(page, "button[lang='en']")
    page.wait_for_url(re.compile(r".*/admin$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The invited person sets a password with the link, in another browser context.
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    invited = other.new_page()
    invited.goto(link)
    audit(invited, "admin-16-set-password")
    type_into(invited, "#password", "amber lighthouse voyage")
    type_into(invited, "#confirm", "amber lighthouse voyage")
    press(invited, "form button.button")
    invited.wait_for_url(re.compile(r".*/login.*"))
    _sign_in(invited, base, "invited@example.test", "amber lighthouse voyage")
    invited.wait_for_url(re.compile(r".*/assessments/$"))
    other.close()


def test_totp_enrolment_and_sign_in(page: Page, admin_live: tuple[str, World]) -> None:
    base, world = admin_live
    _sign_in(page, base, world.admin.email)
    page.wait_for_url(re.compile(r".*/admin/organisations$"))
    page.goto(base + "/admin")
    page.check("#totp-admin")
    press(page, "form[action='/admin/security'] button.button")
    page.wait_for_url(re.compile(r".*/account/totp$"))  # required now, for admins too
    # Required now: every page sends the admin to the enrolment page.
    page.goto(base + "/admin/users")
    page.wait_for_url(re.compile(r".*/account/totp$"))
    audit(page, "admin-20-totp-enrol")
    secret = page.locator("#totp-secret").inner_text().strip()
    type_into(page, "#code", "000000")
    press(page, "form[action='/account/totp'] button.button")
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, "admin-21-totp-enrol-error")
    secret = page.locator("#totp-secret").inner_text().strip()
    type_into(page, "#code", pyotp.TOTP(secret).now())
    press(page, "form[action='/account/totp'] button.button")
    # Issue 16: the ten recovery codes are shown once, then the security page.
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    audit(page, "admin-22a-recovery-codes")
    page.click("a[href='/account/security']")
    page.wait_for_url(re.compile(r".*/account/security$"))
    audit(page, "admin-22-security-enrolled")
    # Sign out everywhere, then sign in again: the code is asked for.
    press(page, "form[action='/account/sign-out-everywhere'] button")
    page.wait_for_url(re.compile(r".*/login$"))
    _sign_in(page, base, world.admin.email)
    page.wait_for_url(re.compile(r".*/login/code.*"))
    audit(page, "admin-23-login-code")
    # Issue 16: the code used to enrol works once; the next one signs in.
    type_into(page, "#code", pyotp.TOTP(secret).at(time.time() + 30))
    press(page, "form[action='/login/code'] button.button")
    page.wait_for_url(re.compile(r".*/admin/organisations$"))
    page.goto(base + "/admin/audit?what=totp_enrolled")
    # the audit log shows the action's label, never its raw value
    expect(page.locator("#audit tbody")).to_contain_text("Second factor set up")
