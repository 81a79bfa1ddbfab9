"""The one catalogue: extraction-based completeness, currency, and Babel's Canadian formats."""

from __future__ import annotations

from datetime import date

import pytest

from service.i18n import (
    catalogue,
    format_date,
    format_decimal,
    format_integer,
    format_percent,
    format_size,
    gettext,
    pgettext,
    punctuate,
)
from service.i18n.catalogue import TEMPLATE, po_path
from service.i18n.extract import extract, message_keys, read

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def extracted() -> set[tuple[str | None, str]]:
    return message_keys(extract())


def test_every_extracted_message_has_a_french_translation(
    extracted: set[tuple[str | None, str]],
) -> None:
    assert len(extracted) > 400
    french = {(m.context, str(m.id)): m.string for m in read(po_path("fr"), "fr") if m.id}
    missing = sorted((k for k in extracted if not french.get(k)), key=lambda k: k[1])
    assert missing == [], "translate these in service/i18n/locale/fr/LC_MESSAGES/messages.po"


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
