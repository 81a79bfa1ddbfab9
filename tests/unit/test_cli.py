"""The command line: exit codes, JSON output, and clear errors for bad answers files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.questionnaire.schema import json_schema

ROOT = Path(__file__).parent.parent.parent
DATA = ROOT / "tests" / "data"
runner = CliRunner()

GOOD_ANSWERS = """\
questionnaire: scoring-rules
version: "1.0"
agency: Test Police Service
program: Retrospective search
as_of: 2026-01-01
answers:
  body_type: police
  province: "on"
  q_crit: "yes"
  q_high: "no"
  q_med: "yes"
  q_low: "yes"
  uses_live: "no"
  topics: [a, b, c, d]
  review_date: 2025-06-01
  gallery: mugshots
evidence:
  q_med: Policy 12
"""


def write(tmp_path: Path, text: str, name: str = "answers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_schema_json_is_current() -> None:
    committed = json.loads((ROOT / "questionnaires" / "schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "run: uv run policygap schema > questionnaires/schema.json"


def test_schema_command_prints_the_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()


def test_validate_exit_codes() -> None:
    ok = runner.invoke(app, ["validate", str(DATA / "mini.yaml")])
    assert ok.exit_code == 0
    bad = runner.invoke(
        app, ["validate", str(DATA / "mini.yaml"), str(DATA / "broken" / "dangling_section.yaml")]
    )
    assert bad.exit_code == 1


def test_validate_json_format() -> None:
    result = runner.invoke(
        app, ["validate", "--format", "json", str(DATA / "broken" / "duplicate_key.yaml")]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload[0]["valid"] is False
    assert payload[0]["problems"][0] == {
        "file": str(DATA / "broken" / "duplicate_key.yaml"),
        "line": 4,
        "column": 1,
        "path": "title",
        "level": "error",
        "message": "duplicate key 'title' (first at line 3); a key can appear only once in a mapping",
    }


def test_validate_strict_fails_on_warnings(tmp_path: Path) -> None:
    text = (
        (DATA / "mini.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "recommendation: {en: Authorise., fr: Autoriser.}", "recommendation: {en: Authorise.}"
        )
    )
    path = write(tmp_path, text, "warn.yaml")
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    assert runner.invoke(app, ["validate", "--strict", str(path)]).exit_code == 1


def test_score_json_has_rating_scores_and_verdicts(tmp_path: Path) -> None:
    answers = write(tmp_path, GOOD_ANSWERS)
    result = runner.invoke(
        app, ["score", str(DATA / "scoring.yaml"), str(answers), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rating"] == "amber"
    assert payload["score"] == 86.2
    assert {s["id"]: s["score"] for s in payload["sections"]} == {"gov": 73.3, "ops": 100.0}
    assert {c["id"]: c["verdict"] for c in payload["criteria"]}["HIG-01"] == "not_met"
    assert [g["id"] for g in payload["gates_fired"]] == ["high_gap"]
    assert payload["agency"] == "Test Police Service"


@pytest.mark.parametrize(("lang", "word"), [("en", "Rating: AMBER"), ("fr", "Cote: JAUNE")])
def test_score_text_in_both_languages(tmp_path: Path, lang: str, word: str) -> None:
    answers = write(tmp_path, GOOD_ANSWERS)
    result = runner.invoke(app, ["score", str(DATA / "scoring.yaml"), str(answers), "--lang", lang])
    assert result.exit_code == 0, result.output
    assert word in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('q_crit: "yes"', "q_crit: maybe"),
            "answers.q_crit: 'maybe' is not an option; use one of: dont_know, no, partly, yes",
        ),
        (
            ('q_crit: "yes"', "q_crit: yes"),
            "answers.q_crit: true was read as a true/false value; write the option in quotes",
        ),
        (
            ("  gallery: mugshots", "  gallery: mugshots\n  no_such_question: x"),
            "answers.no_such_question: there is no question 'no_such_question' in scoring-rules",
        ),
        (
            ('version: "1.0"', 'version: "2.0"'),
            "version: the answers are for version '2.0', but the questionnaire is version '1.0'",
        ),
        (
            ("questionnaire: scoring-rules", "questionnaire: other"),
            "questionnaire: the answers are for 'other', not for 'scoring-rules'",
        ),
        (
            ("review_date: 2025-06-01", "review_date: 2025-13-01"),
            "answers.review_date: '2025-13-01' is not a date; write YYYY-MM-DD",
        ),
        (("topics: [a, b, c, d]", "topics: [a, z]"), "answers.topics: 'z' is not an option"),
        (("agency: Test Police Service", "agency: Test\nextra: 1"), "extra: unknown field 'extra'"),
    ],
)
def test_score_bad_answers_exit_2_with_located_message(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    answers = write(tmp_path, GOOD_ANSWERS.replace(*change))
    result = runner.invoke(app, ["score", str(DATA / "scoring.yaml"), str(answers)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert f"{answers}:" in result.stderr
    assert "Traceback" not in result.output


def test_score_with_broken_questionnaire_exits_1(tmp_path: Path) -> None:
    answers = write(tmp_path, GOOD_ANSWERS)
    result = runner.invoke(app, ["score", str(DATA / "broken" / "bad_severity.yaml"), str(answers)])
    assert result.exit_code == 1
    assert "criteria[0].severity" in result.stderr


def test_score_with_unreadable_answers_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["score", str(DATA / "scoring.yaml"), str(tmp_path / "missing.yaml")]
    )
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_validate_strict_with_only_warnings_says_invalid(tmp_path: Path) -> None:
    text = (
        (DATA / "mini.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "recommendation: {en: Authorise., fr: Autoriser.}", "recommendation: {en: Authorise.}"
        )
    )
    path = write(tmp_path, text, "warn.yaml")
    lenient = runner.invoke(app, ["validate", str(path)])
    assert lenient.exit_code == 0
    assert f"{path}: ok: mini 1.0," in lenient.output
    assert lenient.output.rstrip().endswith("criteria, 1 warning")
    strict = runner.invoke(app, ["validate", "--strict", str(path)])
    assert strict.exit_code == 1
    assert f"{path}: invalid under --strict: 1 warning\n" in strict.output
    assert "ok:" not in strict.output
    two = write(
        tmp_path,
        text.replace(
            "recommendation: {en: Do a PIA., fr: Réaliser une EFVP.}",
            "recommendation: {en: Do a PIA.}",
        ),
        "two.yaml",
    )
    assert (
        f"{two}: invalid under --strict: 2 warnings\n"
        in runner.invoke(app, ["validate", "--strict", str(two)]).output
    )


def test_validate_counts_errors_in_words(tmp_path: Path) -> None:
    text = (
        (DATA / "mini.yaml")
        .read_text(encoding="utf-8")
        .replace("severity: high", "severity: severe")
    )
    path = write(tmp_path, text, "bad.yaml")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}: invalid: 1 error\n" in result.output


def test_score_names_the_unanswered_questions(tmp_path: Path) -> None:
    answers = write(
        tmp_path,
        GOOD_ANSWERS.replace('  q_high: "no"\n', "").replace('  q_low: "yes"\n', ""),
    )
    result = runner.invoke(app, ["score", str(DATA / "scoring.yaml"), str(answers)])
    assert result.exit_code == 0, result.output
    assert "- Incomplete: -" not in result.output
    assert "Unanswered questions:" in result.output
    assert "    q_high: High control?" in result.output
    assert "    q_low: Low control?" in result.output


def test_score_shows_a_section_without_criteria_as_context_only(tmp_path: Path) -> None:
    answers = write(
        tmp_path,
        'questionnaire: mini\nversion: "1.0"\nagency: A\nprogram: P\nas_of: 2026-01-01\n'
        'answers:\n  body_type: police\n  live_use: "no"\n  pia_done: "yes"\n',
    )
    result = runner.invoke(app, ["score", str(DATA / "mini.yaml"), str(answers)])
    assert result.exit_code == 0, result.output
    assert "  Scope: context only\n" in result.output
