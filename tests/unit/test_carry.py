"""Carrying answers forward (`carry.carry`): hand-checked cases, then a property over random
answer sets: nothing the declaration maps is lost, nothing it does not map is carried."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.questionnaire import loader
from service.questionnaire.answers import Answers, AnswerValue, validate_answer
from service.questionnaire.carry import CarryStatus, carry
from service.questionnaire.schema import Question, Questionnaire, QuestionType

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def _load(path: Path) -> Questionnaire:
    result = loader.load_file(path)
    assert result.questionnaire is not None, [p.format() for p in result.errors]
    return result.questionnaire


MINI_1 = _load(DATA / "mini.yaml")
MINI_2 = _load(DATA / "carry" / "mini-2.0.yaml")
FRT_1 = _load(ROOT / "questionnaires" / "frt-police-canada.yaml")
FRT_2 = _load(ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml")


def _section(questions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "s", "title": "S", "questions": questions}


def _q(version: str, questions: list[dict[str, Any]], answers_from: Any = ()) -> Questionnaire:
    """A small questionnaire built in code, for shapes the files do not have (a split)."""
    return Questionnaire.model_validate(
        {
            "id": "split",
            "version": version,
            "title": "Split",
            "sections": [_section(questions)],
            "criteria": [
                {
                    "id": "GOV-01",
                    "section": "s",
                    "title": "T",
                    "requirement": "R",
                    "severity": "low",
                    "rule": {"cases": [{"when": "count(uses) >= 1", "verdict": "met"}]},
                }
            ],
            "answers_from": list(answers_from),
        }
    )


def _options(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v} for v in values]


SPLIT_1 = _q(
    "1",
    [
        {
            "id": "uses",
            "type": "multiple_choice",
            "text": "Uses",
            "options": _options("live", "retro"),
        },
        {"id": "kind", "type": "single_choice", "text": "K", "options": _options("a", "b", "c")},
        {"id": "note", "type": "text", "text": "N"},
        {"id": "gone", "type": "yes_no", "text": "G"},
    ],
)
SPLIT_2 = _q(
    "2",
    [
        {
            "id": "uses",
            "type": "multiple_choice",
            "text": "Uses",
            "options": _options("live_cctv", "live_bodycam", "retro"),
        },
        {"id": "kind", "type": "single_choice", "text": "K", "options": _options("a", "bee")},
        {"id": "note", "type": "long_text", "text": "N"},
        {"id": "extra", "type": "number", "text": "X"},
    ],
    [
        {
            "version": "1",
            "questions": [
                {
                    "id": "uses",
                    "options": {"live": ["live_cctv", "live_bodycam"], "retro": "retro"},
                },
                {"id": "kind", "options": {"a": "a", "b": "bee"}},
            ],
            "removed": ["gone"],
            "new": ["extra"],
        }
    ],
)


# -- hand-checked cases ---------------------------------------------------------------------


def test_carry_renamed_question_maps_option_and_takes_its_evidence() -> None:
    old = Answers(
        values={"body_type": "police", "pia_done": "partly"},
        evidence={"pia_done": "Draft PIA, 2024-02-01"},
    )
    result = carry(MINI_2, old, "1.0", old=MINI_1)
    assert result.answers.values == {"body_type": "police", "pia_status": "in_progress"}
    assert result.answers.evidence == {"pia_status": "Draft PIA, 2024-02-01"}
    assert result.questions["pia_status"].status is CarryStatus.changed
    assert result.questions["body_type"].status is CarryStatus.carried
    assert result.questions["board_informed"].status is CarryStatus.new
    assert result.questions["live_use"].status is CarryStatus.unanswered
    assert result.sections_to_do(MINI_2) == ["governance"]
    assert result.dropped == {}


def test_carry_split_option_and_unmapped_value() -> None:
    old = Answers(values={"uses": ["live", "retro"], "kind": "c", "note": "x", "gone": "yes"})
    result = carry(SPLIT_2, old, "1", old=SPLIT_1)
    assert result.answers.values == {
        "uses": ["live_cctv", "live_bodycam", "retro"],
        "note": "x",
    }
    assert result.questions["uses"].status is CarryStatus.changed
    assert result.questions["kind"].status is CarryStatus.not_carried  # c maps to nothing
    assert result.questions["note"].status is CarryStatus.carried  # text -> long_text
    assert result.questions["extra"].status is CarryStatus.new
    assert result.dropped == {"kind": "c", "gone": "yes"}


def test_carry_1_0_0_to_1_1_0_follows_the_published_table() -> None:
    old = Answers(
        values={
            "pia_exists": "yes",
            "live_controls": "full",
            "local_testing": "full",
            "regime_documented": "no",
            "board_approval": "full",
        }
    )
    result = carry(FRT_2, old, "1.0.0", old=FRT_1)
    assert result.answers.values == {
        "pia_status": "completed",
        "live_legal_basis": "yes",
        "live_targeting": "full",
        "live_safeguards": "full",
        "board_approval": "full",
    }
    # bias_testing's "full" now asks for more: asked again, with the old answer shown
    assert result.questions["bias_testing"].status is CarryStatus.not_carried
    assert result.questions["bias_testing"].old_value == "full"
    assert result.dropped == {"local_testing": "full", "regime_documented": "no"}
    partial = carry(FRT_2, Answers(values={"live_controls": "partial"}), "1.0.0", old=FRT_1)
    assert "live_targeting" not in partial.answers.values
    assert partial.questions["live_targeting"].status is CarryStatus.not_carried


def test_carry_without_declaration_keeps_valid_same_id_answers() -> None:
    old = Answers(values={"body_type": "police", "pia_done": "yes", "gone": "x"})
    result = carry(MINI_1, old, "0.9")
    assert result.answers.values == {"body_type": "police", "pia_done": "yes"}
    assert result.dropped == {"gone": "x"}


def test_carried_1_0_0_examples_equal_the_shipped_1_1_0_examples() -> None:
    """The shipped examples were migrated by hand (frt-police-canada.md); the mapping agrees
    with every answer they carried."""
    for path in sorted((DATA / "examples-1.0.0").glob("*.yaml")):
        data, _ = loader.load_answers(path.read_bytes(), str(path))
        shipped, _ = loader.load_answers(
            (ROOT / "questionnaires" / "examples" / path.name).read_bytes(), path.name
        )
        assert data is not None
        assert shipped is not None
        result = carry(FRT_2, data.to_answers(), "1.0.0", old=FRT_1)
        values = shipped.to_answers().values
        differ = {k: v for k, v in result.answers.values.items() if values.get(k, v) != v}
        assert differ == {}, path.name


# -- the property ---------------------------------------------------------------------------


def _value(question: Question) -> st.SearchStrategy[AnswerValue]:
    choices = sorted(question.option_values())
    if question.type in (QuestionType.single_choice, QuestionType.yes_no):
        return st.sampled_from(choices)
    if question.type is QuestionType.multiple_choice:
        return st.lists(st.sampled_from(choices), min_size=1, unique=True)
    if question.type is QuestionType.number:
        return st.integers(min_value=0, max_value=1000)
    if question.type is QuestionType.date:
        return st.dates(date(2015, 1, 1), date(2030, 1, 1)).map(date.isoformat)
    return st.text(max_size=20)


def answer_sets(questionnaire: Questionnaire) -> st.SearchStrategy[Answers]:
    fields = {q.id: st.none() | _value(q) for q in questionnaire.questions()}
    notes = st.dictionaries(
        st.sampled_from([q.id for q in questionnaire.questions()]), st.text(min_size=1, max_size=5)
    )
    return st.builds(
        lambda values, evidence: Answers(
            values={k: v for k, v in values.items() if v is not None}, evidence=evidence
        ),
        st.fixed_dictionaries(fields),
        notes,
    )


def _declared(
    new: Questionnaire,
    old: Questionnaire,
    old_value: AnswerValue,
    target: Question,
    options: dict[str, Any] | None,
) -> AnswerValue | None:
    """What the declaration says `old_value` becomes for `target`, read straight from it."""
    if options is None:
        value: AnswerValue | None = old_value
    else:
        items = old_value if isinstance(old_value, list) else [old_value]
        if not all(isinstance(i, str) and i in options for i in items):
            return None
        out: list[str] = []
        for i in items:
            t = options[i]
            for v in t if isinstance(t, list) else [t]:
                if v not in out:
                    out.append(v)
        if target.type is QuestionType.multiple_choice:
            value = [o.value for o in target.choices() if o.value in out]
        elif len(out) == 1:
            value = out[0]
        else:
            return None
    return value if validate_answer(target, value) is None else None


def _check_property(new: Questionnaire, old: Questionnaire, answers: Answers) -> None:
    mapping = new.answers_from_version(old.version)
    assert mapping is not None
    rules = {e.id: (e.was or e.id, e.options) for e in mapping.questions}
    old_ids = set(old.question_index())
    result = carry(new, answers, old.version, old=old)
    expected: dict[str, AnswerValue] = {}
    for target in new.questions():
        if target.id in mapping.new:
            continue
        source, options = rules.get(target.id, (target.id, None))
        if source not in old_ids or source not in answers.values:
            continue
        value = _declared(new, old, answers.values[source], target, options)
        if value is not None:
            expected[target.id] = value
    # nothing mapped is lost, nothing unmapped is carried
    assert dict(result.answers.values) == expected
    # every carried answer is a valid answer to the new question
    index = new.question_index()
    assert all(validate_answer(index[k], v) is None for k, v in result.answers.values.items())
    # every old answer is either the source of a carried one or listed as dropped
    sources = {rules.get(k, (k, None))[0] for k in result.answers.values}
    assert set(answers.values) == sources | set(result.dropped)
    assert not sources & set(result.dropped)
    # evidence travels only with a question that takes it
    for qid in result.answers.evidence:
        assert index[qid].evidence


@settings(max_examples=60, deadline=None)
@given(answer_sets(FRT_1))
def test_carry_property_frt_1_0_0_to_1_1_0(answers: Answers) -> None:
    _check_property(FRT_2, FRT_1, answers)


@settings(max_examples=150, deadline=None)
@given(answer_sets(MINI_1))
def test_carry_property_mini(answers: Answers) -> None:
    _check_property(MINI_2, MINI_1, answers)


@settings(max_examples=150, deadline=None)
@given(answer_sets(SPLIT_1))
def test_carry_property_split(answers: Answers) -> None:
    _check_property(SPLIT_2, SPLIT_1, answers)
