"""Open data of one record: the findings as JSON and CSV (policygap-findings/1), the labels file,
CSV safe against formula injection, and `policygap export` on an answers file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.questionnaire import loader
from service.report import opendata
from service.report.inputs import build_report_input
from tests.oscal_schemas import problems
from tests.report.conftest import EXAMPLES, QUESTIONNAIRES

QUESTIONNAIRE = QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml"
ANSWERS = EXAMPLES / "ta1-lakeshore.yaml"
runner = CliRunner()


def _export(*args: str) -> bytes:
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tleading tab", "'\tleading tab"),
        ("\rleading return", "'\rleading return"),
        ("Mugshot search = fine", "Mugshot search = fine"),
        (True, "true"),
        (None, ""),
        (12.5, "12.5"),
    ],
)
def test_safe_cell_never_starts_a_formula(value: object, written: str) -> None:
    assert opendata.safe_cell(value) == written


def test_write_csv_is_rfc4180_and_safe() -> None:
    data = opendata.write_csv(
        ["a", "b"], [{"a": '=1+1, "quoted"', "b": "line\nbreak"}, {"a": "plain"}]
    )
    assert data.endswith(b"\r\n")
    assert list(csv.reader(io.StringIO(data.decode("utf-8")))) == [
        ["a", "b"],
        ['\'=1+1, "quoted"', "line\nbreak"],
        ["plain", ""],
    ]


def test_findings_csv_has_the_documented_columns_and_a_row_per_criterion() -> None:
    data = _export(str(QUESTIONNAIRE), str(ANSWERS), "--format", "csv")
    rows = _rows(data)
    assert (
        list(rows[0])
        == list(opendata.FINDINGS_COLUMNS)
        == [
            "criterion_id",
            "title",
            "section",
            "section_title",
            "severity",
            "verdict",
            "gap",
            "reason",
            "citation",
        ]
    )
    questionnaire = loader.load_file(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    assert [r["criterion_id"] for r in rows] == [c.id for c in questionnaire.criteria]
    assert {r["gap"] for r in rows} == {"true", "false"}
    assert {r["verdict"] for r in rows} <= {
        "met",
        "partial",
        "not_met",
        "dont_know",
        "unanswered",
        "not_applicable",
        "not_yet_due",
    }
    assert all(r["reason"] and r["title"] for r in rows)
    assert any("s. " in r["citation"] for r in rows)


def test_findings_json_matches_the_csv_and_states_its_format() -> None:
    document = json.loads(
        _export(str(QUESTIONNAIRE), str(ANSWERS), "--format", "json", "--lang", "fr")
    )
    assert document["format"] == opendata.FINDINGS_FORMAT == "policygap-findings/1"
    assert document["lang"] == "fr"
    assert document["questionnaire"]["id"] == "frt-police-canada"
    assert len(document["submission"]["sha256"]) == 64
    rows = _rows(_export(str(QUESTIONNAIRE), str(ANSWERS), "--format", "csv", "--lang", "fr"))
    for row, finding in zip(rows, document["findings"], strict=True):
        assert row == {k: opendata.safe_cell(v) for k, v in finding.items()}
    gaps = [f["criterion_id"] for f in document["findings"] if f["gap"]]
    assert set(gaps) == set(document["result"]["gaps"])


def test_labels_file_names_every_column_in_english_and_french(tmp_path: Path) -> None:
    labels = tmp_path / "findings.labels.csv"
    out = tmp_path / "findings.csv"
    _export(
        str(QUESTIONNAIRE), str(ANSWERS), "--format", "csv", "-o", str(out), "--labels", str(labels)
    )
    rows = _rows(labels.read_bytes())
    assert [r["column"] for r in rows] == list(_rows(out.read_bytes())[0])
    assert all(r["en"] and r["fr"] for r in rows)
    by_column = {r["column"]: r for r in rows}
    assert by_column["verdict"] == {"column": "verdict", "en": "Verdict", "fr": "Verdict"}
    assert by_column["severity"]["fr"] == "Gravité"
    committed = Path(__file__).resolve().parents[2] / "docs" / "open-data" / "findings.labels.csv"
    assert committed.read_bytes() == labels.read_bytes()


def test_export_answers_file_as_oscal_is_valid_and_identical_twice(tmp_path: Path) -> None:
    first = _export(str(QUESTIONNAIRE), str(ANSWERS), "--format", "oscal", "--status", "submitted")
    assert problems(first, "assessment-results") == []
    out = tmp_path / "ar.json"
    _export(
        str(QUESTIONNAIRE),
        str(ANSWERS),
        "--format",
        "oscal",
        "--status",
        "submitted",
        "-o",
        str(out),
    )
    assert out.read_bytes() == first
    plan = _export(str(QUESTIONNAIRE), str(ANSWERS), "--format", "oscal-plan")
    assert problems(plan, "assessment-plan") == []
    catalog = _export(str(QUESTIONNAIRE), "--format", "oscal-catalog", "--lang", "fr")
    assert problems(catalog, "catalog") == []
    assert catalog == _export(str(QUESTIONNAIRE), "--format", "oscal-catalog", "--lang", "fr")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "json"], "give QUESTIONNAIRE"),
        ([str(QUESTIONNAIRE), "--format", "json"], "needs an answers file"),
        ([str(QUESTIONNAIRE), str(ANSWERS), "--format", "oscal-catalog"], "questionnaire only"),
        ([str(QUESTIONNAIRE), str(ANSWERS), "--format", "json", "--labels", "x.csv"], "--labels"),
        ([str(QUESTIONNAIRE), "--assessment", "x"], "not both"),
        ([str(QUESTIONNAIRE), "missing.yaml", "--format", "csv"], "cannot read"),
    ],
)
def test_export_bad_input_exits_2_with_a_message(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output


def test_findings_of_a_report_input_follow_the_result() -> None:
    questionnaire = loader.load_file(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    data, _ = loader.load_answers(ANSWERS.read_bytes(), "x")
    assert data is not None
    report = build_report_input(questionnaire, data)
    rows = opendata.findings_rows(report, "en")
    verdicts = {c.id: c for c in report.result.criteria}
    for row in rows:
        c = verdicts[row["criterion_id"]]
        assert row["verdict"] == c.verdict.value
        assert row["severity"] == c.severity.value
        assert row["gap"] is c.is_gap
        assert row["section"] == c.section
