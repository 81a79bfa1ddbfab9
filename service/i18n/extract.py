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

from babel.messages.catalog import Catalog
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


def message_keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, str(m.id)) for m in catalog if m.id and isinstance(m.id, str)}


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update() -> list[tuple[str | None, str]]:
    """Write the template, add new messages to the French catalogue; return the new ones."""
    found = extract()
    with TEMPLATE.open("wb") as handle:
        write_po(handle, found, width=0, omit_header=True, sort_output=True, no_location=True)
    french = read(po_path("fr"), "fr")
    new = sorted(message_keys(found) - message_keys(french), key=lambda k: (k[1], k[0] or ""))
    for context, message in new:
        french.add(message, "", context=context)
    with po_path("fr").open("wb") as handle:
        write_po(handle, french, width=0, sort_output=True, no_location=True)
    return new


if __name__ == "__main__":
    added = update()
    for context, message in added:
        print(f"new, to translate: {context + ' | ' if context else ''}{message}")  # noqa: T201
    sys.exit(0)
