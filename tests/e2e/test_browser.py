"""The officer's journey in a real browser, keyboard only; axe on every page and state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from service import db
from service.questionnaire.loader import load_directory
from tests.builders import PASSWORD, ROOT, World, make_world, server
from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
_axe = Axe()
checked: list[str] = []


def audit(page: Page, name: str) -> None:
    """Save a screenshot and fail on any axe violation."""
    page.wait_for_load_state("load")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = _axe.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    checked.append(name)


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus.

    It waits for the state it needs, never for a time: the page loaded (so its script has run,
    which may move the focus to an error summary) and the element shown; and it returns only
    once the element has the focus, so the next key press goes to it."""
    page.wait_for_load_state("load")
    matches = page.locator(selector)
    expect(matches.filter(visible=True).first).to_be_visible()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            expect(matches.and_(page.locator(":focus"))).to_be_focused()
            return
    raise AssertionError(f"could not reach {selector} with the keyboard")


def press(page: Page, selector: str, key: str = "Enter") -> None:
    """Press ``key`` on the element matching ``selector``, reached by keyboard."""
    tab_to(page, selector)
    page.keyboard.press(key)


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)
    expect(page.locator(selector).first).to_have_value(re.compile(re.escape(text)))


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    type_into(page, "#email", email)
    type_into(page, "#password", PASSWORD)
    press(page, "button.button")
    # each role lands on the page of its main job
    page.wait_for_url(re.compile(r".*/(assessments/|review/|board/|admin/organisations)$"))


def test_keyboard_journey_with_axe_on_every_page(page: Page, live: tuple[str, World]) -> None:
    base, world = live
    page.goto(base + "/login")
    audit(page, "01-login")
    press(page, "button.button")  # empty form: errors
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_be_focused()
    audit(page, "02-login-errors")
    type_into(page, "#email", world.officer_a.email)
    type_into(page, "#password", PASSWORD)
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/assessments/$"))
    audit(page, "03-dashboard")

    press(page, "a[href='/assessments/new']")
    page.wait_for_url(re.compile(r".*/assessments/new$"))
    audit(page, "04-start")
    press(page, "button.button")
    expect(page).to_have_title(re.compile(r"^Error: "))
    audit(page, "05-start-errors")
    type_into(page, "#program", "Retrospective search <trial>")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/assessments/[0-9a-f-]{36}/$"))
    base_url = page.url.rstrip("/")
    audit(page, "06-task-list-new")

    press(page, "a[href$='/sections/scope']")
    page.wait_for_url(re.compile(r".*/scope$"))
    audit(page, "07-section-blank")
    tab_to(page, "#body_type")
    page.keyboard.press("ArrowDown")  # second option: municipal police
    tab_to(page, "#uses")
    page.keyboard.press("Space")
    type_into(page, "#searches", "many")
    press(page, "button[value='continue']")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_be_focused()
    audit(page, "08-section-errors")
    tab_to(page, "#searches")
    page.keyboard.press("Control+A")
    page.keyboard.type("150")
    press(page, "button[value='continue']")
    page.wait_for_url(re.compile(r".*/scope/check$"))
    audit(page, "09-section-check")
    press(page, "button.button")  # no choice: error
    expect(page).to_have_title(re.compile(r"^Error: "))
    audit(page, "10-section-check-errors")
    tab_to(page, "#completed")
    page.keyboard.press("Space")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/$"))
    audit(page, "11-task-list-part-done")

    press(page, "a[href$='/sections/governance']")
    page.wait_for_url(re.compile(r".*/governance$"))
    expect(page.locator("[data-question-id='pia_date']")).to_be_hidden()
    tab_to(page, "#pia_done")
    page.keyboard.press("Space")  # "Yes": the script shows the date question at once
    expect(page.locator("[data-question-id='pia_date']")).to_be_visible()
    press(page, "summary")  # guidance and law
    audit(page, "12-section-conditional-open")
    type_into(page, "#pia_date", "2021-03-01")
    type_into(page, "#evidence-pia_done", "PIA v2 signed 2021-03-01, records office")
    press(page, "button[value='continue']")
    page.wait_for_url(re.compile(r".*/governance/check$"))
    tab_to(page, "#completed")
    page.keyboard.press("Space")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/$"))

    press(page, "a[href$='/check-your-answers']")
    page.wait_for_url(re.compile(r".*/check-your-answers$"))
    audit(page, "13-check-answers")
    press(
        page, "a[href*='/sections/scope?return=all#searches']"
    )  # Change link goes back to check answers
    page.wait_for_url(re.compile(r".*/scope\?return=all#searches$"))
    press(page, "button[value='continue']")
    page.wait_for_url(re.compile(r".*/check-your-answers$"))
    press(page, "#confirm", " ")  # the optional questions left unanswered, confirmed by name
    press(page, "form[action$='/check-your-answers'] button")
    page.wait_for_url(re.compile(r".*/submitted$"))
    audit(page, "14-submitted")
    press(page, "a[href$='/result']")
    page.wait_for_url(re.compile(r".*/result$"))
    audit(page, "15-result")
    page.goto(base_url + "/history")
    audit(page, "16-history")
    page.goto(base_url + "/")
    audit(page, "17-task-list-submitted")


def test_other_pages_and_french(page: Page, live: tuple[str, World]) -> None:
    base, world = live
    sign_in(page, base, world.officer_b.email)
    page.goto(base + "/assessments/new")
    type_into(page, "#program", "Programme B")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/$"))
    assessment = page.url.rstrip("/")
    page.goto(assessment + "/import")
    audit(page, "20-import")
    page.goto(base + "/account/tokens")
    audit(page, "21-tokens")
    # Issue 16: a token with its access, expiry and last use in the table.
    type_into(page, "#name", "Nightly export")
    page.check("#scope-read")
    page.select_option("#days", "30")
    press(page, "form[action='/account/tokens'] button.button")
    expect(page.locator("#new-token")).to_be_visible()
    expect(page.locator("table.table")).to_contain_text("Read only")
    audit(page, "21a-tokens-created")
    page.goto(base + "/questionnaires")
    audit(page, "22-questionnaires")
    page.goto(base + "/assessments/00000000-0000-0000-0000-000000000000/")
    audit(page, "23-not-found")
    page.goto(assessment + "/sections/governance")
    press(page, "button[lang='fr']")  # the language switch, remembered for the user
    page.wait_for_url(re.compile(r".*/governance$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Vérifier la gouvernance")
    audit(page, "24-section-fr")
    press(page, "button[value='continue']")
    page.wait_for_url(re.compile(r".*/governance/check$"))
    press(page, "button.button")
    expect(page).to_have_title(re.compile("^Erreur\u00a0: "))
    audit(page, "25-section-check-errors-fr")
    page.goto(base + "/assessments/")
    audit(page, "26-dashboard-fr")


SHIPPED = ROOT / "questionnaires"


@pytest.mark.skipif(not list(SHIPPED.glob("*.yaml")), reason="no shipped questionnaire yet")
def test_shipped_questionnaire_pages_pass_axe(page: Page, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shipped.sqlite3'}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    engine.dispose()
    questionnaire = load_directory(SHIPPED).all()[0]
    with server(url, POLICYGAP_QUESTIONNAIRES_DIR=str(SHIPPED)) as (base, _proc):
        sign_in(page, base, world.officer_a.email)
        page.goto(base + "/assessments/new")
        page.fill("#program", "Shipped questionnaire")
        page.click("button.button")
        page.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/$"))
        assessment = page.url.rstrip("/")
        audit(page, "30-shipped-task-list")
        for section in questionnaire.sections:
            page.goto(f"{assessment}/{section.id.replace('_', '-')}")
            audit(page, f"31-shipped-{section.id}")


def test_pages_that_keep_what_was_typed(
    page: Page, live: tuple[str, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conflict page (409: someone saved first; 428: the form named no version) and the
    page of a database that cannot be written (503) show what was typed, and pass axe."""
    base, world = live
    sign_in(page, base, world.officer_a.email)
    page.goto(base + "/assessments/new")
    type_into(page, "#program", "Conflicts")
    press(page, "button.button")
    page.wait_for_url(re.compile(r".*/assessments/[0-9a-f-]{36}/$"))
    section = page.url + "sections/governance"
    page.goto(section)
    colleague = page.context.new_page()  # the same officer in another tab saves first
    colleague.goto(section)
    type_into(colleague, "#evidence-pia_done", "Saved in the other tab")
    press(colleague, "button[value='later']")
    colleague.wait_for_url(re.compile(r".*/[0-9a-f-]{36}/\?notice=saved$"))
    colleague.close()
    type_into(page, "#evidence-pia_done", "Typed in this tab")
    press(page, "button[value='continue']")
    expect(page.locator("h1")).to_have_text("Your changes were not saved")
    expect(page.locator("main")).to_contain_text("Typed in this tab")
    expect(page.locator("main")).to_contain_text("Saved in the other tab")
    audit(page, "50-conflict")
    page.goto(section)
    page.locator("input[name='version']").evaluate("(field) => field.remove()")
    type_into(page, "#evidence-pia_done", " and more")
    press(page, "button[value='continue']")
    expect(page.locator("main")).to_contain_text("did not say which version")
    audit(page, "51-version-missing")

    # 503: rendered by an app whose database refuses every commit, shown at the live origin
    import sqlite3

    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    from service.main import create_app
    from tests.builders import csrf_from, login, start_assessment, version_from
    from tests.conftest import make_settings

    url = f"sqlite:///{tmp_path / 'full.sqlite3'}"
    db.upgrade_to_head(url)
    app = create_app(make_settings(url))
    other = make_world(app.state.engine)
    with TestClient(app) as client:
        login(client, other.officer_a.email)
        assessment = start_assessment(client)
        form = client.get(assessment + "/sections/governance")

        def full(self: Session) -> None:
            raise OperationalError("COMMIT", None, sqlite3.OperationalError("database is full"))

        monkeypatch.setattr(Session, "commit", full)
        r = client.post(
            assessment + "/sections/governance",
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_from(form.text),
                "evidence-pia_done": "Typed while the disk was full",
                "action": "continue",
            },
        )
        monkeypatch.undo()
    app.state.engine.dispose()
    assert r.status_code == 503
    page.goto(base + "/login")
    page.set_content(r.text)
    expect(page.locator("main")).to_contain_text("Typed while the disk was full")
    audit(page, "52-unavailable")
