"""Single-fault mutations of the shipped questionnaire: each one must be refused.

Each mutation edits the text of `questionnaires/frt-police-canada.yaml` once (the first
occurrence of `find` becomes `replace`) in a temporary copy, and `policygap validate --strict`
must exit 1 with a problem `FILE:LINE:COL` on the faulty line whose message has the expected
words, and no traceback. The faulty line is the line of the replacement plus `offset`, or the
line of the text `at` in the mutated file.

The corpus includes every kind of mistake that used to pass silently (weights that are not
finite numbers, unquoted no/false fact values, a map entry for the "don't know" option,
evidence_from naming a question that takes no evidence, a number compared with text, an empty
condition, fields that do not belong to a question's type, gates that never fire, escalations
that do not raise the severity, titles of any length).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

ROOT = Path(__file__).parent.parent.parent
SHIPPED = ROOT / "questionnaires" / "frt-police-canada.yaml"
TEXT = SHIPPED.read_text(encoding="utf-8")
runner = CliRunner()

APP01 = "- id: APP-01\n  section: applicability\n"
APP01_TITLE = (
    "  title:\n"
    "    en: Governing privacy statute, oversight body and guidance identified\n"
    "    fr: Loi applicable, organisme de surveillance et orientation applicables déterminés\n"
)
APP04_MAP = "    map:\n      full: met\n      partial: partial\n      absent: not_met\n"
GATE = "  - id: extra_gate\n    label: {en: Extra, fr: Extra}\n    cap: red\n"


@dataclass(frozen=True)
class M:
    name: str
    find: str
    replace: str
    words: str  # a fragment of the message expected on the faulty line
    offset: int = 0  # lines from the start of the replacement to the faulty line
    at: str | None = None  # or: the faulty line is where this text is in the mutated file


def after(anchor: str, added: str) -> tuple[str, str]:
    return anchor, anchor + added


MUTATIONS = [
    # weights: finite, positive, bounded, numbers not text
    M("weight_inf", *after(APP01, "  weight: .inf\n"), "must be a finite number", 2),
    M("weight_1e400", *after(APP01, "  weight: 1e400\n"), "must be a finite number", 2),
    M("weight_nan", *after(APP01, "  weight: .nan\n"), "must be a finite number", 2),
    M("weight_text", *after(APP01, '  weight: "3"\n'), "write the number without quotes", 2),
    M("weight_zero", *after(APP01, "  weight: 0\n"), "must be greater than 0", 2),
    M("weight_negative", *after(APP01, "  weight: -2\n"), "must be greater than 0", 2),
    M("weight_huge", *after(APP01, "  weight: 5000\n"), "must be at most 1000", 2),
    M("weight_bool", *after(APP01, "  weight: yes\n"), "must be a number", 2),
    # unquoted yes/no/true/false/on/off where a value is compared with declared text
    M(
        "fact_value_no",
        "    value: pipeda_private\n",
        "    value: no\n",
        'write it in quotes: "no"',
    ),
    M(
        "fact_value_false",
        "    value: federal_pa\n",
        "    value: false\n",
        'write it in quotes: "false"',
    ),
    M(
        "fact_default_off",
        "  default: out_of_scope\n",
        "  default: off\n",
        'write it in quotes: "off"',
    ),
    M(
        "fact_default_yes",
        "  default: undetermined\n",
        "  default: yes\n",
        'write it in quotes: "yes"',
    ),
    M(
        "condition_unquoted_no",
        'advisory_if: in_scope == "out_of_scope"\n',
        "advisory_if: in_scope == no\n",
        'write it in quotes: "no"',
    ),
    M(
        "condition_fact_true",
        'advisory_if: in_scope == "out_of_scope"\n',
        "advisory_if: in_scope == true\n",
        "in_scope takes text values",
    ),
    M("otherwise_no", "    otherwise: not_met\n", "    otherwise: no\n", "write it in quotes"),
    M(
        "option_value_on",
        "    - value: non_police_public\n",
        "    - value: on\n",
        'write it in quotes: "on"',
    ),
    M("map_key_no", APP04_MAP, APP04_MAP.replace("absent:", "no:"), 'write it in quotes: "no":', 3),
    # rules and evidence
    M("map_dont_know", *after(APP04_MAP, "      dont_know: met\n"), "dont_know", 4),
    M("map_unknown_option", APP04_MAP, APP04_MAP.replace("absent", "missing"), "not an option", 3),
    M(
        "map_missing_option",
        APP04_MAP,
        APP04_MAP.replace("      absent: not_met\n", ""),
        "map gives no verdict for option(s) absent",
        1,
    ),
    M(
        "evidence_from_no_evidence",
        "  evidence_from:\n  - gallery_inventory\n",
        "  evidence_from:\n  - constituting_statute\n",
        "takes no evidence",
        1,
    ),
    M(
        "evidence_from_unknown",
        "  evidence_from:\n  - gallery_inventory\n",
        "  evidence_from:\n  - gallery_inventry\n",
        "there is no question 'gallery_inventry'",
        1,
    ),
    M("answer_unknown", "    answer: overlay_identified\n", "    answer: overlay\n", "no question"),
    M(
        "verdict_bad",
        "      verdict: partial\n",
        "      verdict: partly\n",
        "'partly' is not allowed",
    ),
    # conditions
    M(
        "count_vs_text",
        "    - when: count(pia_topics) >= 4\n",
        '    - when: count(pia_topics) >= "4"\n',
        "compare it with a number",
    ),
    M(
        "order_text",
        '    - when: regime_documented == "yes"\n',
        '    - when: regime_documented >= "yes"\n',
        "compare numbers or dates",
    ),
    M(
        "advisory_if_empty",
        'advisory_if: in_scope == "out_of_scope"\n',
        'advisory_if: ""\n',
        "the condition is empty",
    ),
    M(
        "applies_if_empty",
        '  applies_if: province == "outside_canada"\n',
        "  applies_if: ''\n",
        "the condition is empty",
    ),
    M(
        "visible_if_empty",
        '    visible_if: regime == "qc_public"\n',
        '    visible_if: ""\n',
        "the condition is empty",
    ),
    M(
        "condition_syntax",
        '  - when: body_type == "federal"\n',
        "  - when: body_type ==\n",
        "in the condition",
    ),
    M(
        "condition_unknown_name",
        '    visible_if: regime == "qc_public"\n',
        '    visible_if: regim == "qc_public"\n',
        "unknown name 'regim'",
    ),
    M(
        "condition_unknown_value",
        '  - when: body_type == "federal"\n',
        '  - when: body_type == "federl"\n',
        "'federl' is not a value of body_type",
    ),
    M(
        "contains_on_single_choice",
        '  - when: body_type == "federal"\n',
        '  - when: body_type contains "federal"\n',
        "'contains' is for multiple-choice questions",
    ),
    M(
        "count_on_single_choice",
        "    - when: count(pia_topics) >= 4\n",
        "    - when: count(regime_documented) >= 4\n",
        "count() needs a multiple_choice question",
    ),
    M(
        "date_vs_text",
        '  - when: body_type == "federal"\n',
        '  - when: first_use_date > "2020-01-01"\n',
        "is a date question",
    ),
    M(
        "condition_too_deep",
        '    - when: regime == "first_nations_review"\n',
        "    - when: " + "(" * 3000 + 'regime == "first_nations_review"' + ")" * 3000 + "\n",
        "the condition nests too deeply",
    ),
    M(
        "condition_too_long",
        '    - when: regime == "first_nations_review"\n',
        "    - when: " + 'regime == "first_nations_review" or ' * 60 + "true\n",
        "the condition is",
    ),
    M(
        "fact_cycle",
        '  - when: body_type == "federal"\n',
        '  - when: in_scope == "in_scope"\n',
        "fact cycle: regime -> in_scope -> regime",
    ),
    # question fields
    M(
        "partly_on_single_choice",
        *after("  - id: operator_type\n    type: single_choice\n", "    partly: false\n"),
        "partly",
        2,
    ),
    M(
        "min_on_text",
        *after("  - id: constituting_statute\n    type: text\n", "    min: 1\n"),
        "min",
        2,
    ),
    M(
        "max_length_on_yes_no",
        *after("  - id: contract_policing\n    type: yes_no\n", "    max_length: 20\n"),
        "max_length",
        2,
    ),
    M("max_length_zero", "    max_length: 300\n", "    max_length: 0\n", "must be greater than 0"),
    M(
        "max_length_huge",
        "    max_length: 300\n",
        "    max_length: 1000000\n",
        "must be at most 100000",
    ),
    M(
        "options_on_date",
        *after("  - id: first_use_date\n    type: date\n", "    options: [{value: a, label: A}]\n"),
        "takes no options",
        2,
    ),
    M("type_bad", "    type: date\n", "    type: boolean\n", "'boolean' is not allowed here"),
    M(
        "duplicate_option",
        "    - value: non_police_public\n",
        "    - value: police_agency\n",
        "duplicate option value 'police_agency'",
    ),
    # rating: gates that never fire, escalations that do not raise
    M(
        "gate_no_severities",
        *after("inherent_risk: inherent_level\n", "rating:\n  gates:\n" + GATE),
        "never fires",
        3,
    ),
    M(
        "gate_no_verdicts",
        *after(
            "inherent_risk: inherent_level\n",
            "rating:\n  gates:\n" + GATE + "    severities: [high]\n",
        ),
        "never fires",
        3,
    ),
    M(
        "band_out_of_range",
        *after(
            "inherent_risk: inherent_level\n",
            "rating:\n  bands:\n  - {min_score: 120, rating: green}\n",
        ),
        "must be at most 100",
        3,
    ),
    M("escalate_lower", "    to: critical\n", "    to: medium\n", "escalat"),
    M("escalate_equal", "    to: critical\n", "    to: high\n", "escalat"),
    # lengths
    M(
        "title_too_long",
        APP01_TITLE,
        APP01_TITLE.replace("Governing privacy statute", "x" * 10_000),
        "characters",
        1,
    ),
    M(
        "requirement_too_long",
        "    en: A PIA was approved before first FR use",
        "    en: " + "y" * 9_000 + " A PIA was approved before first FR use",
        "characters",
    ),
    # messages: tags, ids, commas in flow-style text
    M(
        "python_tag",
        "  severity: high\n",
        "  severity: !!python/object/apply:os.system high\n",
        "YAML tags such as !!python/object/apply:os.system are not allowed",
    ),
    M("criterion_id_bad", "- id: APP-01\n", "- id: APP-1\n", "'APP-1'"),
    M("question_id_bad", "  - id: operator_type\n", "  - id: Operator-Type\n", "'Operator-Type'"),
    M(
        "comma_in_flow_text",
        APP01_TITLE,
        "  title: {en: Until the file is closed, no schedule, fr: Tant que le dossier est ouvert}\n",
        "quote",
    ),
    # ids and references
    M("criterion_duplicate", "- id: COL-09\n", "- id: COL-08\n", "duplicate criterion id 'COL-08'"),
    M(
        "question_duplicate",
        "  - id: contract_policing\n",
        "  - id: body_type\n",
        "duplicate question id 'body_type'",
    ),
    M(
        "section_unknown",
        "  section: applicability\n",
        "  section: aplicability\n",
        "there is no section 'aplicability'",
    ),
    M(
        "source_unknown",
        "    - source: CLV-JI\n",
        "    - source: CLV-XX\n",
        "there is no source with key 'CLV-XX'",
    ),
    M(
        "inherent_risk_unknown",
        "inherent_risk: inherent_level\n",
        "inherent_risk: inherent\n",
        "there is no fact 'inherent'",
    ),
    M(
        "fact_default_undeclared",
        "  default: undetermined\n",
        "  default: undecided\n",
        "'undecided' is not one of the values declared for regime",
    ),
    M(
        "fact_value_undeclared",
        "    value: pipeda_private\n",
        "    value: pipeda\n",
        "'pipeda' is not one of the values declared for regime",
    ),
    # YAML and model
    M(
        "unknown_field",
        "  - id: contract_policing\n    type: yes_no\n",
        "  - id: contract_policing\n    typ: yes_no\n",
        "unknown field 'typ'",
        1,
    ),
    M("severity_bad", "  severity: high\n", "  severity: severe\n", "'severe' is not allowed here"),
    M("version_unquoted", "version: 1.0.0\n", "version: 1.10\n", "read by YAML as a number"),
    M(
        "duplicate_key",
        *after("  severity: high\n", "  severity: low\n"),
        "duplicate key 'severity'",
        1,
    ),
    M(
        "missing_field",
        '  severity: high\n  rule:\n    cases:\n    - when: regime == "first_nations_review"',
        '  rule:\n    cases:\n    - when: regime == "first_nations_review"',
        "missing field 'severity'",
        at="- id: APP-01\n",
    ),
    M("alias", "  severity: high\n", "  severity: *sev\n", "aliases (*sev) are not allowed"),
    M("tab", "  severity: high\n", "\tseverity: high\n", "tab character"),
    M(
        "languages_bad",
        "languages:\n- en\n- fr\n",
        "languages:\n- en\n- de\n",
        "'de' is not allowed",
        2,
    ),
    M(
        "second_document",
        *after("inherent_risk: inherent_level\n", "---\nid: x\n"),
        "one YAML document",
        1,
    ),
]


def _line_of(text: str, fragment: str) -> int:
    index = text.index(fragment)
    return text[:index].count("\n") + 1


def _mutate(m: M) -> tuple[str, int]:
    assert m.find in TEXT, f"{m.name}: {m.find!r} is not in the shipped questionnaire"
    text = TEXT.replace(m.find, m.replace, 1)
    line = _line_of(text, m.at) if m.at else _line_of(TEXT, m.find) + m.offset
    return text, line


def test_the_corpus_is_large_and_names_are_unique() -> None:
    assert len(MUTATIONS) >= 50
    assert len({m.name for m in MUTATIONS}) == len(MUTATIONS)


def test_the_shipped_questionnaire_is_valid_under_strict() -> None:
    result = runner.invoke(app, ["validate", "--strict", str(SHIPPED)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("m", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_mutation_is_refused_at_its_line(m: M, tmp_path: Path) -> None:
    text, line = _mutate(m)
    path = tmp_path / "mutant.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--strict", str(path)])
    output = result.output
    assert result.exit_code == 1, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert "this value" not in output  # no placeholder in place of the value written
    located = [
        ln for ln in output.splitlines() if re.match(rf"{re.escape(str(path))}:{line}:\d+: ", ln)
    ]
    assert located, f"nothing reported at line {line}:\n{output[:3000]}"
    assert any(m.words in ln for ln in located), f"{m.words!r} not at line {line}:\n{output[:3000]}"


def test_one_mutant_through_the_installed_command(tmp_path: Path) -> None:
    """The exit code path of the real process: exit 1, located message, no traceback."""
    m = next(m for m in MUTATIONS if m.name == "weight_inf")
    text, line = _mutate(m)
    path = tmp_path / "mutant.yaml"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "validate", "--strict", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{path}:{line}:" in proc.stderr
