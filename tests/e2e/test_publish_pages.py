"""Publishing a questionnaire version in a real browser: upload (with a broken file, then a
valid one), the draft's preview in both languages, the reviewer's approval; axe on each page
and state, screenshots in tests/e2e/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from service import db
from tests.builders import QUESTIONNAIRES, World, make_world, server
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_browser import audit, press, sign_in

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    base: str
    world: World
    files: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("e2e-publish")
    url = f"sqlite:///{folder / 'publish.sqlite3'}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    engine.dispose()
    files = folder / "files"
    files.mkdir()
    text = (QUESTIONNAIRES / "web-mini.yaml").read_text(encoding="utf-8")
    (files / "web-mini-3.0.yaml").write_text(
        text.replace('version: "1.0"', 'version: "3.0"'), encoding="utf-8"
    )
    (files / "broken.yaml").write_bytes(
        (ROOT / "tests" / "data" / "broken" / "dangling_section.yaml").read_bytes()
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    with server(url) as (base, _proc):
        yield Site(base, world, files)


def test_upload_preview_and_approve(page: Page, site: Site) -> None:
    sign_in(page, site.base, site.world.admin.email)
    page.goto(site.base + "/admin/questionnaires/upload")
    expect(page.locator("h1")).to_have_text("Upload a questionnaire version")
    audit(page, "90-upload")
    page.set_input_files("#file", str(site.files / "broken.yaml"))
    press(page, "button.button")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#problems")).to_be_visible()
    audit(page, "91-upload-problems")
    page.set_input_files("#file", str(site.files / "web-mini-3.0.yaml"))
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/admin/questionnaires/drafts/[0-9a-f-]+$"))
    expect(page.locator("body")).to_contain_text("another administrator or a reviewer must approve")
    audit(page, "92-draft-preview-uploader")
    draft = page.url
    page.context.clear_cookies()  # the reviewer signs in on the same browser
    sign_in(page, site.base, site.world.reviewer_on.email)
    page.goto(site.base + "/admin/questionnaires/drafts")
    audit(page, "93-drafts-reviewer")
    page.goto(draft)
    expect(page.locator("td[lang='fr']").first).to_contain_text("Quel type")
    audit(page, "94-draft-preview-reviewer")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*\?published=1$"))
    expect(page.locator(".notice")).to_contain_text("Published")
    audit(page, "95-draft-published")
