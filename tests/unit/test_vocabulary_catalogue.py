"""The one catalogue: extraction-based completeness, currency, and Babel's Canadian formats."""

from __future__ import annotations

from datetime import date

import pytest

from service.i18n import (
    catalogue,
    format_date,
    format_decimal,
    format_integer,
    format_number,
    format_percent,
    format_size,
    gettext,
    pgettext,
    punctuate,
)
from service.i18n.catalogue import TEMPLATE, po_path
from service.i18n.extract import extract, message_key, message_keys, read, translated

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def extracted() -> set[tuple[str | None, str]]:
    return message_keys(extract())


def test_every_extracted_message_has_a_french_translation(
    extracted: set[tuple[str | None, str]],
) -> None:
    assert len(extracted) > 400
    french = {message_key(m): translated(m) for m in read(po_path("fr"), "fr") if m.id}
    missing = sorted((k for k in extracted if not french.get(k)), key=lambda k: k[1])
    assert missing == [], "translate these in service/i18n/locale/fr/LC_MESSAGES/messages.po"


def test_plural_messages_are_extracted_and_checked(
    extracted: set[tuple[str | None, str]],
) -> None:
    """ngettext messages count like the others (extraction once skipped them, so a new plural
    message reached the French catalogue only by hand)."""
    assert (None, "{count} warning") in extracted
    assert (None, "{closed} of {total} action closed") in extracted


def test_the_template_is_current(extracted: set[tuple[str | None, str]]) -> None:
    template = message_keys(read(TEMPLATE))
    assert extracted - template == set(), "run: make messages"
    assert template - extracted == set(), "run: make messages"


def test_french_punctuation_as_written_in_canada() -> None:
    """A no-break space before ":" and none before ";", "!" and "?" in every French string."""
    bad = []
    for message in read(po_path("fr"), "fr"):
        if not message.id:
            continue
        text = str(message.string or "")
        if " :" in text or any(f"{space}{mark}" in text for space in (" ", NBSP) for mark in ";!?"):
            bad.append((message.id, text))
    assert bad == []


def test_a_context_separates_two_senses_of_one_english_word() -> None:
    assert gettext("fr", "Submitted") == "Soumise"  # the status
    assert pgettext("fr", "date", "Submitted") == "Soumis le"  # the date it was submitted
    assert pgettext("fr", "risk", "high") == "élevé"
    assert "Submitted" in catalogue("fr")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", f"80.0{NBSP}MB"), ("fr", f"80,0{NBSP}Mo")],
)
def test_sizes(lang: str, expected: str) -> None:
    assert format_size(80 * 1024 * 1024, lang) == expected


def test_small_sizes_and_numbers() -> None:
    assert format_size(512, "fr") == f"512{NBSP}o"
    assert format_size(1536, "en") == f"1.5{NBSP}KB"
    assert format_integer(1234567, "en") == "1,234,567"
    assert format_integer(1234567, "fr") == f"1{NBSP}234{NBSP}567"
    assert format_decimal(25.55, "fr", digits=2) == "25,55"
    assert format_percent(86.24, "fr") == f"86,2{NBSP}%"
    assert format_percent(86.24, "en") == f"86.2{NBSP}%"


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (12, "en", "12"),
        (1.5, "fr", "1,5"),
        (250000, "en", "250,000"),
        (250000, "fr", f"250{NBSP}000"),
    ],
)
def test_answered_numbers_as_each_language_writes_them(
    value: float, lang: str, expected: str
) -> None:
    assert format_number(value, lang) == expected


def test_the_report_writes_answered_numbers_and_scores_with_babel() -> None:
    """The report view's numbers come from service.i18n.formats: "250 000" and "86,2 %" in French."""
    from service.questionnaire.schema import Question
    from service.report.view import _answer_text, percent

    question = Question.model_validate(
        {"id": "searches", "type": "number", "text": {"en": "Searches", "fr": "Recherches"}}
    )
    assert _answer_text(question, 250000, "fr") == f"250{NBSP}000"
    assert _answer_text(question, 250000, "en") == "250,000"
    assert percent(86.24, "fr").startswith("86,2")


def test_dates() -> None:
    day = date(2026, 11, 26)
    assert format_date(day, "en") == "November 26, 2026"
    assert format_date(day, "fr") == "26 novembre 2026"
    assert format_date(day, "fr", style="short") == "2026-11-26"


def test_punctuate() -> None:
    assert punctuate("Cote : Rouge", "fr") == f"Cote{NBSP}: Rouge"
    assert punctuate("Cote: Rouge", "fr") == f"Cote{NBSP}: Rouge"
    assert punctuate("Vraiment ?", "fr") == "Vraiment?"
    assert punctuate("https://example.ca 10:30", "fr") == "https://example.ca 10:30"
    assert punctuate("Rating: Red", "en") == "Rating: Red"


def test_messages_passed_around_as_values_are_extracted(
    extracted: set[tuple[str | None, str]],
) -> None:
    """Error texts raised as values (errors.py, admin, archives, documents) and the reasons of
    the report are marked ``N_``, so the completeness test above sees them."""
    for message in (
        "Sign in to continue",  # service/errors.py
        "No such organisation",  # service/admin/service.py
        "Enter the name in French",  # admin's form problems
        "The archive is damaged",  # service/documents/archive.py
        "The file is too large",  # service/documents/service.py
        "The report could not be produced. Try again in a few minutes",  # report delivery
        "no evidence noted on {questions}",  # service/report/reasons.py
    ):
        assert (None, message) in extracted, message
