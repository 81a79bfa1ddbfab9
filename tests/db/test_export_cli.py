"""`policygap export --assessment ID`: a submission of the configured database as open data, in
its own review state, valid OSCAL, the same bytes on every export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from service import db
from service.assessments.models import SubmissionDigest
from service.cli import app
from service.config import get_settings
from service.models import AssessmentStatus, AuditEvent, User
from service.report import oscal
from tests.oscal_schemas import problems

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


NAMES: dict[str, str] = {}


@pytest.fixture
def demo(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The demo database; the id of its accepted assessment (Northvale). NAMES: who submitted
    it and who accepted it, as the audit log says."""
    monkeypatch.setenv("POLICYGAP_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("POLICYGAP_ENV", "test")
    monkeypatch.setenv("POLICYGAP_QUESTIONNAIRES_DIR", str(ROOT / "questionnaires"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    engine = db.make_engine(sqlite_url)
    with db.new_session(engine) as session:
        accepted = session.exec(
            select(SubmissionDigest).where(
                col(SubmissionDigest.status) == AssessmentStatus.accepted.value
            )
        ).one()
        for event, user in session.exec(
            select(AuditEvent, User)
            .join(User, col(User.id) == col(AuditEvent.actor_id))
            .where(AuditEvent.assessment_id == accepted.assessment_id)
        ):
            NAMES[event.action] = user.full_name
    engine.dispose()
    yield str(accepted.assessment_id)
    get_settings.cache_clear()


def _export(*args: str) -> bytes:
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_export_assessment_as_oscal_is_valid_with_its_review_log(demo: str) -> None:
    data = _export("--assessment", demo, "--format", "oscal")
    assert problems(data, "assessment-results") == []
    ar = json.loads(data)["assessment-results"]
    parties = {p["uuid"]: p["name"] for p in ar["metadata"]["parties"]}
    roles = {
        r["role-id"]: parties[r["party-uuids"][0]] for r in ar["metadata"]["responsible-parties"]
    }
    assert roles["prepared-by"] == "Northvale Police Service"
    assert roles["submitter"] == NAMES["submit"]
    assert roles["reviewer"] == NAMES["accept"]
    assert "prepared-for" in roles  # the regulator that oversees the agency
    (result,) = ar["results"]
    actions = [
        next(p["value"] for p in e["props"] if p["name"] == "action")
        for e in result["assessment-log"]["entries"]
    ]
    assert actions == ["submit", "accept"]
    status = next(p["value"] for p in result["props"] if p["name"] == "status")
    assert status == "accepted"
    assert ar["metadata"]["props"][0]["ns"] == oscal.NS


def test_export_assessment_twice_gives_the_same_bytes(demo: str) -> None:
    for fmt in ("oscal", "oscal-plan", "oscal-catalog", "json", "csv"):
        assert _export("--assessment", demo, "--format", fmt, "--lang", "fr") == _export(
            "--assessment", demo, "--format", fmt, "--lang", "fr"
        ), fmt


def test_export_assessment_findings_csv_and_json(demo: str, tmp_path: Path) -> None:
    out = tmp_path / "findings.csv"
    labels = tmp_path / "findings.labels.csv"
    result = runner.invoke(
        app,
        [
            *("export", "--assessment", demo, "--number", "1", "--format", "csv"),
            *("-o", str(out), "--labels", str(labels)),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    document = json.loads(_export("--assessment", demo, "--format", "json"))
    assert [r["criterion_id"] for r in rows] == [f["criterion_id"] for f in document["findings"]]
    assert document["submission"]["status"] == "accepted"
    named = {r["column"] for r in csv.DictReader(io.StringIO(labels.read_text(encoding="utf-8")))}
    assert named == set(rows[0])


def test_export_assessment_refuses_unknown_ids_and_numbers(demo: str) -> None:
    for args, says in (
        (["--assessment", str(uuid.uuid4())], "no such assessment"),
        (["--assessment", "not-a-uuid"], "not an assessment id"),
        (["--assessment", demo, "--number", "9"], "no submission 9"),
    ):
        result = runner.invoke(app, ["export", *args, "--format", "oscal"])
        assert result.exit_code == 2, result.output
        assert says in result.output
        assert "Traceback" not in result.output


def test_export_portfolio_every_agency_or_one_regulators(demo: str, tmp_path: Path) -> None:
    labels = tmp_path / "portfolio.labels.csv"
    everyone = list(
        csv.DictReader(
            io.StringIO(
                _export(
                    "--portfolio",
                    "frt-police-canada@1.1.0",
                    "--format",
                    "csv",
                    "--labels",
                    str(labels),
                ).decode("utf-8")
            )
        )
    )
    assert demo in {r["assessment_id"] for r in everyone}
    assert [r["column"] for r in csv.DictReader(io.StringIO(labels.read_text("utf-8")))] == list(
        everyone[0]
    )
    federal = json.loads(
        _export("--portfolio", "frt-police-canada@1.1.0", "--regulator", "opc", "--format", "json")
    )
    assert federal["format"] == "policygap-portfolio/1"
    ontario = json.loads(
        _export(
            "--portfolio", "frt-police-canada@1.1.0", "--regulator", "ipc-on", "--format", "json"
        )
    )
    seen = {p["assessment_id"] for p in federal["programs"]} | {
        p["assessment_id"] for p in ontario["programs"]
    }
    assert seen <= {r["assessment_id"] for r in everyone}
    assert demo in {p["assessment_id"] for p in ontario["programs"]}  # Northvale, Ontario
    assert federal["programs"]  # the federal force, submitted to the OPC
    assert not {p["assessment_id"] for p in federal["programs"]} & {
        p["assessment_id"] for p in ontario["programs"]
    }
    for args, says in (
        (["--portfolio", "frt-police-canada@9", "--format", "csv"], "no such questionnaire"),
        (
            ["--portfolio", "frt-police-canada@1.1.0", "--regulator", "nope", "--format", "csv"],
            "no regulator",
        ),
        (["--portfolio", "frt-police-canada@1.1.0", "--format", "oscal"], "json or csv"),
    ):
        result = runner.invoke(app, ["export", *args])
        assert result.exit_code == 2, result.output
        assert says in result.output


def _with_gaps(url: str) -> str:
    """A demo assessment whose latest submission has gaps (the accepted Northvale has none)."""
    engine = db.make_engine(url)
    try:
        with db.new_session(engine) as session:
            for digest in session.exec(
                select(SubmissionDigest).where(col(SubmissionDigest.latest))
            ):
                verdicts = {pair.split("=")[1] for pair in digest.verdicts.split(";") if pair}
                if verdicts & {"partial", "not_met", "dont_know", "unanswered"}:
                    return str(digest.assessment_id)
    finally:
        engine.dispose()
    raise AssertionError("the demo has no submission with gaps")


def test_export_assessment_as_oscal_poam_is_valid_and_identical(demo: str, sqlite_url: str) -> None:
    aid = _with_gaps(sqlite_url)
    data = _export("--assessment", aid, "--format", "oscal-poam", "--lang", "fr")
    assert problems(data, "poam") == []
    assert data == _export("--assessment", aid, "--format", "oscal-poam", "--lang", "fr")
    poam = json.loads(data)["plan-of-action-and-milestones"]
    results = json.loads(_export("--assessment", aid, "--format", "oscal", "--lang", "fr"))
    gaps = [
        f["uuid"]
        for f in results["assessment-results"]["results"][0]["findings"]
        if {"name": "gap", "ns": oscal.NS, "value": "true"} in f["props"]
    ]
    assert [i["related-findings"][0]["finding-uuid"] for i in poam["poam-items"]] == [
        f["uuid"] for f in poam["findings"]
    ]
    assert sorted(f["uuid"] for f in poam["findings"]) == sorted(gaps)
    # the accepted Northvale met every criterion: no action, no plan of action
    refused = runner.invoke(app, ["export", "--assessment", demo, "--format", "oscal-poam"])
    assert refused.exit_code == 2
    assert "has no gaps" in refused.output
    assert "Traceback" not in refused.output
