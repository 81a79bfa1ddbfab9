"""The pages of issue 17 that this change touched, on the demo data, in a real browser: the
result page (report at the page's type scale, in-page index), the audit log, a long section
page and check your answers; axe finds nothing in English or French at 1,280 and 390 px, the
audit log fits 1,280 px, and the screenshots of docs/screenshots/ are taken from here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlmodel import select

from service import db
from service.admin_cli import ensure_demo
from service.assessments.models import Assessment
from service.models import AssessmentStatus, Organisation
from service.questionnaire.loader import load_directory
from tests.builders import ROOT, server
from tests.e2e.test_browser import AXE_OPTIONS

pytestmark = pytest.mark.e2e
SHIPPED = ROOT / "questionnaires"
DOCS = ROOT / "docs" / "screenshots"
_axe = Axe()
PASSWORDS = {
    "officer@demo.policygap.ca": "demo-officer-pass",
    "admin@demo.policygap.ca": "demo-admin-pass",
    "officer.villeest@demo.policygap.ca": "demo-officer-pass",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on the demo data; the ids of Lakeshore's submitted and Ville-Est's draft."""
    path: Path = tmp_path_factory.mktemp("e2e-polish") / "demo.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    with db.new_session(engine) as session:
        ensure_demo(
            session=session, registry=load_directory(SHIPPED), examples_dir=SHIPPED / "examples"
        )
        ids = {
            org.slug: str(a.id)
            for a, org in session.exec(
                select(Assessment, Organisation).where(
                    Assessment.organisation_id == Organisation.id
                )
            )
            if a.status in (AssessmentStatus.submitted, AssessmentStatus.draft)
        }
    engine.dispose()
    DOCS.mkdir(parents=True, exist_ok=True)
    with server(url, POLICYGAP_QUESTIONNAIRES_DIR=str(SHIPPED)) as (base, _proc):
        yield base, ids


def _sign_in(page: Page, base: str, email: str, lang: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORDS[email])
    page.click("form button.button")
    page.wait_for_load_state("load")
    switch = page.locator(f"button[lang='{lang}']")
    if switch.count():
        switch.first.click()
        page.wait_for_load_state("load")


def _look(page: Page, base: str, url: str, name: str, lang: str) -> dict[int, int]:
    """The page at 1,280 and 390 px: a screenshot each, axe clean; its width at each."""
    widths = {}
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(base + url)
        page.wait_for_load_state("load")
        # the top of the page (at most 2,400 px): enough to judge it, small enough to keep
        height = min(2400, page.evaluate("document.documentElement.scrollHeight"))
        clip = {"x": 0, "y": 0, "width": width, "height": height}
        page.screenshot(path=str(DOCS / f"{name}-{lang}-{width}.png"), full_page=True, clip=clip)
        results = _axe.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, f"{name} {lang} {width}: {results.generate_report()}"
        widths[width] = page.evaluate("document.documentElement.scrollWidth")
    return widths


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_audit_log(page: Page, demo: tuple[str, dict[str, str]], lang: str) -> None:
    base, _ids = demo
    _sign_in(page, base, "admin@demo.policygap.ca", lang)
    widths = _look(page, base, "/admin/audit", "audit-log", lang)
    assert widths == {1280: 1280, 390: 390}  # the table scrolls in its own region
    _look(page, base, "/admin/audit?since=26/11/2026", "audit-log-date-error", lang)
    cell = page.locator("#audit tbody tr td time").first
    assert not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cell.inner_text().strip())


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_result_and_officer_pages(page: Page, demo: tuple[str, dict[str, str]], lang: str) -> None:
    base, ids = demo
    _sign_in(page, base, "officer@demo.policygap.ca", lang)
    result = f"/assessments/{ids['lakeshore']}/result"
    widths = _look(page, base, result, "result", lang)
    assert widths[1280] == 1280
    # the embedded report at the page's own type scale: the body's size, numbers on one line
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + result)
    sizes = page.evaluate(
        """() => [getComputedStyle(document.body).fontSize,
                  getComputedStyle(document.querySelector('.pg-report')).fontSize,
                  getComputedStyle(document.querySelector('.pg-report table.scores')).fontSize]"""
    )
    assert sizes[0] == sizes[1] == sizes[2]
    # each number on one line (the table wrapped "50.0 / %" and "1 / 0"): its text is one box
    lines = page.evaluate(
        """() => [...document.querySelectorAll('.pg-report table.data td.num')].map((e) => {
              const r = document.createRange(); r.selectNodeContents(e);
              return [e.textContent, new Set([...r.getClientRects()].map((b) => b.top)).size]; })"""
    )
    assert lines
    assert [text for text, count in lines if count > 1] == []
    assert page.locator("nav.page-index a[href='#pg-actions']").count() == 1


def test_a_long_section_and_its_check_page(page: Page, demo: tuple[str, dict[str, str]]) -> None:
    """Ville-Est's draft: the longest section has an index of its questions; both pages pass axe
    in English and French at both widths."""
    base, ids = demo
    questionnaire = next(q for q in load_directory(SHIPPED).all() if q.version == "1.1.0")
    longest = max(questionnaire.sections, key=lambda s: len(s.questions))
    for lang in ("en", "fr"):
        _sign_in(page, base, "officer.villeest@demo.policygap.ca", lang)
        section = f"/assessments/{ids['ville-est']}/sections/{longest.id}"
        _look(page, base, section, "section", lang)
        assert page.locator("nav.page-index li").count() > 5
        _look(page, base, section + "/check", "section-check", lang)
        page.context.clear_cookies()
