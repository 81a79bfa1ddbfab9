"""OSCAL exports: the questionnaire's criteria as a catalog, a submission as assessment results,
the assessment-plan stub the results import, and a plan of action and milestones of the
submission's gaps and the action plan (`plan_of_action`).

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
adds about people (`Parties`) and, for the plan of action, the actions (`PlanEntry`); no I/O.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from service.i18n import N_, gettext, punctuate
from service.i18n.formats import format_date
from service.i18n.labels import action_status_label
from service.questionnaire.schema import CHOICE_TYPES, Questionnaire, Verdict, localize
from service.questionnaire.submission import sha256_hex
from service.report import i18n
from service.report.inputs import PlanEntry, ReportInput
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
    "action-owner": N_("Owner of an action of the action plan"),
}
PLAN_TITLE = N_("Assessment plan (stub)")
POAM_TITLE = N_("Plan of action and milestones")
NOTE = N_("Note")

# The plan of action and milestones: OSCAL's risk status of each action's status
RISK_STATUS: Mapping[str, str] = {
    "todo": "open",
    "in_progress": "remediating",
    "done": "closed",
    "risk_accepted": "deviation-approved",
}

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


# ---------------------------------------------------------------------------------------------
# The plan of action and milestones


class NothingToPlan(ValueError):
    """A submission without gaps has no action plan, and OSCAL's plan of action and milestones
    holds at least one item."""


def system_id(report: ReportInput) -> str:
    """The program assessed, as OSCAL's `system-id` (PolicyGap has no system security plan to
    import): a UUIDv5 of the agency and the program, the same for every submission and
    reassessment of that program."""
    return make_uuid("system", _line(report.record.agency), _line(report.record.program))


def _plan_sha256(entries: Sequence[PlanEntry]) -> str:
    data = [
        [
            e.criterion_id,
            e.owner,
            e.target_date.isoformat() if e.target_date else None,
            e.status,
            e.risk_reason,
            e.risk_accepted_by,
            e.note,
            _timestamp(e.updated_at) if e.updated_at else None,
        ]
        for e in entries
    ]
    return sha256_hex(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def _lifecycle(entry: PlanEntry) -> str:
    """OSCAL's remediation intent: the regulator's recommendation until the agency plans it (an
    owner or a date), planned while open, completed when done; an accepted risk leaves the
    recommendation unadopted."""
    if entry.status == "done":
        return "completed"
    if entry.status == "in_progress" or (
        entry.status == "todo" and (entry.owner.strip() or entry.target_date)
    ):
        return "planned"
    return "recommendation"


def plan_of_action(
    report: ReportInput,
    lang: str = "en",
    *,
    plan: Sequence[PlanEntry] | None = None,
    parties: Parties | None = None,
) -> dict[str, Any]:
    """The submission's gaps and the tracked action plan as an OSCAL plan of action and
    milestones: a poam-item per action (one per gap of the submission), a risk per gap (its
    status from the action's, the target date as its deadline and as the milestone of its
    remediation, who owns it as a responsible party, an accepted risk logged with its reason),
    and the findings and observations of the assessment results they rest on, with the same
    uuids. ``plan``: the actions as they stand (the live plan); None: the plan as at the
    regulator's decision, else none (each gap an action not yet taken up). Actions of criteria
    that are not gaps of this submission are left out.

    Deterministic: every time is one the record, the review or an action states."""
    view = build_view(report, lang)
    q, rec = report.questionnaire, report.record
    t = view.labels
    given = plan if plan is not None else (report.review.plan if report.review else ())
    by_criterion = {e.criterion_id: e for e in given}
    entries = [by_criterion.get(gap.id, PlanEntry(gap.id)) for gap in view.gap_rows]
    if not entries:
        raise NothingToPlan("the submission has no gaps: a plan of action needs one action")
    plan_sha = _plan_sha256(entries)
    extra = parties or Parties()
    roles, party_list, responsible, index = _metadata_parties(report, extra, lang)
    observations, documents, observed = _answer_observations(view, report, index.get("agency"))
    findings = {
        _criterion_of(f): f for f in _findings(view, report, observed) if _is_gap_finding(f)
    }
    system = system_id(report)
    agency_origin = (
        [{"actors": [{"type": "party", "actor-uuid": index["agency"]}]}]
        if "agency" in index
        else []
    )

    owners: dict[str, str] = {}  # owner as typed -> party uuid
    for entry in entries:
        name = _line(entry.owner)
        if name and name not in owners:
            party = _party("organization", name)
            owners[name] = party["uuid"]
            if party["uuid"] not in {p["uuid"] for p in party_list}:
                party_list.append(party)
    if owners:
        roles.append({"id": "action-owner", "title": gettext(lang, ROLES["action-owner"])})
        responsible.append({"role-id": "action-owner", "party-uuids": sorted(set(owners.values()))})

    times: list[datetime | date] = [_start(report)]
    if report.review is not None and report.review.decided_at is not None:
        times.append(report.review.decided_at)
    changed = [e.updated_at for e in entries if e.updated_at is not None]
    as_at = max(changed) if changed else None
    if plan is None and report.review is not None and report.review.plan:
        as_at = report.review.plan_as_at
    if as_at is not None:
        times.append(as_at)
    modified = max(_timestamp(x) for x in times)

    details = {d.id: d for section in view.details for d in section.criteria}
    risks: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for gap, entry in zip(view.gap_rows, entries, strict=True):
        d = details[gap.id]
        finding = findings[gap.id]
        risk_uuid = make_uuid("risk", system, gap.id)
        finding["related-risks"] = [{"risk-uuid": risk_uuid}]
        related_observations = finding.get("related-observations", [])
        owner = _line(entry.owner)
        accepted = entry.status == "risk_accepted"
        status_label = action_status_label(entry.status, lang)
        due = _timestamp(entry.target_date) if entry.target_date else None
        task: dict[str, Any] | None = None
        if due or owner:
            task = {
                "uuid": make_uuid("milestone", system, gap.id),
                "type": "milestone" if due else "action",
                "title": t["plan_target"] if due else gap.title,
                "timing": {"on-date": {"date": due}} if due else None,
                "responsible-roles": [{"role-id": "action-owner", "party-uuids": [owners[owner]]}]
                if owner
                else [],
            }
        log: list[dict[str, Any]] = []
        if accepted:
            at = entry.updated_at or as_at or _start(report)
            log.append(
                {
                    "uuid": make_uuid("risk-log", system, gap.id, "risk_accepted"),
                    "title": status_label,
                    "description": _line(entry.risk_reason) or status_label,
                    "start": _timestamp(at),
                    "status-change": RISK_STATUS["risk_accepted"],
                    "props": _props([("risk-accepted-by", entry.risk_accepted_by)]),
                }
            )
        action_props = _props(
            [
                ("criterion-id", gap.id),
                ("section-id", gap.section),
                ("severity", gap.severity.value),
                ("verdict", gap.verdict.value),
                ("action-status", entry.status),
                ("owner", owner),
                ("target-date", entry.target_date.isoformat() if entry.target_date else None),
                ("risk-accepted", str(accepted).lower()),
                ("risk-accepted-by", entry.risk_accepted_by if accepted else None),
                ("last-changed", _timestamp(entry.updated_at) if entry.updated_at else None),
            ]
        )
        risks.append(
            {
                "uuid": risk_uuid,
                "title": f"{gap.id}: {gap.title}",
                "description": d.requirement,
                "statement": finding["remarks"],
                "props": action_props,
                "status": RISK_STATUS.get(entry.status, "open"),
                "origins": agency_origin,
                "characterizations": [
                    {
                        "origin": agency_origin[0],
                        "facets": [{"name": "severity", "system": NS, "value": gap.severity.value}],
                    }
                ]
                if agency_origin
                else [],
                "deadline": due,
                "remediations": [
                    {
                        "uuid": make_uuid("response", system, gap.id),
                        "lifecycle": _lifecycle(entry),
                        "title": f"{gap.id}: {gap.title}",
                        "description": gap.recommendation or d.requirement,
                        "props": _props([("action-status", entry.status)]),
                        "tasks": [task] if task else [],
                    }
                ],
                "risk-log": {"entries": log} if log else None,
                "related-observations": related_observations,
            }
        )
        remarks = [
            punctuate(f"{t['plan_status']}: {status_label}", lang),
            punctuate(f"{t['plan_owner']}: {owner or t['plan_not_assigned']}", lang),
            punctuate(
                f"{t['plan_target']}: "
                + (
                    format_date(entry.target_date, lang, style="short")
                    if entry.target_date
                    else t["plan_none_set"]
                ),
                lang,
            ),
        ]
        if accepted:
            remarks.append(punctuate(f"{t['plan_risk_by']}: {entry.risk_accepted_by}", lang))
            remarks.append(punctuate(f"{t['plan_risk_reason']}: {entry.risk_reason}", lang))
        if entry.note.strip():
            remarks.append(punctuate(f"{gettext(lang, NOTE)}: {entry.note.strip()}", lang))
        items.append(
            {
                "uuid": make_uuid("poam-item", system, gap.id),
                "title": f"{gap.id}: {gap.title}",
                "description": gap.recommendation or d.requirement,
                "props": action_props,
                "origins": agency_origin,
                "related-findings": [{"finding-uuid": finding["uuid"]}],
                "related-observations": related_observations,
                "related-risks": [{"risk-uuid": risk_uuid}],
                "remarks": "\n\n".join(remarks),
            }
        )

    used = {
        r["observation-uuid"] for f in findings.values() for r in f.get("related-observations", [])
    }
    kept = [o for o in observations if o["uuid"] in used]
    linked = {e["href"][1:] for o in kept for e in o.get("relevant-evidence", []) if "href" in e}
    title = punctuate(f"{gettext(lang, POAM_TITLE)}: {_line(rec.program) or rec.agency}", lang)
    counts = {s: sum(1 for e in entries if e.status == s) for s in RISK_STATUS}
    return _document(
        {
            "plan-of-action-and-milestones": {
                "uuid": make_uuid(
                    "poam", report.sha256, sha256_hex(report.review_record()), plan_sha, lang
                ),
                "metadata": {
                    "title": title,
                    "last-modified": modified,
                    "version": f"{rec.number}-{plan_sha[:12]}",
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
                            ("submission-number", rec.number),
                            ("status", report.status),
                            ("plan-sha256", plan_sha),
                            ("plan-as-at", _timestamp(as_at) if as_at else None),
                            ("plan-source", "live" if plan is not None else "decision"),
                            ("actions", len(entries)),
                            *((f"actions-{s.replace('_', '-')}", n) for s, n in counts.items()),
                            ("lang", lang),
                            ("mapping-version", MAPPING_VERSION),
                        ]
                    ),
                    "roles": roles,
                    "parties": party_list,
                    "responsible-parties": responsible,
                },
                "system-id": {"identifier-type": f"{NS}/program", "id": system},
                "observations": kept,
                "risks": risks,
                "findings": [findings[gap.id] for gap in view.gap_rows],
                "poam-items": items,
                "back-matter": {"resources": [r for r in documents if r["uuid"] in linked]},
            }
        }
    )


def _criterion_of(finding: Mapping[str, Any]) -> str:
    return str(next(p["value"] for p in finding["props"] if p["name"] == "criterion-id"))


def _is_gap_finding(finding: Mapping[str, Any]) -> bool:
    return any(p["name"] == "gap" and p["value"] == "true" for p in finding["props"])
