"""Author mistakes outside the shipped questionnaire's shapes, on tests/data/mini.yaml, and
the context-only section."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.source import ProblemCode

DATA = Path(__file__).parent.parent / "data"
MINI = (DATA / "mini.yaml").read_text(encoding="utf-8")
NUMBER_Q = """      - id: images
        type: number
        text: {en: Images?, fr: Images?}
        context_only: true
"""
LIVE_Q = "      - id: live_use\n"

# name, old, new, "LINE:COL: PATH: message fragment", code
CASES = [
    (
        "min_above_max",
        LIVE_Q,
        NUMBER_Q + "        min: 10\n        max: 5\n" + LIVE_Q,
        "25:14: sections[0].questions[1].max: max (5) is less than min (10)",
        ProblemCode.out_of_range,
    ),
    (
        "min_infinite",
        LIVE_Q,
        NUMBER_Q + "        min: -.inf\n" + LIVE_Q,
        "24:14: sections[0].questions[1].min: must be a finite number",
        ProblemCode.out_of_range,
    ),
    (
        "max_length_on_number",
        LIVE_Q,
        NUMBER_Q + "        max_length: 10\n" + LIVE_Q,
        "24:9: sections[0].questions[1].max_length: max_length is for text and long_text",
        ProblemCode.question_shape,
    ),
    (
        "deep_condition_in_flow_file",
        "advisory_if: 'in_scope == \"no\"'",
        "advisory_if: '" + "(" * 3000 + 'in_scope == "no"' + ")" * 3000 + "'",
        "45:35: advisory_if: in the condition: the condition nests too deeply",
        ProblemCode.condition,
    ),
    (
        "deep_not",
        "advisory_if: 'in_scope == \"no\"'",
        "advisory_if: '" + "not " * 30 + 'in_scope == "no"' + "'",
        "45:95: advisory_if: in the condition: the condition nests too deeply",
        ProblemCode.condition,
    ),
    (
        "number_too_long",
        "advisory_if: 'in_scope == \"no\"'",
        'advisory_if: \'in_scope == "no" or count(body_type) > ' + "9" * 400 + "'",
        "45:",
        ProblemCode.condition,
    ),
    (
        "fact_true_false_mixed_with_text",
        '        value: "no"\n',
        "        value: true\n",
        '43:16: facts[0].table[0].value: true is read by YAML as true/false; write it in quotes: "true"',
        ProblemCode.quoting,
    ),
    (
        "bad_tag_on_enum",
        "    severity: high\n",
        "    severity: !!python/name:os.system high\n",
        "51:15: criteria[0].severity: YAML tags such as !!python/name:os.system are not allowed",
        ProblemCode.tag,
    ),
    (
        "source_title_too_long",
        "title: {en: Privacy Act,",
        "title: {en: " + "P" * 600 + ",",
        "7:17: sources[0].title.en: this title is 600 characters; the limit is 500",
        ProblemCode.too_long,
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mistake_is_located(
    old: str, new: str, expected: str, code: ProblemCode, tmp_path: Path
) -> None:
    assert old in MINI
    path = tmp_path / "mini.yaml"
    path.write_text(MINI.replace(old, new, 1), encoding="utf-8")
    result = loader.load_file(path)
    assert result.questionnaire is None
    hits = [p for p in result.errors if p.format().startswith(f"{path}:{expected}")]
    assert hits, [p.format()[:200] for p in result.problems]
    assert code in {p.code for p in hits}
    assert all("this value" not in p.message for p in result.problems)


def test_a_true_false_fact_is_allowed_and_compared_with_true(tmp_path: Path) -> None:
    text = (
        MINI.replace(
            '    values:\n      "yes": {en: "Yes", fr: Oui}\n      "no": {en: "No", fr: Non}\n', ""
        )
        .replace('        value: "no"\n', "        value: false\n")
        .replace('    default: "yes"\n', "    default: true\n")
        .replace("advisory_if: 'in_scope == \"no\"'", "advisory_if: 'in_scope == false'")
    )
    path = tmp_path / "bool.yaml"
    path.write_text(text, encoding="utf-8")
    result = loader.load_file(path)
    assert result.ok, [p.format() for p in result.problems]


def test_a_section_without_criteria_is_context_only(tmp_path: Path) -> None:
    text = MINI.replace(
        "facts:\n",
        "  - id: about\n    title: {en: About you, fr: À propos}\n    questions:\n"
        "      - {id: notes, type: long_text, text: {en: Notes, fr: Notes}, context_only: true,"
        " required: false}\n"
        "facts:\n",
        1,
    )
    path = tmp_path / "context.yaml"
    path.write_text(text, encoding="utf-8")
    result = loader.load_file(path)
    assert result.ok
    assert result.problems == [], [p.format() for p in result.problems]
    assert result.questionnaire is not None
    scored = scoring.score(
        result.questionnaire,
        Answers(values={"body_type": "police", "live_use": "no", "pia_done": "yes"}),
        as_of=date(2026, 1, 1),
    )
    assert [s.id for s in scored.sections] == ["governance"]
    # mini's scope section has no criterion either
    assert scored.context_sections == ["scope", "about"]
