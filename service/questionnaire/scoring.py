"""Scoring: a pure function from (questionnaire, answers, as_of) to a Result with its trace.

The semantics, also written down in questionnaires/README.md:

- A criterion whose `applies_if` does not hold is not applicable and leaves the score.
- A dated criterion (`in_force` / `until` with `judged_by`) whose date is outside its window is
  not applicable too ("not in force"). A dated fact row, escalation or case holds only while
  its date is in its window (`engine.Window`): the date is `as_of`, or the answer to the date
  question it names (a hidden one: `as_of`; a shown, unanswered one: unknown, never in force).
- Else, when its `not_yet_due_if` holds, it is "not yet due" (or a case says `not_yet_due`):
  shown with its reason, listed in `Result.before_launch`, not scored (it leaves the score like
  not applicable), never a gap, and no gate fires on it.
- Otherwise its rule decides. If a required question the rule reads is shown but unanswered,
  the verdict is "unanswered". Else `answer` maps the one answer (yes -> met, partly ->
  partial, no -> not met, don't know -> don't know, or the author's `map`); `cases` are tried
  in order and the first whose condition holds gives the verdict; when none holds, the verdict
  is "don't know" if a question read was answered "don't know", else `otherwise`.
- "Met" on a criterion that needs evidence, with no evidence note on the questions it reads
  (or its `evidence_from`), counts as partial.
- Severity is escalated by the first `escalate` row whose condition holds; the weight follows
  the (escalated) severity unless the criterion sets one: critical 8, high 4, medium 2, low 1.
- Credit: met 1, partial 0.5, all else 0. Section and overall scores are weighted means over
  applicable criteria, in percent, rounded to one decimal; a section with no applicable
  criterion has no score; a section with no criterion at all is "context only"
  (`Result.context_sections`).
- Rating: the band of the score, then capped by every gate that fires (by default: a critical
  criterion not met, don't know or unanswered caps at red; a high one caps at amber; an
  incomplete assessment caps at amber).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from service.questionnaire import expr
from service.questionnaire.answers import Answers
from service.questionnaire.engine import Program, Resolved, Window, program_of, resolve
from service.questionnaire.reasons import Reason, ReasonCode, from_stored, reason
from service.questionnaire.schema import (
    DEFAULT_WEIGHTS,
    Criterion,
    LocalizedText,
    Questionnaire,
    QuestionType,
    Rating,
    Severity,
    Verdict,
)

CREDIT = {Verdict.met: 1.0, Verdict.partial: 0.5}
_VERDICT_VALUE = {v: v.value for v in Verdict}  # without the enum's `value` property per call
YES_NO_MAP = {
    "yes": Verdict.met,
    "partly": Verdict.partial,
    "no": Verdict.not_met,
    "dont_know": Verdict.dont_know,
}


# A Reason is immutable and scoring makes the same ones again and again (the same case of the
# same criterion, the same answer to the same question): each is built once and shared, which
# spares the time and, in a change report that keeps thousands of results, the memory.
_reason = lru_cache(maxsize=16384)(reason)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# Trace, CriterionResult, SectionScore and GateFired are plain dataclasses: scoring builds one of each per criterion on
# every save, and a Pydantic model costs several microseconds to build. The Result around them
# is a Pydantic model, so it validates from JSON and dumps to JSON as usual. They are not
# frozen (a frozen dataclass sets each field through object.__setattr__, which made building
# them a fifth of scoring's time; bench/engine.py): nothing changes them once built.


# A reason read back from JSON; a result stored before reason codes holds prose (a `text` Reason).
StoredReason = Annotated[Reason, BeforeValidator(from_stored)]


@dataclass(slots=True)
class Trace:
    """How a verdict was reached: the rule that decided it and what it read, as reason codes."""

    rule: StoredReason
    reads: dict[str, expr.Value]  # dates as YYYY-MM-DD text
    facts: dict[str, str | bool]
    escalation: StoredReason | None = None
    evidence: StoredReason | None = None


@dataclass(slots=True)
class CriterionResult:
    id: str
    section: str
    verdict: Verdict
    base_severity: Severity
    severity: Severity
    escalated: bool
    weight: float
    credit: float | None  # None when not applicable
    trace: Trace
    escalation_reason: LocalizedText | None = None
    evidence_capped: bool = False
    documented: bool | None = None  # for met/partial criteria that need evidence
    # why it is not scored (not applicable or not yet due): generated (Reason) or the author's
    na_reason: Reason | LocalizedText | None = None

    @property
    def is_gap(self) -> bool:
        return self.verdict.is_gap


@dataclass(slots=True)
class SectionScore:
    id: str
    score: float | None
    weight: float
    counts: dict[str, int]


@dataclass(slots=True)
class GateFired:
    id: str
    label: LocalizedText
    cap: Rating
    criteria: list[str]


class Result(_Out):
    questionnaire_id: str
    questionnaire_version: str
    as_of: date
    score: float | None
    band_rating: Rating
    rating: Rating
    gates_fired: list[GateFired]
    sections: list[SectionScore]
    criteria: list[CriterionResult]
    gaps: list[str]
    facts: dict[str, str | bool]
    advisory: bool
    complete: bool
    unanswered_questions: list[str]
    # Sections with no criterion: asked for context (or to derive facts), never scored; shown
    # as "context only" (they have no entry in `sections`).
    context_sections: list[str] = []
    inherent_risk: str | None = None
    # Criteria not yet due (e.g. before launch), in questionnaire order: the report's checklist.
    before_launch: list[str] = []

    def criterion(self, criterion_id: str) -> CriterionResult:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


def dated_values(window: Window | None, day: date | None) -> dict[str, str]:
    """What a reason says of a dated rule: its window, the date it is judged by and that date
    (empty for a rule that names no date)."""
    if window is None:
        return {}
    return {
        "in_force": window.in_force.isoformat() if window.in_force else "",
        "until": window.until.isoformat() if window.until else "",
        "judged_by": window.judged_by,
        "date": day.isoformat() if day else "",
    }


def _verdict_of_rule(
    criterion: Criterion, program: Program, resolved: Resolved, answers: Answers, as_of: date
) -> tuple[Verdict, Reason, Reason | LocalizedText | None]:
    """The rule's verdict, the part of the rule that decided it, and an N/A reason."""
    rule = criterion.rule
    reads = program.reads[criterion.id]
    for qid in reads:
        question = program.questions[qid]
        if qid in resolved.visible and question.required and resolved.env.get(qid) is None:
            return Verdict.unanswered, _reason(ReasonCode.question_unanswered, question=qid), None
    if rule.answer:
        qid = rule.answer
        if qid not in resolved.visible:
            return (
                Verdict.not_applicable,
                _reason(ReasonCode.answer_not_asked, question=qid),
                _reason(ReasonCode.na_question_not_asked, question=qid),
            )
        value = resolved.env.get(qid)
        if value is None:
            return Verdict.unanswered, _reason(ReasonCode.question_unanswered, question=qid), None
        question = program.questions[qid]
        decided = _reason(ReasonCode.answer, question=qid, value=f"{value}")
        if isinstance(value, str) and value in program.dont_know[qid]:
            return Verdict.dont_know, decided, None
        mapping = rule.map or (YES_NO_MAP if question.type is QuestionType.yes_no else {})
        verdict = mapping.get(str(value), rule.otherwise)
        return verdict, decided, None
    for index, (case, guard) in enumerate(
        zip(rule.cases, program.cases[criterion.id], strict=True), start=1
    ):
        window = guard.window
        if (window is None and guard.condition.evaluate(resolved.env, as_of)) or (
            window is not None and guard.holds(resolved.env, resolved.visible, as_of)
        ):
            day = window.judged_date(resolved.env, resolved.visible, as_of) if window else None
            return (
                case.verdict,
                reason(
                    ReasonCode.case,
                    number=str(index),
                    when=case.when,
                    **dated_values(window, day),
                ),
                case.reason,
            )
    for qid in reads:
        value = resolved.env.get(qid)
        if isinstance(value, str) and value in program.dont_know[qid]:
            decided = _reason(ReasonCode.no_case_dont_know, question=qid, value=value)
            return Verdict.dont_know, decided, None
    return rule.otherwise, _reason(ReasonCode.otherwise), None


def _score_criterion(
    criterion: Criterion, program: Program, resolved: Resolved, answers: Answers, as_of: date
) -> CriterionResult:
    cid = criterion.id
    env = resolved.env
    facts = {f: resolved.facts[f] for f in program.facts_read[cid]}
    severity = criterion.severity
    escalation: Reason | None = None
    escalation_reason: LocalizedText | None = None
    guards = program.escalate[cid]
    for row, guard in zip(criterion.escalate, guards, strict=True) if guards else ():
        window = guard.window
        if (window is None and guard.condition.evaluate(resolved.env, as_of)) or (
            window is not None and guard.holds(resolved.env, resolved.visible, as_of)
        ):
            severity = row.to
            day = window.judged_date(resolved.env, resolved.visible, as_of) if window else None
            escalation = reason(
                ReasonCode.escalated,
                base=criterion.severity.value,
                to=row.to.value,
                when=row.when,
                **dated_values(window, day),
            )
            escalation_reason = row.reason
            break
    weight = criterion.weight if criterion.weight is not None else DEFAULT_WEIGHTS[severity]
    # what the rule read, as JSON keeps it (dates as text)
    reads: dict[str, expr.Value] = {
        q: (v.isoformat() if isinstance(v := env.get(q), date) else v)
        for q in program.trace_reads[cid]
    }

    applies = program.applies_if.get(criterion.id)
    if applies is not None and not applies.evaluate(resolved.env, as_of):
        applies_text = criterion.applies_if or ""
        why_not: Reason | LocalizedText = criterion.not_applicable_reason or reason(
            ReasonCode.na_applies_only_when, condition=applies_text
        )
        return CriterionResult(
            id=criterion.id,
            section=criterion.section,
            verdict=Verdict.not_applicable,
            base_severity=criterion.severity,
            severity=severity,
            escalated=severity != criterion.severity,
            escalation_reason=escalation_reason,
            weight=weight,
            credit=None,
            na_reason=why_not,
            trace=Trace(
                rule=_reason(ReasonCode.applies_if_false, condition=applies_text),
                reads=reads,
                facts=facts,
                escalation=escalation,
            ),
        )

    window = program.in_force.get(criterion.id)
    day = window.judged_date(resolved.env, resolved.visible, as_of) if window else None
    # An unknown date (a date question shown but unanswered) leaves the criterion judged.
    if window is not None and day is not None and not window.covers(day):
        dated = dated_values(window, day)
        return CriterionResult(
            id=criterion.id,
            section=criterion.section,
            verdict=Verdict.not_applicable,
            base_severity=criterion.severity,
            severity=severity,
            escalated=severity != criterion.severity,
            escalation_reason=escalation_reason,
            weight=weight,
            credit=None,
            na_reason=criterion.not_in_force_reason or _reason(ReasonCode.na_not_in_force, **dated),
            trace=Trace(
                rule=_reason(ReasonCode.not_in_force, **dated),
                reads=reads,
                facts=facts,
                escalation=escalation,
            ),
        )

    due_later = program.not_yet_due_if.get(criterion.id)
    if due_later is not None and due_later.evaluate(resolved.env, as_of):
        due_text = criterion.not_yet_due_if or ""
        return CriterionResult(
            id=criterion.id,
            section=criterion.section,
            verdict=Verdict.not_yet_due,
            base_severity=criterion.severity,
            severity=severity,
            escalated=severity != criterion.severity,
            escalation_reason=escalation_reason,
            weight=weight,
            credit=None,
            na_reason=criterion.not_yet_due_reason
            or _reason(ReasonCode.not_yet_due_while, condition=due_text),
            trace=Trace(
                rule=_reason(ReasonCode.not_yet_due_if_true, condition=due_text),
                reads=reads,
                facts=facts,
                escalation=escalation,
            ),
        )

    verdict, decided_by, rule_na_reason = _verdict_of_rule(
        criterion, program, resolved, answers, as_of
    )
    evidence_capped = False
    documented: bool | None = None
    evidence_note: Reason | None = None
    if criterion.evidence_required and verdict in (Verdict.met, Verdict.partial):
        sources = criterion.evidence_from or list(program.reads[criterion.id])
        backed = [q for q in sources if answers.evidence.get(q, "").strip()]
        documented = bool(backed)
        if documented:
            evidence_note = _reason(ReasonCode.evidence_noted, questions=" ".join(backed))
        else:
            evidence_capped = verdict is Verdict.met
            code = (
                ReasonCode.evidence_missing_capped
                if evidence_capped
                else ReasonCode.evidence_missing
            )
            evidence_note = reason(code, questions=" ".join(sources))
            if evidence_capped:
                verdict = Verdict.partial
    na_reason = rule_na_reason  # a case's own reason, kept as before
    if verdict is Verdict.not_applicable:
        na_reason = na_reason or criterion.not_applicable_reason
    elif verdict is Verdict.not_yet_due:
        na_reason = na_reason or criterion.not_yet_due_reason
    # positional, in the order of the fields (the commonest path: keywords cost a third more)
    return CriterionResult(
        criterion.id,
        criterion.section,
        verdict,
        criterion.severity,  # base_severity
        severity,
        severity is not criterion.severity,  # escalated
        weight,
        CREDIT.get(verdict, 0.0) if verdict.is_scored else None,
        Trace(decided_by, reads, facts, escalation, evidence_note),
        escalation_reason,
        evidence_capped,
        documented,
        na_reason,
    )


def _weighted_score(results: list[CriterionResult]) -> tuple[float | None, float]:
    total = 0.0
    earned = 0.0
    for r in results:
        if r.credit is None:
            continue
        total += r.weight
        earned += r.weight * r.credit
    if total == 0:
        return None, 0.0
    return round(100.0 * earned / total, 1), total


def score(questionnaire: Questionnaire, answers: Answers, *, as_of: date) -> Result:
    """Score answers against a questionnaire's criteria. Pure: no clock, no I/O."""
    program = program_of(questionnaire)
    resolved = resolve(questionnaire, answers, as_of)
    results = [
        _score_criterion(c, program, resolved, answers, as_of) for c in questionnaire.criteria
    ]

    by_section: dict[str, list[CriterionResult]] = {}
    for r in results:
        by_section.setdefault(r.section, []).append(r)
    sections: list[SectionScore] = []
    context_sections: list[str] = []
    for section in questionnaire.sections:
        in_section = by_section.get(section.id)
        if not in_section:
            context_sections.append(section.id)
            continue
        section_score, weight = _weighted_score(in_section)
        counts: dict[str, int] = {}
        for r in in_section:
            key = _VERDICT_VALUE[r.verdict]
            counts[key] = counts.get(key, 0) + 1
        sections.append(SectionScore(section.id, section_score, weight, counts))
    overall, _ = _weighted_score(results)

    unanswered = [
        qid
        for qid, q in program.questions.items()  # in questionnaire order
        if q.required and qid in resolved.visible and resolved.env.get(qid) is None
    ]
    complete = not unanswered and all(r.verdict is not Verdict.unanswered for r in results)

    # No applicable criterion: the top band (the gates may still cap it).
    band_rating = questionnaire.rating.band_of(100.0 if overall is None else overall)

    rating = band_rating
    fired: list[GateFired] = []
    for gate in questionnaire.rating.gates:
        verdicts = [v for v in gate.verdicts if v is not Verdict.not_yet_due]  # never fires one
        hits = [r.id for r in results if r.verdict in verdicts and r.severity in gate.severities]
        if hits or (gate.incomplete and not complete):
            fired.append(GateFired(gate.id, gate.label, gate.cap, hits))
            if gate.cap.rank < rating.rank:
                rating = gate.cap

    # Gaps: the most severe first, then in questionnaire order (the section's, then the
    # criterion's: `results` is in that order, and the sort is stable).
    section_index = program.section_index
    gaps = sorted(
        (r for r in results if r.is_gap),
        key=lambda r: (r.severity.rank, section_index.get(r.section, 0)),
    )
    advisory = bool(program.advisory_if and program.advisory_if.evaluate(resolved.env, as_of))
    inherent = None
    if questionnaire.inherent_risk:
        value = resolved.facts.get(questionnaire.inherent_risk)
        inherent = None if value is None else str(value)
    # Every field is built typed above: no need to validate it again.
    return Result.model_construct(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        as_of=as_of,
        score=overall,
        band_rating=band_rating,
        rating=rating,
        gates_fired=fired,
        sections=sections,
        criteria=results,
        gaps=[r.id for r in gaps],
        facts=dict(resolved.facts),
        advisory=advisory,
        complete=complete,
        unanswered_questions=unanswered,
        context_sections=context_sections,
        inherent_risk=inherent,
        before_launch=[r.id for r in results if r.verdict is Verdict.not_yet_due],
    )
