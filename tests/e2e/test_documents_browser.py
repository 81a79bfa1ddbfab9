"""Evidence documents in a real browser: the upload control by keyboard, axe on every state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.builders import World
from tests.e2e.test_browser import audit, press, sign_in, tab_to, type_into

pytestmark = pytest.mark.e2e


def _intercept_file_choosers(page: Page) -> None:
    """Have the browser hand file choosers to the test from now on.

    Playwright turns the interception on when the first ``filechooser`` listener is added, and
    off when the last is removed, without waiting for the browser: a chooser opened at once
    after ``expect_file_chooser`` began could open natively (never seen by the test) on a busy
    machine. A listener kept for the whole test, added long before the first chooser, keeps the
    interception on throughout."""
    page.on("filechooser", lambda _chooser: None)


def _choose_file_by_keyboard(page: Page, selector: str, path: Path) -> None:
    tab_to(page, selector)  # returns once the file control has the focus
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))
    expect(page.locator(selector)).to_have_value(re.compile(re.escape(path.name) + "$"))


def test_upload_by_keyboard_with_axe(page: Page, live: tuple[str, World], tmp_path: Path) -> None:
    base, world = live
    _intercept_file_choosers(page)
    sign_in(page, base, world.officer_a.email)
    page.goto(base + "/assessments/new")
    type_into(page, "#program", "Documents program")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/assessments/[0-9a-f-]{36}/$"))
    assessment = page.url.rstrip("/")
    page.goto(assessment + "/sections/governance")
    press(page, "a[href$='/sections/governance/documents']")
    page.wait_for_url(re.compile(r".*/governance/documents$"))
    audit(page, "40-documents-empty")

    pia = tmp_path / "PIA 2025.pdf"
    pia.write_bytes(b"%PDF-1.4\n% a PIA\n%%EOF\n")
    _choose_file_by_keyboard(page, "#file-pia_done", pia)
    press(page, "#q-pia_done button.button")
    page.wait_for_url(re.compile(r".*/governance/documents\?notice=attached.*"))
    expect(page.locator("#q-pia_done table")).to_contain_text("PIA 2025.pdf")
    audit(page, "41-documents-attached")
    tab_to(page, "#q-pia_done a[download]")  # the download link is reachable

    page_html = tmp_path / "policy.pdf"
    page_html.write_bytes(b"<!DOCTYPE html><html><script>alert(1)</script></html>")
    _choose_file_by_keyboard(page, "#file-pia_done", page_html)
    press(page, "#q-pia_done button.button")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_contain_text("web page markup")
    audit(page, "42-documents-refused")
