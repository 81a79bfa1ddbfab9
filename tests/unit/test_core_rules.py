"""The rules the core owns, one home each: gaps, severity and rating order, rating bands,
version order, and the document-evidence rule. Every table is computed by hand."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.questionnaire import loader
from service.questionnaire.answers import Answers
from service.questionnaire.schema import (
    Band,
    Questionnaire,
    Rating,
    RatingScheme,
    Severity,
    Verdict,
)
from service.questionnaire.submission import (
    DocumentRef,
    SubmissionRecord,
    answers_with_documents,
)
from service.questionnaire.versions import VERSION_ORDER_NOTE, version_key

DATA = Path(__file__).parent.parent / "data"

# -- what counts as a gap ------------------------------------------------------------------

GAP_TABLE = [
    (Verdict.met, False),
    (Verdict.partial, True),
    (Verdict.not_met, True),
    (Verdict.dont_know, True),
    (Verdict.unanswered, True),
    (Verdict.not_applicable, False),
]


@pytest.mark.parametrize(("verdict", "gap"), GAP_TABLE)
def test_is_gap(verdict: Verdict, gap: bool) -> None:
    assert verdict.is_gap is gap


def test_the_gap_table_covers_every_verdict() -> None:
    assert {v for v, _ in GAP_TABLE} == set(Verdict)


# -- severity and rating order -------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "rank"),
    [(Severity.critical, 0), (Severity.high, 1), (Severity.medium, 2), (Severity.low, 3)],
)
def test_severity_rank(severity: Severity, rank: int) -> None:
    assert severity.rank == rank


def test_most_severe_sorts_first() -> None:
    shuffled = [Severity.low, Severity.critical, Severity.medium, Severity.high]
    assert sorted(shuffled, key=lambda s: s.rank) == [
        Severity.critical,
        Severity.high,
        Severity.medium,
        Severity.low,
    ]


@pytest.mark.parametrize(
    ("rating", "rank"), [(Rating.red, 0), (Rating.amber, 1), (Rating.green, 2)]
)
def test_rating_rank(rating: Rating, rank: int) -> None:
    assert rating.rank == rank


# -- the band of a score -------------------------------------------------------------------

DEFAULT = RatingScheme()
# Bands given out of order, with a lowest band above 0 (the loader refuses that, but the
# function must still give a rating): below every band is the lowest band.
ODD = RatingScheme(
    bands=[
        Band(min_score=10, rating=Rating.red),
        Band(min_score=90, rating=Rating.green),
        Band(min_score=60, rating=Rating.amber),
    ]
)


@pytest.mark.parametrize(
    ("scheme", "score", "band"),
    [
        (DEFAULT, 100.0, Rating.green),
        (DEFAULT, 80.0, Rating.green),
        (DEFAULT, 79.9, Rating.amber),
        (DEFAULT, 50.0, Rating.amber),
        (DEFAULT, 49.9, Rating.red),
        (DEFAULT, 0.0, Rating.red),
        (ODD, 95.0, Rating.green),
        (ODD, 90.0, Rating.green),
        (ODD, 89.9, Rating.amber),
        (ODD, 60.0, Rating.amber),
        (ODD, 59.9, Rating.red),
        (ODD, 10.0, Rating.red),
        (ODD, 5.0, Rating.red),
    ],
)
def test_band_of(scheme: RatingScheme, score: float, band: Rating) -> None:
    assert scheme.band_of(score) is band


# -- version order -------------------------------------------------------------------------

# (a, b, expected sign of compare(a, b)): -1 when a is older, 0 the same version, 1 newer.
VERSION_TABLE = [
    ("2.0-rc1", "2.0", -1),  # a release candidate comes before its release
    ("10.0", "9.1", 1),  # numbers compare as numbers, not text
    ("1.10", "1.9", 1),
    ("1.0", "1.0.0", 0),  # trailing zero parts do not make another version
    ("1", "1.0", 0),
    ("1.0.1", "1.0", 1),
    ("1.01", "1.1", 0),
    ("1.9", "2.0-rc1", -1),  # a candidate of 2.0 is newer than any 1.x
    ("2.0-rc1", "2.0-rc2", -1),
    ("2.0-rc2", "2.0-rc10", -1),
    ("2.0-rc", "2.0-rc1", -1),  # fewer tag parts first
    ("2.0-alpha", "2.0-beta", -1),
    ("2.0-beta", "2.0-rc1", -1),
    ("2.0-beta.2", "2.0-beta.11", -1),
    ("2.0-1", "2.0-alpha", -1),  # a numeric tag part before a word
    ("2.0rc1", "2.0-rc1", 0),  # the separator before the tag is optional
    ("2.0-RC1", "2.0-rc1", 0),  # tags ignore case
    ("2.0.0-rc1", "2.0-rc1", 0),
    ("v2.0", "2.0", 0),  # a leading v is ignored
    ("2.0", "2.0-", 0),  # a separator with no tag is no tag
    ("draft", "0.1", -1),  # no number at all: before every numbered version
    ("draft", "preview", -1),
    ("2026.11", "2026.2", 1),
]


def _sign(a: str, b: str) -> int:
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)


@pytest.mark.parametrize(("a", "b", "expected"), VERSION_TABLE)
def test_version_order(a: str, b: str, expected: int) -> None:
    assert _sign(a, b) == expected
    assert _sign(b, a) == -expected


def test_versions_sort() -> None:
    shuffled = ["2.0", "1.10", "2.0-rc1", "1.9", "10.0", "2.0-beta", "1.0", "2.1"]
    assert sorted(shuffled, key=version_key) == [
        "1.0",
        "1.9",
        "1.10",
        "2.0-beta",
        "2.0-rc1",
        "2.0",
        "2.1",
        "10.0",
    ]


def test_the_rule_is_written_down() -> None:
    assert "1.0.0" in VERSION_ORDER_NOTE


_ODD_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.from_regex(r"\Av?[0-9]{1,3}(\.[0-9]{1,3}){0,3}([-._+]?[a-zA-Z0-9²٣]{0,5}){0,3}\Z")


@given(_ODD_TEXT, _ODD_TEXT, _ODD_TEXT)
def test_version_order_is_total(a: str, b: str, c: str) -> None:
    """Any two strings the loader accepts compare without raising, consistently."""
    ka, kb, kc = version_key(a), version_key(b), version_key(c)
    assert (ka < kb) + (ka == kb) + (ka > kb) == 1
    if ka <= kb and kb <= kc:
        assert ka <= kc


# -- the document-evidence rule ------------------------------------------------------------

PDF = DocumentRef(name="policy.pdf", size=10, sha256="a" * 64, media_type="application/pdf")
PNG = DocumentRef(name="sign.png", size=20, sha256="b" * 64, media_type="image/png")


@pytest.mark.parametrize(
    ("notes", "documents", "expected"),
    [
        ({}, {}, {}),
        # a document alone is evidence: the entry names it
        ({}, {"q1": [PDF]}, {"q1": f"document: policy.pdf ({'a' * 12})"}),
        (
            {},
            {"q1": [PDF, PNG]},
            {"q1": f"document: policy.pdf ({'a' * 12}); document: sign.png ({'b' * 12})"},
        ),
        # a written note stays as written
        ({"q1": "Policy 12"}, {"q1": [PDF]}, {"q1": "Policy 12"}),
        # a blank note does not hide the documents
        ({"q1": "  "}, {"q1": [PDF]}, {"q1": f"document: policy.pdf ({'a' * 12})"}),
        # an empty list of documents is no evidence
        ({}, {"q1": []}, {}),
        ({"q2": "note"}, {"q1": [PDF]}, {"q2": "note", "q1": f"document: policy.pdf ({'a' * 12})"}),
    ],
)
def test_document_evidence_rule(
    notes: dict[str, str], documents: dict[str, list[DocumentRef]], expected: dict[str, str]
) -> None:
    answers = Answers(values={"q1": "yes"}, evidence=notes)
    assert dict(answers_with_documents(answers, documents).evidence) == expected
    record = SubmissionRecord(
        questionnaire_id="x",
        questionnaire_version="1.0",
        questionnaire_sha256="c" * 64,
        as_of="2026-01-01",  # type: ignore[arg-type]
        agency="a",
        program="p",
        answers={"q1": "yes"},
        evidence=notes,
        documents=documents,
    )
    assert dict(record.to_answers().evidence) == expected


# -- the callers of the version order (regressions) ------------------------------------------


def _versions_of_mini(tmp_path: Path, versions: list[str]) -> list[Questionnaire]:
    text = (DATA / "mini.yaml").read_text(encoding="utf-8")
    for version in versions:
        name = f"mini-{version}.yaml"
        (tmp_path / name).write_text(
            text.replace('version: "1.0"', f'version: "{version}"', 1), encoding="utf-8"
        )
    registry = loader.load_directory(tmp_path)
    assert sorted(q.version for q in registry.all()) == sorted(versions)
    return registry.all()


def test_the_latest_version_is_the_release_not_its_candidate(tmp_path: Path) -> None:
    _versions_of_mini(tmp_path, ["2.0-rc1", "2.0", "1.9"])
    latest = loader.load_directory(tmp_path).latest("mini")
    assert latest is not None
    assert latest.version == "2.0"


def test_reassessment_versions_order_a_candidate_before_its_release(tmp_path: Path) -> None:
    from service.review.service import reassessment_versions

    found = _versions_of_mini(tmp_path, ["2.0-rc1", "2.0", "1.9", "10.0"])
    previous = SimpleNamespace(questionnaire_id="mini", questionnaire_version="2.0-rc1")
    usable = reassessment_versions(found, previous)  # type: ignore[arg-type]
    assert [q.version for q in usable] == ["10.0", "2.0", "2.0-rc1"]


def test_bands_from_top() -> None:
    assert [b.min_score for b in ODD.bands_from_top()] == [90, 60, 10]
    assert [b.rating for b in DEFAULT.bands_from_top()] == [Rating.green, Rating.amber, Rating.red]
