"""Carrying answers forward: an answer set given under one version of a questionnaire, mapped to
a later version by the later version's `answers_from` declaration.

The rules (also in questionnaires/README.md, "Carrying answers forward"):

- a question of the new version listed under `new:` takes no answer;
- a question listed under `questions:` takes the answer of `was` (default: the same id): as it
  is when no `options` are given, else each old option value through `options` (a list splits
  one value into several, for a multiple_choice question); an old value not listed, or an
  answer that is not a valid answer to the new question, is not carried;
- any other question takes the answer of the question with the same id, when it is still a
  valid answer to the new question (unchanged ids carry by default);
- evidence notes travel with the answer they belong to;
- an old answer no new question takes is dropped (the removed questions, the answers that could
  not be mapped): `Carried.dropped` lists them, so nothing is lost silently.

Pure: no I/O, no clock. Without a declaration for the old version every answer is carried by
the default rule.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from service.questionnaire import engine
from service.questionnaire.answers import Answers, AnswerValue, validate_answer
from service.questionnaire.schema import (
    AnswerMapping,
    CarriedQuestion,
    Question,
    Questionnaire,
    QuestionType,
)


class CarryStatus(StrEnum):
    """What happened to one question of the new version."""

    carried = "carried"  # the same question's answer, unchanged
    changed = "changed"  # an answer carried through the mapping (renamed question or option)
    not_carried = "not_carried"  # there was an answer, but it cannot carry: answer again
    new = "new"  # a question new in this version (or with a new meaning): answer it
    unanswered = "unanswered"  # the question it takes its answer from had no answer

    @property
    def needs_answer(self) -> bool:
        """The officer must answer it (when it is shown): the version changed it."""
        return self in (CarryStatus.not_carried, CarryStatus.new)

    @property
    def is_change(self) -> bool:
        """The new version changed this question for these answers (its section is to do)."""
        return self in (CarryStatus.changed, CarryStatus.not_carried, CarryStatus.new)


@dataclass(frozen=True, slots=True)
class QuestionCarry:
    question: str
    status: CarryStatus
    source: str | None = None  # the old question the answer came from (or could not)
    old_value: AnswerValue | None = None
    value: AnswerValue | None = None


@dataclass(frozen=True)
class Carried:
    """An answer set mapped to the new version, with what happened to every question."""

    from_version: str
    to_version: str
    answers: Answers
    questions: dict[str, QuestionCarry]  # every question of the new version, in order
    dropped: dict[str, AnswerValue] = field(default_factory=dict)  # old answers carried nowhere

    def with_status(self, *statuses: CarryStatus) -> list[str]:
        return [q for q, c in self.questions.items() if c.status in statuses]

    def sections_to_do(
        self, questionnaire: Questionnaire, visible: Collection[str] | None = None
    ) -> list[str]:
        """The sections of the new version holding a new, changed or not carried question
        (among the `visible` ones, when given: a question these answers hide changes nothing)."""
        return [
            s.id
            for s in questionnaire.sections
            if any(
                self.questions[q.id].status.is_change and (visible is None or q.id in visible)
                for q in s.questions
            )
        ]


def _map_values(
    entry: CarriedQuestion, question: Question, value: AnswerValue
) -> AnswerValue | None:
    """The old answer through `entry.options`, or None when it does not map."""
    options = entry.options
    if options is None:
        return value
    items = value if isinstance(value, list) else [value]
    mapped: set[str] = set()
    for item in items:
        if not isinstance(item, str) or item not in options:
            return None
        target = options[item]
        mapped.update(target if isinstance(target, list) else [target])
    if question.type is QuestionType.multiple_choice:
        order = [o.value for o in question.choices()]
        return [v for v in order if v in mapped] + sorted(mapped - set(order))
    if len(mapped) != 1:
        return None
    return next(iter(mapped))


def carry(
    new: Questionnaire,
    answers: Answers,
    from_version: str,
    *,
    old: Questionnaire | None = None,
) -> Carried:
    """Map `answers` given under `from_version` to the questionnaire `new`.

    `old` (the previous version's questionnaire), when given, tells a question new in this
    version from one that was simply not answered."""
    mapping: AnswerMapping | None = new.answers_from_version(from_version)
    explicit = {e.id: e for e in mapping.questions} if mapping else {}
    fresh = set(mapping.new) if mapping else set()
    old_ids = engine.program_of(old).questions if old is not None else None
    options = engine.program_of(new).options
    values: dict[str, AnswerValue] = {}
    notes: dict[str, str] = {}
    out: dict[str, QuestionCarry] = {}
    used: set[str] = set()
    for question in new.questions():
        qid = question.id
        if qid in fresh:
            out[qid] = QuestionCarry(qid, CarryStatus.new)
            continue
        entry = explicit.get(qid)
        source = (entry.was or qid) if entry else qid
        if entry is None and old_ids is not None and qid not in old_ids:
            out[qid] = QuestionCarry(qid, CarryStatus.new)
            continue
        old_value = answers.values.get(source)
        if old_value is None:
            if source == qid and qid in answers.evidence and question.evidence:
                notes[qid] = answers.evidence[source]
            out[qid] = QuestionCarry(qid, CarryStatus.unanswered, source)
            continue
        value = _map_values(entry, question, old_value) if entry else old_value
        if value is None or validate_answer(question, value, options[qid]) is not None:
            out[qid] = QuestionCarry(qid, CarryStatus.not_carried, source, old_value)
            continue
        values[qid] = value
        used.add(source)
        if source in answers.evidence and question.evidence:
            notes[qid] = answers.evidence[source]
        same = source == qid and value == old_value
        status = CarryStatus.carried if same else CarryStatus.changed
        out[qid] = QuestionCarry(qid, status, source, old_value, value)
    dropped = {k: v for k, v in answers.values.items() if k not in used}
    return Carried(
        from_version=from_version,
        to_version=new.version,
        answers=Answers(values=values, evidence=notes),
        questions=out,
        dropped=dropped,
    )


def sources_of(new: Questionnaire, from_version: str) -> Mapping[str, str]:
    """For every question of `new` that may take an old answer: the old question it reads."""
    mapping = new.answers_from_version(from_version)
    explicit = {e.id: e for e in mapping.questions} if mapping else {}
    fresh = set(mapping.new) if mapping else set()
    return {
        q.id: (explicit[q.id].was or q.id) if q.id in explicit else q.id
        for q in new.questions()
        if q.id not in fresh
    }
