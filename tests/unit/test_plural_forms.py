"""Plural forms from the catalogue: "1 assessment matches", never "1 assessments match"."""

from __future__ import annotations

import pytest

from service.i18n.catalogue import Translator

ONE = "{total} assessment matches. Page {page} of {pages}."
MANY = "{total} assessments match. Page {page} of {pages}."


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 0, "0 assessments match. Page 1 of 1."),
        ("en", 1, "1 assessment matches. Page 1 of 1."),
        ("en", 2, "2 assessments match. Page 1 of 1."),
        ("fr", 0, "0 évaluation correspond. Page 1 sur 1."),
        ("fr", 1, "1 évaluation correspond. Page 1 sur 1."),
        ("fr", 2, "2 évaluations correspondent. Page 1 sur 1."),
    ],
)
def test_plural_forms_follow_each_language(lang: str, n: int, expected: str) -> None:
    assert Translator(lang).ngettext(ONE, MANY, n, total=n, page=1, pages=1) == expected
