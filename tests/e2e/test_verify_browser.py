"""The public verify page in a real browser: no sign-in, keyboard only, axe on every state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.builders import World
from tests.e2e.test_browser import audit, press, tab_to

pytestmark = pytest.mark.e2e


def _check_file(page: Page, path: Path) -> None:
    tab_to(page, "#file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))
    # the check takes seconds on a loaded machine: wait for the answer, not a fixed 5 s
    with page.expect_navigation(timeout=60_000):
        press(page, "form button.button")
    page.wait_for_load_state("load")


def test_verify_page_with_axe(page: Page, live: tuple[str, World], tmp_path: Path) -> None:
    from weasyprint import HTML

    base, _world = live
    page.goto(base + "/verify")
    expect(page.locator("h1")).to_have_text("Check a gap report")
    audit(page, "70-verify-empty")

    press(page, "form button.button")  # nothing chosen
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_contain_text("Choose the report (PDF) to check")
    audit(page, "71-verify-no-file")

    draft = tmp_path / "draft.pdf"
    draft.write_bytes(HTML(string="<p>Rating: GREEN</p>").write_pdf())
    _check_file(page, draft)
    expect(page.locator("#outcome-title")).to_contain_text("Do not rely on this report")
    expect(page.locator("#checks")).to_contain_text("it is a draft")
    audit(page, "72-verify-outcome")

    response = page.request.get(base + "/verify/instance.pem")
    assert response.ok
    assert response.body().startswith(b"-----BEGIN CERTIFICATE-----")
