"""Scoring rules, by hand-computed cases on tests/data/scoring.yaml.

Weights: critical 8, high 4, medium 2, low 1. With live use off, the applicable criteria are
CRT-01 (8), HIG-01 (4), MED-01 (2), LOW-01 (1), TOP-01 (4), REV-01 (2), GAL-01 (8) = 29.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.reasons import ReasonCode, reason
from service.questionnaire.schema import Questionnaire, Verdict

DATA = Path(__file__).parent.parent / "data"
AS_OF = date(2026, 1, 1)


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    result = loader.load_file(DATA / "scoring.yaml")
    assert result.questionnaire is not None, [p.format() for p in result.problems]
    return result.questionnaire


GOOD: dict[str, Any] = {
    "body_type": "police",
    "province": "on",
    "q_crit": "yes",
    "q_high": "yes",
    "q_med": "yes",
    "q_low": "yes",
    "uses_live": "no",
    "topics": ["a", "b", "c", "d"],
    "review_date": "2025-06-01",
    "gallery": "mugshots",
}
EVIDENCE = {"q_med": "Policy 12, approved 2025-03-01"}


def answers(
    changes: dict[str, Any] | None = None, evidence: dict[str, str] | None = None
) -> Answers:
    values = {**GOOD, **(changes or {})}
    values = {k: v for k, v in values.items() if v is not None}
    return Answers(values=values, evidence=EVIDENCE if evidence is None else evidence)


# name, answer changes, evidence, expected verdicts (only those that differ from met),
# score, band rating, rating, gates fired
CASES: list[
    tuple[
        str, dict[str, Any], dict[str, str] | None, dict[str, Verdict], float, str, str, list[str]
    ]
] = [
    ("all met", {}, None, {"LIV-01": Verdict.not_applicable}, 100.0, "green", "green", []),
    (
        "met without evidence counts as partial",
        {},
        {},
        {"LIV-01": Verdict.not_applicable, "MED-01": Verdict.partial},
        96.6,  # (29 - 2 * 0.5) / 29
        "green",
        "green",
        [],
    ),
    (
        "escalated severity weighs 8 and fires the critical gate",
        {"province": "qc", "q_high": "no"},
        None,
        {"LIV-01": Verdict.not_applicable, "HIG-01": Verdict.not_met},
        75.8,  # (33 - 8) / 33
        "amber",
        "red",
        ["critical_gap"],
    ),
    (
        "high not met caps at amber",
        {"q_high": "no"},
        None,
        {"LIV-01": Verdict.not_applicable, "HIG-01": Verdict.not_met},
        86.2,  # 25 / 29
        "green",
        "amber",
        ["high_gap"],
    ),
    (
        "don't know scores as not met and fires the gate",
        {"q_crit": "dont_know"},
        None,
        {"LIV-01": Verdict.not_applicable, "CRT-01": Verdict.dont_know},
        72.4,  # 21 / 29
        "amber",
        "red",
        ["critical_gap"],
    ),
    (
        "unanswered scores as not met and marks the assessment incomplete",
        {"q_low": None},
        None,
        {"LIV-01": Verdict.not_applicable, "LOW-01": Verdict.unanswered},
        96.6,  # 28 / 29
        "green",
        "amber",
        ["incomplete"],
    ),
    (
        "a live use not authorised is critical",
        {"uses_live": "yes", "live_ok": "no"},
        None,
        {"LIV-01": Verdict.not_met},
        78.4,  # 29 / 37
        "amber",
        "red",
        ["critical_gap"],
    ),
    (
        "partly is partial credit",
        {"q_low": "partly"},
        None,
        {"LIV-01": Verdict.not_applicable, "LOW-01": Verdict.partial},
        98.3,  # 28.5 / 29
        "green",
        "green",
        [],
    ),
    (
        "two of four topics is partial",
        {"topics": ["a", "b"]},
        None,
        {"LIV-01": Verdict.not_applicable, "TOP-01": Verdict.partial},
        93.1,  # 27 / 29
        "green",
        "green",
        [],
    ),
    (
        "one topic falls through to otherwise",
        {"topics": ["c"]},
        None,
        {"LIV-01": Verdict.not_applicable, "TOP-01": Verdict.not_met},
        86.2,
        "green",
        "amber",
        ["high_gap"],
    ),
    (
        "a review 25 whole months ago is partial",
        {"review_date": "2023-12-01"},
        None,
        {"LIV-01": Verdict.not_applicable, "REV-01": Verdict.partial},
        96.6,
        "green",
        "green",
        [],
    ),
    (
        "a review 24 whole months ago is met",
        {"review_date": "2023-12-31"},
        None,
        {"LIV-01": Verdict.not_applicable},
        100.0,
        "green",
        "green",
        [],
    ),
    (
        "a dont_know option of a single choice is don't know",
        {"gallery": "unknown"},
        None,
        {"LIV-01": Verdict.not_applicable, "GAL-01": Verdict.dont_know},
        72.4,
        "amber",
        "red",
        ["critical_gap"],
    ),
    (
        "a mapped option gives its verdict",
        {"gallery": "scraped"},
        None,
        {"LIV-01": Verdict.not_applicable, "GAL-01": Verdict.not_met},
        72.4,
        "amber",
        "red",
        ["critical_gap"],
    ),
    (
        "a low score gives red by band alone",
        {
            "q_crit": "partly",
            "q_high": "no",
            "q_med": "no",
            "q_low": "no",
            "topics": ["a"],
            "review_date": "2020-01-01",
        },
        None,
        {
            "LIV-01": Verdict.not_applicable,
            "CRT-01": Verdict.partial,
            "HIG-01": Verdict.not_met,
            "MED-01": Verdict.not_met,
            "LOW-01": Verdict.not_met,
            "TOP-01": Verdict.not_met,
            "REV-01": Verdict.partial,
        },
        44.8,  # (4 + 8 + 1) / 29
        "red",
        "red",
        ["high_gap"],
    ),
]


@pytest.mark.parametrize(
    ("name", "changes", "evidence", "verdicts", "score", "band", "rating", "gates"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_score_hand_computed(
    questionnaire: Questionnaire,
    name: str,
    changes: dict[str, Any],
    evidence: dict[str, str] | None,
    verdicts: dict[str, Verdict],
    score: float,
    band: str,
    rating: str,
    gates: list[str],
) -> None:
    result = scoring.score(questionnaire, answers(changes, evidence), as_of=AS_OF)
    expected = {c.id: verdicts.get(c.id, Verdict.met) for c in questionnaire.criteria}
    assert {c.id: c.verdict for c in result.criteria} == expected
    assert result.score == score
    assert result.band_rating.value == band
    assert result.rating.value == rating
    assert [g.id for g in result.gates_fired] == gates


def test_escalation_is_traced_and_weighted(questionnaire: Questionnaire) -> None:
    result = scoring.score(questionnaire, answers({"province": "qc"}), as_of=AS_OF)
    high = result.criterion("HIG-01")
    assert (high.base_severity.value, high.severity.value, high.escalated, high.weight) == (
        "high",
        "critical",
        True,
        8.0,
    )
    assert high.trace.escalation == reason(
        ReasonCode.escalated, base="high", to="critical", when='province == "qc"'
    )
    assert high.trace.reads == {"q_high": "yes", "province": "qc"}
    not_escalated = scoring.score(questionnaire, answers(), as_of=AS_OF).criterion("HIG-01")
    assert (not_escalated.severity.value, not_escalated.escalated, not_escalated.weight) == (
        "high",
        False,
        4.0,
    )


def test_trace_names_the_deciding_rule(questionnaire: Questionnaire) -> None:
    result = scoring.score(questionnaire, answers({"topics": ["a", "b"]}), as_of=AS_OF)
    assert result.criterion("TOP-01").trace.rule == reason(
        ReasonCode.case, number="2", when="count(topics) >= 2"
    )
    assert result.criterion("CRT-01").trace.rule == reason(
        ReasonCode.answer, question="q_crit", value="yes"
    )
    assert result.criterion("LIV-01").trace.rule == reason(
        ReasonCode.applies_if_false, condition='uses_live == "yes"'
    )
    capped = scoring.score(questionnaire, answers(evidence={}), as_of=AS_OF).criterion("MED-01")
    assert capped.evidence_capped
    assert capped.trace.evidence == reason(ReasonCode.evidence_missing_capped, questions="q_med")


def test_not_applicable_has_a_reason_and_no_credit(questionnaire: Questionnaire) -> None:
    live = scoring.score(questionnaire, answers(), as_of=AS_OF).criterion("LIV-01")
    assert live.verdict is Verdict.not_applicable
    assert live.credit is None
    assert live.na_reason == "No live use."


def test_section_scores_and_gap_order(questionnaire: Questionnaire) -> None:
    result = scoring.score(
        questionnaire,
        answers({"q_low": "no", "q_crit": "no", "topics": ["a"], "gallery": "scraped"}),
        as_of=AS_OF,
    )
    sections = {s.id: s.score for s in result.sections}
    assert sections == {"gov": 40.0, "ops": 14.3}  # gov (4 + 2) / 15, ops REV 2 / 14
    # critical first (in questionnaire order), then high, then low
    assert result.gaps == ["CRT-01", "GAL-01", "TOP-01", "LOW-01"]


def test_section_with_only_not_applicable_criteria_has_no_score(tmp_path: Path) -> None:
    text = (DATA / "scoring.yaml").read_text(encoding="utf-8")
    text = text.replace("    section: ops\n    title: Live", "    section: live\n    title: Live")
    text = text.replace(
        "  - id: ops\n    title: Operations\n    questions:\n      - {id: uses_live",
        "  - id: live\n    title: Live\n    questions:\n      - {id: uses_live",
    )
    text = text.replace(
        "      - {id: live_ok, type: yes_no, text: Live use authorised?, visible_if: 'uses_live == \"yes\"'}\n",
        "      - {id: live_ok, type: yes_no, text: Live use authorised?, visible_if: 'uses_live == \"yes\"'}\n"
        "  - id: ops\n    title: Operations\n    questions:\n",
    )
    path = tmp_path / "na.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = loader.load_file(path)
    assert loaded.questionnaire is not None, [p.format() for p in loaded.problems]
    result = scoring.score(loaded.questionnaire, answers(), as_of=AS_OF)
    assert {s.id: s.score for s in result.sections}["live"] is None


def test_hidden_answer_does_not_count(questionnaire: Questionnaire) -> None:
    with_hidden = scoring.score(questionnaire, answers({"live_ok": "no"}), as_of=AS_OF)
    without = scoring.score(questionnaire, answers(), as_of=AS_OF)
    assert with_hidden == without


def test_advisory_mode_from_fact(questionnaire: Questionnaire) -> None:
    result = scoring.score(questionnaire, answers({"body_type": "border"}), as_of=AS_OF)
    assert result.advisory
    assert result.facts == {"scope": "out_of_scope"}
    assert not scoring.score(questionnaire, answers(), as_of=AS_OF).advisory


# -- properties ------------------------------------------------------------------------------

YES_NO = st.sampled_from(["yes", "partly", "no", "dont_know", None])


@st.composite
def random_answers(draw: st.DrawFn) -> Answers:
    values: dict[str, Any] = {
        "body_type": draw(st.sampled_from(["police", "border", None])),
        "province": draw(st.sampled_from(["on", "qc", None])),
        "q_crit": draw(YES_NO),
        "q_high": draw(YES_NO),
        "q_med": draw(YES_NO),
        "q_low": draw(YES_NO),
        "uses_live": draw(st.sampled_from(["yes", "no", "dont_know", None])),
        "live_ok": draw(YES_NO),
        "topics": draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True)),
        "review_date": draw(
            st.dates(date(2015, 1, 1), date(2026, 1, 1)).map(date.isoformat) | st.none()
        ),
        "gallery": draw(st.sampled_from(["mugshots", "scraped", "unknown", None])),
    }
    evidence = dict.fromkeys(
        draw(st.lists(st.sampled_from(["q_crit", "q_med"]), unique=True)), "note"
    )
    return Answers(
        values={k: v for k, v in values.items() if v not in (None, [])}, evidence=evidence
    )


@settings(max_examples=300, deadline=None)
@given(random_answers())
def test_scores_stay_within_0_and_100(questionnaire: Questionnaire, sample: Answers) -> None:
    result = scoring.score(questionnaire, sample, as_of=AS_OF)
    assert result.score is None or 0 <= result.score <= 100
    for section in result.sections:
        assert section.score is None or 0 <= section.score <= 100


@settings(max_examples=300, deadline=None)
@given(random_answers())
def test_same_input_same_result(questionnaire: Questionnaire, sample: Answers) -> None:
    assert scoring.score(questionnaire, sample, as_of=AS_OF) == scoring.score(
        questionnaire, sample, as_of=AS_OF
    )


@settings(max_examples=300, deadline=None)
@given(random_answers(), st.sampled_from(["q_crit", "q_high", "q_med", "q_low"]))
def test_not_met_to_met_never_lowers_a_score(
    questionnaire: Questionnaire, sample: Answers, question: str
) -> None:
    worse = Answers(
        values={**sample.values, question: "no"}, evidence={**sample.evidence, question: "note"}
    )
    better = Answers(
        values={**sample.values, question: "yes"}, evidence={**sample.evidence, question: "note"}
    )
    low = scoring.score(questionnaire, worse, as_of=AS_OF)
    high = scoring.score(questionnaire, better, as_of=AS_OF)
    assert low.score is not None
    assert high.score is not None
    assert high.score >= low.score
    for before, after in zip(low.sections, high.sections, strict=True):
        assert (after.score or 0) >= (before.score or 0)
    assert high.rating.rank >= low.rating.rank


@settings(max_examples=200, deadline=None)
@given(random_answers(), YES_NO)
def test_not_applicable_criteria_do_not_move_scores(
    questionnaire: Questionnaire, sample: Answers, live_ok: str | None
) -> None:
    base = {**sample.values, "uses_live": "no"}
    base.pop("live_ok", None)
    changed = dict(base)
    if live_ok is not None:
        changed["live_ok"] = live_ok
    a = scoring.score(questionnaire, Answers(values=base, evidence=sample.evidence), as_of=AS_OF)
    b = scoring.score(questionnaire, Answers(values=changed, evidence=sample.evidence), as_of=AS_OF)
    assert a.score == b.score
    assert [s.score for s in a.sections] == [s.score for s in b.sections]


def test_result_survives_a_json_round_trip(questionnaire: Questionnaire) -> None:
    result = scoring.score(questionnaire, answers(), as_of=AS_OF)
    assert scoring.Result.model_validate_json(result.model_dump_json()) == result


def test_evidence_note_on_a_question_without_one_is_refused(questionnaire: Questionnaire) -> None:
    from service.questionnaire.answers import check_answers

    problems = check_answers(
        questionnaire, Answers(values={"body_type": "police"}, evidence={"body_type": "x"})
    )
    assert problems == ["evidence.body_type: question body_type takes no evidence note"]


def test_as_of_in_a_condition_reads_the_assessment_date(tmp_path: Path) -> None:
    text = (DATA / "scoring.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "escalate: [{when: 'province == \"qc\"', to: critical}]",
        "escalate: [{when: 'as_of >= date(\"2025-07-01\")', to: critical}]",
    )
    path = tmp_path / "dated.yaml"
    path.write_text(text, encoding="utf-8")
    q = loader.load_file(path).questionnaire
    assert q is not None
    before = scoring.score(q, answers(), as_of=date(2025, 6, 30)).criterion("HIG-01")
    after = scoring.score(q, answers(), as_of=date(2025, 7, 1)).criterion("HIG-01")
    assert (before.severity.value, after.severity.value) == ("high", "critical")
