"""Conditions compiled once per questionnaire, and the resolution of answers.

`resolve` decides which questions are shown, which answers count (a hidden question's answer
does not) and the values of the derived facts. Questions and facts are visited in dependency
order, so a fact can read any question and a question's visibility can read any fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from service.questionnaire import expr
from service.questionnaire.answers import Answers, AnswerValue
from service.questionnaire.schema import Question, Questionnaire, QuestionType


@dataclass(frozen=True)
class Program:
    """Parsed conditions of one questionnaire, and the order to evaluate them in."""

    order: tuple[str, ...]  # question and fact ids, each after what it reads
    visible_if: Mapping[str, expr.Expr]
    fact_rows: Mapping[str, tuple[expr.Expr, ...]]
    applies_if: Mapping[str, expr.Expr]
    escalate: Mapping[str, tuple[expr.Expr, ...]]
    cases: Mapping[str, tuple[expr.Expr, ...]]
    reads: Mapping[str, tuple[str, ...]]  # criterion id -> question ids its rule reads
    facts_read: Mapping[str, tuple[str, ...]]  # criterion id -> fact ids its conditions read
    trace_reads: Mapping[str, tuple[str, ...]]  # criterion id -> every question id it reads
    advisory_if: expr.Expr | None
    questions: Mapping[str, Question]
    dont_know: Mapping[str, frozenset[str]]  # question id -> its "I do not know" values


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
        for i in range(len(fact.table)):
            e = parsed.get(f"f:{fact.id}:{i}")
            if e:
                names |= e.names
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


def compile_program(questionnaire: Questionnaire) -> Program:
    """Parse every condition. The loader has already checked that they parse and resolve."""
    parsed: dict[str, expr.Expr] = {}
    for q in questionnaire.questions():
        if q.visible_if:
            parsed[f"q:{q.id}"] = expr.parse(q.visible_if)
    for fact in questionnaire.facts:
        for i, row in enumerate(fact.table):
            parsed[f"f:{fact.id}:{i}"] = expr.parse(row.when)
    deps = dependency_names(questionnaire, parsed)
    preferred = [q.id for q in questionnaire.questions()] + [f.id for f in questionnaire.facts]
    order = topological_order(deps, preferred)
    if order is None:
        raise ValueError("visibility and facts form a cycle")
    fact_ids = {f.id for f in questionnaire.facts}
    questions = questionnaire.question_index()
    applies_if: dict[str, expr.Expr] = {}
    escalate: dict[str, tuple[expr.Expr, ...]] = {}
    cases: dict[str, tuple[expr.Expr, ...]] = {}
    reads: dict[str, tuple[str, ...]] = {}
    facts_read: dict[str, tuple[str, ...]] = {}
    trace_reads: dict[str, tuple[str, ...]] = {}
    for c in questionnaire.criteria:
        names: list[str] = []
        if c.applies_if:
            applies_if[c.id] = expr.parse(c.applies_if)
        escalate[c.id] = tuple(expr.parse(e.when) for e in c.escalate)
        cases[c.id] = tuple(expr.parse(case.when) for case in c.rule.cases)
        if c.rule.answer:
            names.append(c.rule.answer)
        for e in cases[c.id]:
            names.extend(sorted(e.names))
        rule_reads = [n for n in dict.fromkeys(names) if n in questions]
        reads[c.id] = tuple(rule_reads)
        all_names = set(names)
        for e in (*escalate[c.id], *([applies_if[c.id]] if c.id in applies_if else [])):
            all_names |= e.names
        facts_read[c.id] = tuple(sorted(n for n in all_names if n in fact_ids))
        trace_reads[c.id] = tuple(
            dict.fromkeys([*rule_reads, *sorted(n for n in all_names if n in questions)])
        )
    advisory = expr.parse(questionnaire.advisory_if) if questionnaire.advisory_if else None
    return Program(
        order=tuple(order),
        visible_if={k[2:]: v for k, v in parsed.items() if k.startswith("q:")},
        fact_rows={
            f.id: tuple(parsed[f"f:{f.id}:{i}"] for i in range(len(f.table)))
            for f in questionnaire.facts
        },
        applies_if=applies_if,
        escalate=escalate,
        cases=cases,
        reads=reads,
        facts_read=facts_read,
        trace_reads=trace_reads,
        advisory_if=advisory,
        questions=questions,
        dont_know={qid: frozenset(q.dont_know_values()) for qid, q in questions.items()},
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
        for row, condition in zip(fact.table, program.fact_rows[node], strict=True):
            if condition.evaluate(env, as_of):
                value = row.value
                break
        facts[node] = value
        env[node] = value
    return Resolved(visible=frozenset(visible), env=env, facts=facts)
