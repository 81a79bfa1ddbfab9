"""docs/security.md names, for each ASVS row, the test that shows it: every test it names exists.

A reference is ``tests/x/test_y.py`` (the file) or ``tests/x/test_y.py::test_name``; a
``::test_name`` that follows in the same cell belongs to the file named last before it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _references() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        for cell in line.split(" | "):
            last: str | None = None
            for match in REFERENCE.finditer(cell):
                path, name = match.group(1), match.group(2)
                if path is None and name is None:
                    continue
                last = path or last
                assert last is not None, f"{match.group(0)} names no file before it: {cell}"
                found.append((last, name))
    return found


def test_every_test_named_in_the_security_doc_exists() -> None:
    references = _references()
    assert len(references) > 30
    missing = []
    for path, name in references:
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name is not None and not re.search(
            rf"^(?:async )?def {name}\(", source.read_text(encoding="utf-8"), re.M
        ):
            missing.append(f"{path}::{name}")
    assert not missing, missing
