"""The condition language of questionnaires: a tiny parser and evaluator, never `eval`.

Grammar (keywords are lower case; identifiers are question or fact ids):

    expr     := or
    or       := and ("or" and)*
    and      := unary ("and" unary)*
    unary    := "not" unary | compare
    compare  := operand (OP operand)?
    OP       := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "contains"
    operand  := NAME | STRING | NUMBER | DATE | "true" | "false" | list | call | "(" expr ")"
    call     := ("answered" | "count" | "months_since" | "days_between") "(" NAME ("," NAME)* ")"
    list     := "[" (literal ("," literal)*)? "]"

Strings are written in double or single quotes; dates as `date("2025-07-01")`.
The name `as_of` is the date the answers speak for (the submission date, or today for a draft),
so `as_of >= date("2025-07-01")` says "in force at the time of the assessment".
A question that is hidden or unanswered reads as `null`: every comparison with it is false,
`answered(q)` is false and `count(q)` is 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

Value = str | bool | int | float | date | list[str] | None

FUNCTIONS = {
    "answered": 1,
    "count": 1,
    "months_since": 1,
    "days_between": 2,
    "date": 1,
}
AS_OF = "as_of"  # the assessment's date: a name every condition can read
MAX_DEPTH = 20  # levels of parentheses and `not` in one condition
COMPARE_OPS = ("==", "!=", "<=", ">=", "<", ">", "in", "not in", "contains")


class ExprError(ValueError):
    """A condition that cannot be parsed; `column` is 0-based within the expression."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


# -- syntax tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Name:
    name: str
    column: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Name, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Literal | Name | Call | Compare | BoolOp | Not


@dataclass(frozen=True)
class Expr:
    """A parsed condition with the source text it came from."""

    source: str
    root: Node
    names: frozenset[str] = field(default_factory=frozenset)
    uses_as_of: bool = False
    # The tree compiled once into nested closures: scoring evaluates about 130 conditions per
    # save, and a closure call costs a fraction of walking the tree with isinstance tests.
    _run: Callable[[Mapping[str, Value], date], Value] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_run", _compile(self.root))

    def evaluate(self, env: Mapping[str, Value], as_of: date) -> bool:
        return truthy(self._run(env, as_of))

    def __reduce__(self) -> tuple[Callable[[str], Expr], tuple[str]]:
        # closures do not pickle: a copy for another process parses the source again
        return parse, (self.source,)

    def __str__(self) -> str:
        return self.source


# -- tokenizer -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"[^"\\]*"|'[^'\\]*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    column: int


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExprError(
                f"unexpected character {source[pos]!r}; conditions use names, quoted strings, "
                "numbers, ==, !=, <, <=, >, >=, in, not in, contains, and, or, not",
                pos,
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Tok(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Tok("end", "", len(source)))
    return tokens


# -- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.pos = 0
        self.names: set[str] = set()
        self.uses_as_of = False
        self.depth = 0

    def deeper(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(
                f"the condition nests too deeply (more than {MAX_DEPTH} levels of parentheses "
                "or not); split it into facts",
                column,
            )

    def peek(self, offset: int = 0) -> _Tok:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self) -> _Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, text: str) -> _Tok:
        tok = self.peek()
        if tok.text != text:
            found = tok.text or "the end of the condition"
            raise ExprError(f"expected {text!r} but found {found!r}", tok.column)
        return self.take()

    def is_word(self, word: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok.kind == "name" and tok.text == word

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError(
                'the condition is empty; write one such as: body_type == "municipal"', 0
            )
        node = self.parse_or()
        tok = self.peek()
        if tok.kind != "end":
            raise ExprError(
                f"unexpected {tok.text!r}; join conditions with 'and' or 'or'", tok.column
            )
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while self.is_word("and"):
            self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def parse_unary(self) -> Node:
        if self.is_word("not"):
            self.deeper(self.take().column)
            item = self.parse_unary()
            self.depth -= 1
            return Not(item)
        return self.parse_compare()

    def parse_compare(self) -> Node:
        left = self.parse_operand()
        tok = self.peek()
        op: str | None = None
        if (
            (tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="))
            or self.is_word("in")
            or self.is_word("contains")
        ):
            op = self.take().text
        elif self.is_word("not") and self.is_word("in", 1):
            self.take()
            self.take()
            op = "not in"
        if op is None:
            return left
        right = self.parse_operand()
        if op in ("in", "not in") and not (
            isinstance(right, Literal) and isinstance(right.value, list)
        ):
            raise ExprError(f'\'{op}\' needs a list on its right, such as ["a", "b"]', tok.column)
        return Compare(op, left, right)

    def parse_operand(self) -> Node:
        tok = self.peek()
        if tok.kind == "string":
            self.take()
            return Literal(tok.text[1:-1])
        if tok.kind == "number":
            self.take()
            number = float(tok.text) if "." in tok.text else int(tok.text)
            if len(tok.text) > 16:
                raise ExprError(
                    f"the number {tok.text} is too long; use at most 15 digits", tok.column
                )
            return Literal(number)
        if tok.kind == "op" and tok.text == "(":
            self.deeper(self.take().column)
            node = self.parse_or()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.kind == "op" and tok.text == "[":
            return self.parse_list()
        if tok.kind == "name":
            if tok.text in ("true", "false"):
                self.take()
                return Literal(tok.text == "true")
            if tok.text in ("and", "or", "not", "in", "contains"):
                raise ExprError(f"expected a name or a value before {tok.text!r}", tok.column)
            if self.peek(1).text == "(" and self.peek(1).kind == "op":
                return self.parse_call()
            self.take()
            if tok.text == AS_OF:
                self.uses_as_of = True
            else:
                self.names.add(tok.text)
            return Name(tok.text, tok.column)
        found = tok.text or "the end of the condition"
        raise ExprError(f"expected a name or a value but found {found!r}", tok.column)

    def parse_list(self) -> Node:
        self.expect("[")
        items: list[str] = []
        while self.peek().text != "]":
            tok = self.take()
            if tok.kind != "string":
                raise ExprError(
                    f"list items must be quoted strings; found {tok.text or 'the end'!r}",
                    tok.column,
                )
            items.append(tok.text[1:-1])
            if self.peek().text == ",":
                self.take()
            elif self.peek().text != "]":
                raise ExprError("separate list items with commas", self.peek().column)
        self.take()
        return Literal(items)

    def parse_call(self) -> Node:
        name_tok = self.take()
        func = name_tok.text
        if func not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExprError(
                f"unknown function {func!r}; the functions are {known}", name_tok.column
            )
        self.expect("(")
        if func == "date":
            tok = self.take()
            if tok.kind != "string":
                raise ExprError('write a date as date("2025-07-01")', tok.column)
            try:
                value = date.fromisoformat(tok.text[1:-1])
            except ValueError:
                raise ExprError(f"{tok.text} is not a date; write YYYY-MM-DD", tok.column) from None
            self.expect(")")
            return Literal(value)
        args: list[Name] = []
        while True:
            tok = self.take()
            if tok.kind != "name":
                raise ExprError(f"{func}() takes question ids as arguments", tok.column)
            self.names.add(tok.text)
            args.append(Name(tok.text, tok.column))
            if self.peek().text == ",":
                self.take()
                continue
            break
        self.expect(")")
        if len(args) != FUNCTIONS[func]:
            raise ExprError(f"{func}() takes {FUNCTIONS[func]} argument(s)", name_tok.column)
        return Call(func, tuple(args))


def parse(source: str) -> Expr:
    """Parse a condition; raises ExprError with a column on bad input."""
    if not isinstance(source, str):
        raise ExprError("a condition must be a quoted string", 0)
    parser = _Parser(source)
    root = parser.parse()
    return Expr(
        source=source, root=root, names=frozenset(parser.names), uses_as_of=parser.uses_as_of
    )


# -- evaluation ----------------------------------------------------------------------------


def truthy(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return bool(value)
    return value not in (None, "", "no", 0)


def months_between(start: date, end: date) -> int:
    """Whole months from start to end (negative when start is after end)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return months


Run = Callable[[Mapping[str, Value], date], Value]


def _compile(node: Node) -> Run:
    """A closure that evaluates ``node``: names read from ``env`` (``as_of``: the date given),
    ``and``/``or``/``not`` on truthiness, comparisons false when a side is null."""
    if isinstance(node, Literal):
        constant = node.value
        return lambda env, as_of: constant
    if isinstance(node, Name):
        if node.name == AS_OF:
            return lambda env, as_of: as_of
        key = node.name
        return lambda env, as_of: env.get(key)
    if isinstance(node, Not):
        inner = _compile(node.item)
        return lambda env, as_of: not truthy(inner(env, as_of))
    if isinstance(node, BoolOp):
        items = tuple(_compile(item) for item in node.items)
        if node.op == "and":

            def all_of(env: Mapping[str, Value], as_of: date) -> Value:
                for item in items:  # noqa: SIM110 (a loop costs less than all() of a generator)
                    if not truthy(item(env, as_of)):
                        return False
                return True

            return all_of

        def any_of(env: Mapping[str, Value], as_of: date) -> Value:
            for item in items:  # noqa: SIM110 (a loop costs less than any() of a generator)
                if truthy(item(env, as_of)):
                    return True
            return False

        return any_of
    if isinstance(node, Call):
        func, args = node.func, tuple(arg.name for arg in node.args)
        return lambda env, as_of: _call(func, [env.get(name) for name in args], as_of)
    op, left, right = node.op, _compile(node.left), _compile(node.right)
    if op == "==" and isinstance(node.left, Name) and isinstance(node.right, Literal):
        # the commonest condition, `question == "value"`, without a call per side
        key, constant = node.left.name, node.right.value
        if key != AS_OF and constant is not None:

            def equals(env: Mapping[str, Value], as_of: date) -> Value:
                value = env.get(key)
                return value is not None and value == constant

            return equals
    return lambda env, as_of: _compare(op, left(env, as_of), right(env, as_of))


def _call(func: str, values: list[Value], as_of: date) -> Value:
    if func == "answered":
        return values[0] not in (None, "", [])
    if func == "count":
        return len(values[0]) if isinstance(values[0], list) else 0
    if func == "months_since":
        return months_between(values[0], as_of) if isinstance(values[0], date) else None
    first, second = values
    if isinstance(first, date) and isinstance(second, date):
        return (second - first).days
    return None


def _compare(op: str, left: Value, right: Value) -> bool:
    if left is None or right is None:
        return False
    if op == "contains":
        return isinstance(left, list) and right in left
    if op in ("in", "not in"):
        if not isinstance(right, list):
            return False
        hit = any(item in right for item in left) if isinstance(left, list) else left in right
        return hit if op == "in" else not hit
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    try:
        if op == "<":
            return left < right  # type: ignore[operator]
        if op == "<=":
            return left <= right  # type: ignore[operator]
        if op == ">":
            return left > right  # type: ignore[operator]
        return left >= right  # type: ignore[operator]
    except TypeError:
        return False
