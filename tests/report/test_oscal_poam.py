"""OSCAL plan of action and milestones (`oscal.plan_of_action`): valid against NIST's published
1.1.3 POA&M schema, one poam-item per action with its status, target date and risk acceptance,
ids that match the assessment results' findings, byte-identical on re-export."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pytest

from service.i18n.formats import NBSP
from service.questionnaire import loader
from service.questionnaire.schema import Questionnaire
from service.report import formats, oscal
from service.report.inputs import PlanEntry, ReportInput, ReviewInfo, build_report_input
from tests.oscal_schemas import problems
from tests.report.conftest import EXAMPLES, QUESTIONNAIRES

SUBMITTED = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
DECIDED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CHANGED = datetime(2026, 12, 3, 14, 5, 6, 789, tzinfo=UTC)
PARTIES = oscal.Parties(submitted_by="Olga Officer", regulator="IPC Ontario")


@cache
def _questionnaire() -> Questionnaire:
    found = loader.load_file(QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml").questionnaire
    assert found is not None
    return found


def _report(
    stem: str = "ta2-federal-force", *, status: str = "submitted", review: ReviewInfo | None = None
) -> ReportInput:
    data, found = loader.load_answers((EXAMPLES / f"{stem}.yaml").read_bytes(), stem)
    assert data is not None, found
    return build_report_input(
        _questionnaire(),
        data,
        as_of=data.as_of,
        status=status,
        number=2,
        submitted_at=SUBMITTED,
        review=review,
    )


def _plan(report: ReportInput) -> tuple[PlanEntry, ...]:
    """The federal force's five gaps: one in progress with an owner and a date, one accepted as
    a risk, one done, one with an owner only, one untouched (no entry)."""
    g = report.result.gaps
    assert len(g) == 5, g
    return (
        PlanEntry(
            g[0],
            owner="Records management",
            target_date=date(2027, 3, 31),
            status="in_progress",
            note="PIA drafted",
            updated_at=CHANGED,
        ),
        PlanEntry(
            g[1],
            status="risk_accepted",
            risk_reason="The vendor contract ends in 2027; no new searches meanwhile",
            risk_accepted_by="Deputy Chief Ruiz",
            updated_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        ),
        PlanEntry(g[2], owner="IT security", status="done", updated_at=SUBMITTED),
        PlanEntry(g[3], owner="Records management"),
        # g[4]: nobody has touched it yet
        PlanEntry("APP-99", owner="not a gap of this submission", status="in_progress"),
    )


def _poam(report: ReportInput, lang: str = "en", **kwargs: Any) -> dict[str, Any]:
    doc = oscal.plan_of_action(report, lang, parties=PARTIES, **kwargs)
    return json.loads(oscal.dumps(doc))["plan-of-action-and-milestones"]  # type: ignore[no-any-return]


def _prop(item: dict[str, Any], name: str) -> str | None:
    for prop in item.get("props", []):
        if prop["name"] == name:
            assert prop["ns"] == oscal.NS
            return str(prop["value"])
    return None


def _by_criterion(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(_prop(i, "criterion-id")): i for i in items}


# --- validity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stem", ["ta1-lakeshore", "ta2-federal-force", "ta3-ville-est", "ta8-border"]
)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_poam_of_every_sample_agency_with_gaps_validates(stem: str, lang: str) -> None:
    report = _report(stem)
    assert problems(oscal.dumps(oscal.plan_of_action(report, lang)), "poam") == []


def test_poam_with_a_tracked_plan_and_a_decision_validates() -> None:
    report = _report(
        status="accepted", review=ReviewInfo(decided_by="Rita Reviewer", decided_at=DECIDED)
    )
    for lang in ("en", "fr"):
        data = oscal.dumps(oscal.plan_of_action(report, lang, plan=_plan(report), parties=PARTIES))
        assert problems(data, "poam") == [], lang


def test_poam_schema_problems_are_found() -> None:
    """The validator reads the POA&M schema: a poam-item without a title, a risk with a status
    that is no token and a missing `poam-items` are reported."""
    doc = _poam(_report())
    del doc["poam-items"][0]["title"]
    doc["risks"][0]["status"] = "not a token"
    found = problems({"plan-of-action-and-milestones": doc}, "poam")
    assert any("title" in p for p in found)
    assert any("not a token" in p for p in found)
    del doc["poam-items"]
    assert any("poam-items" in p for p in problems({"plan-of-action-and-milestones": doc}, "poam"))


def test_poam_names_the_program_by_system_id_the_same_for_every_submission() -> None:
    """No SSP to import (PolicyGap assesses a program): `system-id`, which the model accepts
    instead, is a UUIDv5 of the agency and the program."""
    report = _report()
    poam = _poam(report)
    assert "import-ssp" not in poam
    assert poam["system-id"] == {
        "identifier-type": f"{oscal.NS}/program",
        "id": oscal.make_uuid("system", report.record.agency, report.record.program),
    }
    later = _report(status="accepted", review=ReviewInfo(decided_by="R", decided_at=DECIDED))
    assert _poam(later)["system-id"] == poam["system-id"]


# --- one poam-item per action ------------------------------------------------------------------


def test_poam_has_one_item_per_action_with_status_target_date_and_risk_acceptance() -> None:
    report = _report()
    plan = _plan(report)
    poam = _poam(report, plan=plan)
    gaps = list(report.result.gaps)
    items = _by_criterion(poam["poam-items"])
    risks = _by_criterion(poam["risks"])
    assert sorted(items) == sorted(gaps)  # one per action; APP-99 is no gap: left out
    assert [_prop(i, "criterion-id") for i in poam["poam-items"]] == [
        _prop(r, "criterion-id") for r in poam["risks"]
    ]
    assert len(poam["poam-items"]) == len(gaps)

    # in progress, with an owner and a target date: the milestone of a planned remediation
    item, risk = items[gaps[0]], risks[gaps[0]]
    assert _prop(item, "action-status") == "in_progress"
    assert _prop(item, "owner") == "Records management"
    assert _prop(item, "target-date") == "2027-03-31"
    assert _prop(item, "risk-accepted") == "false"
    assert _prop(item, "last-changed") == "2026-12-03T14:05:06Z"
    assert risk["status"] == "remediating"
    assert risk["deadline"] == "2027-03-31T00:00:00Z"
    (remediation,) = risk["remediations"]
    assert remediation["lifecycle"] == "planned"
    (milestone,) = remediation["tasks"]
    assert milestone["type"] == "milestone"
    assert milestone["timing"] == {"on-date": {"date": "2027-03-31T00:00:00Z"}}
    (owner_role,) = milestone["responsible-roles"]
    parties = {p["uuid"]: p for p in poam["metadata"]["parties"]}
    assert owner_role["role-id"] == "action-owner"
    assert [parties[u]["name"] for u in owner_role["party-uuids"]] == ["Records management"]
    assert item["remarks"].split("\n\n") == [
        "Status: In progress",
        "Owner: Records management",
        "Target date: 2027-03-31",
        "Note: PIA drafted",
    ]

    # accepted as a risk: status, who, and the reason in the risk log and the remarks
    item, risk = items[gaps[1]], risks[gaps[1]]
    assert _prop(item, "action-status") == "risk_accepted"
    assert _prop(item, "risk-accepted") == "true"
    assert _prop(item, "risk-accepted-by") == "Deputy Chief Ruiz"
    assert risk["status"] == "deviation-approved"
    assert "deadline" not in risk
    (entry,) = risk["risk-log"]["entries"]
    assert entry["status-change"] == "deviation-approved"
    assert entry["description"] == "The vendor contract ends in 2027; no new searches meanwhile"
    assert entry["start"] == "2026-12-01T08:00:00Z"
    assert _prop(entry, "risk-accepted-by") == "Deputy Chief Ruiz"
    assert risk["remediations"][0]["lifecycle"] == "recommendation"
    assert "Why the risk is accepted: The vendor contract ends in 2027" in item["remarks"]
    assert "Risk accepted by: Deputy Chief Ruiz" in item["remarks"]

    # done; an owner without a date; untouched
    assert risks[gaps[2]]["status"] == "closed"
    assert risks[gaps[2]]["remediations"][0]["lifecycle"] == "completed"
    assert risks[gaps[3]]["status"] == "open"
    assert risks[gaps[3]]["remediations"][0]["lifecycle"] == "planned"
    (task,) = risks[gaps[3]]["remediations"][0]["tasks"]
    assert task["type"] == "action"
    assert "timing" not in task
    untouched = items[gaps[4]]
    assert _prop(untouched, "action-status") == "todo"
    assert _prop(untouched, "owner") is None
    assert risks[gaps[4]]["status"] == "open"
    assert risks[gaps[4]]["remediations"][0]["lifecycle"] == "recommendation"
    assert "tasks" not in risks[gaps[4]]["remediations"][0]
    assert "Owner: not assigned" in untouched["remarks"]
    assert "Target date: none set" in untouched["remarks"]

    # the metadata: counts, the plan's time, the owners as responsible parties
    meta = poam["metadata"]
    assert {k: _prop(meta, k) for k in ("actions", "actions-todo", "actions-in-progress")} == {
        "actions": "5",
        "actions-todo": "2",
        "actions-in-progress": "1",
    }
    assert _prop(meta, "actions-done") == "1"
    assert _prop(meta, "actions-risk-accepted") == "1"
    assert _prop(meta, "plan-as-at") == "2026-12-03T14:05:06Z"
    assert _prop(meta, "plan-source") == "live"
    assert meta["last-modified"] == "2026-12-03T14:05:06Z"
    owners = next(r for r in meta["responsible-parties"] if r["role-id"] == "action-owner")
    assert sorted(parties[u]["name"] for u in owners["party-uuids"]) == [
        "IT security",
        "Records management",
    ]


def test_poam_in_french_uses_french_words_and_spacing() -> None:
    report = _report()
    poam = _poam(report, "fr", plan=_plan(report))
    assert poam["metadata"]["title"].startswith(f"Plan d'action et jalons{NBSP}: ")
    item = _by_criterion(poam["poam-items"])[report.result.gaps[0]]
    assert item["remarks"].split("\n\n")[:2] == [
        f"Statut{NBSP}: En cours",
        f"Responsable{NBSP}: Records management",
    ]
    roles = {r["id"]: r["title"] for r in poam["metadata"]["roles"]}
    assert roles["action-owner"] == "Responsable d'une action du plan d'action"


def test_poam_without_a_live_plan_reads_the_plan_as_at_the_decision() -> None:
    plain = _report()
    gap = plain.result.gaps[0]
    review = ReviewInfo(
        decided_by="Rita Reviewer",
        decided_at=DECIDED,
        plan=(PlanEntry(gap, owner="Records management", status="in_progress"),),
        plan_as_at=DECIDED,
    )
    poam = _poam(_report(status="accepted", review=review))
    assert _prop(_by_criterion(poam["poam-items"])[gap], "action-status") == "in_progress"
    assert _prop(poam["metadata"], "plan-source") == "decision"
    assert _prop(poam["metadata"], "plan-as-at") == "2026-11-28T09:00:00Z"
    # before any decision and without a plan: every gap an action to do
    statuses = {_prop(i, "action-status") for i in _poam(plain)["poam-items"]}
    assert statuses == {"todo"}


def test_poam_refuses_a_submission_without_gaps() -> None:
    report = _report("ta6-northvale")
    assert report.result.gaps == []
    with pytest.raises(oscal.NothingToPlan):
        oscal.plan_of_action(report)


# --- ids that link to the assessment results -----------------------------------------------------


def test_poam_ids_link_to_the_assessment_results_findings_and_observations() -> None:
    report = _report(
        status="accepted", review=ReviewInfo(decided_by="Rita Reviewer", decided_at=DECIDED)
    )
    ar = json.loads(oscal.dumps(oscal.assessment_results(report, parties=PARTIES)))
    (result,) = ar["assessment-results"]["results"]
    ar_findings = {f["uuid"]: f for f in result["findings"]}
    ar_observations = {o["uuid"]: o for o in result["observations"]}
    poam = _poam(report, plan=_plan(report))
    by_uuid = {f["uuid"]: f for f in poam["findings"]}
    risks = {r["uuid"] for r in poam["risks"]}
    for item in poam["poam-items"]:
        (link,) = item["related-findings"]
        finding = ar_findings[link["finding-uuid"]]  # the assessment results' finding
        assert _prop(finding, "criterion-id") == _prop(item, "criterion-id")
        assert _prop(finding, "gap") == "true"
        assert link["finding-uuid"] == oscal.make_uuid(
            "finding", report.sha256, _prop(item, "criterion-id")
        )
        # the POA&M carries the same finding, linked to its risk
        copy = by_uuid[link["finding-uuid"]]
        assert {k: v for k, v in copy.items() if k != "related-risks"} == finding
        assert copy["related-risks"] == item["related-risks"]
        assert {r["risk-uuid"] for r in item["related-risks"]} <= risks
        observed = {o["observation-uuid"] for o in item.get("related-observations", [])}
        assert observed == {o["observation-uuid"] for o in finding.get("related-observations", [])}
        assert observed <= set(ar_observations)
    for observation in poam["observations"]:
        assert observation == ar_observations[observation["uuid"]]
    assert [f["uuid"] for f in poam["findings"]] == [
        i["related-findings"][0]["finding-uuid"] for i in poam["poam-items"]
    ]
    assert poam["metadata"]["document-ids"] == ar["assessment-results"]["metadata"]["document-ids"]


def test_poam_references_resolve_inside_the_document() -> None:
    report = _report()
    poam = _poam(report, plan=_plan(report))
    roles = {r["id"] for r in poam["metadata"]["roles"]}
    parties = {p["uuid"] for p in poam["metadata"]["parties"]}
    observations = {o["uuid"] for o in poam["observations"]}
    findings = {f["uuid"] for f in poam["findings"]}
    risks = {r["uuid"] for r in poam["risks"]}
    for rp in poam["metadata"]["responsible-parties"]:
        assert rp["role-id"] in roles
        assert set(rp["party-uuids"]) <= parties
    for item in poam["poam-items"]:
        assert {r["finding-uuid"] for r in item["related-findings"]} <= findings
        assert {r["risk-uuid"] for r in item["related-risks"]} <= risks
        assert {r["observation-uuid"] for r in item.get("related-observations", [])} <= observations
        for origin in item["origins"]:
            assert {a["actor-uuid"] for a in origin["actors"]} <= parties
    for risk in poam["risks"]:
        for task in risk["remediations"][0].get("tasks", []):
            for role in task.get("responsible-roles", []):
                assert role["role-id"] in roles
                assert set(role["party-uuids"]) <= parties
    ids = [
        poam["uuid"],
        *observations,
        *findings,
        *risks,
        *(i["uuid"] for i in poam["poam-items"]),
        *(r["remediations"][0]["uuid"] for r in poam["risks"]),
    ]
    assert len(ids) == len(set(ids))
    assert all(i[14] == "5" for i in ids)  # UUIDv5


# --- determinism -------------------------------------------------------------------------------


def test_poam_reexport_is_byte_identical() -> None:
    report = _report()
    first = oscal.dumps(oscal.plan_of_action(report, "fr", plan=_plan(report), parties=PARTIES))
    _questionnaire.cache_clear()  # loaded again from the file, as another process would
    again = _report()
    second = oscal.dumps(oscal.plan_of_action(again, "fr", plan=_plan(again), parties=PARTIES))
    assert first == second


def test_poam_changed_plan_is_a_new_revision_with_the_same_item_ids() -> None:
    report = _report()
    plan = _plan(report)
    before = _poam(report, plan=plan)
    moved = (PlanEntry(plan[0].criterion_id, status="done", updated_at=DECIDED), *plan[1:])
    after = _poam(report, plan=moved)
    assert before["uuid"] != after["uuid"]
    assert before["metadata"]["version"] != after["metadata"]["version"]
    assert [i["uuid"] for i in before["poam-items"]] == [i["uuid"] for i in after["poam-items"]]
    assert [r["uuid"] for r in before["risks"]] == [r["uuid"] for r in after["risks"]]


def test_poam_through_the_format_registry_is_byte_identical() -> None:
    report = _report()
    job = formats.RenderJob(
        questionnaire_id=report.questionnaire.id,
        questionnaire_version=report.questionnaire.version,
        canonical=report.canonical,
        format="oscal-poam",
        lang="fr",
    )
    one = formats.render(job, report.questionnaire)
    assert one == formats.render(job, report.questionnaire)
    assert problems(one, "poam") == []
    assert formats.get_format("oscal-poam").extension == "oscal-poam.json"


# --- policygap export --format oscal-poam ----------------------------------------------------------


def test_export_answers_file_as_oscal_poam_each_gap_an_action_to_do() -> None:
    from typer.testing import CliRunner

    from service.cli import app

    runner = CliRunner()
    questionnaire = str(QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml")
    args = ["export", questionnaire, str(EXAMPLES / "ta2-federal-force.yaml")]
    first = runner.invoke(app, [*args, "--format", "oscal-poam", "--lang", "fr"])
    assert first.exit_code == 0, first.output
    assert problems(first.stdout_bytes, "poam") == []
    again = runner.invoke(app, [*args, "--format", "oscal-poam", "--lang", "fr"])
    assert again.stdout_bytes == first.stdout_bytes
    poam = json.loads(first.stdout_bytes)["plan-of-action-and-milestones"]
    assert {_prop(i, "action-status") for i in poam["poam-items"]} == {"todo"}
    assert len(poam["poam-items"]) == 5
    # the existing outputs keep their bytes: --format oscal is still the assessment results
    results = runner.invoke(app, [*args, "--format", "oscal", "--lang", "fr"])
    assert "assessment-results" in json.loads(results.stdout_bytes)
    refused = runner.invoke(
        app,
        ["export", questionnaire, str(EXAMPLES / "ta6-northvale.yaml"), "--format", "oscal-poam"],
    )
    assert refused.exit_code == 2
    assert "has no gaps" in refused.output
    assert "Traceback" not in refused.output
