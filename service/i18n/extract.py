"""``make messages``: extract the messages with Babel and bring the catalogue up to date.

``python -m service.i18n.extract`` writes ``messages.pot`` from the Python sources and the page
templates (the mapping is ``babel.cfg`` at the repository root) and adds any new message to
``locale/fr/LC_MESSAGES/messages.po`` with an empty translation, for a translator to fill in.
Messages of the .po that extraction does not find are kept: they are texts passed as values
(error messages raised by the domain and translated where they are shown).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from service.i18n.catalogue import TEMPLATE, po_path

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"
# gettext's usual names, plus the two markers of service.i18n.catalogue
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "NP_": ((1, "c"), 2)}


def extract() -> Catalog:
    """What Babel finds in the sources today, without locations (the diff stays small)."""
    with MAPPING.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    found = Catalog(project="PolicyGap", charset="utf-8")
    for _path, _line, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        found.add(message, None, auto_comments=comments, context=context)
    return found


def message_key(message: Message) -> tuple[str | None, str]:
    """(context, English): a plural message by its singular."""
    return message.context, message.id if isinstance(message.id, str) else str(message.id[0])


def message_keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {message_key(m) for m in catalog if m.id}


def translated(message: Message) -> bool:
    """Whether a catalogue message has its French (every plural form, for a plural one)."""
    string = message.string
    if isinstance(string, str):
        return bool(string)
    return bool(string) and all(string or ())


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update() -> list[tuple[str | None, str]]:
    """Write the template, add new messages to the French catalogue; return the new ones."""
    found = extract()
    with TEMPLATE.open("wb") as handle:
        write_po(handle, found, width=0, omit_header=True, sort_output=True, no_location=True)
    french = read(po_path("fr"), "fr")
    known = message_keys(french)
    fresh = [m for m in found if m.id and message_key(m) not in known]
    for m in fresh:
        # a plural message gets one empty form per French plural form, for a translator to fill
        empty: str | tuple[str, ...] = "" if isinstance(m.id, str) else ("",) * french.num_plurals
        french.add(m.id, empty, context=m.context)
    new = sorted((message_key(m) for m in fresh), key=lambda k: (k[1], k[0] or ""))
    with po_path("fr").open("wb") as handle:
        write_po(handle, french, width=0, sort_output=True, no_location=True)
    return new


if __name__ == "__main__":
    added = update()
    for context, message in added:
        print(f"new, to translate: {context + ' | ' if context else ''}{message}")  # noqa: T201
    sys.exit(0)
