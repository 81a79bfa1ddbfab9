"""Reason codes from scoring, written out in English and French by the report layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.reasons import Reason, ReasonCode, reason
from service.questionnaire.schema import Questionnaire, Verdict
from service.report.reasons import REASON_TEXT, reason_text

DATA = Path(__file__).resolve().parents[1] / "data"
AS_OF = date(2026, 1, 1)
NBSP = "\u00a0"

# every code, its values, and the English and French text it reads as
CASES: list[tuple[Reason, str, str]] = [
    (
        reason(ReasonCode.question_unanswered, question="q_crit"),
        "question q_crit is not answered",
        "la question q_crit est sans réponse",
    ),
    (
        reason(ReasonCode.answer, question="q_crit", value="yes"),
        "answer: q_crit = yes",
        f"réponse{NBSP}: q_crit = yes",
    ),
    (
        reason(ReasonCode.answer_not_asked, question="q_crit"),
        "answer: q_crit (not asked)",
        f"réponse{NBSP}: q_crit (question non posée)",
    ),
    (
        reason(ReasonCode.case, number="2", when="count(topics) >= 2"),
        "case 2: count(topics) >= 2",
        f"cas 2{NBSP}: count(topics) >= 2",
    ),
    (
        reason(ReasonCode.no_case_dont_know, question="q_low", value="dont_know"),
        "no case held; q_low = dont_know",
        "aucun cas vérifié; q_low = dont_know",
    ),
    (reason(ReasonCode.otherwise), "otherwise", "sinon"),
    (
        reason(ReasonCode.applies_if_false, condition='uses_live == "yes"'),
        'applies_if does not hold: uses_live == "yes"',
        # issue 15: the French trace is in French (it read "applies_if non remplie")
        f'condition d\'application non remplie{NBSP}: uses_live == "yes"',
    ),
    (
        reason(ReasonCode.not_yet_due_if_true, condition='stage == "planned"'),
        'not yet due: stage == "planned"',
        f'pas encore exigible{NBSP}: stage == "planned"',
    ),
    (
        reason(ReasonCode.not_yet_due_while, condition='stage == "planned"'),
        'Not yet due while stage == "planned".',
        'Pas encore exigible tant que stage == "planned".',
    ),
    (
        reason(ReasonCode.escalated, base="high", to="critical", when='province == "qc"'),
        'high -> critical because province == "qc"',
        'élevée -> critique parce que province == "qc"',
    ),
    (
        reason(ReasonCode.evidence_noted, questions="q_med q_low"),
        "evidence noted on “Medium control?”, “Low control?”",
        f"preuve notée pour «{NBSP}Medium control?{NBSP}», «{NBSP}Low control?{NBSP}»",
    ),
    (
        reason(ReasonCode.evidence_missing, questions=""),
        "no evidence noted on any question",
        "aucune preuve notée pour aucune question",
    ),
    (
        reason(ReasonCode.evidence_missing_capped, questions="q_med"),
        "no evidence noted on “Medium control?”; met counts as partial",
        f"aucune preuve notée pour «{NBSP}Medium control?{NBSP}»; respecté compte comme partiel",
    ),
    (
        reason(ReasonCode.na_question_not_asked, question="q_crit"),
        "The question “Critical control?” does not apply to this program.",
        f"La question «{NBSP}Critical control?{NBSP}» ne s'applique pas à ce programme.",
    ),
    (
        reason(ReasonCode.na_applies_only_when, condition='uses_live == "yes"'),
        'Applies only when uses_live == "yes".',
        'S\'applique seulement si uses_live == "yes".',
    ),
    (
        reason(
            ReasonCode.case,
            number="3",
            when='notice == "yes"',
            in_force="",
            until="2022-09-21",
            judged_by="review_date",
            date="2021-05-01",
        ),
        'case 3: notice == "yes" (in force until 2022-09-21, judged on 2021-05-01 (review_date))',
        f'cas 3{NBSP}: notice == "yes" (en vigueur jusqu\'au 2022-09-21, apprécié au '
        "2021-05-01 (review_date))",
    ),
    (
        reason(
            ReasonCode.not_in_force,
            in_force="2026-08-02",
            until="",
            judged_by="as_of",
            date="2026-08-01",
        ),
        "not in force on 2026-08-01 (the assessment date): in force 2026-08-02",
        f"pas en vigueur le 2026-08-01 (la date de l'évaluation){NBSP}: en vigueur depuis le "
        "2026-08-02",
    ),
    (
        reason(
            ReasonCode.na_not_in_force,
            in_force="2025-07-01",
            until="2030-12-31",
            judged_by="review_date",
            date="2024-01-01",
        ),
        "Not in force on 2024-01-01 (Last review?): in force 2025-07-01 to 2030-12-31.",
        f"Pas en vigueur le 2024-01-01 (Last review?){NBSP}: en vigueur du 2025-07-01 "
        "au 2030-12-31.",
    ),
    (reason(ReasonCode.text, text="as stored"), "as stored", "as stored"),
]


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    result = loader.load_file(DATA / "scoring.yaml")
    assert result.questionnaire is not None
    return result.questionnaire


def test_every_code_has_a_case_and_words_in_both_languages() -> None:
    assert {r.code for r, _, _ in CASES} == set(ReasonCode)
    for lang in ("en", "fr"):
        assert set(REASON_TEXT[lang]) == set(ReasonCode)


@pytest.mark.parametrize(("given", "en", "fr"), CASES, ids=[r.code.value for r, _, _ in CASES])
def test_reason_text_in_english_and_french(
    questionnaire: Questionnaire, given: Reason, en: str, fr: str
) -> None:
    assert reason_text(given, "en", questionnaire) == en
    assert reason_text(given, "fr", questionnaire) == fr


def test_authors_text_is_localised_and_a_missing_value_never_fails() -> None:
    assert reason_text({"en": "No live use.", "fr": "Aucune."}, "fr") == "Aucune."
    assert reason_text("No live use.", "fr") == "No live use."
    assert reason_text(Reason(ReasonCode.answer), "en") == "answer: ? = ?"
    # without the questionnaire, a question is named by its id
    named = reason(ReasonCode.na_question_not_asked, question="q_crit")
    assert reason_text(named, "en") == "The question “q_crit” does not apply to this program."


def _answers(**changes: Any) -> Answers:
    values: dict[str, Any] = {
        "body_type": "police",
        "province": "on",
        "q_crit": "yes",
        "q_high": "yes",
        "q_med": "yes",
        "q_low": "yes",
        "uses_live": "no",
        "topics": ["a", "b"],
        "review_date": "2025-06-01",
        "gallery": "mugshots",
    }
    values.update(changes)
    return Answers(values=values, evidence={})


def test_scored_traces_read_as_before_in_english(questionnaire: Questionnaire) -> None:
    """The English of today's traces is the prose scoring used to write."""
    result = scoring.score(questionnaire, _answers(province="qc"), as_of=AS_OF)

    def text(value: Reason | None) -> str:
        assert value is not None
        return reason_text(value, "en", questionnaire)

    assert text(result.criterion("TOP-01").trace.rule) == "case 2: count(topics) >= 2"
    assert text(result.criterion("CRT-01").trace.rule) == "answer: q_crit = yes"
    assert (
        text(result.criterion("LIV-01").trace.rule)
        == 'applies_if does not hold: uses_live == "yes"'
    )
    assert (
        text(result.criterion("HIG-01").trace.escalation)
        == 'high -> critical because province == "qc"'
    )
    capped = result.criterion("MED-01")
    # the question by its text, not its id (the trace printed "no evidence noted on q_med")
    assert text(capped.trace.evidence) == (
        "no evidence noted on “Medium control?”; met counts as partial"
    )


def test_generated_reasons_survive_a_json_round_trip(questionnaire: Questionnaire) -> None:
    result = scoring.score(questionnaire, _answers(), as_of=AS_OF)
    assert any(isinstance(c.trace.evidence, Reason) for c in result.criteria)
    assert scoring.Result.model_validate_json(result.model_dump_json()) == result
    # a generated N/A reason is a Reason; an author's is text: both read back as they were
    generated = reason(ReasonCode.na_applies_only_when, condition='uses_live == "yes"')
    criteria = [replace(c, na_reason=generated) for c in result.criteria]
    criteria[0] = replace(criteria[0], na_reason={"en": "Why", "fr": "Pourquoi"})
    mixed = result.model_copy(update={"criteria": criteria})
    back = scoring.Result.model_validate_json(mixed.model_dump_json())
    assert back == mixed
    assert isinstance(back.criteria[1].na_reason, Reason)


def test_a_result_stored_with_prose_still_reads(questionnaire: Questionnaire) -> None:
    """Results saved before reason codes hold prose traces: they read back as `text` reasons."""
    result = scoring.score(questionnaire, _answers(province="qc"), as_of=AS_OF)
    data = result.model_dump(mode="json")
    for c in data["criteria"]:
        c["trace"]["rule"] = "answer: q_crit = yes"
        c["trace"]["escalation"] = (
            "high -> critical because x" if c["trace"]["escalation"] else None
        )
        c["trace"]["evidence"] = None
    old = scoring.Result.model_validate(data)
    rule = old.criterion("CRT-01").trace.rule
    assert rule == Reason(ReasonCode.text, (("text", "answer: q_crit = yes"),))
    assert reason_text(rule, "fr") == "answer: q_crit = yes"
    assert old.criterion("CRT-01").verdict is Verdict.met
