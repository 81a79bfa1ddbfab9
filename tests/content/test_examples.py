"""The shipped sample agencies (`questionnaires/examples/`) on frt-police-canada 1.1.0: they answer
every question 1.1.0 shows (the answers mapped as the migration note in
`questionnaires/frt-police-canada.md` says) and still produce the findings they document (the
1.0.0 tables of `test_frt_questionnaire.py`, with the changes 1.1.0 makes in law listed here)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from service.questionnaire import loader, scoring
from service.questionnaire.answers import check_answers_file
from service.questionnaire.engine import resolve
from service.questionnaire.schema import Questionnaire
from tests.content.test_frt_questionnaire import AGENCIES, FILES, FINDINGS, OVERALL

ROOT = Path(__file__).resolve().parents[2]
QFILE = ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml"
EXAMPLES = ROOT / "questionnaires" / "examples"

# What 1.1.0 changes in the documented findings, and why (frt-police-canada.md, "Criteria").
CHANGED = {
    # APP-02 is the statutory PIA duty: MFIPPA sets none, so it does not apply (GOV-01 keeps the
    # guidance-based expectation, still not met)
    ("TA-1", "APP-02"): ("not_applicable", "high", False),
}
# New findings of 1.1.0 on the sample agencies.
NEW = [
    ("TA-1", "COL-17", "met", "critical", False),  # no live FR, no moratorium
    ("TA-2", "COL-18", "met", "critical", False),  # YCJA records handled
    ("TA-6", "APP-02", "not_applicable", "high", False),  # MFIPPA: no statutory PIA duty
    ("TA-8", "GOV-06", "not_applicable", "high", False),  # not a police force: no board
]
FINDINGS_1_1 = [
    (agency, cid, *CHANGED.get((agency, cid), (verdict, severity, escalated)))
    for agency, cid, verdict, severity, escalated in FINDINGS
] + NEW


@cache
def questionnaire() -> Questionnaire:
    result = loader.load_file(QFILE)
    assert result.questionnaire is not None, [p.format() for p in result.problems]
    return result.questionnaire


@cache
def scored(name: str) -> tuple[scoring.Result, Any]:
    q = questionnaire()
    data, problems = loader.load_answers((EXAMPLES / name).read_bytes(), name)
    assert data is not None, [p.format() for p in problems]
    assert not problems, [p.format() for p in problems]
    assert (data.questionnaire, data.version) == ("frt-police-canada", "1.1.0")
    assert check_answers_file(q, data) == []
    assert data.as_of == date(2026, 11, 1)
    return scoring.score(q, data.to_answers(), as_of=data.as_of), data


@pytest.mark.parametrize(("agency", "criterion", "verdict", "severity", "escalated"), FINDINGS_1_1)
def test_sample_agency_finding(
    agency: str, criterion: str, verdict: str, severity: str, escalated: bool
) -> None:
    result, _ = scored(FILES[agency])
    c = result.criterion(criterion)
    assert (c.verdict.value, c.severity.value, c.escalated) == (verdict, severity, escalated)


@pytest.mark.parametrize(
    ("agency", "regime", "rating", "advisory", "scope", "inherent", "pia"), OVERALL
)
def test_sample_agency_overall(
    agency: str, regime: str, rating: str | None, advisory: bool, scope: str, inherent: str, pia: str
) -> None:  # fmt: skip
    result, data = scored(FILES[agency])
    assert data.agency == AGENCIES[agency]
    assert result.complete
    assert result.unanswered_questions == []
    assert (result.facts["regime"], result.facts["in_scope"], result.facts["pia_duty"]) == (
        regime,
        scope,
        pia,
    )
    assert (result.advisory, result.inherent_risk) == (advisory, inherent)
    if rating is not None:
        assert result.rating.value == rating
    assert result.before_launch == []  # every sample program is past launch


def test_the_gates_behind_each_rating() -> None:
    ta1 = {g.id: set(g.criteria) for g in scored(FILES["TA-1"])[0].gates_fired}
    assert {"COL-01", "COL-08", "VEN-01"} <= ta1["critical_gap"]
    ta2 = {g.id: set(g.criteria) for g in scored(FILES["TA-2"])[0].gates_fired}
    assert "critical_gap" not in ta2
    assert {"RET-01", "RET-04", "TRN-05"} <= ta2["high_gap"]
    ta3 = scored(FILES["TA-3"])[0]
    gate = next(g for g in ta3.gates_fired if g.id == "critical_gap")
    assert {"APP-02", "APP-03", "GOV-01"} <= set(gate.criteria)
    assert ta3.facts["biometric_disclosure"] == "required"
    ta6 = scored(FILES["TA-6"])[0]
    assert ta6.gates_fired == []
    assert [c.id for c in ta6.criteria if c.is_gap] == []


@pytest.mark.parametrize("agency", sorted(FILES))
def test_example_answers_only_shown_questions_and_no_question_of_1_0_0_only(agency: str) -> None:
    _, data = scored(FILES[agency])
    q = questionnaire()
    answers = data.to_answers()
    shown = resolve(q, answers, data.as_of).visible
    assert set(answers.values) <= shown
    index = q.question_index()
    assert {k for k in answers.evidence if not (k in shown and index[k].evidence)} == set()
    for gone in ("regime_documented", "pia_exists", "live_controls", "local_testing"):
        assert gone not in answers.values
