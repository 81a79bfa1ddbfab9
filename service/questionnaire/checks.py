"""Stages 4-5 of loading: the Pydantic models, then the semantic checks.

4. the models (`schema.py`): unknown fields, types, patterns, quoting of yes/no;
5. ids, references, conditions, cycles, reachability; then warnings.

`check` takes a document read by `source.read_yaml` and returns the questionnaire (None when
a problem is an error), its compiled program and every problem, located through the
document's index.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from service.questionnaire import expr
from service.questionnaire.engine import (
    Program,
    Window,
    compile_program,
    dependency_names,
    topological_order,
)
from service.questionnaire.schema import (
    AS_OF,
    CHOICE_TYPES,
    CRITERION_ID,
    MAX_CONDITION,
    MAX_LONG_TEXT,
    MAX_PLAIN,
    MAX_SHORT_TEXT,
    SNAKE_ID,
    CarriedQuestion,
    Criterion,
    Dated,
    Question,
    Questionnaire,
    QuestionType,
    Reference,
    Verdict,
)
from service.questionnaire.source import (
    SAFE_TAGS,
    Document,
    PathT,
    Problem,
    ProblemCode,
    Reporter,
)
from service.questionnaire.versions import version_key

MAX_ENUMERATION = 4096


@dataclass(frozen=True)
class Checked:
    """What the checks found: the questionnaire and its program when no problem is an error."""

    questionnaire: Questionnaire | None
    program: Program | None
    problems: list[Problem]


def check(
    doc: Document, file: str, sha256: str, *, previous: Questionnaire | None = None
) -> Checked:
    """Validate `doc.data` against the models and run every check; never raises for bad input.

    With `previous` (the questionnaire of an earlier version), the `answers_from` declaration
    for that version is checked against it too (`policygap validate --previous FILE`)."""
    report = Reporter(file, doc.index)
    report.problems.extend(doc.problems)
    context = {"sha256": sha256}
    try:
        questionnaire = Questionnaire.model_validate(doc.data, context=context)
    except ValidationError as error:
        schema_problems(error, doc.data, report)
        # Unknown fields change nothing else: without them the rest may still be checked.
        extra = [tuple(e["loc"]) for e in error.errors() if e["type"] == "extra_forbidden"]
        retry = _without(doc.data, extra) if len(extra) == error.error_count() else None
        try:
            questionnaire = Questionnaire.model_validate(retry, context=context)
        except ValidationError:
            return Checked(None, None, sorted(report.problems, key=lambda p: (p.line, p.col)))
    checker = _Checker(questionnaire, report)
    checker.check_ids()
    checker.check_public_edition()
    checker.check_shapes()
    checker.check_lengths(doc.data)
    checker.check_conditions()
    checker.check_answers_from()
    if previous is not None:
        checker.check_previous(previous)
    if not report.problems and checker.check_cycles():
        checker.check_reachability()
    if not report.problems:
        checker.check_warnings(doc.data)
    problems = sorted(report.problems, key=lambda p: (p.level != "error", p.line, p.col))
    if any(p.level == "error" for p in problems):
        return Checked(None, None, problems)
    # Compiled once and kept with the model (`engine.program_of`), so scoring reuses it.
    return Checked(questionnaire, checker.compiled(), problems)


# -- stage 4: schema validation ------------------------------------------------------------


def _all_field_names() -> set[str]:
    names: set[str] = set()
    seen: set[type] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in _iter_types(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    walk(arg)

    walk(Questionnaire)
    return names


def _iter_types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _iter_types(arg)


_FIELD_NAMES = _all_field_names()


def _data_path(loc: tuple[str | int, ...], data: Any) -> PathT:
    """Follow a Pydantic error location through the data, dropping union branch tags."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if not (in_dict or in_list):
            continue  # a union branch tag such as 'str' or 'dict[str,str]'
        current = current[part]
        path.append(part)
    return tuple(path)


_PLAIN_MESSAGES = {
    "too_short": "this list must not be empty",
    "list_type": "must be a list: one item per line starting with '- ', or [a, b]",
    "dict_type": "must be a mapping of fields, such as key: value",
    "model_type": "must be a mapping of fields, such as key: value",
    "model_attributes_type": "must be a mapping of fields, such as key: value",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number (not .inf or .nan, and not too large for a number)",
}
_RANGE_KINDS = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}
# Problems of these kinds get their own code; every other model problem is `invalid`.
_KIND_CODES = {
    "finite_number": ProblemCode.out_of_range,
    "greater_than": ProblemCode.out_of_range,
    "greater_than_equal": ProblemCode.out_of_range,
    "less_than": ProblemCode.out_of_range,
    "less_than_equal": ProblemCode.out_of_range,
    "string_too_long": ProblemCode.too_long,
}


def _quoting_message(kind: str, node: yaml.Node | None) -> str | None:
    """For text written without quotes that YAML read as true/false or as a number."""
    if not isinstance(node, yaml.ScalarNode) or node.style:
        return None
    raw = node.value
    if node.tag == "tag:yaml.org,2002:bool" and kind in ("string_type", "enum"):
        return f'{raw} is read by YAML as true/false; write it in quotes: "{raw}"'
    if node.tag in ("tag:yaml.org,2002:float", "tag:yaml.org,2002:int") and kind == "string_type":
        return f'{raw} is read by YAML as a number; write it in quotes: "{raw}"'
    return None


def _type_message(error: Mapping[str, Any], node: yaml.Node | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    quoting = _quoting_message(kind, node)
    if quoting:
        return quoting
    written = node.value if isinstance(node, yaml.ScalarNode) else None
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        if pattern == SNAKE_ID:
            return (
                "ids are snake_case: lower-case letters, digits and _, starting with a letter "
                f"(for example live_use); {written!r} is not"
            )
        if pattern == CRITERION_ID:
            return (
                "criterion ids are three capitals, a dash and two digits (for example COL-01); "
                f"{written!r} is not"
            )
        return f"{error['msg'].lower()}; {written!r} is not"
    if kind in ("float_type", "int_type") and isinstance(node, yaml.ScalarNode):
        if node.style in ('"', "'"):
            return f"{written!r} is text; write the number without quotes"
        if node.tag == "tag:yaml.org,2002:float" and kind == "int_type":
            return "must be a whole number"
        if node.tag == "tag:yaml.org,2002:bool":
            return f"must be a number; YAML reads {written} as true/false"
        try:
            number = float(node.value)
        except ValueError:
            number = None
        if number is not None and not math.isfinite(number):
            return _PLAIN_MESSAGES["finite_number"]
        if number is not None:
            return f"YAML reads {written} as text; write the number as 2, 2.5 or 1.0e+3"
    if kind in _RANGE_KINDS:
        key, words = _RANGE_KINDS[kind]
        bound = ctx.get(key)
        shown = f"{bound:g}" if isinstance(bound, float) else str(bound)
        return f"{words} {shown}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind in _PLAIN_MESSAGES:
        return _PLAIN_MESSAGES[kind]
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        if written is None:
            return f"write one of: {expected}"
        return f"{written!r} is not allowed here; write one of: {expected}"
    return str(error["msg"])


def _comma_cut(path: PathT, data: Any, node: yaml.Node | None) -> str | None:
    """For flow-style text cut at a comma: `{en: Until closed, no schedule, fr: ...}` reads
    `no schedule` as a key of its own, with no value."""
    if len(path) < 2 or not isinstance(path[-1], str) or path[-1] in _LANGUAGE_CODES:
        return None
    if not isinstance(node, yaml.ScalarNode) or node.style or node.value:
        return None  # not an empty value: a real (misnamed) key
    parent = _value_at(data, path[:-1])
    if not isinstance(parent, dict) or parent.get(path[-1], "") is not None:
        return None
    return (
        f"the text was cut at a comma: {path[-1]!r} was read as a key of its own; put text that "
        'contains a comma in quotes, such as {en: "Until the file is closed, no schedule", '
        "fr: ...}, or write it in block style"
    )


_LANGUAGE_CODES = {"en", "fr"}


def _value_at(data: Any, path: PathT) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def schema_problems(error: ValidationError, data: Any, report: Reporter) -> None:
    grouped: dict[PathT, list[Mapping[str, Any]]] = {}
    order: list[PathT] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            report.at(loc, _unknown_field_message(loc), key=True, code=ProblemCode.unknown_field)
            continue
        if err["type"] == "missing":
            parent = _data_path(loc[:-1], data)
            report.at(parent, f"missing field {loc[-1]!r}", code=ProblemCode.missing_field)
            continue
        path = _data_path(loc, data)
        if path not in grouped:
            grouped[path] = []
            order.append(path)
        grouped[path].append(err)
    cut: set[PathT] = set()
    for path in order:
        node = report.index.node(path)
        message = _comma_cut(path, data, node)
        if message and path[:-1] not in cut:
            cut.add(path[:-1])
            report.at(path, message, key=True, code=ProblemCode.quoting)
    for path in order:
        errs = grouped[path]
        node = report.index.node(path)
        if any(path[: len(parent)] == parent for parent in cut):
            continue  # reported above as text cut at a comma
        if isinstance(node, yaml.ScalarNode) and node.tag not in SAFE_TAGS:
            continue  # a tag: reported when the file was read; the value was dropped
        branches = {p for e in errs for p in e["loc"] if isinstance(p, str)}
        if "str" in branches and any(b.startswith("dict[") for b in branches):
            # A LocalizedText (text, or a map of language to text) that is neither.
            message = _quoting_message("string_type", node)
            report.at(
                path,
                message or "must be text, or a map of language to text such as {en: ..., fr: ...}",
            )
            continue
        quoting = next((m for d in errs if (m := _quoting_message(d["type"], node))), None)
        if quoting:  # text or a list (an answers_from option target): the quoting is the news
            report.at(path, quoting)
            continue
        seen: set[str] = set()
        for detail in errs:
            message = _type_message(detail, node)
            if message and message not in seen:
                seen.add(message)
                code = _KIND_CODES.get(detail["type"], ProblemCode.invalid)
                if message == _PLAIN_MESSAGES["finite_number"]:
                    code = ProblemCode.out_of_range
                report.at(path, message, code=code)


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model whose fields are allowed at a location (list indexes are skipped)."""
    model: type[BaseModel] = Questionnaire
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        nested = [
            t
            for t in _iter_types(info.annotation)
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not nested:
            return None
        model = nested[0]
    return model


def _unknown_field_message(loc: tuple[str | int, ...]) -> str:
    name = str(loc[-1])
    model = _model_at(loc[:-1])
    allowed = sorted(model.model_fields) if model else sorted(_FIELD_NAMES)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.7)
    if close:
        return f"unknown field {name!r}; did you mean {close[0]!r}?"
    return f"unknown field {name!r}; the fields allowed here are: {', '.join(allowed)}"


# -- stage 5: semantic checks --------------------------------------------------------------


def _expr_column(node: yaml.Node | None, column: int) -> int:
    """Column offset of a position inside a condition string, for single-line scalars."""
    if not isinstance(node, yaml.ScalarNode):
        return 0
    if node.style in ('"', "'"):
        return column + 1
    if not node.style:
        return column
    return 0


class _Checker:
    def __init__(self, q: Questionnaire, report: Reporter) -> None:
        self.q = q
        self.report = report
        self.questions = q.question_index()
        self.facts = {f.id: f for f in q.facts}
        self.sources = q.source_index()
        self.parsed: dict[str, expr.Expr] = {}
        self._parsed_text: dict[str, expr.Expr] = {}
        self.read_names: set[str] = set()
        self.program: Program

    def compiled(self) -> Program:
        """The questionnaire's program (kept with the model, as `engine.program_of` keeps it),
        built from the conditions parsed here."""
        known = {e.source: e for e in self.parsed.values()}
        return self.q.derived("program", lambda q: compile_program(q, known))

    # ids and references

    def check_ids(self) -> None:
        q = self.q
        self._unique(
            [(("sections", i, "id"), s.id) for i, s in enumerate(q.sections)], "section id"
        )
        question_ids: list[tuple[PathT, str]] = []
        for si, s in enumerate(q.sections):
            for qi, question in enumerate(s.questions):
                path: PathT = ("sections", si, "questions", qi)
                question_ids.append(((*path, "id"), question.id))
                self._unique(
                    [
                        ((*path, "options", oi, "value"), o.value)
                        for oi, o in enumerate(question.options)
                    ],
                    "option value",
                )
                self._check_question_shape(question, path)
                for ri, ref in enumerate(question.references):
                    self._check_reference(ref, (*path, "references", ri))
        self._unique(question_ids, "question id")
        for path, qid in question_ids:
            if qid == expr.AS_OF:
                self.report.at(
                    path,
                    f"{expr.AS_OF} is reserved for the assessment date; choose another id",
                    code=ProblemCode.reserved_id,
                )
        fact_ids = [(("facts", i, "id"), f.id) for i, f in enumerate(q.facts)]
        self._unique(fact_ids, "fact id")
        for path, fid in fact_ids:
            if fid == expr.AS_OF:
                self.report.at(
                    path,
                    f"{expr.AS_OF} is reserved for the assessment date; choose another id",
                    code=ProblemCode.reserved_id,
                )
            if fid in self.questions:
                self.report.at(
                    path,
                    f"fact id {fid!r} is also a question id; ids must differ",
                    code=ProblemCode.duplicate,
                )
        self._unique(
            [(("criteria", i, "id"), c.id) for i, c in enumerate(q.criteria)], "criterion id"
        )
        self._unique(
            [(("sources", i, "key"), s.key) for i, s in enumerate(q.sources)], "source key"
        )
        self._unique(
            [(("rating", "gates", i, "id"), g.id) for i, g in enumerate(q.rating.gates)], "gate id"
        )
        section_ids = {s.id for s in q.sections}
        for ci, c in enumerate(q.criteria):
            if c.section not in section_ids:
                self.report.at(
                    ("criteria", ci, "section"),
                    f"there is no section {c.section!r}{self._suggest(c.section, section_ids)}",
                    code=ProblemCode.unknown_reference,
                )
            for ri, ref in enumerate(c.references):
                self._check_reference(ref, ("criteria", ci, "references", ri))
            for ei, esc in enumerate(c.escalate):
                for ri, ref in enumerate(esc.references):
                    self._check_reference(ref, ("criteria", ci, "escalate", ei, "references", ri))
        for fi, fact in enumerate(q.facts):
            for ti, row in enumerate(fact.table):
                for ri, ref in enumerate(row.references):
                    self._check_reference(ref, ("facts", fi, "table", ti, "references", ri))
        if q.inherent_risk and q.inherent_risk not in self.facts:
            self.report.at(
                ("inherent_risk",),
                f"there is no fact {q.inherent_risk!r}{self._suggest(q.inherent_risk, self.facts)}",
                code=ProblemCode.unknown_reference,
            )
        if not any(b.min_score == 0 for b in q.rating.bands):
            self.report.at(
                ("rating", "bands"),
                "add a band with min_score: 0 so every score has a rating",
                code=ProblemCode.bands,
            )
        scores = [b.min_score for b in q.rating.bands]
        if len(set(scores)) != len(scores):
            self.report.at(
                ("rating", "bands"), "two bands have the same min_score", code=ProblemCode.bands
            )

    def _check_question_shape(self, question: Question, path: PathT) -> None:
        choice = question.type in (QuestionType.single_choice, QuestionType.multiple_choice)
        if choice and not question.options:
            self.report.at(
                (*path, "type"),
                f"a {question.type.value} question needs options",
                code=ProblemCode.question_shape,
            )
        if not choice and question.options:
            self.report.at(
                (*path, "options"),
                f"a {question.type.value} question takes no options"
                + (
                    "; yes_no questions have built-in options"
                    if question.type is QuestionType.yes_no
                    else ""
                ),
                code=ProblemCode.question_shape,
            )
        for field, types in _TYPE_FIELDS.items():
            if field in question.model_fields_set and question.type not in types:
                allowed = " and ".join(t.value for t in types)
                self.report.at(
                    (*path, field),
                    f"{field} is for {allowed} questions only; {question.id} is "
                    f"{question.type.value}: remove {field}",
                    key=True,
                    code=ProblemCode.question_shape,
                )
        if question.min is not None and question.max is not None and question.min > question.max:
            self.report.at(
                (*path, "max"),
                f"max ({question.max:g}) is less than min ({question.min:g})",
                code=ProblemCode.out_of_range,
            )
        if question.type is QuestionType.multiple_choice and any(
            o.dont_know for o in question.options
        ):
            self.report.at(
                (*path, "options"),
                "a multiple-choice question cannot have a dont_know option; use single_choice",
                code=ProblemCode.question_shape,
            )

    def check_public_edition(self) -> None:
        """The public edition's block: reasons with unique keys and known sources, a regime fact
        that exists, and questions that exist."""
        spec = self.q.public_edition
        base: PathT = ("public_edition",)
        self._unique(
            [((*base, "reasons", i, "key"), r.key) for i, r in enumerate(spec.reasons)],
            "withholding reason key",
        )
        for i, r in enumerate(spec.reasons):
            if r.reference is not None:
                self._check_reference(r.reference, (*base, "reasons", i, "reference"))
        facts = {f.id for f in self.q.facts}
        if spec.regime_fact is not None and spec.regime_fact not in facts:
            self.report.at(
                (*base, "regime_fact"),
                f"there is no fact {spec.regime_fact!r}{self._suggest(spec.regime_fact, facts)}",
            )
        questions = set(self.q.question_index())
        for key in ("summary_questions", "detail_questions"):
            for i, qid in enumerate(getattr(spec, key)):
                if qid not in questions:
                    self.report.at(
                        (*base, key, i),
                        f"there is no question {qid!r}{self._suggest(qid, questions)}",
                    )

    def _check_reference(self, ref: Reference, path: PathT) -> None:
        if ref.in_force and ref.until and ref.until < ref.in_force:
            self.report.at(
                (*path, "until"),
                f"{ref.source}: until ({ref.until}) is before in_force ({ref.in_force})",
            )
        if ref.source not in self.sources:
            self.report.at(
                (*path, "source"),
                f"there is no source with key {ref.source!r}"
                f"{self._suggest(ref.source, self.sources)}; add it under sources:",
                code=ProblemCode.unknown_reference,
            )

    def _unique(self, items: Sequence[tuple[PathT, str]], what: str) -> None:
        seen: dict[str, PathT] = {}
        for path, value in items:
            if value in seen:
                line, _ = self.report.index.locate(seen[value])
                self.report.at(
                    path,
                    f"duplicate {what} {value!r} (first at line {line})",
                    code=ProblemCode.duplicate,
                )
            else:
                seen[value] = path

    @staticmethod
    def _suggest(name: str, choices: Iterable[str]) -> str:
        close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
        return f"; did you mean {close[0]!r}?" if close else ""

    # rating and escalations

    def check_shapes(self) -> None:
        for gi, gate in enumerate(self.q.rating.gates):
            if not gate.incomplete and not (gate.severities and gate.verdicts):
                self.report.at(
                    ("rating", "gates", gi),
                    f"gate {gate.id} never fires: give it both severities: and verdicts: (it "
                    "fires when a criterion of one of these severities has one of these "
                    "verdicts), or incomplete: true",
                    code=ProblemCode.gate,
                )
            if Verdict.not_yet_due in gate.verdicts:
                self.report.at(
                    ("rating", "gates", gi, "verdicts"),
                    f"gate {gate.id} lists not_yet_due: a criterion not yet due is no gap and "
                    "never caps the rating; remove it",
                    code=ProblemCode.gate,
                )
        for ci, c in enumerate(self.q.criteria):
            for ei, esc in enumerate(c.escalate):
                if esc.to.rank >= c.severity.rank:
                    self.report.at(
                        ("criteria", ci, "escalate", ei, "to"),
                        f"an escalation must raise the severity: {c.id} is "
                        f"{c.severity.value}, and {esc.to.value} is not higher",
                        code=ProblemCode.escalation,
                    )

    def check_lengths(self, data: Any) -> None:
        """Every text and condition within its limit (`schema.MAX_*`)."""
        for path, value in _long_strings(data, MAX_SHORT_TEXT):  # no limit is shorter
            limit, what = _limit_of(path)
            if len(value) > limit:
                self.report.at(
                    path,
                    f"{what} is {len(value):,} characters; the limit is {limit:,} characters",
                    code=ProblemCode.too_long,
                )

    # conditions

    def parse_condition(self, source: str, path: PathT, key: str) -> expr.Expr | None:
        node = self.report.index.node(path)
        try:
            parsed = self._parsed_text.get(source) or expr.parse(source)
        except expr.ExprError as error:
            self.report.at(
                path,
                f"in the condition: {error.message}",
                column_offset=_expr_column(node, error.column),
                code=ProblemCode.condition,
            )
            return None
        self._parsed_text[source] = parsed  # the same text, parsed once per file
        ok = self._check_names(parsed, path, node)
        self.read_names |= parsed.names
        if ok:
            self.parsed[key] = parsed
        return parsed if ok else None

    def _check_names(self, parsed: expr.Expr, path: PathT, node: yaml.Node | None) -> bool:
        ok = True
        known = set(self.questions) | set(self.facts) | {expr.AS_OF}

        def fail(message: str, column: int) -> None:
            nonlocal ok
            ok = False
            self.report.at(
                path, message, column_offset=_expr_column(node, column), code=ProblemCode.condition
            )

        def walk(n: expr.Node) -> None:
            if isinstance(n, expr.Name):
                if n.name not in known:
                    fail(
                        f"unknown name {n.name!r}: not a question id or fact id"
                        f"{self._suggest(n.name, known)}",
                        n.column,
                    )
            elif isinstance(n, expr.Call):
                for arg in n.args:
                    if arg.name not in self.questions:
                        fail(
                            f"{n.func}() needs a question id; {arg.name!r} is not one"
                            f"{self._suggest(arg.name, self.questions)}",
                            arg.column,
                        )
                        continue
                    kind = self.questions[arg.name].type
                    if n.func == "count" and kind is not QuestionType.multiple_choice:
                        fail(
                            f"count() needs a multiple_choice question; {arg.name} is {kind.value}",
                            arg.column,
                        )
                    if n.func in ("months_since", "days_between") and kind is not QuestionType.date:
                        fail(
                            f"{n.func}() needs a date question; {arg.name} is {kind.value}",
                            arg.column,
                        )
            elif isinstance(n, expr.Not):
                walk(n.item)
            elif isinstance(n, expr.BoolOp):
                for item in n.items:
                    walk(item)
            elif isinstance(n, expr.Compare):
                walk(n.left)
                right = n.right
                if isinstance(right, expr.Name) and right.name not in known:
                    fail(
                        f"unknown name {right.name!r}: not a question id or fact id; to compare "
                        f'with the text {right.name}, write it in quotes: "{right.name}"',
                        right.column,
                    )
                    return
                walk(right)
                self._check_compare(n, fail)

        walk(parsed.root)
        return ok

    def _allowed_values(self, name: str) -> tuple[set[str] | None, str]:
        """The values a name can take, when known, and what kind of name it is."""
        if name in self.questions:
            question = self.questions[name]
            if question.type in (
                QuestionType.single_choice,
                QuestionType.multiple_choice,
                QuestionType.yes_no,
            ):
                return question.option_values(), question.type.value
            return None, question.type.value
        fact = self.facts.get(name)
        if fact is None:
            return None, "unknown"
        values = set(fact.values) or {r.value for r in fact.table if isinstance(r.value, str)} | (
            {fact.default} if isinstance(fact.default, str) else set()
        )
        return values, "fact"

    def _check_compare(self, n: expr.Compare, fail: Any) -> None:
        ordering = n.op in ("<", "<=", ">", ">=")
        if isinstance(n.left, expr.Call) and n.left.func in _NUMBER_FUNCTIONS:
            call = n.left
            right_values = _literal_values(n.right)
            if any(not _is_number(v) for v in right_values):
                shown = f"{call.func}({', '.join(a.name for a in call.args)})"
                fail(
                    f"{shown} is a number; compare it with a number, without quotes "
                    f"(such as {shown} >= 2)",
                    max(call.args[0].column - len(call.func) - 1, 0),
                )
            return
        if not isinstance(n.left, expr.Name):
            return
        name = n.left.name
        if name == expr.AS_OF:
            if isinstance(n.right, expr.Literal) and not isinstance(n.right.value, date):
                fail(
                    'as_of is a date; compare it with date("YYYY-MM-DD") or a date question',
                    n.left.column,
                )
            return
        if name not in self.questions and name not in self.facts:
            return
        allowed, kind = self._allowed_values(name)
        right = n.right
        literals: list[Any] = []
        if isinstance(right, expr.Literal):
            literals = right.value if isinstance(right.value, list) else [right.value]
        if kind == "multiple_choice" and n.op in ("==", "!="):
            fail(
                f"{name} is multiple choice; use 'contains' or 'in' instead of {n.op}",
                n.left.column,
            )
            return
        if n.op == "contains" and kind != "multiple_choice":
            fail(f"'contains' is for multiple-choice questions; {name} is {kind}", n.left.column)
            return
        if ordering and kind not in ("number", "date"):
            fail(
                f"<, <=, > and >= compare numbers or dates; {name} is {kind}: use == or in",
                n.left.column,
            )
            return
        if kind == "number":
            if any(not isinstance(v, int | float) or isinstance(v, bool) for v in literals):
                fail(f"{name} is a number question; compare it with a number", n.left.column)
            return
        if kind == "date":
            if any(not isinstance(v, date) for v in literals) and not isinstance(right, expr.Name):
                fail(
                    f'{name} is a date question; compare it with date("YYYY-MM-DD") or another date',
                    n.left.column,
                )
            return
        if allowed is None:
            return
        for value in literals:
            if isinstance(value, bool) and kind == "fact":
                if not allowed:
                    continue  # a true/false fact
                fail(
                    f"{name} takes text values, not true/false; compare it with one of them "
                    f"in quotes: {', '.join(sorted(allowed))}",
                    n.left.column,
                )
                return
            if not isinstance(value, str) or value not in allowed:
                fail(
                    f"{value!r} is not a value of {name}; its values are: {', '.join(sorted(allowed))}",
                    n.left.column,
                )

    def _check_fact_values(self, fi: int) -> None:
        """A fact's values are text (compared with declared text), or all true/false.

        An unquoted no, yes, on or off is never meant as true/false; true and false are, when
        the fact declares no text values and every value is true or false."""
        fact = self.q.facts[fi]
        written: list[tuple[PathT, str | bool]] = [
            (("facts", fi, "table", ri, "value"), row.value) for ri, row in enumerate(fact.table)
        ]
        written.append((("facts", fi, "default"), fact.default))
        all_bool = all(isinstance(v, bool) for _, v in written)
        for path, value in written:
            if not isinstance(value, bool):
                continue
            node = self.report.index.node(path)
            raw = node.value if isinstance(node, yaml.ScalarNode) else str(value).lower()
            if raw in ("true", "false") and all_bool and not fact.values:
                continue
            self.report.at(
                path,
                f'{raw} is read by YAML as true/false; write it in quotes: "{raw}"',
                code=ProblemCode.quoting,
            )

    def check_conditions(self) -> None:
        q = self.q
        for si, s in enumerate(q.sections):
            for qi, question in enumerate(s.questions):
                if question.visible_if is not None:
                    self.parse_condition(
                        question.visible_if,
                        ("sections", si, "questions", qi, "visible_if"),
                        f"q:{question.id}",
                    )
        for fi, fact in enumerate(q.facts):
            self._check_fact_values(fi)
            for ri, row in enumerate(fact.table):
                self.parse_condition(
                    row.when, ("facts", fi, "table", ri, "when"), f"f:{fact.id}:{ri}"
                )
                self._check_dated(row, ("facts", fi, "table", ri))
                if fact.values and isinstance(row.value, str) and row.value not in fact.values:
                    self.report.at(
                        ("facts", fi, "table", ri, "value"),
                        f"{row.value!r} is not one of the values declared for {fact.id}",
                    )
            if fact.values and isinstance(fact.default, str) and fact.default not in fact.values:
                self.report.at(
                    ("facts", fi, "default"),
                    f"{fact.default!r} is not one of the values declared for {fact.id}",
                )
        for ci, c in enumerate(q.criteria):
            base: PathT = ("criteria", ci)
            if c.applies_if is not None:
                self.parse_condition(c.applies_if, (*base, "applies_if"), f"c:{c.id}:applies")
            if c.not_yet_due_if is not None:
                self.parse_condition(
                    c.not_yet_due_if, (*base, "not_yet_due_if"), f"c:{c.id}:not_yet_due"
                )
            for ei, esc in enumerate(c.escalate):
                self.parse_condition(
                    esc.when, (*base, "escalate", ei, "when"), f"c:{c.id}:esc:{ei}"
                )
                self._check_dated(esc, (*base, "escalate", ei))
            self._check_dated(c, base)
            if c.not_in_force_reason is not None and Window.of(c) is None:
                self.report.at(
                    (*base, "not_in_force_reason"),
                    f"not_in_force_reason is printed only while {c.id} is not in force: give "
                    f"{c.id} in_force or until, with judged_by",
                    code=ProblemCode.dated,
                )
            self._check_rule(c, base)
            for ei, qid in enumerate(c.evidence_from):
                if qid not in self.questions:
                    self.report.at(
                        (*base, "evidence_from", ei),
                        f"there is no question {qid!r}{self._suggest(qid, self.questions)}",
                        code=ProblemCode.unknown_reference,
                    )
                elif not self.questions[qid].evidence:
                    self.report.at(
                        (*base, "evidence_from", ei),
                        f"{qid} takes no evidence (evidence: false), so its evidence can never "
                        f"make {c.id} met; name a question that takes evidence",
                        code=ProblemCode.evidence,
                    )
        if q.advisory_if is not None:
            self.parse_condition(q.advisory_if, ("advisory_if",), "advisory")
        if q.inherent_risk:
            self.read_names.add(q.inherent_risk)

    def _check_rule(self, c: Criterion, base: PathT) -> None:
        rule = c.rule
        path: PathT = (*base, "rule")
        if rule.answer and rule.cases:
            self.report.at(
                path, "use either answer or cases in a rule, not both", code=ProblemCode.rule
            )
            return
        if not rule.answer and not rule.cases:
            self.report.at(
                path, "a rule needs answer: QUESTION_ID or a list of cases", code=ProblemCode.rule
            )
            return
        if rule.answer:
            qid = rule.answer
            self.read_names.add(qid)
            question = self.questions.get(qid)
            if question is None:
                self.report.at(
                    (*path, "answer"),
                    f"there is no question {qid!r}{self._suggest(qid, self.questions)}",
                    code=ProblemCode.unknown_reference,
                )
                return
            if question.type not in (QuestionType.yes_no, QuestionType.single_choice):
                self.report.at(
                    (*path, "answer"),
                    f"answer: needs a yes_no or single_choice question; {qid} is "
                    f"{question.type.value}; use cases instead",
                    code=ProblemCode.rule,
                )
                return
            values = question.option_values()
            for key in rule.map:
                if key in question.dont_know_values():
                    self.report.at(
                        (*path, "map", key),
                        f'{key} is the "I do not know" option of {qid}: it always gives the '
                        "verdict dont_know, so this map entry would be ignored; remove it",
                        key=True,
                        code=ProblemCode.rule,
                    )
                elif key not in values:
                    self.report.at(
                        (*path, "map", key),
                        f"{key!r} is not an option of {qid}; its options are: {', '.join(sorted(values))}",
                        key=True,
                        code=ProblemCode.rule,
                    )
            if question.type is QuestionType.single_choice:
                missing = sorted(values - set(rule.map) - question.dont_know_values())
                if missing:
                    self.report.at(
                        (*path, "map"),
                        f"map gives no verdict for option(s) {', '.join(missing)} of {qid}",
                        code=ProblemCode.rule,
                    )
            return
        for i, case in enumerate(rule.cases):
            self.parse_condition(case.when, (*path, "cases", i, "when"), f"c:{c.id}:case:{i}")
            self._check_dated(case, (*path, "cases", i))

    def _check_dated(self, rule: Dated, path: PathT) -> None:
        """A dated rule names the date it takes effect (in_force) or its last day (until), and
        the date it is judged by: as_of, or a date question."""
        dated = rule.in_force is not None or rule.until is not None
        if rule.judged_by is None:
            if dated:
                self.report.at(
                    (*path, "in_force" if rule.in_force is not None else "until"),
                    "a dated rule names the date it is judged by: add judged_by: as_of (ongoing "
                    "duties, the regime itself) or judged_by: DATE_QUESTION (duties that bind "
                    "before collection or launch, e.g. the first-use date)",
                    code=ProblemCode.dated,
                )
            return
        if not dated:
            self.report.at(
                (*path, "judged_by"),
                "judged_by needs in_force (the day the rule takes effect) or until (its last day)",
                code=ProblemCode.dated,
            )
        if rule.in_force and rule.until and rule.until < rule.in_force:
            self.report.at(
                (*path, "until"),
                f"until ({rule.until}) is before in_force ({rule.in_force}): the rule never holds",
                code=ProblemCode.dated,
            )
        name = rule.judged_by
        if name == AS_OF:
            return
        self.read_names.add(name)
        question = self.questions.get(name)
        accepted = "judged_by is as_of or the id of a date question"
        if question is not None and question.type is QuestionType.date:
            return
        if question is not None:
            message = f"{name} is a {question.type.value} question, not a date question; {accepted}"
        elif name in self.facts:
            message = f"{name} is a fact, not a date question; {accepted}"
        else:
            dates = [AS_OF, *(q for q, v in self.questions.items() if v.type is QuestionType.date)]
            message = f"there is no date question {name!r}{self._suggest(name, dates)}; {accepted}"
        self.report.at((*path, "judged_by"), message, code=ProblemCode.dated)

    def check_cycles(self) -> bool:
        deps = dependency_names(self.q, self.parsed)
        preferred = [q.id for q in self.q.questions()] + [f.id for f in self.q.facts]
        if topological_order(deps, preferred) is not None:
            return True
        cycle = _find_cycle(deps)
        # Facts usually read facts defined above them, and questions read questions above
        # them: the edge that reads something defined at or below itself (a fact before a
        # question) is the one most likely added by mistake, so the cycle is reported there.
        position = {name: i for i, name in enumerate(preferred)}
        edges = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
        forward = [
            (a, b)
            for a, b in edges
            if position.get(b, 0) >= position.get(a, 0) and (a in self.facts) == (b in self.facts)
        ]
        reader, read = (forward or edges)[-1]
        start = cycle.index(reader)
        shown = [*cycle[start:], *cycle[:start], reader]
        only_facts = all(name in self.facts for name in cycle)
        self.report.at(
            self._condition_path(reader, read),
            ("fact cycle: " if only_facts else "visibility cycle: ")
            + " -> ".join(shown)
            + (
                "; a fact can only read facts and questions that do not read it"
                if only_facts
                else "; a question can only depend on questions and facts that do not depend on it"
            ),
            code=ProblemCode.cycle,
        )
        return False

    def _condition_path(self, reader: str, read: str) -> PathT:
        """Where `reader` reads `read`: its visible_if, or the first table row that names it."""
        for si, s in enumerate(self.q.sections):
            for qi, question in enumerate(s.questions):
                if question.id == reader:
                    return ("sections", si, "questions", qi, "visible_if")
        for fi, fact in enumerate(self.q.facts):
            if fact.id != reader:
                continue
            for ri, row in enumerate(fact.table):
                parsed = self.parsed.get(f"f:{fact.id}:{ri}")
                if parsed is not None and read in parsed.names:
                    return ("facts", fi, "table", ri, "when")
                if row.judged_by == read:
                    return ("facts", fi, "table", ri, "judged_by")
            return ("facts", fi, "table")
        return ("facts",)

    def check_reachability(self) -> None:
        """A criterion must be able to see every question its rule reads while it applies."""
        program = self.program = self.compiled()
        deps = dependency_names(self.q, self.parsed)
        cache: dict[tuple[str, str], bool | None] = {}
        for ci, c in enumerate(self.q.criteria):
            applies = program.applies_if.get(c.id)
            for qid in program.reads[c.id]:
                if qid not in program.visible_if:
                    continue
                key = (c.applies_if or "", qid)
                if key not in cache:
                    cache[key] = self._satisfiable(applies, qid, deps)
                if cache[key] is False:
                    self.report.at(
                        ("criteria", ci, "rule"),
                        f"the rule reads {qid}, which is never shown when {c.id} applies"
                        + (f" ({c.applies_if})" if c.applies_if else "")
                        + f"; change the visible_if of {qid} or the applies_if of {c.id}",
                        code=ProblemCode.unreachable,
                    )

    def _satisfiable(
        self, applies: expr.Expr | None, qid: str, deps: Mapping[str, set[str]]
    ) -> bool | None:
        """Whether some answers make `applies` hold and show `qid`; None when too many to try."""
        roots = set(deps.get(qid, set())) | (set(applies.names) if applies else set())
        relevant: set[str] = set()
        stack = list(roots | {qid})
        while stack:
            node = stack.pop()
            if node in relevant:
                continue
            relevant.add(node)
            stack.extend(deps.get(node, ()))
        conditions = [self.parsed[k] for k in self._condition_keys(relevant)]
        if applies is not None:
            conditions.append(applies)
        if any(c.uses_as_of for c in conditions) or any(
            g.window is not None for n in relevant for g in self.program.fact_rows.get(n, ())
        ):
            return None  # depends on a date (as_of, a dated rule): not decided by answers alone
        domains: list[tuple[str, list[Any]]] = []
        size = 1
        for node in sorted(relevant):
            question = self.questions.get(node)
            if question is None or node == qid:
                continue
            if question.type in (QuestionType.yes_no, QuestionType.single_choice):
                values: list[Any] = [None, *sorted(question.option_values())]
            elif question.type is QuestionType.multiple_choice:
                subsets = _choice_subsets(question, node, conditions)
                if subsets is None:
                    return None
                values = [None, *subsets]
            else:
                return None
            size *= len(values)
            if size > MAX_ENUMERATION:
                return None
            domains.append((node, values))
        names = [name for name, _ in domains]
        as_of = date(2000, 1, 1)
        program = self.program
        order = [n for n in program.order if n in relevant]
        facts = {f.id: f for f in self.q.facts}
        for combo in itertools.product(*(values for _, values in domains)):
            chosen = dict(zip(names, combo, strict=True))
            env: dict[str, expr.Value] = {}
            shown = False
            for node in order:
                fact = facts.get(node)
                if fact is None:
                    condition = program.visible_if.get(node)
                    visible = condition is None or condition.evaluate(env, as_of)
                    env[node] = chosen.get(node) if visible else None
                    if node == qid:
                        shown = visible
                    continue
                value: str | bool = fact.default
                for row, when in zip(fact.table, program.fact_rows[node], strict=True):
                    if when.condition.evaluate(env, as_of):  # undated: no window to check
                        value = row.value
                        break
                env[node] = value
            if shown and (applies is None or applies.evaluate(env, as_of)):
                return True
        return False

    def _condition_keys(self, nodes: set[str]) -> list[str]:
        keys = [f"q:{n}" for n in nodes if f"q:{n}" in self.parsed]
        for fact in self.q.facts:
            if fact.id in nodes:
                keys.extend(f"f:{fact.id}:{i}" for i in range(len(fact.table)))
        return [k for k in keys if k in self.parsed]

    # warnings

    def check_warnings(self, data: Any) -> None:
        """Warnings; `data` is the document as read (valid: the checks found no error)."""
        q = self.q
        languages = list(q.languages)
        for si, s in enumerate(q.sections):
            for qi, question in enumerate(s.questions):
                if question.id not in self.read_names and not question.context_only:
                    self.report.warn(
                        ("sections", si, "questions", qi, "id"),
                        f"no criterion or fact reads question {question.id}; use it in a rule or "
                        "mark it context_only: true",
                        ProblemCode.unread_question,
                    )
        cited = (
            {r.source for c in q.criteria for r in c.references}
            | {r.source for question in q.questions() for r in question.references}
            | {r.source for c in q.criteria for e in c.escalate for r in e.references}
            | {r.source for f in q.facts for row in f.table for r in row.references}
            | {r.reference.source for r in q.public_edition.reasons if r.reference is not None}
        )
        for si, source in enumerate(q.sources):
            if source.key not in cited:
                self.report.warn(
                    ("sources", si, "key"),
                    f"source {source.key} is never cited",
                    ProblemCode.uncited_source,
                )
        for ci, c in enumerate(q.criteria):
            if c.recommendation is None:
                self.report.warn(
                    ("criteria", ci),
                    f"{c.id} has no recommendation for when it is not met",
                    ProblemCode.no_recommendation,
                )
            if not c.references:
                self.report.warn(
                    ("criteria", ci),
                    f"{c.id} cites no source; add references:",
                    ProblemCode.no_reference,
                )
        for path, value in _localized_values(data):
            if isinstance(value, str):
                if len(languages) > 1 and value.strip():
                    self.report.warn(
                        path,
                        f"text in one language only; write it as {{{', '.join(f'{lang}: ...' for lang in languages)}}}",
                        ProblemCode.language,
                    )
                continue
            missing = [lang for lang in languages if not str(value.get(lang, "")).strip()]
            extra = [lang for lang in value if lang not in languages]
            if missing:
                self.report.warn(
                    path, f"missing text in {', '.join(missing)}", ProblemCode.language
                )
            if extra:
                self.report.warn(
                    path,
                    f"language {', '.join(extra)} is not in languages: {languages}",
                    ProblemCode.language,
                )

    # answers carried from previous versions (answers_from)

    def check_answers_from(self) -> None:
        """The `answers_from` declarations, against this version alone."""
        q = self.q
        own = version_key(q.version)
        first: dict[object, int] = {}
        for i, m in enumerate(q.answers_from):
            if version_key(m.version) in first:
                line, _ = self.report.index.locate(
                    ("answers_from", first[version_key(m.version)], "version")
                )
                self.report.at(
                    ("answers_from", i, "version"),
                    f"version {m.version} is declared twice (first at line {line})",
                    code=ProblemCode.duplicate,
                )
            first.setdefault(version_key(m.version), i)
        for i, mapping in enumerate(q.answers_from):
            base: PathT = ("answers_from", i)
            key = version_key(mapping.version)
            if key == own:
                self.report.at(
                    (*base, "version"),
                    f"{mapping.version} is this questionnaire's own version; answers_from "
                    "declares how answers of a previous version carry over",
                    code=ProblemCode.mapping,
                )
            elif key > own:
                self.report.at(
                    (*base, "version"),
                    f"{mapping.version} is not a previous version: this questionnaire is "
                    f"version {q.version}",
                    code=ProblemCode.mapping,
                )
            fresh = set(mapping.new)
            self._unique(
                [((*base, "questions", j, "id"), e.id) for j, e in enumerate(mapping.questions)],
                "mapped question",
            )
            self._unique(
                [((*base, "new", k), n) for k, n in enumerate(mapping.new)], "new question"
            )
            self._unique(
                [((*base, "removed", k), r) for k, r in enumerate(mapping.removed)],
                "removed question",
            )
            for j, entry in enumerate(mapping.questions):
                self._check_carried_question(entry, (*base, "questions", j), fresh)
            for k, qid in enumerate(mapping.new):
                if qid not in self.questions:
                    self.report.at(
                        (*base, "new", k),
                        f"there is no question {qid!r} in this version"
                        f"{self._suggest(qid, self.questions)}",
                        code=ProblemCode.unknown_reference,
                    )
            sources = {e.was or e.id: j for j, e in enumerate(mapping.questions)}
            explicit = {e.id: e for e in mapping.questions}
            for k, qid in enumerate(mapping.removed):
                if qid in sources:
                    self.report.at(
                        (*base, "removed", k),
                        f"{qid} is listed as removed, but questions[{sources[qid]}] takes its "
                        "answer; remove one of the two",
                        code=ProblemCode.mapping,
                    )
                elif qid in self.questions and qid not in fresh and qid not in explicit:
                    self.report.at(
                        (*base, "removed", k),
                        f"{qid} is still a question of this version, so its answers carry over "
                        "by default; list it under new: if they must not",
                        code=ProblemCode.mapping,
                    )

    def _check_carried_question(self, entry: CarriedQuestion, path: PathT, fresh: set[str]) -> None:
        question = self.questions.get(entry.id)
        if question is None:
            self.report.at(
                (*path, "id"),
                f"there is no question {entry.id!r} in this version"
                f"{self._suggest(entry.id, self.questions)}",
                code=ProblemCode.unknown_reference,
            )
            return
        if entry.id in fresh:
            self.report.at(
                (*path, "id"),
                f"{entry.id} is also listed under new:, which takes no answer; remove one of the two",
                code=ProblemCode.mapping,
            )
        if entry.options is None:
            return
        if question.type not in CHOICE_TYPES:
            self.report.at(
                (*path, "options"),
                f"options maps option values, and {entry.id} is a {question.type.value} question",
                key=True,
                code=ProblemCode.mapping,
            )
            return
        values = question.option_values()
        for old_value, target in entry.options.items():
            if isinstance(target, list) and question.type is not QuestionType.multiple_choice:
                self.report.at(
                    (*path, "options", old_value),
                    f"a list splits one option into several, for a multiple_choice question; "
                    f"{entry.id} is {question.type.value}: map {old_value} to one value",
                    code=ProblemCode.mapping,
                )
                continue
            for value in target if isinstance(target, list) else [target]:
                if value not in values:
                    self.report.at(
                        (*path, "options", old_value),
                        f"{value!r} is not an option of {entry.id}; its options are: "
                        f"{', '.join(sorted(values))}",
                        code=ProblemCode.mapping,
                    )

    def check_previous(self, previous: Questionnaire) -> None:
        """The declaration for `previous`'s version, against that version's questions."""
        q = self.q
        if previous.id != q.id:
            self.report.at(
                ("id",),
                f"the previous file is questionnaire {previous.id!r}, not {q.id!r}",
                code=ProblemCode.mapping,
            )
            return
        index = next(
            (
                i
                for i, m in enumerate(q.answers_from)
                if version_key(m.version) == version_key(previous.version)
            ),
            None,
        )
        if index is None:
            self.report.at(
                ("version",),
                f"no answers_from entry for version {previous.version}: declare how its answers "
                "carry over (questions renamed, options renamed or split, removed, new)",
                code=ProblemCode.mapping,
            )
            return
        mapping = q.answers_from[index]
        base: PathT = ("answers_from", index)
        old = previous.question_index()
        explicit = {e.id: e for e in mapping.questions}
        fresh = set(mapping.new)
        for j, entry in enumerate(mapping.questions):
            path: PathT = (*base, "questions", j)
            source_id = entry.was or entry.id
            source = old.get(source_id)
            if source is None:
                self.report.at(
                    (*path, "was" if entry.was else "id"),
                    f"there is no question {source_id!r} in version {previous.version}"
                    f"{self._suggest(source_id, old)}",
                    code=ProblemCode.unknown_reference,
                )
                continue
            target = self.questions.get(entry.id)
            if target is None:
                continue
            if entry.options is None:
                self._check_as_is(source, target, path, previous.version)
                continue
            old_values = source.option_values() if source.type in CHOICE_TYPES else set()
            for old_value in entry.options:
                if old_value not in old_values:
                    self.report.at(
                        (*path, "options", old_value),
                        f"{old_value!r} is not an option of {source_id} in version "
                        f"{previous.version}; its options are: {', '.join(sorted(old_values))}",
                        key=True,
                        code=ProblemCode.mapping,
                    )
        for k, qid in enumerate(mapping.removed):
            if qid not in old:
                self.report.at(
                    (*base, "removed", k),
                    f"there is no question {qid!r} in version {previous.version}"
                    f"{self._suggest(qid, old)}",
                    code=ProblemCode.unknown_reference,
                )
        taken = {e.was or e.id for e in mapping.questions} | {
            qid for qid in self.questions if qid not in fresh and qid not in explicit
        }
        for qid in old:
            if qid not in taken and qid not in mapping.removed and qid not in self.questions:
                self.report.at(
                    base,
                    f"question {qid} of version {previous.version} is not in this version: list "
                    f"it under removed:, or map it under questions: with was: {qid}",
                    code=ProblemCode.mapping,
                )
        for si, s in enumerate(q.sections):
            for qi, question in enumerate(s.questions):
                path = ("sections", si, "questions", qi, "id")
                if question.id in explicit or question.id in fresh:
                    continue
                if question.id not in old:
                    self.report.at(
                        path,
                        f"question {question.id} is not in version {previous.version}: list it "
                        f"under new: in answers_from (version {mapping.version}), or map it "
                        "under questions: with was:",
                        code=ProblemCode.mapping,
                    )
                else:
                    self._check_as_is(old[question.id], question, path, previous.version)

    def _check_as_is(self, source: Question, target: Question, path: PathT, version: str) -> None:
        """An answer to `source` carried unchanged must be a valid answer to `target`."""
        if source.type is target.type or {source.type, target.type} == {
            QuestionType.text,
            QuestionType.long_text,
        }:
            kind_ok = True
        else:
            single = {QuestionType.single_choice, QuestionType.yes_no}
            kind_ok = source.type in single and target.type in single
        where = f"{source.id} ({version})"
        if not kind_ok:
            self.report.at(
                path,
                f"{where} is {source.type.value} and {target.id} is {target.type.value}: its "
                f"answers cannot carry as they are; list {target.id} under new:",
                code=ProblemCode.mapping,
            )
            return
        if source.type in CHOICE_TYPES:
            lost = sorted(source.option_values() - target.option_values())
            if lost:
                self.report.at(
                    path,
                    f"option(s) {', '.join(lost)} of {where} are not options of {target.id}: "
                    f"map them under options: (questions: - id: {target.id}) or list "
                    f"{target.id} under new:",
                    code=ProblemCode.mapping,
                )


# The fields that only some question types take (options: `_check_question_shape`).
_TYPE_FIELDS = {
    "partly": (QuestionType.yes_no,),
    "min": (QuestionType.number,),
    "max": (QuestionType.number,),
    "max_length": (QuestionType.text, QuestionType.long_text),
}
_CONDITION_FIELDS = {"when", "visible_if", "applies_if", "not_yet_due_if", "advisory_if"}
_SHORT_FIELDS = {"title", "label", "issuer"}


def _long_strings(data: Any, shortest: int) -> list[tuple[PathT, str]]:
    """Every string in `data` longer than `shortest`, with its path. One pass over a file's
    30,000 strings: iterative, and a path is built only for a container or a long string."""
    found: list[tuple[PathT, str]] = []
    if isinstance(data, str):
        return [((), data)] if len(data) > shortest else []
    stack: list[tuple[PathT, Any]] = [((), data)]
    while stack:
        path, item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, value in pairs:
            if isinstance(value, str):
                if len(value) > shortest:
                    found.append(((*path, key), value))
            elif isinstance(value, dict | list):
                stack.append(((*path, key), value))
    return found


def _limit_of(path: PathT) -> tuple[int, str]:
    """The length limit of the string at `path`, and what to call it."""
    names = [p for p in path if isinstance(p, str)]
    field = names[-1] if names else ""
    if len(names) >= 2 and names[-2] in _LOCALIZED_FIELDS:
        field = names[-2]  # the language key of a localized text
    if len(names) >= 3 and names[-3] == "values" and path[0] == "facts":
        field = "label"  # a fact value's label
    elif len(names) >= 2 and names[-2] == "values" and path[0] == "facts":
        field = "label"
    if field in _CONDITION_FIELDS:
        return MAX_CONDITION, "the condition"
    if field in _SHORT_FIELDS:
        return MAX_SHORT_TEXT, f"this {field}"
    if field in _LOCALIZED_FIELDS:
        return MAX_LONG_TEXT, f"this {field.replace('_', ' ')}"
    return MAX_PLAIN, f"this {field.replace('_', ' ') or 'text'}"


_LOCALIZED_FIELDS = {
    "title",
    "description",
    "text",
    "hint",
    "guidance",
    "label",
    "requirement",
    "recommendation",
    "issuer",
    "note",
    "reason",
    "advisory_note",
    "not_applicable_reason",
    "not_yet_due_reason",
    "not_in_force_reason",
    "keywords",
    "advisory_banner",
    "facts_heading",
    "summary_intro",
}


def _localized_values(data: Any, path: PathT = ()) -> list[tuple[PathT, Any]]:
    """Every localized text in `data` (a plain string or a map of language to text), with its
    path, in document order. Iterative, no generator chain: a file holds thousands."""
    found: list[tuple[PathT, Any]] = []
    stack: list[tuple[PathT, Any]] = [(path, data)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            later: list[tuple[PathT, Any]] = []
            for key, value in item.items():
                if key in _LOCALIZED_FIELDS and isinstance(value, str | dict):
                    if isinstance(value, dict) and not all(
                        isinstance(v, str) for v in value.values()
                    ):
                        later.append(((*where, key), value))
                    else:
                        found.append(((*where, key), value))
                elif key == "values" and isinstance(value, dict):
                    found.extend(((*where, key, vkey), label) for vkey, label in value.items())
                elif isinstance(value, dict | list):
                    later.append(((*where, key), value))
            stack.extend(reversed(later))
        elif isinstance(item, list):
            stack.extend(
                ((*where, i), v)
                for i, v in reversed(list(enumerate(item)))
                if isinstance(v, dict | list)
            )
    return found


def _choice_subsets(
    question: Question, name: str, conditions: list[expr.Expr]
) -> list[list[str]] | None:
    """The answers to a multiple-choice question that the conditions can tell apart.

    Conditions distinguish options only by naming them (`contains "x"`, `in [...]`) or by
    counting them. Without count(), every subset of the named options, with or without one
    option they do not name, covers every case; with count(), all subsets are needed.
    """
    options = [o.value for o in question.options]
    counted = any(_counts(c.root, name) for c in conditions)
    if counted:
        pool = options
    else:
        named = {v for c in conditions for v in _literals(c.root)} & set(options)
        others = [o for o in options if o not in named]
        pool = sorted(named) + others[:1]
    if len(pool) > 6:
        return None
    return [
        list(combo) for r in range(1, len(pool) + 1) for combo in itertools.combinations(pool, r)
    ]


def _counts(node: expr.Node, name: str) -> bool:
    if isinstance(node, expr.Call):
        return node.func == "count" and any(a.name == name for a in node.args)
    if isinstance(node, expr.Not):
        return _counts(node.item, name)
    if isinstance(node, expr.BoolOp):
        return any(_counts(i, name) for i in node.items)
    if isinstance(node, expr.Compare):
        return _counts(node.left, name) or _counts(node.right, name)
    return False


def _literals(node: expr.Node) -> set[str]:
    if isinstance(node, expr.Literal):
        value = node.value
        if isinstance(value, list):
            return set(value)
        return {value} if isinstance(value, str) else set()
    if isinstance(node, expr.Not):
        return _literals(node.item)
    if isinstance(node, expr.BoolOp):
        return set().union(*(_literals(i) for i in node.items))
    if isinstance(node, expr.Compare):
        return _literals(node.left) | _literals(node.right)
    return set()


_NUMBER_FUNCTIONS = {"count", "months_since", "days_between"}


def _literal_values(node: expr.Node) -> list[Any]:
    if not isinstance(node, expr.Literal):
        return []
    return list(node.value) if isinstance(node.value, list) else [node.value]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _find_cycle(deps: Mapping[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(deps.get(node, ())):
            if dep not in deps:
                continue
            if state.get(dep) == 1:
                return stack[stack.index(dep) :]
            if state.get(dep) is None:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in deps:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []


def _without(data: Any, locations: list[tuple[str | int, ...]]) -> Any:
    """A deep copy of `data` without the keys at `locations`."""
    clean = copy.deepcopy(data)
    for loc in locations:
        target = clean
        for part in loc[:-1]:
            target = target[part]
        target.pop(loc[-1], None)
    return clean
