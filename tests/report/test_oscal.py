"""OSCAL exports: valid against NIST's published 1.1.3 schemas, and byte-identical on re-export."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from service.questionnaire import loader
from service.questionnaire.schema import Questionnaire, localize
from service.questionnaire.submission import DocumentRef, build_submission
from service.report import formats, oscal
from service.report.inputs import ReportInput, ReviewInfo, build_report_input
from tests.oscal_schemas import SCHEMAS, problems
from tests.report.conftest import EXAMPLES, QUESTIONNAIRES

PINNED = {
    "oscal_catalog_schema.json": "5e120afbd14c480a9498ab6388857ef32b3b880e458525e966ff7c7f59333d90",
    "oscal_assessment-plan_schema.json": "0850be91252390dde740a98fd2f0fc504cd0ba66fe8940c2b6242b7aa2fb36eb",
    "oscal_assessment-results_schema.json": "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3",
    "oscal_poam_schema.json": "e404043fef9cc6108c0e895932f513043d54f28457b4eb02e74dc0cff1215e16",
}
SUBMITTED = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
DECIDED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SAMPLES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


# --- inputs ------------------------------------------------------------------------------------


@cache
def _questionnaire(name: str) -> Questionnaire:
    found = loader.load_file(QUESTIONNAIRES / name).questionnaire
    assert found is not None
    return found


def _report(
    stem: str,
    *,
    status: str = "submitted",
    review: ReviewInfo | None = None,
    documents: bool = False,
) -> ReportInput:
    questionnaire = _questionnaire("frt-police-canada-1.1.0.yaml")
    data, found = loader.load_answers((EXAMPLES / f"{stem}.yaml").read_bytes(), stem)
    assert data is not None, found
    assert data.as_of is not None
    answers = data.to_answers()
    attached: dict[str, list[DocumentRef]] = {}
    if documents:
        qid = next(iter(answers.values))
        attached[qid] = [
            DocumentRef(
                name="PIA 2025 (signed).pdf",
                size=1234,
                sha256=hashlib.sha256(b"pia").hexdigest(),
                media_type="application/pdf",
            )
        ]
    record = build_submission(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        questionnaire_sha256=questionnaire.sha256,
        as_of=data.as_of,
        agency=data.agency,
        program=data.program,
        answers=answers,
        number=2,
        submitted_at=SUBMITTED,
        documents=attached,
    )
    return build_report_input(questionnaire, record, status=status, review=review)


ACCEPTED = ReviewInfo(
    decided_by="Rita Reviewer",
    decided_at=DECIDED,
    general_comment="Accepted with the action plan.",
    comments={"COL-01": ['=HYPERLINK("x") is not a formula here']},
)


def _results(report: ReportInput, lang: str = "en") -> dict[str, Any]:
    parties = oscal.Parties(submitted_by="Olga Officer", regulator="IPC Ontario")
    doc = oscal.assessment_results(report, lang, parties=parties)
    return json.loads(oscal.dumps(doc))["assessment-results"]  # type: ignore[no-any-return]


# --- the pinned schemas ---------------------------------------------------------------------------


def test_oscal_schemas_are_nist_1_1_3_release_files_unchanged() -> None:
    for name, digest in PINNED.items():
        raw = (SCHEMAS / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == digest, name
        assert "/oscal/1.1.3/" in json.loads(raw)["$id"]
    assert oscal.OSCAL_VERSION == "1.1.3"


def test_oscal_schema_patterns_need_regex_and_are_enforced() -> None:
    token = "^(\\p{L}|_)(\\p{L}|\\p{N}|[.\\-_])*$"
    with pytest.raises(re.error):
        re.compile(token)
    doc = json.loads(oscal.dumps(oscal.catalog(_questionnaire("frt-police-canada-1.1.0.yaml"))))
    doc["catalog"]["groups"][0]["controls"][0]["id"] = "1 bad id"
    doc["catalog"]["groups"][0]["controls"][0]["props"][1]["value"] = " padded "
    doc["catalog"]["metadata"]["last-modified"] = "2026-11-26T15:30:00"  # no zone
    found = problems(doc, "catalog")
    assert any("'1 bad id' does not match" in p for p in found)
    assert any("' padded ' does not match" in p for p in found)
    assert any("last-modified" in p for p in found)
    # a letter outside ASCII is a letter: \p{L} is read as Unicode, not rejected
    doc = json.loads(oscal.dumps(oscal.catalog(_questionnaire("frt-police-canada-1.1.0.yaml"))))
    doc["catalog"]["groups"][0]["controls"][0]["id"] = "Évaluation-01"
    assert problems(doc, "catalog") == []


# --- validity --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["frt-police-canada.yaml", "frt-police-canada-1.1.0.yaml"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_oscal_catalog_of_shipped_questionnaire_validates(name: str, lang: str) -> None:
    questionnaire = _questionnaire(name)
    data = oscal.dumps(oscal.catalog(questionnaire, lang))
    assert problems(data, "catalog") == []
    catalog = json.loads(data)["catalog"]
    controls = {c["id"]: c for g in catalog["groups"] for c in g["controls"]}
    assert list(controls) == [c.id for c in questionnaire.criteria if c.id in controls]
    assert set(controls) == {c.id for c in questionnaire.criteria}
    col01 = controls["COL-01"]
    assert {"name": "severity", "ns": oscal.NS, "value": "critical"} in col01["props"]
    requirement = next(c.requirement for c in questionnaire.criteria if c.id == "COL-01")
    assert col01["parts"][0] == {
        "id": "COL-01_smt",
        "name": "statement",
        "prose": localize(requirement, lang),
    }
    # every citation links to a source in back-matter
    resources = {r["uuid"] for r in catalog["back-matter"]["resources"]}
    links = [link["href"][1:] for c in controls.values() for link in c.get("links", [])]
    assert links
    assert set(links) <= resources


@pytest.mark.parametrize("stem", SAMPLES)
def test_oscal_assessment_results_of_every_sample_agency_validate(stem: str) -> None:
    report = _report(stem)
    for lang in ("en", "fr"):
        data = oscal.dumps(oscal.assessment_results(report, lang))
        assert problems(data, "assessment-results") == [], stem
    assert problems(oscal.dumps(oscal.assessment_plan(report)), "assessment-plan") == []


def test_oscal_accepted_submission_with_documents_validates_with_log_and_parties() -> None:
    report = _report("ta1-lakeshore", status="accepted", review=ACCEPTED, documents=True)
    doc = oscal.assessment_results(
        report, "fr", parties=oscal.Parties(submitted_by="Olga Officer", regulator="IPC Ontario")
    )
    assert problems(oscal.dumps(doc), "assessment-results") == []
    ar = doc["assessment-results"]
    parties = {p["uuid"]: p["name"] for p in ar["metadata"]["parties"]}
    roles = {
        r["role-id"]: parties[r["party-uuids"][0]] for r in ar["metadata"]["responsible-parties"]
    }
    assert roles == {
        "prepared-by": report.record.agency,
        "prepared-for": "IPC Ontario",
        "submitter": "Olga Officer",
        "reviewer": "Rita Reviewer",
    }
    (result,) = ar["results"]
    log = result["assessment-log"]["entries"]
    assert [_prop(e, "action") for e in log] == ["submit", "accept"]
    assert [e["start"] for e in log] == ["2026-11-26T15:30:00Z", "2026-11-28T09:00:00Z"]
    assert [parties[e["logged-by"][0]["party-uuid"]] for e in log] == [
        "Olga Officer",
        "Rita Reviewer",
    ]
    assert result["end"] == "2026-11-28T09:00:00Z"
    assert result["remarks"] == "Accepted with the action plan."


def test_oscal_observations_carry_answers_evidence_and_document_hashes() -> None:
    report = _report("ta1-lakeshore", documents=True)
    ar = _results(report)
    (result,) = ar["results"]
    observed = {_prop(o, "question-id"): o for o in result["observations"]}
    assert set(observed) == set(report.record.answers) | set(report.record.evidence)
    qid, (doc,) = next(iter(report.record.documents.items()))
    evidence = observed[qid]["relevant-evidence"]
    linked = [e for e in evidence if "href" in e]
    assert [_prop(e, "sha256") for e in linked] == [doc.sha256]
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    resource = resources[linked[0]["href"][1:]]
    assert resource["rlinks"][0]["hashes"] == [{"algorithm": "SHA-256", "value": doc.sha256}]
    assert resource["rlinks"][0]["href"] == f"documents/{doc.sha256}"
    noted = next(q for q, note in report.record.evidence.items() if note.strip())
    notes = [e["description"] for e in observed[noted]["relevant-evidence"] if "href" not in e]
    assert notes == [report.record.evidence[noted].strip()]


def test_oscal_findings_state_verdict_partial_and_severity_as_namespaced_props() -> None:
    report = _report("ta1-lakeshore", status="accepted", review=ACCEPTED)
    ar = _results(report)
    (result,) = ar["results"]
    findings = {_prop(f, "criterion-id"): f for f in result["findings"]}
    assert list(findings) == [c.id for c in report.result.criteria]
    for c in report.result.criteria:
        finding = findings[c.id]
        assert _prop(finding, "verdict") == c.verdict.value
        assert _prop(finding, "severity") == c.severity.value
        assert _prop(finding, "partial") == str(c.verdict.value == "partial").lower()
        assert _prop(finding, "gap") == str(c.is_gap).lower()
        assert all(p["ns"] == oscal.NS for p in finding["props"])
        state, reason, implementation = oscal.STATUS[c.verdict]
        assert finding["target"]["status"] == {"state": state, "reason": reason}
        assert finding["target"]["target-id"] == f"{c.id}_smt"
        assert finding["target"].get("implementation-status", {}).get("state") == implementation
    partial = [c for c in report.result.criteria if c.verdict.value == "partial"]
    assert partial, "the sample has a partial criterion"
    assert findings[partial[0].id]["target"]["implementation-status"] == {"state": "partial"}
    assert "=HYPERLINK" in findings["COL-01"]["remarks"]
    reviewed = result["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert [r["control-id"] for r in reviewed] == list(findings)


def test_oscal_import_ap_resolves_to_an_embedded_valid_plan() -> None:
    report = _report("ta3-ville-est")
    ar = _results(report)
    href = ar["import-ap"]["href"]
    assert href.startswith("#")
    resource = next(r for r in ar["back-matter"]["resources"] if r["uuid"] == href[1:])
    plan = base64.b64decode(resource["base64"]["value"])
    assert plan == oscal.dumps(oscal.assessment_plan(report))
    assert problems(plan, "assessment-plan") == []


# --- determinism -------------------------------------------------------------------------------------


def test_oscal_reexport_is_byte_identical() -> None:
    first = oscal.dumps(
        oscal.assessment_results(_report("ta1-lakeshore", status="accepted", review=ACCEPTED))
    )
    _questionnaire.cache_clear()  # loaded again from the file, as another process would
    second = oscal.dumps(
        oscal.assessment_results(_report("ta1-lakeshore", status="accepted", review=ACCEPTED))
    )
    assert first == second
    questionnaire = _questionnaire("frt-police-canada-1.1.0.yaml")
    assert oscal.dumps(oscal.catalog(questionnaire, "fr")) == oscal.dumps(
        oscal.catalog(_questionnaire.__wrapped__("frt-police-canada-1.1.0.yaml"), "fr")
    )


def test_oscal_through_the_format_registry_is_byte_identical() -> None:
    report = _report("ta6-northvale")
    job = formats.RenderJob(
        questionnaire_id=report.questionnaire.id,
        questionnaire_version=report.questionnaire.version,
        canonical=report.canonical,
        format="oscal",
        lang="fr",
    )
    one = formats.render(job, report.questionnaire)
    assert one == formats.render(job, report.questionnaire)
    assert problems(one, "assessment-results") == []
    assert formats.get_format("oscal").media_type == "application/json"


def test_oscal_ids_are_uuid5_stable_per_subject_and_new_per_revision() -> None:
    submitted = _results(_report("ta1-lakeshore"))
    accepted = _results(_report("ta1-lakeshore", status="accepted", review=ACCEPTED))
    assert submitted["uuid"] != accepted["uuid"]  # the document changed: a new revision
    ids = [f["uuid"] for f in submitted["results"][0]["findings"]]
    assert ids == [f["uuid"] for f in accepted["results"][0]["findings"]]
    assert all(id_[14] == "5" for id_ in ids)  # version 5
    other = _results(_report("ta3-ville-est"))
    assert not set(ids) & {f["uuid"] for f in other["results"][0]["findings"]}


def _prop(item: dict[str, Any], name: str) -> str | None:
    for prop in item.get("props", []):
        if prop["name"] == name:
            assert prop["ns"] == oscal.NS
            return str(prop["value"])
    return None


@pytest.mark.parametrize("named", [True, False])
def test_oscal_references_resolve_inside_the_document(named: bool) -> None:
    """What the schema cannot check: every role, party, observation and resource a document
    refers to is defined in it (without names, the agency logs the submission)."""
    report = _report("ta1-lakeshore", status="accepted", review=ACCEPTED, documents=True)
    parties = oscal.Parties(submitted_by="Olga Officer", regulator="IPC Ontario") if named else None
    ar = json.loads(oscal.dumps(oscal.assessment_results(report, parties=parties)))[
        "assessment-results"
    ]
    roles = {r["id"] for r in ar["metadata"]["roles"]}
    party_ids = {p["uuid"] for p in ar["metadata"]["parties"]}
    resources = {r["uuid"] for r in ar["back-matter"]["resources"]}
    (result,) = ar["results"]
    observations = {o["uuid"] for o in result["observations"]}
    for rp in ar["metadata"]["responsible-parties"]:
        assert rp["role-id"] in roles
        assert set(rp["party-uuids"]) <= party_ids
    entries = result["assessment-log"]["entries"]
    for entry in entries:
        for by in entry["logged-by"]:
            assert by["role-id"] in roles
            assert by["party-uuid"] in party_ids
    submit = entries[0]["logged-by"][0]
    assert submit["role-id"] == ("submitter" if named else "prepared-by")
    for o in result["observations"]:
        for actor in o["origins"][0]["actors"]:
            assert actor["actor-uuid"] in party_ids
        for e in o.get("relevant-evidence", []):
            if "href" in e:
                assert e["href"][1:] in resources
    for f in result["findings"]:
        assert {r["observation-uuid"] for r in f.get("related-observations", [])} <= observations
    assert ar["import-ap"]["href"][1:] in resources
    ids = [ar["uuid"], result["uuid"], *observations, *(f["uuid"] for f in result["findings"])]
    assert len(ids) == len(set(ids))
