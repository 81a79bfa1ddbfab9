"""The gettext catalogue, read with Babel once per process (no compile step).

The English text is the message id. ``messages.pot`` is what Babel extracts from the Python
sources and the page templates (``babel.cfg``, ``make messages``); ``locale/fr/LC_MESSAGES/
messages.po`` holds the French. Placeholders are ``{name}``, filled with ``str.format``. Where
one English word names two things, a context tells them apart (``pgettext("date", "Submitted")``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
TEMPLATE = HERE / "messages.pot"
LANGUAGES = ("en", "fr")


def N_(message: str) -> str:
    """Marks ``message`` for extraction; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """Marks ``message`` in ``context`` for extraction (keyword ``NP_:1c,2``)."""
    return context, message


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@lru_cache
def _entries(lang: str) -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> translation for ``lang`` (empty for English)."""
    if lang not in LANGUAGES or lang == "en":
        return {}
    with po_path(lang).open("rb") as handle:
        parsed = read_po(handle, locale=lang)
    return {
        (m.context, str(m.id)): str(m.string)
        for m in parsed
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
    }


@lru_cache
def _plural_entries(lang: str) -> dict[str, tuple[str, ...]]:
    """singular msgid -> the translation's plural forms for ``lang`` (empty for English)."""
    if lang not in LANGUAGES or lang == "en":
        return {}
    with po_path(lang).open("rb") as handle:
        parsed = read_po(handle, locale=lang)
    # Babel's French has a third form (CLDR "many", for round millions): the catalogue repeats
    # the plural there, and plural_index picks from the first two
    return {
        str(m.id[0]): tuple(str(s) for s in m.string if s)
        for m in parsed
        if isinstance(m.id, tuple)
        and isinstance(m.string, tuple)
        and len([s for s in m.string if s]) >= 2
    }


def plural_index(lang: str, n: int) -> int:
    """Which plural form ``n`` takes: French says "0 évaluation", "1 évaluation",
    "2 évaluations"; English "0 assessments", "1 assessment"."""
    if lang == "fr":
        return 0 if n in (0, 1) else 1
    return 0 if n == 1 else 1


def ngettext(lang: str, singular: str, plural: str, n: int, **values: object) -> str:
    """The form of ``singular``/``plural`` that ``n`` takes in ``lang``, with ``{name}``
    placeholders filled from ``values``."""
    forms = _plural_entries(lang).get(singular) or (singular, plural)
    text = forms[min(plural_index(lang, n), len(forms) - 1)]
    return text.format(**values) if values else text


@lru_cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation for ``lang``, messages without a context (empty for English)."""
    return {msgid: text for (context, msgid), text in _entries(lang).items() if context is None}


def gettext(lang: str, message: str, **values: object) -> str:
    """``message`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    text = _entries(lang).get((None, message), message)
    return text.format(**values) if values else text


def pgettext(lang: str, context: str, message: str, **values: object) -> str:
    """``message`` in ``lang`` where ``context`` tells which sense of the English is meant."""
    text = _entries(lang).get((context, message), message)
    return text.format(**values) if values else text


class Translator:
    """``_`` for one language, handed to templates and to form validation."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def __call__(self, message: str, **values: object) -> str:
        return gettext(self.lang, message, **values)

    def pgettext(self, context: str, message: str, **values: object) -> str:
        return pgettext(self.lang, context, message, **values)

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        return ngettext(self.lang, singular, plural, n, **values)
