"""OSCAL exports: the questionnaire's criteria as a catalog, a submission as assessment results,
and the assessment-plan stub the results import.

NIST OSCAL 1.1.3 JSON (`OSCAL_VERSION`); the tests validate every document against the schemas
NIST published for that release (`tests/data/oscal/`). What OSCAL has no field for (verdict,
severity, weight, rating, the submission's hash) is a property in PolicyGap's namespace `NS`;
`docs/open-data.md` lists them.

Deterministic: every id is a UUIDv5 under `UUID_ROOT`, derived from what it identifies (the
questionnaire's content hash, the submission's hash, a criterion or question id), every time is
one the record or the review states (never the clock), and the JSON is written with sorted keys.
So exporting the same submission in the same review state twice gives the same bytes; a
decision on it gives a document with a new uuid (OSCAL: a new revision), in which the
observations and findings keep theirs.

Pure: reads a `ReportInput` (through the typed report view, for the words) and what the caller
adds about people (`Parties`); no I/O.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from service.i18n import N_, gettext, punctuate
from service.questionnaire.schema import CHOICE_TYPES, Questionnaire, Verdict, localize
from service.questionnaire.submission import sha256_hex
from service.report import i18n
from service.report.inputs import ReportInput
from service.report.view import ReportView, build_view, percent, reference_text

OSCAL_VERSION = "1.1.3"
NS = "https://policygap.example/ns/oscal"
MAPPING_VERSION = "1"  # the version of this mapping (prop `mapping-version`); docs/open-data.md
UUID_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NS)
MEDIA_TYPE = "application/json"
PLAN_FILENAME = "assessment-plan.json"

# OSCAL's finding status for each verdict: (state, reason, implementation status or None)
STATUS: Mapping[Verdict, tuple[str, str, str | None]] = {
    Verdict.met: ("satisfied", "pass", "implemented"),
    Verdict.partial: ("not-satisfied", "fail", "partial"),
    Verdict.not_met: ("not-satisfied", "fail", None),
    Verdict.dont_know: ("not-satisfied", "other", None),
    Verdict.unanswered: ("not-satisfied", "other", None),
    Verdict.not_applicable: ("satisfied", "other", "not-applicable"),
    Verdict.not_yet_due: ("not-satisfied", "other", "planned"),
}

# The roles of the people and organisations named (OSCAL role ids: prepared-by, prepared-for)
ROLES: Mapping[str, str] = {
    "prepared-by": N_("Agency assessed (self-assessment)"),
    "prepared-for": N_("Regulator reviewing the assessment"),
    "submitter": N_("Officer who submitted the assessment"),
    "reviewer": N_("Reviewer who decided on the submission"),
}
PLAN_TITLE = N_("Assessment plan (stub)")

# The review actions of one submission, in the assessment log (prop `action`)
ACTIONS = ("submit", "return", "accept")


@dataclass(frozen=True)
class Parties:
    """Who the records name beyond the submission itself (all optional): the officer who
    submitted it and the regulator that reviews it. The reviewer who decided comes from the
    review state (`ReviewInfo.decided_by`), the agency from the record."""

    submitted_by: str = ""
    regulator: str = ""


# ---------------------------------------------------------------------------------------------
# Small helpers


def make_uuid(*parts: object) -> str:
    """A UUIDv5 under PolicyGap's root: the same parts always give the same id."""
    return str(uuid.uuid5(UUID_ROOT, "/".join(str(p) for p in parts)))


def _line(text: str) -> str:
    """One line, as OSCAL's string type wants it (no surrounding or repeated whitespace)."""
    return " ".join(text.split())


def _prop(name: str, value: object, *, cls: str | None = None) -> dict[str, str]:
    prop = {"name": name, "ns": NS, "value": _line(str(value))}
    if cls:
        prop["class"] = cls
    return prop


def _props(pairs: Iterable[tuple[str, object]]) -> list[dict[str, str]]:
    """Properties of the pairs whose value is not empty (OSCAL's strings are never empty)."""
    return [_prop(n, v) for n, v in pairs if v is not None and _line(str(v))]


def _timestamp(value: datetime | date) -> str:
    """An OSCAL date-time: UTC, seconds, with its zone."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0), tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _document(value: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = _clean(value)
    return cleaned


def _clean(value: Any) -> Any:
    """Drop empty lists, empty objects and None: OSCAL arrays have at least one item."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def dumps(document: Mapping[str, Any]) -> bytes:
    """The document's bytes (a document as this module builds it, already without empty
    parts): sorted keys, two-space indent, UTF-8, a final newline."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _party(kind: str, name: str) -> dict[str, str]:
    return {"uuid": make_uuid("party", kind, _line(name)), "type": kind, "name": _line(name)}


# ---------------------------------------------------------------------------------------------
# The catalog


def _catalog_id(q: Questionnaire) -> str:
    return f"{q.id}/{q.version}/{q.sha256}"


def _source_uuid(q: Questionnaire, key: str) -> str:
    return make_uuid("catalog", _catalog_id(q), "source", key)


def _catalog_modified(q: Questionnaire) -> str:
    """A questionnaire states no date of its own: the latest in-force date it cites (else the
    first day of 2000). Its identity is its content hash (prop `questionnaire-sha256`)."""
    dates = [r.in_force for c in q.criteria for r in c.references if r.in_force is not None]
    return _timestamp(max(dates) if dates else date(2000, 1, 1))


def _source_resources(q: Questionnaire, lang: str) -> list[dict[str, Any]]:
    cited = {r.source for c in q.criteria for r in c.references}
    out = []
    for source in q.sources:
        if source.key not in cited:
            continue
        issuer = localize(source.issuer, lang) if source.issuer else ""
        when = localize(source.date, lang) if source.date else ""
        title = localize(source.title, lang)
        citation = ", ".join(p for p in (issuer, title, when) if p)
        out.append(
            {
                "uuid": _source_uuid(q, source.key),
                "title": title,
                "props": _props(
                    [("source-key", source.key), ("verification", source.verification.value)]
                ),
                "citation": {"text": citation},
                "rlinks": [{"href": source.url}] if source.url else [],
            }
        )
    return out


def catalog(questionnaire: Questionnaire, lang: str = "en") -> dict[str, Any]:
    """The questionnaire's criteria as an OSCAL catalog: a group per section, a control per
    criterion (statement: the requirement; guidance: the recommendation), its severity, weight
    and evidence rule as properties, its citations as links to the sources in back-matter."""
    q = questionnaire
    sources = q.source_index()
    known = {s.key for s in q.sources}
    groups = []
    for section in q.sections:
        controls = []
        for c in (c for c in q.criteria if c.section == section.id):
            links = [
                {
                    "href": f"#{_source_uuid(q, ref.source)}",
                    "rel": "reference",
                    "text": reference_text(ref, sources, lang),
                }
                for ref in c.references
                if ref.source in known
            ]
            parts: list[dict[str, Any]] = [
                {"id": f"{c.id}_smt", "name": "statement", "prose": localize(c.requirement, lang)}
            ]
            if c.recommendation is not None:
                parts.append(
                    {
                        "id": f"{c.id}_gdn",
                        "name": "guidance",
                        "prose": localize(c.recommendation, lang),
                    }
                )
            controls.append(
                {
                    "id": c.id,
                    "class": "criterion",
                    "title": localize(c.title, lang),
                    "props": [
                        {"name": "label", "value": c.id},
                        *_props(
                            [
                                ("severity", c.severity.value),
                                ("weight", f"{c.weight:g}" if c.weight is not None else None),
                                ("evidence-required", str(c.evidence_required).lower()),
                                (
                                    "escalation",
                                    "conditional" if c.escalate else None,
                                ),
                            ]
                        ),
                    ],
                    "links": links,
                    "parts": parts,
                }
            )
        if controls:
            groups.append(
                {
                    "id": section.id,
                    "class": "section",
                    "title": localize(section.title, lang),
                    "controls": controls,
                }
            )
    return _document(
        {
            "catalog": {
                "uuid": make_uuid("catalog", _catalog_id(q), lang),
                "metadata": {
                    "title": localize(q.title, lang),
                    "last-modified": _catalog_modified(q),
                    "version": q.version,
                    "oscal-version": OSCAL_VERSION,
                    "props": _props(
                        [
                            ("questionnaire-id", q.id),
                            ("questionnaire-sha256", q.sha256),
                            ("lang", lang),
                            ("mapping-version", MAPPING_VERSION),
                        ]
                    ),
                    "remarks": localize(q.description, lang) if q.description else None,
                },
                "groups": groups,
                "back-matter": {"resources": _source_resources(q, lang)},
            }
        }
    )


# ---------------------------------------------------------------------------------------------
# The assessment plan stub and the assessment results


def _start(report: ReportInput) -> datetime | date:
    return report.record.submitted_at or report.record.as_of


def _plan_uuid(report: ReportInput) -> str:
    return make_uuid("assessment-plan", report.sha256)


def _reviewed_controls(report: ReportInput, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "control-selections": [
            {"include-controls": [{"control-id": c.id} for c in report.result.criteria]}
        ],
    }


def assessment_plan(report: ReportInput, lang: str = "en") -> dict[str, Any]:
    """The plan the results import: a stub naming the questionnaire (the catalog) and the
    criteria assessed. PolicyGap plans nothing beyond the questionnaire, so it holds no tasks."""
    q, rec = report.questionnaire, report.record
    title = localize(q.title, lang)
    return _document(
        {
            "assessment-plan": {
                "uuid": _plan_uuid(report),
                "metadata": {
                    "title": f"{title}: {_line(rec.program) or rec.agency}",
                    "last-modified": _timestamp(_start(report)),
                    "version": str(rec.number),
                    "oscal-version": OSCAL_VERSION,
                    "props": _props(
                        [
                            ("questionnaire-id", q.id),
                            ("questionnaire-version", q.version),
                            ("questionnaire-sha256", rec.questionnaire_sha256),
                            ("submission-sha256", report.sha256),
                            ("lang", lang),
                            ("mapping-version", MAPPING_VERSION),
                        ]
                    ),
                },
                # OSCAL's plan imports the plan of a system; PolicyGap assesses a program against a
                # questionnaire, so the stub names no system security plan of its own.
                "import-ssp": {"href": f"#{make_uuid('program', report.sha256)}"},
                "reviewed-controls": _reviewed_controls(report, title),
                "back-matter": {
                    "resources": [
                        {
                            "uuid": make_uuid("program", report.sha256),
                            "title": _line(rec.program) or rec.agency or title,
                            "description": _line(f"{rec.agency}: {rec.program}"),
                        }
                    ]
                },
            }
        }
    )


def _answer_observations(
    view: ReportView, report: ReportInput, agency_uuid: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """One observation per answered question (the answer, its evidence note, its documents),
    the back-matter resources of the documents, and question id -> observation uuid."""
    rec, lang = report.record, view.lang
    t = view.labels
    collected = _timestamp(_start(report))
    questions = report.questionnaire.question_index()
    observations: list[dict[str, Any]] = []
    resources: dict[str, dict[str, Any]] = {}
    ids: dict[str, str] = {}
    for section in view.appendix:
        for q in section.questions:
            documents = rec.documents.get(q.id, [])
            if q.id not in rec.answers and q.id not in rec.evidence and not documents:
                continue
            oid = make_uuid("observation", report.sha256, q.id)
            ids[q.id] = oid
            evidence: list[dict[str, Any]] = []
            note = rec.evidence.get(q.id, "").strip()
            if note:
                evidence.append({"description": note, "props": _props([("kind", "evidence-note")])})
            for doc in documents:
                rid = make_uuid("document", doc.sha256)
                resources[rid] = {
                    "uuid": rid,
                    "title": _line(doc.name) or doc.sha256,
                    "props": _props(
                        [("kind", "evidence-document"), ("size", doc.size), ("sha256", doc.sha256)]
                    ),
                    "rlinks": [
                        {
                            "href": f"documents/{doc.sha256}",
                            "media-type": doc.media_type,
                            "hashes": [{"algorithm": "SHA-256", "value": doc.sha256}],
                        }
                    ],
                }
                evidence.append(
                    {
                        "href": f"#{rid}",
                        "description": _line(doc.name) or doc.sha256,
                        "props": _props([("kind", "evidence-document"), ("sha256", doc.sha256)]),
                    }
                )
            value = rec.answers.get(q.id)
            raw = value if isinstance(value, list) else [value] if value is not None else []
            question = questions.get(q.id)
            choice = question is not None and question.type in CHOICE_TYPES
            observations.append(
                {
                    "uuid": oid,
                    "title": q.text,
                    "description": punctuate(f"{t['answer']}: {q.answer}", lang),
                    "props": _props(
                        [("question-id", q.id)] + [("answer-value", v) for v in raw if choice]
                    ),
                    "methods": ["INTERVIEW"],
                    "origins": [{"actors": [{"type": "party", "actor-uuid": agency_uuid}]}]
                    if agency_uuid
                    else [],
                    "relevant-evidence": evidence,
                    "collected": collected,
                }
            )
    return observations, sorted(resources.values(), key=lambda r: r["uuid"]), ids


def _findings(
    view: ReportView, report: ReportInput, observations: Mapping[str, str]
) -> list[dict[str, Any]]:
    lang = view.lang
    results = {c.id: c for c in report.result.criteria}
    out = []
    for section in view.details:
        for d in section.criteria:
            c = results[d.id]
            state, reason, implementation = STATUS[c.verdict]
            why = d.na_reason or d.rule
            remarks = [f"{d.verdict_label}. {_sentence(why)}" if why else d.verdict_label]
            remarks += [punctuate(f"{view.labels['comments']}: {x}", lang) for x in d.comments]
            target: dict[str, Any] = {
                "type": "statement-id",
                "target-id": f"{d.id}_smt",
                "title": d.title,
                "status": {"state": state, "reason": reason},
            }
            if implementation:
                target["implementation-status"] = {"state": implementation}
            related = [
                {"observation-uuid": observations[r.question_id]}
                for r in d.reads
                if r.question_id in observations
            ]
            out.append(
                {
                    "uuid": make_uuid("finding", report.sha256, d.id),
                    "title": f"{d.id}: {d.title}",
                    "description": d.requirement,
                    "props": _props(
                        [
                            ("criterion-id", d.id),
                            ("section-id", d.section),
                            ("verdict", c.verdict.value),
                            ("partial", str(c.verdict is Verdict.partial).lower()),
                            ("gap", str(c.is_gap).lower()),
                            ("severity", c.severity.value),
                            ("base-severity", c.base_severity.value if c.escalated else None),
                            ("weight", f"{c.weight:g}"),
                            ("credit", None if c.credit is None else f"{c.credit:g}"),
                            (
                                "evidence-documented",
                                None if c.documented is None else str(c.documented).lower(),
                            ),
                        ]
                    ),
                    "target": target,
                    "related-observations": related,
                    "remarks": "\n\n".join(remarks),
                }
            )
    return out


def _log(
    report: ReportInput, lang: str, parties: Mapping[str, str], submitted_by: str
) -> list[dict[str, Any]]:
    """This submission's review log: submitted, then returned or accepted, when stated."""
    rec, review = report.record, report.review
    status = i18n.STATUS[lang]
    entries = []
    if rec.submitted_at is not None:
        # the officer who submitted, else the agency (an answers file names no person)
        person = parties.get(f"person:{submitted_by}")
        by, role = (person, "submitter") if person else (parties.get("agency"), "prepared-by")
        entries.append(
            {
                "uuid": make_uuid("log", report.sha256, "submit"),
                "title": status["submitted"],
                "start": _timestamp(rec.submitted_at),
                "end": _timestamp(rec.submitted_at),
                "props": _props([("action", "submit"), ("submission-number", rec.number)]),
                "logged-by": [{"party-uuid": by, "role-id": role}] if by else [],
            }
        )
    if report.status in ("returned", "accepted") and review and review.decided_at is not None:
        action = "accept" if report.status == "accepted" else "return"
        by = parties.get(f"person:{review.decided_by}") if review.decided_by else None
        entries.append(
            {
                "uuid": make_uuid("log", report.sha256, action),
                "title": status[report.status],
                "start": _timestamp(review.decided_at),
                "end": _timestamp(review.decided_at),
                "props": _props([("action", action), ("submission-number", rec.number)]),
                "logged-by": [{"party-uuid": by, "role-id": "reviewer"}] if by else [],
            }
        )
    return entries


def _metadata_parties(
    report: ReportInput, extra: Parties, lang: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Roles, parties, responsible parties, and a lookup of party uuids."""
    rec, review = report.record, report.review
    roles: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    responsible: list[dict[str, Any]] = []
    index: dict[str, str] = {}

    def add(role: str, kind: str, name: str, key: str) -> None:
        if not _line(name):
            return
        party = _party(kind, name)
        if party["uuid"] not in {p["uuid"] for p in parties}:
            parties.append(party)
        if role not in {r["id"] for r in roles}:
            roles.append({"id": role, "title": gettext(lang, ROLES[role])})
            responsible.append({"role-id": role, "party-uuids": [party["uuid"]]})
        index[key] = party["uuid"]

    add("prepared-by", "organization", rec.agency, "agency")
    add("prepared-for", "organization", extra.regulator, "regulator")
    add("submitter", "person", extra.submitted_by, f"person:{extra.submitted_by}")
    if review is not None and review.decided_by:
        add("reviewer", "person", review.decided_by, f"person:{review.decided_by}")
    return roles, parties, responsible, index


def assessment_results(
    report: ReportInput, lang: str = "en", *, parties: Parties | None = None
) -> dict[str, Any]:
    """One submission as OSCAL assessment results: one result (the submission) with the
    criteria it reviewed, an observation per answer, a finding per criterion, this
    submission's log and the people named; the plan stub embedded in back-matter."""
    view = build_view(report, lang)
    q, rec, res = report.questionnaire, report.record, report.result
    cover = view.cover
    roles, party_list, responsible, index = _metadata_parties(report, parties or Parties(), lang)
    observations, documents, observed = _answer_observations(view, report, index.get("agency"))
    findings = _findings(view, report, observed)
    log = _log(report, lang, index, (parties or Parties()).submitted_by)
    review_state = sha256_hex(report.review_record())
    plan_bytes = dumps(assessment_plan(report, lang))
    plan_resource = make_uuid("assessment-plan-resource", report.sha256)
    times = [_start(report)]
    if report.review is not None and report.review.decided_at is not None:
        times.append(report.review.decided_at)
    modified = max(_timestamp(t) for t in times)
    decided = report.review.decided_at if report.review else None
    title = punctuate(
        f"{cover.title}: {_line(rec.program)}" if rec.program.strip() else cover.title, lang
    )
    result = {
        "uuid": make_uuid("result", report.sha256),
        "title": title,
        "description": " ".join(view.summary.why),
        "start": _timestamp(_start(report)),
        "end": _timestamp(decided)
        if decided and report.status in ("returned", "accepted")
        else None,
        "props": _props(
            [
                ("status", report.status),
                ("rating", res.rating.value),
                ("band-rating", res.band_rating.value),
                ("score", None if res.score is None else f"{res.score:.1f}"),
                ("complete", str(res.complete).lower()),
                ("advisory", str(res.advisory).lower()),
                ("inherent-risk", res.inherent_risk),
                ("as-of", rec.as_of.isoformat()),
                ("submission-number", rec.number),
                ("gaps", len(res.gaps)),
            ]
        ),
        "reviewed-controls": _reviewed_controls(report, localize(q.title, lang)),
        "assessment-log": {"entries": log} if log else None,
        "observations": observations,
        "findings": findings,
        "remarks": (report.review.general_comment if report.review else None) or None,
    }
    return _document(
        {
            "assessment-results": {
                "uuid": make_uuid("assessment-results", report.sha256, review_state, lang),
                "metadata": {
                    "title": title,
                    "last-modified": modified,
                    "version": f"{rec.number}-{report.status}",
                    "oscal-version": OSCAL_VERSION,
                    "document-ids": [
                        {"scheme": f"{NS}/submission-sha256", "identifier": report.sha256}
                    ],
                    "props": _props(
                        [
                            ("questionnaire-id", q.id),
                            ("questionnaire-version", q.version),
                            ("questionnaire-sha256", rec.questionnaire_sha256),
                            ("submission-sha256", report.sha256),
                            ("review-sha256", review_state),
                            ("score-text", percent(res.score, lang)),
                            ("lang", lang),
                            ("mapping-version", MAPPING_VERSION),
                        ]
                    ),
                    "roles": roles,
                    "parties": party_list,
                    "responsible-parties": responsible,
                },
                "import-ap": {"href": f"#{plan_resource}"},
                "results": [result],
                "back-matter": {
                    "resources": [
                        {
                            "uuid": plan_resource,
                            "title": gettext(lang, PLAN_TITLE),
                            "props": _props([("kind", "assessment-plan")]),
                            "rlinks": [{"href": PLAN_FILENAME, "media-type": MEDIA_TYPE}],
                            "base64": {
                                "filename": PLAN_FILENAME,
                                "media-type": MEDIA_TYPE,
                                "value": base64.b64encode(plan_bytes).decode("ascii"),
                            },
                        },
                        *documents,
                    ]
                },
            }
        }
    )
