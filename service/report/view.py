"""One typed, frozen view of a report: everything a reader is shown, in the reader's language.

`build_view(report, lang)` turns a `ReportInput` into a `ReportView` in small steps. The PDF and
HTML templates read it (attribute access, StrictUndefined), and so can any page or API that
shows part of a report: the gap rows (`view.gap_rows`), one criterion's verdict and the answers
it read (`view.criterion_detail(id)`), the section scores (`view.section_scores`), the review
state (`view.review`). Pure: no I/O, no clock (the tool version is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date
from functools import cached_property
from typing import Any

from service.i18n.catalogue import gettext
from service.i18n.formats import format_date, format_datetime, format_decimal, format_number
from service.questionnaire.answers import Answers
from service.questionnaire.engine import Resolved, program_of, resolve
from service.questionnaire.schema import (
    DEFAULT_WEIGHTS,
    Criterion,
    Question,
    Questionnaire,
    QuestionType,
    Rating,
    Reference,
    Severity,
    Source,
    Verdict,
    Verification,
    localize,
)
from service.questionnaire.scoring import CriterionResult, Result
from service.report import i18n
from service.report.inputs import MAX_MARKING, STATUSES, TEMPLATE_VERSION, ReportInput, ReviewInfo
from service.report.reasons import JUDGED_ON_AS_OF, reason_text

RESULT_PREFIX = "policygap-result:"
BAND_FILL = {"red": "#b3261e", "amber": "#c77700", "green": "#2e7d32"}


# ---------------------------------------------------------------------------------------------
# The view's types


@dataclass(frozen=True, slots=True)
class Cover:
    """The report's identity: who, what, when, and the headline rating."""

    title: str
    agency: str
    program: str
    questionnaire: str
    questionnaire_id: str
    version: str
    as_of: str
    submitted_at: str
    number: int
    rating: Rating
    rating_label: str
    rating_meaning: str
    score: str
    doc_id: str
    advisory: bool
    advisory_note: str
    complete: bool
    marking: str
    keywords: str
    created: str
    issued: str  # "Issued and signed by ..." on a PDF the instance signs ("" otherwise)


@dataclass(frozen=True, slots=True)
class ReviewState:
    """Where the assessment stands in review, and what the reviewer wrote."""

    status: str  # draft | submitted | returned | accepted
    status_label: str
    decided_label: str  # "Accepted by" or "Returned by" in the reader's language ("" when pending)
    decided_by: str
    decided_at: str
    general_comment: str
    comments: Mapping[str, tuple[str, ...]]  # criterion id -> comments


@dataclass(frozen=True, slots=True)
class SectionScoreRow:
    id: str
    title: str
    value: float | None
    score: str
    gaps: int
    band: str  # red | amber | green | none


@dataclass(frozen=True, slots=True)
class ChartBar:
    number: int
    label: str  # the section's title, above its bar
    num_x: int
    label_y: int
    bar_y: int
    bar_h: int
    x: int
    w: float
    track_w: int
    text_x: float
    text_y: int
    text: str
    fill: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[ChartBar, ...]


@dataclass(frozen=True, slots=True)
class GapMatrixRow:
    section: str  # the section's title
    counts: tuple[int, ...]  # gaps by severity, in the order of GapMatrix.severities
    total: int


@dataclass(frozen=True, slots=True)
class GapMatrix:
    """The gaps by section and severity: the board's picture at a glance (a table; colour
    repeats what the column heading and the number say)."""

    severities: tuple[Severity, ...]
    severity_labels: tuple[str, ...]
    rows: tuple[GapMatrixRow, ...]
    totals: tuple[int, ...]
    total: int


@dataclass(frozen=True, slots=True)
class CriticalGap:
    id: str
    title: str
    verdict_label: str


@dataclass(frozen=True, slots=True)
class FactRow:
    label: str
    value: str
    basis: str = ""  # the law the value rests on, with its version ("" when the row cites none)


@dataclass(frozen=True, slots=True)
class InherentRisk:
    word: str
    key: str
    beside: str


@dataclass(frozen=True, slots=True)
class Change:
    """The change since the result a reassessment started from."""

    prev_rating_label: str
    prev_score: str
    closed: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    why: tuple[str, ...]
    critical: tuple[CriticalGap, ...]
    facts: tuple[FactRow, ...]
    inherent: InherentRisk | None
    change: Change | None


@dataclass(frozen=True, slots=True)
class GapRow:
    """One gap of the action plan, most severe first."""

    id: str
    title: str
    section: str
    section_title: str
    verdict: Verdict
    verdict_label: str
    severity: Severity
    severity_label: str
    escalated_from: str
    escalation_reason: str
    recommendation: str
    refs: str  # the citations, with the version of the law; no verification tag (appendix)


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One gap's action as it stood at the regulator's decision (``ReviewInfo.plan``)."""

    owner: str
    target_date: str  # year-month-day, or "none set" in the reader's language
    status: str
    status_label: str
    risk_reason: str
    risk_accepted_by: str


@dataclass(frozen=True, slots=True)
class BeforeLaunchRow:
    """A criterion not yet due: what must be in place before launch (the checklist)."""

    id: str
    title: str
    section_title: str
    severity: Severity
    severity_label: str
    reason: str
    recommendation: str
    refs: str


@dataclass(frozen=True, slots=True)
class AnswerRead:
    """A question a criterion read, with the answer as the reader is shown it."""

    question_id: str
    text: str
    answer: str
    evidence: str
    documents: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CriterionDetail:
    id: str
    section: str
    title: str
    requirement: str
    verdict: Verdict
    verdict_label: str
    severity: Severity
    severity_label: str
    escalated_from: str
    na_reason: str
    reads: tuple[AnswerRead, ...]
    comments: tuple[str, ...]
    rule: str = ""  # the part of the rule that decided the verdict, in words
    refs: str = ""  # the citations, as the action plan prints them

    @property
    def not_applicable(self) -> bool:
        return self.verdict is Verdict.not_applicable

    @property
    def not_yet_due(self) -> bool:
        return self.verdict is Verdict.not_yet_due

    @property
    def not_scored(self) -> bool:
        """Not applicable or not yet due: shown with its reason, not scored."""
        return not self.verdict.is_scored


@dataclass(frozen=True, slots=True)
class SectionDetail:
    id: str
    title: str
    score: str
    criteria: tuple[CriterionDetail, ...]


@dataclass(frozen=True, slots=True)
class WeightRow:
    severity_label: str
    weight: str


@dataclass(frozen=True, slots=True)
class BandRow:
    rating_label: str
    min: str


@dataclass(frozen=True, slots=True)
class GateRow:
    label: str
    cap_label: str
    fired: str
    criteria: str


@dataclass(frozen=True, slots=True)
class RuleRow:
    id: str
    verdict_label: str
    rule: str
    escalation: str
    evidence: str
    weight: str
    credit: str


@dataclass(frozen=True, slots=True)
class Method:
    weights: tuple[WeightRow, ...]
    bands: tuple[BandRow, ...]
    gates: tuple[GateRow, ...]
    citations: str
    rules: tuple[RuleRow, ...]


@dataclass(frozen=True, slots=True)
class AppendixQuestion:
    id: str
    text: str
    answer: str
    evidence: str
    documents: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class AppendixSection:
    title: str
    questions: tuple[AppendixQuestion, ...]


@dataclass(frozen=True, slots=True)
class SourceRow:
    key: str
    title: str
    issuer: str
    date: str
    url: str
    verification: str
    mark: str
    # No note: a source's `note` is the catalogue's internal record ("Verification status in
    # the catalogue: ... [V] ... [S]"), for authors; the report prints the verification tag.


@dataclass(frozen=True, slots=True)
class Integrity:
    sha256: str
    sealed: bool  # a version-2 record: the hash is of its field commitments, not its bytes
    questionnaire_id: str
    version: str
    questionnaire_sha256: str
    tool_version: str
    template_version: str
    stated: str


@dataclass(frozen=True)
class ReportView:
    """Everything a report shows, in one language.

    Each part is built the first time it is read and kept: a page that shows the verdicts does
    not pay for the method, the appendix or the sources. Two views are equal when they are of
    the same input, language, marking and tool version.
    """

    report: ReportInput
    lang: str
    marking: str | None = None
    tool_version: str = ""

    @cached_property
    def _ctx(self) -> _Context:
        return _context(self.report, self.lang)

    @cached_property
    def labels(self) -> Mapping[str, str]:
        """The report's own words (``i18n.TEXT[lang]``)."""
        return self._ctx.t

    @cached_property
    def cover(self) -> Cover:
        return _cover(self._ctx, marking=self.marking)

    @cached_property
    def review(self) -> ReviewState:
        return _review(self._ctx)

    @cached_property
    def summary(self) -> Summary:
        return _summary(self._ctx)

    @cached_property
    def section_scores(self) -> tuple[SectionScoreRow, ...]:
        return _section_scores(self._ctx)

    @cached_property
    def chart(self) -> Chart:
        return _chart(self.section_scores)

    @cached_property
    def gap_matrix(self) -> GapMatrix:
        return _gap_matrix(self._ctx, self.gap_rows)

    @cached_property
    def top_actions(self) -> tuple[GapRow, ...]:
        """The first three gaps of the action plan (the most severe), for the cover."""
        return self.gap_rows[:3]

    @cached_property
    def gap_rows(self) -> tuple[GapRow, ...]:
        ctx = self._ctx
        return tuple(_gap_row(ctx, ctx.res.criterion(cid)) for cid in ctx.res.gaps)

    @cached_property
    def plan(self) -> Mapping[str, PlanRow]:
        """The action of each gap as it stood at the decision (empty before a decision)."""
        return _plan(self._ctx)

    @cached_property
    def plan_as_at(self) -> str:
        """ "Owner, target date and status as at DATE..." ("" without a plan)."""
        review = self._ctx.report.review
        if review is None or not review.plan or review.plan_as_at is None:
            return ""
        return self._ctx.t["plan_as_at"].format(date=review.plan_as_at.strftime("%Y-%m-%d"))

    @cached_property
    def before_launch(self) -> tuple[BeforeLaunchRow, ...]:
        return _before_launch(self._ctx)

    @cached_property
    def details(self) -> tuple[SectionDetail, ...]:
        return _details(self._ctx, self.review)

    @cached_property
    def method(self) -> Method:
        return _method(self._ctx)

    @cached_property
    def appendix(self) -> tuple[AppendixSection, ...]:
        return _appendix(self._ctx)

    @cached_property
    def sources(self) -> tuple[SourceRow, ...]:
        return _sources(self._ctx)

    @cached_property
    def integrity(self) -> Integrity:
        return _integrity(self._ctx, self.tool_version)

    def criterion_detail(self, criterion_id: str) -> CriterionDetail:
        """One criterion's verdict, severity, reason and the answers it read."""
        for section in self.details:
            for detail in section.criteria:
                if detail.id == criterion_id:
                    return detail
        raise KeyError(criterion_id)


# ---------------------------------------------------------------------------------------------
# Small formatting helpers


def percent(value: float | None, lang: str) -> str:
    """A score as the report prints it ("25.6 %", "25,6 %"), or the word for none."""
    if value is None:
        return i18n.TEXT[lang]["na"]
    return i18n.TEXT[lang]["percent"].format(value=format_decimal(value, lang))


def _answer_text(question: Question, value: object, lang: str) -> str:
    if value is None or value == "" or value == []:
        return ""
    if question.type in (
        QuestionType.single_choice,
        QuestionType.yes_no,
        QuestionType.multiple_choice,
    ):
        labels = {o.value: localize(o.label, lang) for o in question.choices()}
        values = value if isinstance(value, list) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in values)
    if question.type is QuestionType.number and isinstance(value, int | float):
        return format_number(value, lang)
    if isinstance(value, date):
        return format_date(value, lang, style="short")
    return str(value)


# English abbreviations of a provision and their French form ("s. 38(3)" -> "art. 38(3)")
_SECTION_FR = (
    (re.compile(r"\bss?\.\s"), "art. "),
    (re.compile(r"\bArts?\.\s"), "art. "),
    (re.compile(r"\bparas?\.\s"), "par. "),
    (re.compile(r"\bSch\.\s"), "ann. "),
    (re.compile(r"\bPart\s(?=\d|[IVX]+\b)"), "partie "),
    (re.compile(r"\band\b"), "et"),
)


def section_label(section: str, lang: str) -> str:
    """A provision as the reader's language writes it: French says "art." for a section."""
    if lang != "fr":
        return section
    for pattern, french in _SECTION_FR:
        section = pattern.sub(french, section)
    return section


def _in_force_text(ref: Reference, lang: str) -> str:
    t = i18n.TEXT[lang]
    if ref.in_force and ref.until:
        return t["in_force_between"].format(
            start=format_date(ref.in_force, lang, style="short"),
            end=format_date(ref.until, lang, style="short"),
        )
    if ref.in_force:
        return t["in_force_from"].format(date=format_date(ref.in_force, lang, style="short"))
    if ref.until:
        return t["in_force_until"].format(date=format_date(ref.until, lang, style="short"))
    return ""


@dataclass(frozen=True, slots=True)
class _RefText:
    text: str
    title: str
    verification: Verification
    mark: str
    note: str


def _ref_text(ref: Reference, sources: Mapping[str, Source], lang: str) -> _RefText:
    source = sources.get(ref.source)
    verification = ref.verification or (source.verification if source else Verification.unverified)
    text = ref.source + (f" {section_label(ref.section, lang)}" if ref.section else "")
    in_force = _in_force_text(ref, lang)
    return _RefText(
        text=f"{text}, {in_force}" if in_force else text,
        title=localize(source.title, lang) if source else "",
        verification=verification,
        mark=""
        if verification is Verification.verified
        else i18n.VERIFICATION[lang][verification.value],
        note=localize(ref.note, lang) if ref.note else "",
    )


def reference_text(ref: Reference, sources: Mapping[str, Source], lang: str) -> str:
    """One citation as the board reads it: source, provision and the version of the law it
    rests on ("ON-FIPPA s. 38(3), in force 2025-07-01"). No verification tag: the tags are in
    the appendix and the machine-readable record."""
    return _ref_text(ref, sources, lang).text


def _refs_line(
    refs: list[Reference], sources: Mapping[str, Source], lang: str, *, notes: bool = True
) -> str:
    """The references as one line of text (fewer inline boxes: cheaper to lay out)."""
    parts = []
    seen: set[str] = set()
    for ref in (_ref_text(r, sources, lang) for r in refs):
        text = ref.text
        if notes and ref.note:
            text += f" ({ref.note})"
        if text not in seen:
            seen.add(text)
            parts.append(text)
    return "; ".join(parts)


def _short_list(ids: list[str], lang: str, limit: int = 6) -> str:
    if not ids:
        return "-"
    if len(ids) <= limit:
        return ", ".join(ids)
    more = i18n.TEXT[lang]["and_more"].format(count=len(ids) - limit)
    return ", ".join(ids[:limit]) + " " + more


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fact_value(questionnaire: Questionnaire, fact_id: str, value: object, lang: str) -> str:
    for fact in questionnaire.facts:
        if fact.id == fact_id and str(value) in fact.values:
            return localize(fact.values[str(value)], lang)
    return str(value)


def band_of(score_value: float | None, questionnaire: Questionnaire) -> str:
    """The rating band a section score falls in ("none" without a score)."""
    if score_value is None:
        return "none"
    return questionnaire.rating.band_of(score_value).value


def stated_line(result: Result) -> str:
    """The machine-checkable statement printed in the report and read back by `verify`."""
    score_text = "none" if result.score is None else f"{result.score:.1f}"
    gaps = " ".join(result.gaps) or "none"
    return f"{RESULT_PREFIX} rating={result.rating.value}; score={score_text}; gaps={gaps}"


# ---------------------------------------------------------------------------------------------
# The builder: one small function per part


@dataclass(frozen=True, slots=True)
class _Context:
    """What every part reads: the input, the language and the indexes built once."""

    report: ReportInput
    lang: str
    t: Mapping[str, str]
    criteria: Mapping[str, Criterion]
    questions: Mapping[str, Question]
    section_titles: Mapping[str, str]
    sources: Mapping[str, Source]
    resolved: Resolved

    @property
    def q(self) -> Questionnaire:
        return self.report.questionnaire

    @property
    def res(self) -> Result:
        return self.report.result

    def title_of(self, criterion_id: str) -> str:
        return localize(self.criteria[criterion_id].title, self.lang)

    def answer_of(self, question_id: str) -> str:
        if question_id not in self.resolved.visible:
            return self.t["not_asked"]
        value = self.report.record.answers.get(question_id)
        text = _answer_text(self.questions[question_id], value, self.lang)
        return text or self.t["not_answered"]

    def refs_of(self, c: CriterionResult) -> str:
        """The criterion's citations, then those of the escalation that applied."""
        criterion = self.criteria[c.id]
        refs = list(criterion.references)
        if c.escalated:
            for row, guard in zip(
                criterion.escalate, program_of(self.q).escalate[c.id], strict=True
            ):
                if guard.holds(self.resolved.env, self.resolved.visible, self.report.record.as_of):
                    refs.extend(row.references)
                    break
        return _refs_line(refs, self.sources, self.lang)

    def fact_basis(self, fact_id: str) -> str:
        """The law the fact's value rests on: the references of the table row that decided it."""
        fact = next(f for f in self.q.facts if f.id == fact_id)
        rows = program_of(self.q).fact_rows[fact_id]
        as_of = self.report.record.as_of
        for row, guard in zip(fact.table, rows, strict=True):
            if not guard.holds(self.resolved.env, self.resolved.visible, as_of):
                continue
            line = _refs_line(row.references, self.sources, self.lang, notes=False)
            window = guard.window
            if window is None:
                return line
            # the date the row was judged on: "the law in force on 2025-09-01 (first_use_date)"
            day = window.judged_date(self.resolved.env, self.resolved.visible, as_of)
            judged = (
                gettext(self.lang, JUDGED_ON_AS_OF) if window.question is None else window.question
            )
            on = self.t["judged_on"].format(
                date=format_date(day, self.lang, style="short") if day else "?", judged=judged
            )
            return f"{line}; {on}" if line else on
        return ""

    def escalated_from(self, c: CriterionResult) -> str:
        if not c.escalated:
            return ""
        base = i18n.SEVERITY[self.lang][c.base_severity.value].lower()
        return self.t["escalated_from"].format(base=base)


# The report's words that the questionnaire may give (its `report:` block), by template key.
_QUESTIONNAIRE_WORDS = {
    "keywords": "keywords",
    "advisory_banner": "advisory_banner",
    "law": "facts_heading",
    "summary_intro": "summary_intro",
}


def _words(q: Questionnaire, lang: str) -> Mapping[str, str]:
    """The report's words in ``lang``, with those the questionnaire gives in place of the
    general ones (nothing in the report names what a questionnaire assesses on its own)."""
    given = {
        key: localize(value, lang)
        for key, field_name in _QUESTIONNAIRE_WORDS.items()
        if (value := getattr(q.report, field_name)) is not None
    }
    return {**i18n.TEXT[lang], **given} if given else i18n.TEXT[lang]


def _context(report: ReportInput, lang: str) -> _Context:
    q = report.questionnaire
    rec = report.record
    answers = rec.to_answers()
    resolved = resolve(q, Answers(values=answers.values, evidence=answers.evidence), rec.as_of)
    return _Context(
        report=report,
        lang=lang,
        t=_words(q, lang),
        # indexes of the questionnaire, built once per loaded model (it is frozen)
        criteria=q.derived("report.criteria", lambda m: {c.id: c for c in m.criteria}),
        questions=q.derived("report.questions", Questionnaire.question_index),
        section_titles=q.derived(
            f"report.section_titles.{lang}",
            lambda m: {s.id: localize(s.title, lang) for s in m.sections},
        ),
        sources=q.derived("report.sources", Questionnaire.source_index),
        resolved=resolved,
    )


def _cover(ctx: _Context, *, marking: str | None) -> Cover:
    rec, res, t, lang, q = ctx.report.record, ctx.res, ctx.t, ctx.lang, ctx.q
    return Cover(
        title=f"{t['doc_title']}: {rec.agency}" if rec.agency else t["doc_title"],
        agency=rec.agency,
        program=rec.program,
        questionnaire=localize(q.title, lang),
        questionnaire_id=q.id,
        version=q.version,
        as_of=format_date(rec.as_of, lang, style="short"),
        submitted_at=format_datetime(rec.submitted_at, lang) if rec.submitted_at else "",
        number=rec.number,
        rating=res.rating,
        rating_label=i18n.RATING[lang][res.rating.value],
        rating_meaning=i18n.RATING_MEANING[lang][res.rating.value],
        score=percent(res.score, lang),
        doc_id=ctx.report.sha256[:12],
        advisory=res.advisory,
        advisory_note=localize(q.advisory_note, lang) if q.advisory_note else "",
        complete=res.complete,
        marking=(marking or "").strip()[:MAX_MARKING],
        keywords=t["keywords"],
        created=(rec.submitted_at.date() if rec.submitted_at else rec.as_of).isoformat(),
        issued=_issued(ctx),
    )


def _issued(ctx: _Context) -> str:
    issued = ctx.report.issued
    if issued is None:
        return ""
    return ctx.t["issued"].format(
        instance=issued.instance,
        at=issued.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        status=i18n.STATUS[ctx.lang][ctx.report.status],
    )


def _plan(ctx: _Context) -> Mapping[str, PlanRow]:
    review = ctx.report.review
    if review is None:
        return {}
    t, words = ctx.t, i18n.ACTION_STATUS[ctx.lang]
    return {
        entry.criterion_id: PlanRow(
            owner=entry.owner or t["plan_not_assigned"],
            target_date=entry.target_date.isoformat() if entry.target_date else t["plan_none_set"],
            status=entry.status,
            status_label=words.get(entry.status, entry.status),
            risk_reason=entry.risk_reason,
            risk_accepted_by=entry.risk_accepted_by,
        )
        for entry in review.plan
    }


def _review(ctx: _Context) -> ReviewState:
    review = ctx.report.review or ReviewInfo()
    status = ctx.report.status
    return ReviewState(
        status=status,
        status_label=i18n.STATUS[ctx.lang][status],
        decided_label=ctx.t.get(f"{status}_by", "") if review.decided_by else "",
        decided_by=review.decided_by or "",
        decided_at=review.decided_at.strftime("%Y-%m-%d") if review.decided_at else "",
        general_comment=review.general_comment or "",
        comments={cid: tuple(texts) for cid, texts in review.comments.items()},
    )


def _why(ctx: _Context) -> tuple[str, ...]:
    res, t, lang = ctx.res, ctx.t, ctx.lang
    words = i18n.RATING[lang]
    why = [t["band_is"].format(score=percent(res.score, lang), band=words[res.band_rating.value])]
    for gate in res.gates_fired:
        why.append(
            t["gate_capped"].format(
                label=localize(gate.label, lang),
                ids=_short_list(gate.criteria, lang),
                cap=words[gate.cap.value],
            )
        )
    if not res.gates_fired:
        why.append(t["no_gate"])
    return tuple(why)


def _inherent(ctx: _Context) -> InherentRisk | None:
    res, q, lang = ctx.res, ctx.q, ctx.lang
    if res.inherent_risk is None:
        return None
    word = _fact_value(q, q.inherent_risk or "", res.inherent_risk, lang)
    rating = i18n.RATING[lang][res.rating.value].lower()
    beside = _sentence(ctx.t["inherent_beside"].format(risk=word, rating=rating))
    return InherentRisk(word=word, key=res.inherent_risk, beside=beside)


def _change(ctx: _Context) -> Change | None:
    prev = ctx.report.previous
    if prev is None:
        return None
    gaps = ctx.res.gaps
    return Change(
        prev_rating_label=i18n.RATING[ctx.lang][prev.rating.value],
        prev_score=percent(prev.score, ctx.lang),
        closed=tuple(g for g in prev.gaps if g not in gaps),
        new=tuple(g for g in gaps if g not in prev.gaps),
    )


def _summary(ctx: _Context) -> Summary:
    res, q, lang = ctx.res, ctx.q, ctx.lang
    verdicts = i18n.VERDICT[lang]
    critical = tuple(
        CriticalGap(id=c.id, title=ctx.title_of(c.id), verdict_label=verdicts[c.verdict.value])
        for c in (res.criterion(cid) for cid in res.gaps)
        if c.severity is Severity.critical
    )
    facts = tuple(
        FactRow(
            label=localize(f.label, lang),
            value=_fact_value(q, f.id, res.facts[f.id], lang),
            basis=ctx.fact_basis(f.id),
        )
        for f in q.facts
        if f.show_in_report and f.id in res.facts and f.id != q.inherent_risk
    )
    return Summary(
        why=_why(ctx), critical=critical, facts=facts, inherent=_inherent(ctx), change=_change(ctx)
    )


def _section_scores(ctx: _Context) -> tuple[SectionScoreRow, ...]:
    res, t = ctx.res, ctx.t
    gaps_in: dict[str, int] = {}
    for c in res.criteria:
        if c.is_gap:
            gaps_in[c.section] = gaps_in.get(c.section, 0) + 1
    scored = {s.id: s for s in res.sections}
    context_only = set(res.context_sections)
    rows = []
    for section in ctx.q.sections:  # in the questionnaire's order, context-only sections too
        s = scored.get(section.id)
        if s is None and section.id not in context_only:
            continue
        value = s.score if s is not None else None
        if s is None:
            shown = t["context_only"]  # a section without criteria: it feeds facts, not the score
        elif value is None:
            shown = t["not_applicable_section"]
        else:
            shown = percent(value, ctx.lang)
        rows.append(
            SectionScoreRow(
                id=section.id,
                title=ctx.section_titles.get(section.id, section.id),
                value=value,
                score=shown,
                gaps=gaps_in.get(section.id, 0),
                band=band_of(value, ctx.q),
            )
        )
    return tuple(rows)


def _chart(rows: tuple[SectionScoreRow, ...]) -> Chart:
    """Geometry of the horizontal bar chart (inline SVG): one bar per section, its number and
    the section's title above it, its score after it. The table beside repeats the numbers."""
    row_h, bar_h, label_h, num_w, width, bar_w = 19, 8, 10, 16, 260, 200
    bars = []
    for index, row in enumerate(rows):
        top = index * row_h + 2
        y = top + label_h + 1
        value = row.value
        length = 0.0 if value is None else max(0.0, min(100.0, value)) * bar_w / 100.0
        bars.append(
            ChartBar(
                number=index + 1,
                label=row.title,
                num_x=num_w - 4,
                label_y=top + label_h - 2,
                bar_y=y,
                bar_h=bar_h,
                x=num_w,
                w=round(length, 1),
                track_w=bar_w,
                text_x=round(num_w + length + 4, 1),
                text_y=y + bar_h - 2,
                text=row.score,
                fill=BAND_FILL.get(row.band, "#555555"),
            )
        )
    return Chart(width=width, height=max(row_h * len(rows) + 4, row_h), bars=tuple(bars))


def _gap_matrix(ctx: _Context, gaps: tuple[GapRow, ...]) -> GapMatrix:
    severities = (Severity.critical, Severity.high, Severity.medium, Severity.low)
    rows = []
    for section in ctx.q.sections:
        counts = tuple(
            sum(1 for g in gaps if g.section == section.id and g.severity is s) for s in severities
        )
        rows.append(GapMatrixRow(localize(section.title, ctx.lang), counts, sum(counts)))
    totals = tuple(sum(r.counts[i] for r in rows) for i in range(len(severities)))
    return GapMatrix(
        severities=severities,
        severity_labels=tuple(i18n.SEVERITY[ctx.lang][s.value] for s in severities),
        rows=tuple(rows),
        totals=totals,
        total=sum(totals),
    )


def _gap_row(ctx: _Context, c: CriterionResult) -> GapRow:
    lang = ctx.lang
    return GapRow(
        id=c.id,
        title=ctx.title_of(c.id),
        section=c.section,
        section_title=ctx.section_titles.get(c.section, c.section),
        verdict=c.verdict,
        verdict_label=i18n.VERDICT[lang][c.verdict.value],
        severity=c.severity,
        severity_label=i18n.SEVERITY[lang][c.severity.value],
        escalated_from=ctx.escalated_from(c),
        escalation_reason=localize(c.escalation_reason, lang) if c.escalation_reason else "",
        recommendation=localize(ctx.criteria[c.id].recommendation, lang),
        refs=ctx.refs_of(c),
    )


def _before_launch(ctx: _Context) -> tuple[BeforeLaunchRow, ...]:
    lang = ctx.lang
    return tuple(
        BeforeLaunchRow(
            id=c.id,
            title=ctx.title_of(c.id),
            section_title=ctx.section_titles.get(c.section, c.section),
            severity=c.severity,
            severity_label=i18n.SEVERITY[lang][c.severity.value],
            reason=_na_reason(ctx, c),
            recommendation=localize(ctx.criteria[c.id].recommendation, lang),
            refs=ctx.refs_of(c),
        )
        for c in (ctx.res.criterion(cid) for cid in ctx.res.before_launch)
    )


def _answer_reads(ctx: _Context, c: CriterionResult) -> tuple[AnswerRead, ...]:
    rec = ctx.report.record
    return tuple(
        AnswerRead(
            question_id=qid,
            text=localize(ctx.questions[qid].text, ctx.lang),
            answer=ctx.answer_of(qid),
            evidence=rec.evidence.get(qid, ""),
            documents=tuple(rec.documents.get(qid, ())),
        )
        for qid in c.trace.reads
        if qid in ctx.questions
    )


def _na_reason(ctx: _Context, c: CriterionResult) -> str:
    if c.na_reason is None:
        return ""
    return reason_text(c.na_reason, ctx.lang, ctx.q)


def _criterion_detail(ctx: _Context, c: CriterionResult, comments: ReviewState) -> CriterionDetail:
    lang = ctx.lang
    return CriterionDetail(
        id=c.id,
        section=c.section,
        title=ctx.title_of(c.id),
        requirement=localize(ctx.criteria[c.id].requirement, lang),
        verdict=c.verdict,
        verdict_label=i18n.VERDICT[lang][c.verdict.value],
        severity=c.severity,
        severity_label=i18n.SEVERITY[lang][c.severity.value],
        escalated_from=ctx.escalated_from(c),
        na_reason=_na_reason(ctx, c),
        reads=_answer_reads(ctx, c),
        comments=comments.comments.get(c.id, ()),
        rule=reason_text(c.trace.rule, lang, ctx.q),
        refs=ctx.refs_of(c),
    )


def _details(ctx: _Context, review: ReviewState) -> tuple[SectionDetail, ...]:
    res, t = ctx.res, ctx.t
    scores = {s.id: s.score for s in res.sections}
    out = []
    for section in ctx.q.sections:
        results = [c for c in res.criteria if c.section == section.id]
        if not results:
            continue
        value = scores.get(section.id)
        out.append(
            SectionDetail(
                id=section.id,
                title=ctx.section_titles[section.id],
                score=percent(value, ctx.lang)
                if value is not None
                else t["not_applicable_section"],
                criteria=tuple(_criterion_detail(ctx, c, review) for c in results),
            )
        )
    return tuple(out)


def _rule_row(ctx: _Context, c: CriterionResult) -> RuleRow:
    lang, q = ctx.lang, ctx.q
    trace = c.trace
    # the evidence rule is shown where it counted: no evidence noted
    evidence = trace.evidence if c.documented is False else None
    return RuleRow(
        id=c.id,
        verdict_label=i18n.VERDICT[lang][c.verdict.value],
        rule=reason_text(trace.rule, lang, q),
        escalation=reason_text(trace.escalation, lang, q) if trace.escalation else "",
        evidence=reason_text(evidence, lang, q) if evidence else "",
        weight=f"{c.weight:g}",
        credit="-" if c.credit is None else f"{c.credit:g}",
    )


def _gate_rows(ctx: _Context) -> tuple[GateRow, ...]:
    t, lang = ctx.t, ctx.lang
    fired = {g.id: g for g in ctx.res.gates_fired}
    return tuple(
        GateRow(
            label=localize(g.label, lang),
            cap_label=i18n.RATING[lang][g.cap.value],
            fired=t["yes"] if g.id in fired else t["no"],
            criteria=", ".join(fired[g.id].criteria) if g.id in fired else "",
        )
        for g in ctx.q.rating.gates
    )


def _all_refs(q: Questionnaire) -> list[Reference]:
    return (
        [r for c in q.criteria for r in c.references]
        + [r for qq in q.questions() for r in qq.references]
        + [r for c in q.criteria for e in c.escalate for r in e.references]
        + [r for f in q.facts for row in f.table for r in row.references]
    )


def _citations(ctx: _Context) -> str:
    refs = [_ref_text(r, ctx.sources, ctx.lang) for r in _all_refs(ctx.q)]
    return ctx.t["citations"].format(
        total=len(refs),
        secondary=sum(1 for r in refs if r.verification is Verification.secondary),
        unverified=sum(1 for r in refs if r.verification is Verification.unverified),
    )


def _method(ctx: _Context) -> Method:
    res, q, lang = ctx.res, ctx.q, ctx.lang
    severities = i18n.SEVERITY[lang]
    used = sorted({c.severity for c in res.criteria}, key=lambda s: s.rank)
    return Method(
        weights=tuple(
            WeightRow(severity_label=severities[s.value], weight=f"{DEFAULT_WEIGHTS[s]:g}")
            for s in used
        ),
        bands=tuple(
            BandRow(rating_label=i18n.RATING[lang][b.rating.value], min=f"{b.min_score:g}")
            for b in q.rating.bands_from_top()
        ),
        gates=_gate_rows(ctx),
        citations=_citations(ctx),
        rules=tuple(_rule_row(ctx, c) for c in res.criteria),
    )


def _appendix(ctx: _Context) -> tuple[AppendixSection, ...]:
    rec, lang = ctx.report.record, ctx.lang
    return tuple(
        AppendixSection(
            title=ctx.section_titles[section.id],
            questions=tuple(
                AppendixQuestion(
                    id=qq.id,
                    text=localize(qq.text, lang),
                    answer=ctx.answer_of(qq.id),
                    evidence=rec.evidence.get(qq.id, ""),
                    documents=tuple(rec.documents.get(qq.id, ())),
                )
                for qq in section.questions
            ),
        )
        for section in ctx.q.sections
    )


def _sources(ctx: _Context) -> tuple[SourceRow, ...]:
    q, lang = ctx.q, ctx.lang
    cited = {r.source for r in _all_refs(q)}
    return tuple(
        SourceRow(
            key=s.key,
            title=localize(s.title, lang),
            issuer=localize(s.issuer, lang) if s.issuer else "",
            date=localize(s.date, lang) if s.date else "",
            url=s.url or "",
            verification=s.verification.value,
            mark=i18n.VERIFICATION[lang][s.verification.value],
        )
        for s in q.sources
        if s.key in cited
    )


def _integrity(ctx: _Context, tool_version: str) -> Integrity:
    rec, q = ctx.report.record, ctx.q
    return Integrity(
        sha256=ctx.report.sha256,
        sealed=ctx.report.sealed is not None,
        questionnaire_id=q.id,
        version=q.version,
        questionnaire_sha256=rec.questionnaire_sha256,
        tool_version=tool_version,
        template_version=TEMPLATE_VERSION,
        stated=stated_line(ctx.res),
    )


def build_view(
    report: ReportInput, lang: str, *, marking: str | None = None, tool_version: str = ""
) -> ReportView:
    """The report in `lang` as a typed view. `tool_version` is printed in the integrity part."""
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {', '.join(i18n.LANGUAGES)}")
    if report.status not in STATUSES:
        raise ValueError(f"unknown status {report.status!r}")
    return ReportView(report=report, lang=lang, marking=marking, tool_version=tool_version)
