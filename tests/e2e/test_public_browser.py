"""The public records in a real browser, without signing in: the list and one record in English
and French, at 1,280 and 390 px wide; axe on each; no cookie is ever set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from service import db
from tests.builders import World, make_world, server
from tests.e2e.test_browser import audit
from tests.publication_helpers import (
    REASON,
    SECRET_NOTE,
    accepted,
    questionnaire,
    released,
    write_questionnaires,
)

pytestmark = pytest.mark.e2e
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with one released record (the evidence note and the owner withheld)."""
    folder = write_questionnaires(tmp_path_factory.mktemp("pubq") / "questionnaires")
    path = tmp_path_factory.mktemp("pub-e2e") / "pub.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world: World = make_world(engine)
    q = questionnaire(folder)
    aid = accepted(engine, world.officer_a, world.reviewer_on, q)
    record = released(
        engine,
        world.officer_a,
        world.reviewer_on,
        q,
        aid,
        {"answers/owner": "fippa-21-1", "evidence/pia_done": "fippa-14-1-c"},
    )
    engine.dispose()
    with server(url, POLICYGAP_QUESTIONNAIRES_DIR=str(folder)) as (base, _proc):
        yield base, str(record)


@pytest.mark.parametrize("width", WIDTHS)
def test_public_list_with_axe(page: Page, published: tuple[str, str], width: int) -> None:
    base, record = published
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + "/public/")
    expect(page.locator("h1")).to_have_text("Public transparency records")
    expect(page.locator(f'a[href^="/public/{record}"]')).to_be_visible()
    audit(page, f"90-public-list-{width}")
    page.goto(base + "/public/?lang=fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    audit(page, f"91-public-list-fr-{width}")
    assert page.context.cookies() == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_public_record_with_axe(
    page: Page, published: tuple[str, str], width: int, lang: str
) -> None:
    base, record = published
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/public/{record}?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    main = page.locator("main")
    if lang == "en":
        expect(main).to_contain_text(f"Withheld: {REASON}")
    else:
        expect(main).to_contain_text("LAIPVP, al. 14(1)c)")
    assert SECRET_NOTE not in page.content()
    # no horizontal scrolling at the narrow width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    audit(page, f"92-public-record-{lang}-{width}")
    # the switch leads to the other language
    page.locator("header a[hreflang]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr" if lang == "en" else "en")
    assert page.context.cookies() == []
