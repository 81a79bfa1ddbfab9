"""The "not yet due" verdict (issue 15): shown, not scored, never a gap, never fires a gate.

Hand-computed on tests/data/not_yet_due.yaml. In service with everything met: PIA-01 (8) +
AUD-01 (4) + REP-01 (2) = 14. A planned program: AUD-01 and REP-01 are not yet due whatever
their answers; PIA-01 is not yet due until the PIA is done.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.reasons import Reason, ReasonCode
from service.questionnaire.schema import Gate, Questionnaire, Rating, Severity, Verdict

DATA = Path(__file__).parent.parent / "data"
AS_OF = date(2026, 1, 1)


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    result = loader.load_file(DATA / "not_yet_due.yaml")
    assert result.questionnaire is not None, [p.format() for p in result.problems]
    # the only warnings: the French reasons of an English-only file
    assert all(p.code == "language" for p in result.warnings), [p.format() for p in result.warnings]
    return result.questionnaire


def score(q: Questionnaire, values: dict[str, Any]) -> scoring.Result:
    return scoring.score(q, Answers(values=values, evidence={}), as_of=AS_OF)


def test_the_verdict_is_not_a_gap() -> None:
    assert Verdict.not_yet_due.is_gap is False
    assert Verdict.not_yet_due not in scoring_gate_verdicts()


def scoring_gate_verdicts() -> list[Verdict]:
    from service.questionnaire.schema import GATE_VERDICTS

    return GATE_VERDICTS


def test_in_service_everything_is_scored(questionnaire: Questionnaire) -> None:
    result = score(
        questionnaire, {"stage": "in_service", "pia": "yes", "audit": "yes", "report": "no"}
    )
    # REP-01 not met, medium (the duty fact is guidance): (8 + 4 + 0) / 14 = 85.7
    assert result.score == 85.7
    assert result.criterion("REP-01").verdict is Verdict.not_met
    assert result.before_launch == []


def test_planned_program_criteria_are_not_yet_due_and_leave_the_score(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, {"stage": "planned", "pia": "no", "report": "no"})
    verdicts = {c.id: c.verdict for c in result.criteria}
    assert verdicts == {
        "PIA-01": Verdict.not_yet_due,
        "AUD-01": Verdict.not_yet_due,
        "REP-01": Verdict.not_yet_due,
    }
    # nothing is scored: no score, the top band, no gap, no gate
    assert (result.score, result.rating, result.gaps, result.gates_fired) == (
        None,
        Rating.green,
        [],
        [],
    )
    assert all(c.credit is None for c in result.criteria)
    assert result.before_launch == ["PIA-01", "AUD-01", "REP-01"]
    assert result.sections[0].counts == {"not_yet_due": 3}
    assert result.complete is True


def test_mixed_hand_computed_score(questionnaire: Questionnaire) -> None:
    # planned, PIA done: PIA-01 met (8); AUD-01, REP-01 not yet due: 8 / 8 = 100.0
    result = score(questionnaire, {"stage": "planned", "pia": "yes", "report": "no"})
    assert result.criterion("PIA-01").verdict is Verdict.met
    assert result.score == 100.0
    assert result.before_launch == ["AUD-01", "REP-01"]


def test_reasons_and_trace(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"stage": "planned", "pia": "no", "report": "no"})
    aud = result.criterion("AUD-01")
    assert aud.trace.rule.code is ReasonCode.not_yet_due_if_true
    assert aud.trace.rule.value("condition") == 'stage == "planned"'
    assert aud.na_reason == {
        "en": "Audits follow launch.",
        "fr": "Les audits suivent le lancement.",
    }
    rep = result.criterion("REP-01")
    assert isinstance(rep.na_reason, Reason)
    assert rep.na_reason.code is ReasonCode.not_yet_due_while
    pia = result.criterion("PIA-01")
    assert pia.trace.rule.code is ReasonCode.case
    assert pia.na_reason == {
        "en": "The PIA is due before the first collection.",
        "fr": "L'EFVP est due avant la première collecte.",
    }


def test_a_gate_never_fires_on_not_yet_due(questionnaire: Questionnaire) -> None:
    # an author's gate that lists not_yet_due is refused by the loader; scoring ignores it anyway
    gate = Gate(
        id="any", label="Any", cap=Rating.red, severities=list(Severity), verdicts=list(Verdict)
    )
    q = questionnaire.model_copy(
        update={"rating": questionnaire.rating.model_copy(update={"gates": [gate]})}
    )
    result = score(q, {"stage": "planned", "pia": "no", "report": "no"})
    assert result.gates_fired == []


def test_a_gate_listing_not_yet_due_is_refused(tmp_path: Path) -> None:
    text = (DATA / "not_yet_due.yaml").read_text(encoding="utf-8")
    text += (
        "rating:\n  gates:\n    - {id: g, label: G, cap: red, severities: [critical],"
        " verdicts: [not_met, not_yet_due]}\n"
    )
    path = tmp_path / "gate.yaml"
    path.write_text(text, encoding="utf-8")
    result = loader.load_file(path)
    assert any("not_yet_due" in p.format() for p in result.errors), [
        p.format() for p in result.problems
    ]


def test_not_applicable_wins_over_not_yet_due(tmp_path: Path) -> None:
    text = (
        (DATA / "not_yet_due.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "    not_yet_due_reason: {en: Audits follow launch., fr: Les audits suivent le lancement.}\n",
            "    not_yet_due_reason: {en: Audits follow launch., fr: Les audits suivent le lancement.}\n"
            "    applies_if: 'report != \"no\"'\n",
        )
    )
    path = tmp_path / "na.yaml"
    path.write_text(text, encoding="utf-8")
    q = loader.load_file(path).questionnaire
    assert q is not None
    assert score(q, {"stage": "planned", "pia": "no", "report": "no"}).criterion(
        "AUD-01"
    ).verdict is (Verdict.not_applicable)


def test_result_with_not_yet_due_survives_a_json_round_trip(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"stage": "planned", "pia": "no", "report": "no"})
    again = scoring.Result.model_validate_json(result.model_dump_json())
    assert again == result
    # a result stored before the field existed reads back with no before-launch list
    data = result.model_dump(mode="json")
    del data["before_launch"]
    assert scoring.Result.model_validate(data).before_launch == []
