"""Evidence documents in a real browser: the upload control by keyboard, axe on every state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.builders import World
from tests.e2e.test_browser import audit, press, sign_in, tab_to, type_into

pytestmark = pytest.mark.e2e


def _choose_file_by_keyboard(page: Page, selector: str, path: Path) -> None:
    tab_to(page, selector)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))


def test_upload_by_keyboard_with_axe(page: Page, live: tuple[str, World], tmp_path: Path) -> None:
    base, world = live
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
