"""The change report: what a new version of a questionnaire does to assessments answered under
an older one.

For each answer set: the result under the old version, the answers carried to the new version
(`carry.carry`), the result under the new version with those answers, both scored at the same
`as_of`; the criteria whose verdict changes and why; the questions to answer now. Then a
summary across the answer sets: rating moves (green -> amber, ...), the new criteria that fail
most often, the criteria whose verdict changes most often.

Pure: no I/O, no clock, no words (reason codes, as scoring; the CLI and the page word them).
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from service.questionnaire import engine, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.carry import Carried, CarryStatus, carry
from service.questionnaire.schema import Questionnaire, Rating, Severity, Verdict


class ChangeWhy(StrEnum):
    """Why a criterion's verdict differs between the versions."""

    new_criterion = "new_criterion"  # the criterion is new in the new version
    removed_criterion = "removed_criterion"  # the new version no longer has it
    answers_changed = "answers_changed"  # it reads an answer that was mapped, not carried, or new
    rule_changed = "rule_changed"  # same answers, the criterion's rule or the facts changed


@dataclass(frozen=True, slots=True)
class VerdictChange:
    criterion: str
    old: Verdict | None  # None: not in the old version
    new: Verdict | None  # None: not in the new version
    severity: Severity  # the (escalated) severity under the new version, else the old
    why: ChangeWhy
    questions: tuple[str, ...] = ()  # for answers_changed: the changed questions it reads


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the change report keeps of the result under the old version: the report compares
    ratings and scores, and the verdicts are in `changes` (keeping every old result whole made
    a report over 1,000 answer sets a quarter slower; bench/engine.py)."""

    rating: Rating
    score: float | None
    gaps: tuple[str, ...]

    @classmethod
    def of(cls, result: scoring.Result) -> Outcome:
        return cls(result.rating, result.score, tuple(result.gaps))


@dataclass(frozen=True)
class AssessmentImpact:
    name: str
    old: Outcome
    new: scoring.Result
    carried: Carried
    changes: list[VerdictChange]
    to_answer: list[str]  # required questions the new version shows, unanswered, in order

    @property
    def rating_move(self) -> tuple[Rating, Rating]:
        return (self.old.rating, self.new.rating)

    @property
    def new_questions_to_answer(self) -> list[str]:
        """The questions to answer because of the new version (new, or not carried)."""
        return [q for q in self.to_answer if self.carried.questions[q].status.needs_answer]


@dataclass(frozen=True)
class ImpactSummary:
    assessments: int
    moves: dict[tuple[Rating, Rating], int]  # (old, new) -> how many, every pair present
    new_criteria_failing: list[tuple[str, int]]  # new criteria by how often they are a gap
    most_changed: list[tuple[str, int]]  # criteria by how often their verdict changes
    questions_to_answer: list[tuple[str, int]]  # by how many assessments must answer them
    score_delta_mean: float | None = None  # mean of new - old score over scored pairs

    def moved(self, old: Rating, new: Rating) -> int:
        return self.moves.get((old, new), 0)


@dataclass(frozen=True)
class Impact:
    old_id: str
    old_version: str
    new_version: str
    as_of: date
    assessments: list[AssessmentImpact]
    summary: ImpactSummary
    new_criteria: list[str] = field(default_factory=list)


def assess(
    old: Questionnaire, new: Questionnaire, name: str, answers: Answers, *, as_of: date
) -> AssessmentImpact:
    """One answer set under both versions."""
    before = scoring.score(old, answers, as_of=as_of)
    carried = carry(new, answers, old.version, old=old)
    after = scoring.score(new, carried.answers, as_of=as_of)
    changed_questions = {q for q, c in carried.questions.items() if c.status.is_change}
    old_by_id = {c.id: c for c in before.criteria}
    changes: list[VerdictChange] = []
    for c in after.criteria:
        previous = old_by_id.pop(c.id, None)
        if previous is None:
            changes.append(
                VerdictChange(c.id, None, c.verdict, c.severity, ChangeWhy.new_criterion)
            )
            continue
        if previous.verdict is c.verdict:
            continue
        read = tuple(q for q in _reads(new)[c.id] if q in changed_questions)
        why = ChangeWhy.answers_changed if read else ChangeWhy.rule_changed
        changes.append(VerdictChange(c.id, previous.verdict, c.verdict, c.severity, why, read))
    for c in old_by_id.values():
        changes.append(
            VerdictChange(c.id, c.verdict, None, c.severity, ChangeWhy.removed_criterion)
        )
    # the required questions the new version shows for the carried answers, unanswered
    return AssessmentImpact(
        name, Outcome.of(before), after, carried, changes, list(after.unanswered_questions)
    )


def _reads(questionnaire: Questionnaire) -> dict[str, tuple[str, ...]]:
    """Per criterion: every question it reads, directly or through the facts it reads."""
    return questionnaire.derived("impact_reads", _build_reads)


def _build_reads(questionnaire: Questionnaire) -> dict[str, tuple[str, ...]]:
    program = engine.program_of(questionnaire)
    questions = program.questions
    fact_reads: dict[str, set[str]] = {}
    for node in program.order:  # each fact after the facts it reads
        if node not in program.fact_rows:
            continue
        names: set[str] = set()
        for when in program.fact_rows[node]:
            for name in when.names:
                names |= fact_reads.get(name, {name} if name in questions else set())
        fact_reads[node] = names
    out: dict[str, tuple[str, ...]] = {}
    for c in questionnaire.criteria:
        names = set(program.trace_reads[c.id])
        for fid in program.facts_read[c.id]:
            names |= fact_reads.get(fid, set())
        order = [q for q in questions if q in names]
        out[c.id] = tuple(order)
    return out


def impact(
    old: Questionnaire,
    new: Questionnaire,
    answer_sets: Sequence[tuple[str, Answers]],
    *,
    as_of: date,
    top: int = 10,
) -> Impact:
    """Every answer set under both versions, and the summary across them."""
    with _without_cycle_collection():
        rows = [assess(old, new, name, answers, as_of=as_of) for name, answers in answer_sets]
    return Impact(
        old_id=old.id,
        old_version=old.version,
        new_version=new.version,
        as_of=as_of,
        assessments=rows,
        summary=summarise(old, new, rows, top=top),
        new_criteria=_new_criteria(old, new),
    )


_paused = 0
_paused_lock = threading.Lock()


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while the report is built. It keeps two results per answer
    set, millions of objects without a reference cycle (reference counting frees them), and the
    collector's full passes over that growing heap found nothing and took a third of the time
    (bench/engine.py, 1,000 sets). Nested and concurrent reports: the collector runs again when
    the last one ends, and only if it ran before the first began."""
    global _paused, _was_enabled
    with _paused_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


_was_enabled = True


def _new_criteria(old: Questionnaire, new: Questionnaire) -> list[str]:
    before = {c.id for c in old.criteria}
    return [c.id for c in new.criteria if c.id not in before]


def summarise(
    old: Questionnaire, new: Questionnaire, rows: Sequence[AssessmentImpact], *, top: int = 10
) -> ImpactSummary:
    moves: Counter[tuple[Rating, Rating]] = Counter(r.rating_move for r in rows)
    fresh = set(_new_criteria(old, new))
    failing: Counter[str] = Counter(
        c.id for r in rows for c in r.new.criteria if c.id in fresh and c.verdict.is_gap
    )
    changed: Counter[str] = Counter(ch.criterion for r in rows for ch in r.changes)
    asked: Counter[str] = Counter(q for r in rows for q in r.new_questions_to_answer)
    deltas = [
        r.new.score - r.old.score
        for r in rows
        if r.new.score is not None and r.old.score is not None
    ]
    order = {c.id: i for i, c in enumerate(new.criteria)}
    q_order = {q.id: i for i, q in enumerate(new.questions())}
    return ImpactSummary(
        assessments=len(rows),
        moves={(a, b): moves.get((a, b), 0) for a in Rating for b in Rating},
        new_criteria_failing=sorted(failing.items(), key=lambda kv: (-kv[1], order[kv[0]]))[:top],
        most_changed=sorted(
            changed.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0])
        )[:top],
        questions_to_answer=sorted(asked.items(), key=lambda kv: (-kv[1], q_order[kv[0]]))[:top],
        score_delta_mean=round(sum(deltas) / len(deltas), 1) if deltas else None,
    )


__all__ = [
    "AssessmentImpact",
    "CarryStatus",
    "ChangeWhy",
    "Impact",
    "ImpactSummary",
    "Outcome",
    "VerdictChange",
    "assess",
    "impact",
    "summarise",
]
