"""Every page state of the browser suite, in French: no English word of the catalogue is left,
and one concept has one French label.

The English words are those of the catalogue's messages (``messages.pot``); a word that the
French catalogue also uses (``Section``, ``Version``, ``Document``...) is spelled the same in
both languages and allowed, and so are the names the test data brings (people, agencies,
e-mail addresses). The second check: the French label of each verdict, rating, severity and
status is the one of ``service.i18n.labels``, and no retired or other French label for the
same English word shows up on a page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page
from sqlmodel import select

from service import db
from service.assessments import service as assessment_service
from service.i18n import labels
from service.models import Organisation, User
from tests.builders import PASSWORD, World, make_world, server
from tests.review.helpers import GOOD, answer, decide, mini, resubmit, submitted, viewer

pytestmark = pytest.mark.e2e

I18N = Path(__file__).resolve().parents[2] / "service" / "i18n"
_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?:['’][^\W\d_]+)?(?![\w-])", re.UNICODE)
_PLACEHOLDER = re.compile(r"\{[^}]*\}|%\([^)]*\)[sd]|%[sd]")

# Words of the English catalogue that are also French, though the French catalogue happens
# not to use them, and names of the product and of standards.
ALLOW = {
    "policygap",
    "pdf",
    "html",
    "csv",
    "json",
    "api",
    "utc",
    "totp",
    "yaml",
    "url",
    "id",
    "ok",
    "oui",
}
# French labels retired when the vocabularies were merged (tests/web/test_vocabulary.py)
RETIRED = ("Satisfait", "Partiellement satisfait", "Non satisfait", "Orange", "Lacune")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(_PLACEHOLDER.sub(" ", text))}


def _catalogue_words() -> tuple[set[str], set[str]]:
    """(words of the English messages, words of their French translations)."""
    with (I18N / "messages.pot").open("rb") as f:
        template = read_po(f)
    with (I18N / "locale" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        french = read_po(f, locale="fr")
    english: set[str] = set()
    for message in template:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            english |= _words(msgid)
    translated: set[str] = set()
    for message in french:
        for msgstr in message.string if isinstance(message.string, tuple) else (message.string,):
            translated |= _words(msgstr or "")
    return english, translated


def _other_french_labels() -> dict[str, str]:
    """French words that name a verdict, rating, severity or status elsewhere in the catalogue
    (the same English word translated another way), each with the label it must give way to."""
    with (I18N / "locale" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        french = read_po(f, locale="fr")
    concepts = (
        (labels.VERDICTS, labels.verdict_label),
        (labels.RATINGS, labels.rating_label),
        (labels.SEVERITIES, labels.severity_label),
        (labels.STATUSES, labels.status_label),
    )
    chosen: dict[str, str] = {}  # English label -> its one French label
    for table, label in concepts:
        for value, english in table.items():
            chosen[english] = label(value, "fr")
    others: dict[str, str] = dict.fromkeys(RETIRED, "(retired)")
    for message in french:
        if isinstance(message.id, tuple) or message.id not in chosen:
            continue
        if message.context is None and message.string and message.string != chosen[message.id]:
            others[message.string] = chosen[message.id]
    return others


@dataclass
class Walk:
    base: str
    world: World
    draft: str
    done: str  # submitted, waiting for review
    changed: str
    returned: str
    accepted: str
    names: set[str]
    emails: dict[uuid.UUID, str]


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    path = tmp_path_factory.mktemp("e2e-french") / "french.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    with db.new_session(engine) as s, db.writing(s):  # named before any submission freezes a name
        for number, org in enumerate(s.exec(select(Organisation)).all()):
            org.name_en = org.name_fr = f"Organisme {number}"
            s.add(org)
    bad = {**GOOD, "pia_done": "no", "pia_date": None}
    changed = submitted(engine, world.officer_a, bad, program="Projet pilote de reconnaissance")
    decide(engine, world.reviewer_on, changed, "return", {"GOV-01": "Terminez d'abord l'EFVP"})
    answer(engine, world.officer_a, changed, {"pia_done": "yes", "pia_date": "2026-01-01"})
    resubmit(engine, world.officer_a, changed)
    returned = submitted(engine, world.officer_a, bad, program="Recherche de photos signalétiques")
    decide(
        engine,
        world.reviewer_on,
        returned,
        "return",
        {"GOV-01": "Une EFVP est requise"},
        "Veuillez répondre de nouveau",
    )
    accepted = submitted(engine, world.officer_a, bad, program="Recherche rétrospective")
    decide(engine, world.reviewer_on, accepted, "accept", {"GOV-01": "Prévoir l'EFVP"})
    done = submitted(engine, world.officer_a, GOOD, program="Programme soumis")
    with db.new_session(engine) as s:
        draft = assessment_service.start(
            session=s,
            viewer=viewer(engine, world.officer_a),
            questionnaire=mini(),
            program="Brouillon",
        ).id
    answer(engine, world.officer_a, draft, {"body_type": "municipal"})
    # people and organisations with names that are no English word
    emails = {}
    with db.new_session(engine) as s, db.writing(s):
        for number, user in enumerate(s.exec(select(User)).all()):
            user.language = "fr"  # each person reads French
            user.full_name = f"Camille Gagnon {number}"
            user.email = emails[user.id] = f"personne{number}@exemple.ca"
            s.add(user)
    names = _words("Camille Gagnon personne exemple ca Organisme")
    # identifiers the audit detail shows as they are (section ids of the test questionnaire)
    names |= {section.id for section in mini().sections}
    engine.dispose()
    with server(url) as (base, _proc):
        yield Walk(
            base,
            world,
            str(draft),
            str(done),
            str(changed),
            str(returned),
            str(accepted),
            names,
            emails,
        )


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.button")
    page.wait_for_load_state("load")


def _shown_text(page: Page) -> str:
    """What a reader sees or hears: the text, the title, and the labels of controls; without
    what is marked as another language (the "English" of the language switch, the links to the
    English report), as not to be translated (the machine-readable statement of a report) or
    as code (the rules of the report's method table, in the questionnaire's expression
    language)."""
    return page.evaluate(
        """() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll(
                '[lang]:not([lang^="fr"]), [translate="no"], .code, script, style')
                .forEach(e => e.remove());
            const labelled = [...body.querySelectorAll('[aria-label],[title],[placeholder],[alt]')]
                .map(e => ['aria-label', 'title', 'placeholder', 'alt']
                    .map(a => e.getAttribute(a) || '').join(' '));
            document.documentElement.appendChild(body);
            body.hidden = false;
            const text = body.innerText;
            body.remove();
            return [document.title, text, ...labelled].join('\\n');
        }"""
    )


def _walk(page: Page, base: str, paths: list[str]) -> dict[str, str]:
    shown = {}
    for path in paths:
        response = page.goto(base + path)
        assert response is not None
        assert page.locator("html").get_attribute("lang") == "fr", path
        shown[path] = _shown_text(page)
    return shown


def test_every_page_in_french(browser: Browser, walk: Walk) -> None:
    english, french = _catalogue_words()
    suspects = english - french - ALLOW - walk.names
    others = _other_french_labels()
    context = browser.new_context(locale="fr-CA")
    page = context.new_page()
    shown = _walk(page, walk.base, ["/login"])
    officer = [
        "/assessments/",
        "/assessments/new",
        f"/assessments/{walk.draft}/",
        f"/assessments/{walk.draft}/sections/scope",
        f"/assessments/{walk.draft}/sections/governance",
        f"/assessments/{walk.done}/",
        f"/assessments/{walk.done}/submitted",
        f"/assessments/{walk.done}/result",
        f"/assessments/{walk.done}/history",
        f"/assessments/{walk.returned}/",
        f"/assessments/{walk.returned}/sections/governance",
        f"/assessments/{walk.returned}/sections/governance/check",
        f"/assessments/{walk.returned}/import",
        f"/assessments/{walk.accepted}/reassess",
        "/assessments/00000000-0000-0000-0000-000000000000/",
        "/account/tokens",
        "/questionnaires",
    ]
    reviewer = [
        "/review/",
        "/review/?from=hier",
        f"/review/{walk.changed}",
        f"/review/{walk.accepted}",
        "/review/portfolio",
    ]
    board = ["/board/", f"/board/{walk.accepted}"]
    admin = [
        "/admin",
        "/admin/organisations",
        "/admin/organisations/new?kind=agency",
        "/admin/organisations/new?kind=regulator",
        "/admin/organisations/new?kind=board",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{walk.world.officer_a.id}",
        "/admin/questionnaires",
        "/admin/audit",
        "/account/security",
    ]
    for user, paths in (
        (walk.world.officer_a, officer),
        (walk.world.reviewer_on, reviewer),
        (walk.world.board_a, board),
        (walk.world.admin, admin),
    ):
        context.clear_cookies()
        _sign_in(page, walk.base, walk.emails[user.id])
        shown |= _walk(page, walk.base, paths)
    context.close()
    problems = []
    for path, text in shown.items():
        left = sorted(_words(text) & suspects)
        if left:
            lines = [ln for ln in text.splitlines() if _words(ln) & set(left)][:6]
            problems.append(f"{path}: English {left} in {lines}")
        for word, label in others.items():
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                problems.append(f"{path}: {word!r} where the label is {label!r}")
    assert not problems, "\n".join(problems)
