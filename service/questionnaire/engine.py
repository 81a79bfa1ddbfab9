"""Conditions compiled once per questionnaire, and the resolution of answers.

`resolve` decides which questions are shown, which answers count (a hidden question's answer
does not) and the values of the derived facts. Questions and facts are visited in dependency
order, so a fact can read any question and a question's visibility can read any fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from service.questionnaire import expr
from service.questionnaire.answers import Answers, AnswerValue
from service.questionnaire.schema import AS_OF, Dated, Question, Questionnaire, QuestionType


@dataclass(frozen=True, slots=True)
class Window:
    """When a dated rule holds: while the date it is judged by is in [in_force, until]."""

    in_force: date | None
    until: date | None
    judged_by: str  # AS_OF, or the id of a date question

    @classmethod
    def of(cls, rule: Dated) -> Window | None:
        """The window of a rule; None for a rule that names no date (it always holds)."""
        if rule.judged_by is None or (rule.in_force is None and rule.until is None):
            return None
        return cls(rule.in_force, rule.until, rule.judged_by)

    @property
    def question(self) -> str | None:
        """The date question it is judged by; None when judged by the assessment's date."""
        return None if self.judged_by == AS_OF else self.judged_by

    def judged_date(
        self, env: Mapping[str, expr.Value], visible: AbstractSet[str], as_of: date
    ) -> date | None:
        """The date the rule is judged on: `as_of`, or the date question's answer; a hidden
        date question (the event has not happened yet: the first use of a planned program)
        is judged on `as_of`; a shown, unanswered one gives None (unknown)."""
        question = self.question
        if question is None or question not in visible:
            return as_of
        value = env.get(question)
        return value if isinstance(value, date) else None

    def covers(self, day: date | None) -> bool:
        """Whether the rule is in force on `day` (never on an unknown day)."""
        if day is None:
            return False
        return (self.in_force is None or day >= self.in_force) and (
            self.until is None or day <= self.until
        )


@dataclass(frozen=True, slots=True)
class Guard:
    """The condition of a rule (a fact row, an escalation, a case) with its date window."""

    condition: expr.Expr
    window: Window | None = None

    @property
    def names(self) -> frozenset[str]:
        """The question and fact ids it reads, the date question it is judged by included."""
        question = self.window.question if self.window else None
        return self.condition.names | {question} if question else self.condition.names

    @property
    def when(self) -> str:
        return self.condition.source

    def holds(self, env: Mapping[str, expr.Value], visible: AbstractSet[str], as_of: date) -> bool:
        """The rule is in force on the date it is judged by, and its condition holds."""
        window = self.window
        if window is not None and not window.covers(window.judged_date(env, visible, as_of)):
            return False
        return self.condition.evaluate(env, as_of)


def guard(when: str, rule: Dated) -> Guard:
    return Guard(expr.parse(when), Window.of(rule))


@dataclass(frozen=True)
class Program:
    """Parsed conditions of one questionnaire, and the order to evaluate them in."""

    order: tuple[str, ...]  # question and fact ids, each after what it reads
    visible_if: Mapping[str, expr.Expr]
    fact_rows: Mapping[str, tuple[Guard, ...]]
    applies_if: Mapping[str, expr.Expr]
    not_yet_due_if: Mapping[str, expr.Expr]
    in_force: Mapping[str, Window]  # criterion id -> its window (dated criteria only)
    escalate: Mapping[str, tuple[Guard, ...]]
    cases: Mapping[str, tuple[Guard, ...]]
    reads: Mapping[str, tuple[str, ...]]  # criterion id -> question ids its rule reads
    facts_read: Mapping[str, tuple[str, ...]]  # criterion id -> fact ids its conditions read
    trace_reads: Mapping[str, tuple[str, ...]]  # criterion id -> every question id it reads
    advisory_if: expr.Expr | None
    questions: Mapping[str, Question]  # in questionnaire order
    section_index: Mapping[str, int]  # section id -> its position in the questionnaire
    dont_know: Mapping[str, frozenset[str]]  # question id -> its "I do not know" values
    options: Mapping[str, frozenset[str]]  # question id -> its option values (none: empty)


def dependency_names(
    questionnaire: Questionnaire, parsed: Mapping[str, expr.Expr]
) -> dict[str, set[str]]:
    """For each question and fact: the question and fact ids its condition(s) read."""
    deps: dict[str, set[str]] = {}
    for q in questionnaire.questions():
        e = parsed.get(f"q:{q.id}")
        deps[q.id] = set(e.names) if e else set()
    for fact in questionnaire.facts:
        names: set[str] = set()
        for i, row in enumerate(fact.table):
            e = parsed.get(f"f:{fact.id}:{i}")
            if e:
                names |= e.names
            window = Window.of(row)
            if window is not None and window.question is not None:
                names.add(window.question)  # the date it is judged by comes before it
        deps[fact.id] = names
    return deps


def topological_order(deps: Mapping[str, set[str]], preferred: list[str]) -> list[str] | None:
    """An order in which every node comes after the nodes it reads; None if there is a cycle."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str) -> bool:
        mark = state.get(node)
        if mark == 2:
            return True
        if mark == 1:
            return False
        state[node] = 1
        for dep in sorted(deps.get(node, ())):
            if dep in deps and not visit(dep):
                return False
        state[node] = 2
        order.append(node)
        return True

    for node in preferred:
        if not visit(node):
            return None
    return order


def compile_program(
    questionnaire: Questionnaire, known: Mapping[str, expr.Expr] | None = None
) -> Program:
    """Parse every condition. The loader has already checked that they parse and resolve, and
    gives what it parsed (`known`: condition text -> parsed) so nothing is parsed twice."""
    cache: dict[str, expr.Expr] = dict(known or {})

    def parse(source: str) -> expr.Expr:
        found = cache.get(source)
        if found is None:
            found = cache[source] = expr.parse(source)
        return found

    parsed: dict[str, expr.Expr] = {}
    for q in questionnaire.questions():
        if q.visible_if:
            parsed[f"q:{q.id}"] = parse(q.visible_if)
    for fact in questionnaire.facts:
        for i, row in enumerate(fact.table):
            parsed[f"f:{fact.id}:{i}"] = parse(row.when)
    deps = dependency_names(questionnaire, parsed)
    preferred = [q.id for q in questionnaire.questions()] + [f.id for f in questionnaire.facts]
    order = topological_order(deps, preferred)
    if order is None:
        raise ValueError("visibility and facts form a cycle")
    fact_ids = {f.id for f in questionnaire.facts}
    questions = questionnaire.question_index()
    applies_if: dict[str, expr.Expr] = {}
    not_yet_due_if: dict[str, expr.Expr] = {}
    in_force: dict[str, Window] = {}
    escalate: dict[str, tuple[Guard, ...]] = {}
    cases: dict[str, tuple[Guard, ...]] = {}
    reads: dict[str, tuple[str, ...]] = {}
    facts_read: dict[str, tuple[str, ...]] = {}
    trace_reads: dict[str, tuple[str, ...]] = {}
    for c in questionnaire.criteria:
        names: list[str] = []
        if c.applies_if:
            applies_if[c.id] = parse(c.applies_if)
        if c.not_yet_due_if:
            not_yet_due_if[c.id] = parse(c.not_yet_due_if)
        window = Window.of(c)
        if window is not None:
            in_force[c.id] = window
        escalate[c.id] = tuple(guard(e.when, e) for e in c.escalate)
        cases[c.id] = tuple(guard(case.when, case) for case in c.rule.cases)
        if c.rule.answer:
            names.append(c.rule.answer)
        for g in cases[c.id]:
            names.extend(sorted(g.names))  # a case judged by a date question reads it
        rule_reads = [n for n in dict.fromkeys(names) if n in questions]
        reads[c.id] = tuple(rule_reads)
        all_names = set(names)
        gates = [m[c.id] for m in (applies_if, not_yet_due_if) if c.id in m]
        for g in (*escalate[c.id], *cases[c.id]):
            all_names |= g.names
        for e in gates:
            all_names |= e.names
        if window is not None and window.question is not None:
            all_names.add(window.question)
        facts_read[c.id] = tuple(sorted(n for n in all_names if n in fact_ids))
        trace_reads[c.id] = tuple(
            dict.fromkeys([*rule_reads, *sorted(n for n in all_names if n in questions)])
        )
    advisory = parse(questionnaire.advisory_if) if questionnaire.advisory_if else None
    return Program(
        order=tuple(order),
        visible_if={k[2:]: v for k, v in parsed.items() if k.startswith("q:")},
        fact_rows={
            f.id: tuple(
                Guard(parsed[f"f:{f.id}:{i}"], Window.of(row)) for i, row in enumerate(f.table)
            )
            for f in questionnaire.facts
        },
        applies_if=applies_if,
        not_yet_due_if=not_yet_due_if,
        in_force=in_force,
        escalate=escalate,
        cases=cases,
        reads=reads,
        facts_read=facts_read,
        trace_reads=trace_reads,
        advisory_if=advisory,
        questions=questions,
        section_index={s.id: i for i, s in enumerate(questionnaire.sections)},
        dont_know={qid: frozenset(q.dont_know_values()) for qid, q in questions.items()},
        options={qid: frozenset(q.option_values()) for qid, q in questions.items()},
    )


def program_of(questionnaire: Questionnaire) -> Program:
    """The compiled program of a questionnaire, built once and kept with it."""
    return questionnaire.derived("program", compile_program)


def env_value(question: Question, value: AnswerValue | None) -> expr.Value:
    """An answer as conditions see it: dates as dates, numbers as numbers, blanks as null."""
    if value is None or value == "" or value == []:
        return None
    if question.type is QuestionType.date and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, list):
        return list(value)
    return value


@dataclass(frozen=True)
class Resolved:
    visible: frozenset[str]
    env: Mapping[str, expr.Value]  # effective answers of visible questions, and facts
    facts: Mapping[str, str | bool]


def resolve(questionnaire: Questionnaire, answers: Answers, as_of: date) -> Resolved:
    """Which questions are shown, the answers that count, and the derived facts."""
    program = program_of(questionnaire)
    env: dict[str, expr.Value] = {}
    visible: set[str] = set()
    facts: dict[str, str | bool] = {}
    fact_defs = {f.id: f for f in questionnaire.facts}
    for node in program.order:
        question = program.questions.get(node)
        if question is not None:
            condition = program.visible_if.get(node)
            if condition is None or condition.evaluate(env, as_of):
                visible.add(node)
                env[node] = env_value(question, answers.values.get(node))
            else:
                env[node] = None
            continue
        fact = fact_defs[node]
        value: str | bool = fact.default
        for row, rule in zip(fact.table, program.fact_rows[node], strict=True):
            # an undated row (most of them): its condition alone, without a call more
            if (rule.window is None and rule.condition.evaluate(env, as_of)) or (
                rule.window is not None and rule.holds(env, visible, as_of)
            ):
                value = row.value
                break
        facts[node] = value
        env[node] = value
    return Resolved(visible=frozenset(visible), env=env, facts=facts)
