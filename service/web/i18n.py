"""Interface strings in English and French.

The English text is the message id; the ``*.po`` files in ``locale/fr/LC_MESSAGES/`` hold the
French (``messages.po`` for the officer's journey, one file per other area, merged in name order).
The catalogue is read with Babel once per process. Questionnaire text comes from the YAML instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "fr")


@lru_cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation for ``lang`` (empty for English)."""
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            parsed = read_po(handle, locale=lang)
        merged.update(
            (str(m.id), str(m.string))
            for m in parsed
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
        )
    return merged


def gettext(lang: str, message: str, **values: object) -> str:
    """``message`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    text = catalogue(lang).get(message, message)
    return text.format(**values) if values else text


class Translator:
    """``_`` for one language, handed to templates and to form validation."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def __call__(self, message: str, **values: object) -> str:
        return gettext(self.lang, message, **values)
