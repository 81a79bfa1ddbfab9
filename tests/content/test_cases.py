"""The legal-case corpus (issue 15): small variations of a sample agency, each changing one legal
fact, scored with frt-police-canada 1.1.0 and checked against expectations written from the law
(`tests/content/cases/<case>.expected.yaml`: regime, oversight body, PIA duty, rating and key
verdicts, each with its reason and citation), not from the engine's output."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.questionnaire import loader, scoring
from service.questionnaire.answers import check_answers_file
from service.questionnaire.schema import Questionnaire

ROOT = Path(__file__).resolve().parents[2]
QFILE = ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml"
CASES = Path(__file__).resolve().parent / "cases"
NAMES = sorted(p.name.removesuffix(".expected.yaml") for p in CASES.glob("*.expected.yaml"))


@cache
def questionnaire() -> Questionnaire:
    result = loader.load_file(QFILE)
    assert result.questionnaire is not None, [p.format() for p in result.problems]
    return result.questionnaire


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def answers_file(name: str) -> dict[str, Any]:
    """The case's full answers file: its base with the case's answers and evidence laid over it
    (a null answer removes the base's answer, as for a question the change hides)."""
    case = _yaml(CASES / f"{name}.yaml")
    merged = _yaml(CASES / case["base"])
    for key in ("answers", "evidence"):
        layer = dict(merged.get(key) or {})
        for qid, value in (case.get(key) or {}).items():
            if value is None:
                layer.pop(qid, None)
            else:
                layer[qid] = value
        merged[key] = layer
    if "as_of" in case:
        merged["as_of"] = case["as_of"]
    # a removed answer takes its evidence note with it
    merged["evidence"] = {k: v for k, v in merged["evidence"].items() if k in merged["answers"]}
    return merged


@cache
def scored(name: str) -> scoring.Result:
    q = questionnaire()
    raw = yaml.safe_dump(answers_file(name), sort_keys=False, allow_unicode=True).encode()
    data, problems = loader.load_answers(raw, f"{name}.yaml")
    assert data is not None, [p.format() for p in problems]
    assert not problems, [p.format() for p in problems]
    assert check_answers_file(q, data) == []
    as_of = data.as_of or date(2026, 11, 1)
    return scoring.score(q, data.to_answers(), as_of=as_of)


def test_the_corpus_has_at_least_25_cases_each_with_reason_and_citation() -> None:
    assert len(NAMES) >= 25
    for name in NAMES:
        spec = _yaml(CASES / f"{name}.expected.yaml")
        assert (CASES / f"{name}.yaml").exists(), name
        for field in ("changed", "reason", "citation"):
            assert spec[field].strip(), (name, field)
        assert spec["expected"], name


def test_the_base_is_green_and_answers_every_new_question() -> None:
    result = scored("on-mfippa-base")
    assert (result.rating, result.score, result.complete) == ("green", 100.0, True)


def _params() -> list[Any]:
    params = []
    for name in NAMES:
        spec = _yaml(CASES / f"{name}.expected.yaml")
        marks = [pytest.mark.xfail(strict=True, reason=spec["xfail"])] if spec.get("xfail") else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


@pytest.mark.parametrize("name", _params())
def test_case_meets_its_legal_expectations(name: str) -> None:
    expected = _yaml(CASES / f"{name}.expected.yaml")["expected"]
    result = scored(name)
    by_id = {c.id: c for c in result.criteria}
    failures: list[str] = []

    def check(what: str, got: Any, want: Any) -> None:
        if got != want:
            failures.append(f"{what}: expected {want!r}, got {got!r}")

    for fact in ("regime", "oversight_body", "pia_duty"):
        if fact in expected:
            check(fact, result.facts.get(fact), expected[fact])
    if "advisory" in expected:
        check("advisory", result.advisory, expected["advisory"])
    if "rating" in expected:
        gates = [(g.id, g.criteria) for g in result.gates_fired]
        check(
            f"rating (score {result.score}, gates {gates})", str(result.rating), expected["rating"]
        )
    if "min_score" in expected and (result.score is None or result.score < expected["min_score"]):
        failures.append(f"score {result.score} below {expected['min_score']}")
    if "inherent_risk" in expected:
        check("inherent_risk", result.inherent_risk, expected["inherent_risk"])
    for cid, want in expected.get("verdicts", {}).items():
        verdict, severity = (want, None) if isinstance(want, str) else want
        c = by_id[cid]
        check(f"{cid} verdict", str(c.verdict), verdict)
        if severity is not None:
            check(f"{cid} severity", str(c.severity), severity)
    assert not failures, "\n".join(failures)
