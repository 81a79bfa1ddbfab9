"""The public edition: the transparency record of an accepted submission, in two tiers (as the
UK's Algorithmic Transparency Recording Standard): a plain-language first page and the detail.

Built from the same typed view as the full report (`view.build_view`), of a *redacted* input:
the sealed record with the withheld fields reduced to their commitments
(`questionnaire.publication.redact`), so the withheld words never reach the renderer. Each
withheld item is shown as "Withheld: <reason>". The PDF attaches the redacted record as
`submission.json` (the same root as the full report's printed hash) and the review state, and is
signed like the full report, so `policygap verify` proves it against the same submission.

`PublicInput` is plain and picklable: it crosses to the render process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property, lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from service.i18n import N_, gettext
from service.questionnaire.publication import (
    kind_of,
    question_of,
    reason_index,
    scoring_record,
)
from service.questionnaire.schema import Questionnaire, localize
from service.questionnaire.scoring import Result
from service.questionnaire.submission import SealedRecord, canonical_bytes
from service.report import i18n
from service.report.assets import REPORTS_DIR
from service.report.inputs import (
    Issued,
    PlanEntry,
    ReportInput,
    ReviewInfo,
)
from service.report.sign import SigningIdentity, sign_pdf
from service.report.view import (
    GapRow,
    PlanRow,
    ReportView,
    build_view,
    stated_line,
)

PUBLIC_FORMAT = "policygap-public-edition/1"
PUBLIC_TEMPLATE_VERSION = "1"

# The public edition's own words (template key -> catalogue message)
KEYS: Mapping[str, str] = {
    "doc_title": N_("Public transparency record"),
    "first_page": N_("At a glance"),
    "detail": N_("In detail"),
    "what_program": N_("What the program is"),
    "agency": N_("Agency"),
    "program": N_("Program"),
    "assessed_against": N_("Assessed against"),
    "uses": N_("What it may and may not be used for"),
    "rating": N_("Rating"),
    "score": N_("Overall score"),
    "decision": N_("Regulator's decision"),
    "accepted_by_on": N_("Accepted by {regulator} on {date}"),
    "top_gaps": N_("The most important gaps and what is being done"),
    "no_gaps": N_("The assessment found no gaps."),
    "next_review": N_("Next review"),
    "next_review_none": N_("not set"),
    "criterion": N_("Criterion"),
    "verdict": N_("Verdict"),
    "gap": N_("Gap"),
    "action": N_("Action"),
    "action_status": N_("Status of the action"),
    "target_date": N_("Target date"),
    "no_action": N_("no action recorded"),
    "law": N_("Law that applies"),
    "criteria_heading": N_("Each criterion: verdict, gap, action and the law"),
    "answered_heading": N_(
        "Recipients, retention, human review of matches, accuracy and bias testing, as answered"
    ),
    "facts_heading": N_("The law that applies to this program"),
    "answers_heading": N_("Every answer, as published"),
    "answer": N_("Answer"),
    "evidence": N_("Evidence"),
    "documents": N_("Documents"),
    "withheld": N_("Withheld: {reason}"),
    "withheld_count": N_("Items withheld from this edition: {count}."),
    "live_status": N_(
        "Status of the actions as at {date}, not covered by the signature of the assessment."
    ),
    "changes": N_("Change log"),
    "change_submitted": N_("Submission {number} sent to the regulator"),
    "change_returned": N_("Returned by the regulator for changes"),
    "change_accepted": N_("Accepted by the regulator"),
    "change_released": N_("Public edition released"),
    "change_changed": N_("Public edition changed"),
    "change_withdrawn": N_("Public edition withdrawn"),
    "proof": N_("Proof"),
    "proof_text": N_(
        "This record is made from the signed submission whose hash (SHA-256) is printed below. "
        "Withheld items keep their commitment, so anyone can check with PolicyGap's verify page "
        "that nothing else was changed."
    ),
    "withdrawn_banner": N_("This record was withdrawn on {date}. Reason: {reason}"),
    "issued": N_("Issued and signed by {instance}, {at}"),
    "unsigned": N_("Not signed: a draft, not a record issued by a PolicyGap instance"),
    "not_answered": N_("not answered"),
    "released_on": N_("Released on {date}"),
    "colon": ":",
}


@lru_cache
def words(lang: str) -> Mapping[str, str]:
    out = {key: gettext(lang, msgid) for key, msgid in KEYS.items()}
    out["colon"] = "\u00a0:" if lang == "fr" else ":"
    return out


@dataclass(frozen=True)
class Change:
    """One entry of the record's change log: when, and what (a key of ``change_*`` words)."""

    at: date
    what: str  # submitted | returned | accepted | released | changed | withdrawn
    number: int = 0


@dataclass(frozen=True)
class PublicInput:
    """Everything one public edition is made from. The sealed record is already redacted."""

    questionnaire: Questionnaire
    sealed: SealedRecord  # withheld fields reduced to commitment and reason key
    result: Result  # as stored at submit
    record_id: str  # the public record's id
    regulator: Mapping[str, str]  # the regulator's name by language
    agency: Mapping[str, str]  # the agency's name by language
    decided_at: datetime | None
    next_review: date | None = None
    plan: tuple[PlanEntry, ...] = ()  # the live action plan ...
    plan_as_at: datetime | None = None  # ... as at this time
    released_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str = ""
    changes: tuple[Change, ...] = ()
    issued: Issued | None = None

    @cached_property
    def report(self) -> ReportInput:
        """The report input of the redacted record: withheld answers and notes counted as
        present (`scoring_record`), the stored result, the live plan."""
        return ReportInput(
            questionnaire=self.questionnaire,
            record=scoring_record(self.sealed),
            result=self.result,
            status="accepted",
            review=ReviewInfo(
                decided_by=self.regulator.get("en", ""),
                decided_at=self.decided_at,
                plan=self.plan,
                plan_as_at=self.plan_as_at,
            ),
            sealed=self.sealed,
            issued=self.issued,
        )

    @property
    def sha256(self) -> str:
        return self.sealed.root()


@dataclass(frozen=True)
class Shown:
    """A free-text item as the public sees it: its words, or that it was withheld and why."""

    text: str
    withheld: bool = False


@dataclass(frozen=True)
class QuestionRow:
    id: str
    text: str
    answer: Shown
    evidence: Shown | None
    documents: tuple[Shown, ...]


@dataclass(frozen=True)
class CriterionRow:
    id: str
    title: str
    section_title: str
    verdict: str
    verdict_label: str
    severity_label: str
    gap: GapRow | None
    plan: PlanRow | None
    law: str


@dataclass(frozen=True)
class ChangeRow:
    date: str
    text: str


@dataclass(frozen=True)
class PublicView:
    inp: PublicInput
    lang: str
    view: ReportView
    w: Mapping[str, str]
    withheld: Mapping[str, str] = field(default_factory=dict)  # path -> reason words

    # --- the first page ----------------------------------------------------------------------

    @property
    def agency(self) -> str:
        return self.inp.agency.get(self.lang) or self.inp.sealed.fields["agency"].value

    @property
    def program(self) -> str:
        return str(self.inp.sealed.fields["program"].value)

    @property
    def questionnaire_title(self) -> str:
        q = self.inp.questionnaire
        return f"{localize(q.title, self.lang)} ({q.version})"

    @property
    def regulator(self) -> str:
        return self.inp.regulator.get(self.lang, "")

    @property
    def decided_on(self) -> str:
        return self.inp.decided_at.strftime("%Y-%m-%d") if self.inp.decided_at else ""

    @property
    def next_review(self) -> str:
        nr = self.inp.next_review
        return nr.isoformat() if nr else self.w["next_review_none"]

    @property
    def live_status(self) -> str:
        when = self.inp.plan_as_at
        return self.w["live_status"].format(date=when.strftime("%Y-%m-%d")) if when else ""

    @cached_property
    def summary_questions(self) -> tuple[QuestionRow, ...]:
        return self._questions(self.inp.questionnaire.public_edition.summary_questions)

    @cached_property
    def detail_questions(self) -> tuple[QuestionRow, ...]:
        return self._questions(self.inp.questionnaire.public_edition.detail_questions)

    @cached_property
    def top_gaps(self) -> tuple[tuple[GapRow, PlanRow | None], ...]:
        plan = self.view.plan
        return tuple((g, plan.get(g.id)) for g in self.view.gap_rows[:5])

    # --- the detail --------------------------------------------------------------------------

    @cached_property
    def criteria(self) -> tuple[CriterionRow, ...]:
        gaps = {g.id: g for g in self.view.gap_rows}
        plan = self.view.plan
        rows = []
        for section in self.view.details:
            for c in section.criteria:
                rows.append(
                    CriterionRow(
                        id=c.id,
                        title=c.title,
                        section_title=section.title,
                        verdict=c.verdict.value,
                        verdict_label=c.verdict_label,
                        severity_label=c.severity_label,
                        gap=gaps.get(c.id),
                        plan=plan.get(c.id),
                        law=c.refs,
                    )
                )
        return tuple(rows)

    @cached_property
    def answers(self) -> tuple[tuple[str, tuple[QuestionRow, ...]], ...]:
        """Every question asked, by section (those the answers did not ask are left out)."""
        not_asked = self.view.labels["not_asked"]
        out = []
        for section in self.view.appendix:
            asked = [q.id for q in section.questions if q.answer != not_asked]
            if asked:
                out.append((section.title, self._questions(asked)))
        return tuple(out)

    @cached_property
    def changes(self) -> tuple[ChangeRow, ...]:
        return tuple(
            ChangeRow(
                date=c.at.isoformat(),
                text=self.w[f"change_{c.what}"].format(number=c.number),
            )
            for c in self.inp.changes
        )

    @property
    def proof(self) -> str:
        return self.w["proof_text"]

    @property
    def stated(self) -> str:
        return stated_line(self.inp.result)

    @property
    def withdrawn(self) -> str:
        if self.inp.withdrawn_at is None:
            return ""
        return self.w["withdrawn_banner"].format(
            date=self.inp.withdrawn_at.strftime("%Y-%m-%d"), reason=self.inp.withdrawal_reason
        )

    @property
    def issued(self) -> str:
        issued = self.inp.issued
        if issued is None:
            return ""
        return self.w["issued"].format(
            instance=issued.instance, at=issued.at.strftime("%Y-%m-%d %H:%M UTC")
        )

    # --- helpers ------------------------------------------------------------------------------

    def _shown(self, path: str, text: str) -> Shown:
        reason = self.withheld.get(path)
        if reason is not None:
            return Shown(self.w["withheld"].format(reason=reason), withheld=True)
        return Shown(text)

    def _questions(self, ids: list[str]) -> tuple[QuestionRow, ...]:
        reads = {a.id: a for section in self.view.appendix for a in section.questions}
        sealed = self.inp.sealed
        rows = []
        for qid in ids:
            a = reads.get(qid)
            if a is None:
                continue
            answer = self._shown(f"answers/{qid}", a.answer)
            note_path = f"evidence/{qid}"
            evidence = None
            if note_path in self.withheld:
                evidence = self._shown(note_path, "")
            elif note_path in sealed.fields:
                evidence = Shown(str(sealed.fields[note_path].value))
            documents = []
            for path in sorted([*sealed.fields, *sealed.withheld]):
                if kind_of(path) != "document" or question_of(path) != qid:
                    continue
                if path in self.withheld:
                    documents.append(self._shown(path, ""))
                else:
                    ref = sealed.fields[path].value
                    documents.append(Shown(f"{ref['name']} (SHA-256 {ref['sha256'][:12]})"))
            rows.append(QuestionRow(qid, a.text, answer, evidence, tuple(documents)))
        return tuple(rows)


def withheld_reasons(inp: PublicInput, lang: str) -> dict[str, str]:
    """path -> the reason's words in ``lang`` (the key itself when the questionnaire has none)."""
    index = reason_index(inp.questionnaire)
    out = {}
    for path, w in inp.sealed.withheld.items():
        found = index.get(w.reason)
        out[path] = localize(found.label, lang) if found is not None else w.reason
    return out


def public_view(inp: PublicInput, lang: str) -> PublicView:
    view = build_view(inp.report, lang)
    return PublicView(inp, lang, view, words(lang), withheld_reasons(inp, lang))


# ---------------------------------------------------------------------------------------------
# HTML and PDF


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(REPORTS_DIR / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


@lru_cache(maxsize=8)
def _css(name: str) -> str:
    return (REPORTS_DIR / "css" / name).read_text(encoding="utf-8")


def _render(inp: PublicInput, lang: str, *, fragment: bool, pdf: bool) -> str:
    pv = public_view(inp, lang)
    css = _css("public.css")
    if pdf:
        t = i18n.TEXT[lang]
        css = (
            _css("fonts.css")
            + css
            + "@page { size: letter; @bottom-right { content: "
            + f'"{t["page"]} " counter(page) " {t["of"]} " counter(pages); }} }}'
        )
    # Review point: our own style sheets (never user input), as in the full report.
    style = Markup(css.replace("</", "<\\/"))  # noqa: S704
    return (
        _environment()
        .get_template("public.html")
        .render(css=style, fragment=fragment, pdf=pdf, pv=pv, w=pv.w, t=pv.view.labels, lang=lang)
    )


def render_public_html(inp: PublicInput, lang: str = "en", *, fragment: bool = False) -> str:
    return _render(inp, lang, fragment=fragment, pdf=False)


def public_css() -> str:
    return _css("public.css")


def render_public_pdf(
    inp: PublicInput, lang: str = "en", *, signer: SigningIdentity | None = None
) -> bytes:
    """The public edition as a tagged PDF with the redacted record and the review state
    attached; signed by ``signer`` (at ``inp.issued``) when given."""
    from service.report.render import write_tagged_pdf  # WeasyPrint: the render process only

    if signer is not None and inp.issued is None:
        raise ValueError("a signed public edition names who issues it and when (issued)")
    html = _render(inp, lang, fragment=False, pdf=True)
    identifier = hashlib.sha256(
        f"public:{inp.sha256}:{lang}:{PUBLIC_TEMPLATE_VERSION}".encode()
    ).hexdigest()[:32]
    data = write_tagged_pdf(
        html,
        inp.report,
        when=inp.released_at or datetime.now(UTC),
        identifier=identifier,
        source="PolicyGap sealed submission, withheld fields as commitments only",
    )
    if signer is not None and inp.issued is not None:
        data = sign_pdf(
            data, signer, signed_at=inp.issued.at, reason="PolicyGap public edition, as released"
        )
    return data


def public_json(inp: PublicInput) -> bytes:
    """The record as open data (docs/open-data.md, "The public edition"): what the first page
    and the detail say, with stable keys, words in English and French, withheld items as their
    reason only, and the redacted sealed record for the proof."""
    views = {lang: public_view(inp, lang) for lang in ("en", "fr")}
    en = views["en"]
    index = reason_index(inp.questionnaire)

    def question(rows: dict[str, Any]) -> list[dict[str, Any]]:
        return list(rows.values())

    def questions(ids: list[str]) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for lang, pv in views.items():
            for row in pv._questions(ids):
                entry = out.setdefault(row.id, {"id": row.id, "question": {}, "answer": {}})
                entry["question"][lang] = row.text
                entry["answer"][lang] = row.answer.text
                if row.evidence is not None:
                    entry.setdefault("evidence", {})[lang] = row.evidence.text
                if row.documents:
                    entry.setdefault("documents", {})[lang] = [d.text for d in row.documents]
        return question(out)

    data: dict[str, Any] = {
        "format": PUBLIC_FORMAT,
        "id": inp.record_id,
        "status": "withdrawn" if inp.withdrawn_at else "released",
        "agency": dict(inp.agency),
        "program": en.program,
        "questionnaire": {"id": inp.questionnaire.id, "version": inp.questionnaire.version},
        "rating": inp.result.rating.value,
        "score": inp.result.score,
        "gaps": list(inp.result.gaps),
        "regulator": dict(inp.regulator),
        "accepted_on": en.decided_on or None,
        "released_on": inp.released_at.date().isoformat() if inp.released_at else None,
        "next_review": inp.next_review.isoformat() if inp.next_review else None,
        "withdrawn": (
            {"on": inp.withdrawn_at.date().isoformat(), "reason": inp.withdrawal_reason}
            if inp.withdrawn_at
            else None
        ),
        "submission_sha256": inp.sha256,
    }
    if inp.withdrawn_at is None:
        data["criteria"] = [
            {
                "id": row.id,
                "verdict": row.verdict,
                "gap": row.gap is not None,
                "action_status": row.plan.status if row.plan else None,
                "target_date": (
                    row.plan.target_date
                    if row.plan and row.plan.target_date[:1].isdigit()
                    else None
                ),
            }
            for row in en.criteria
        ]
        data["action_status_as_at"] = inp.plan_as_at.isoformat() if inp.plan_as_at else None
        data["summary_answers"] = questions(inp.questionnaire.public_edition.summary_questions)
        data["detail_answers"] = questions(inp.questionnaire.public_edition.detail_questions)
        data["withheld"] = [
            {
                "field": path,
                "reason": w.reason,
                "reason_label": {
                    lang: localize(index[w.reason].label, lang) if w.reason in index else w.reason
                    for lang in ("en", "fr")
                },
                "commitment": w.commitment,
            }
            for path, w in inp.sealed.withheld.items()
        ]
        data["changes"] = [
            {"date": c.at.isoformat(), "what": c.what, "number": c.number or None}
            for c in inp.changes
        ]
        data["sealed_record"] = json.loads(inp.sealed.canonical())
    return canonical_bytes(data) + b"\n"
