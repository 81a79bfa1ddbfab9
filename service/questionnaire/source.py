"""Reading a YAML file safely, with where every value starts.

Stages 1-3 of loading (the checks of `checks.py` come after):
1. bytes: size cap, UTF-8;
2. YAML events (libyaml): one document, no aliases, nesting depth capped, syntax errors;
3. YAML nodes: duplicate keys, tags, non-text keys; a (path -> line, column) index.

Every problem is a `Problem` located by file, line, column and the path inside the document,
with a `ProblemCode` saying what kind of problem it is (callers decide on the code, never on
the wording of the message).

Why PyYAML's C parser (libyaml) and not ruamel.yaml: the loader needs a line and column for
every problem, including problems found after the model is validated, and it needs to refuse
aliases, tags and deep nesting before building anything. Events from libyaml give both in one
pass at C speed; the tree built here is plain data plus a path index. ruamel.yaml keeps
positions only in its round-trip loader, which is pure Python: measured on the shipped
questionnaire (ruamel.yaml 0.19.1), the round-trip load took 14.6x a bare libyaml parse, and
its safe loader 13.8x, against a budget of 1.4x for the whole load (bench/engine.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import yaml
from yaml.constructor import SafeConstructor

from service.questionnaire.text import MESSAGE, is_text

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NUMBER_CHARS = 4000
SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathT = tuple[str | int, ...]


class ProblemCode(StrEnum):
    """What kind of problem a `Problem` is."""

    # reading the file
    unreadable = "unreadable"
    too_large = "too_large"
    not_utf8 = "not_utf8"
    empty = "empty"
    top_level = "top_level"  # the document is a list or a single value
    syntax = "syntax"
    tab = "tab"
    # YAML the format refuses
    alias = "alias"
    second_document = "second_document"
    too_deep = "too_deep"
    key_not_text = "key_not_text"  # a mapping or list used as a key
    key_quoting = "key_quoting"  # a key YAML reads as true/false or a number
    duplicate_key = "duplicate_key"
    tag = "tag"
    not_text = "not_text"  # a lone surrogate (an escape such as \\ud800) or a NUL character
    number_too_long = "number_too_long"  # more digits than Python reads as a number
    # the model
    unknown_field = "unknown_field"
    missing_field = "missing_field"
    invalid = "invalid"  # a wrong type, form or value
    # the checks
    duplicate = "duplicate"
    reserved_id = "reserved_id"
    unknown_reference = "unknown_reference"
    question_shape = "question_shape"
    condition = "condition"
    rule = "rule"
    bands = "bands"
    cycle = "cycle"
    unreachable = "unreachable"
    quoting = "quoting"  # a value YAML reads as true/false where text is compared
    out_of_range = "out_of_range"  # a number outside its range, or min above max
    too_long = "too_long"  # a text or condition over its limit
    gate = "gate"  # a gate that can never fire
    escalation = "escalation"  # an escalation that does not raise the severity
    evidence = "evidence"  # an evidence rule that makes "met" impossible
    dated = "dated"  # a dated rule without the date it is judged by, or judged by no date
    mapping = "mapping"  # an answers_from declaration that does not fit the versions
    # warnings
    unread_question = "unread_question"
    uncited_source = "uncited_source"
    no_recommendation = "no_recommendation"
    no_reference = "no_reference"
    language = "language"
    # answers files
    answer = "answer"


# Problems after which the document read so far is not used.
FATAL = frozenset(
    {
        ProblemCode.alias,
        ProblemCode.second_document,
        ProblemCode.too_deep,
        ProblemCode.key_not_text,
        ProblemCode.not_text,
        ProblemCode.number_too_long,
    }
)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    col: int
    path: str
    message: str
    level: Literal["error", "warning"] = "error"
    code: ProblemCode = ProblemCode.invalid

    def format(self) -> str:
        prefix = "warning: " if self.level == "warning" else ""
        return (
            f"{self.file}:{self.line}:{self.col}: {self.path or '(file)'}: {prefix}{self.message}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "path": self.path,
            "level": self.level,
            "message": self.message,
        }


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class Index:
    """Where each value (and each mapping key) of the document starts."""

    def __init__(self) -> None:
        self.values: dict[PathT, tuple[int, int, yaml.Node | None]] = {}
        self.keys: dict[PathT, tuple[int, int]] = {}

    def locate(self, path: PathT, *, key: bool = False) -> tuple[int, int]:
        if key and path in self.keys:
            return self.keys[path]
        probe = path
        while probe not in self.values and probe:
            probe = probe[:-1]
        hit = self.values.get(probe)
        return (hit[0], hit[1]) if hit else (1, 1)

    def node(self, path: PathT) -> yaml.Node | None:
        hit = self.values.get(path)
        return hit[2] if hit else None


class Reporter:
    def __init__(self, file: str, index: Index) -> None:
        self.file = file
        self.index = index
        self.problems: list[Problem] = []

    def at(
        self,
        path: PathT,
        message: str,
        *,
        level: Literal["error", "warning"] = "error",
        key: bool = False,
        column_offset: int = 0,
        code: ProblemCode = ProblemCode.invalid,
    ) -> None:
        line, col = self.index.locate(path, key=key)
        self.problems.append(
            Problem(self.file, line, col + column_offset, format_path(path), message, level, code)
        )

    def warn(self, path: PathT, message: str, code: ProblemCode) -> None:
        self.at(path, message, level="warning", code=code)


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _syntax_problem(error: yaml.YAMLError, text: str = "") -> tuple[ProblemCode, str]:
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    mark = getattr(error, "problem_mark", None)
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return ProblemCode.tab, "a tab character: YAML indentation must use spaces, not tabs"
    text = f"YAML syntax error: {problem}"
    if context:
        text += f" ({context})"
    if "mapping values are not allowed" in problem:
        text += "; a value containing ': ' must be quoted"
    return ProblemCode.syntax, text


_CONSTRUCTOR = SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()
# The implicit tag of a scalar depends only on its text and its implicit flags; a questionnaire
# repeats the same keys and short values thousands of times (en, fr, source, verification...).
_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}
_TAGS_MAX = 4096
_SHORT = 64


def _resolve(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag YAML gives an untagged scalar (`Resolver.resolve`), remembered for short text."""
    if len(value) > _SHORT:
        return _RESOLVER.resolve(yaml.ScalarNode, value, implicit)  # type: ignore[no-untyped-call,no-any-return]
    key = (value, implicit)
    tag = _TAGS.get(key)
    if tag is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
        if len(_TAGS) >= _TAGS_MAX:
            _TAGS.clear()
        _TAGS[key] = tag
    return tag


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
        return node.value  # dates stay as the text written
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _CONSTRUCTOR.construct_yaml_bool(node)
    if tag == "tag:yaml.org,2002:int":
        return _CONSTRUCTOR.construct_yaml_int(node)
    if tag == "tag:yaml.org,2002:float":
        return _CONSTRUCTOR.construct_yaml_float(node)
    return node.value


class _Frame:
    """A mapping or sequence being built from parser events."""

    __slots__ = ("container", "first_seen", "key", "path")

    def __init__(self, container: dict[str, Any] | list[Any], path: PathT) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None  # a mapping's key waiting for its value
        self.first_seen: dict[str, int] = {}


class _Builder:
    """Plain data from libyaml events in one pass, refusing what a questionnaire never needs.

    One document; no aliases; no tags beyond the standard scalar ones; nesting depth capped;
    duplicate keys and keys that YAML reads as true/false reported; where each value starts
    recorded in the index.
    """

    def __init__(self, file: str, index: Index) -> None:
        self.file = file
        self.index = index
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.aliases: set[str] = set()
        self.unclean = True  # whether the text may hold a character that is not text

    def problem(self, mark: Any, path: PathT, message: str, code: ProblemCode) -> None:
        line, col = _mark(mark)
        self.problems.append(
            Problem(self.file, line, col, format_path(path), message, "error", code)
        )

    def next_path(self) -> PathT | None:
        """The path of the next value, or None when the next scalar is a mapping key."""
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        return None if frame.key is None else (*frame.path, frame.key)

    def attach(self, value: Any) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            frame.container.append(value)
        elif frame.key is not None:
            if frame.key not in frame.container:
                frame.container[frame.key] = value
            frame.key = None

    def key(self, event: yaml.ScalarEvent, node: yaml.ScalarNode) -> None:
        frame = self.stack[-1]
        key = event.value
        path = (*frame.path, key)
        line, col = _mark(event.start_mark)
        if node.tag == "tag:yaml.org,2002:bool" and not event.style:
            self.problem(
                event.start_mark,
                path,
                f'the key {key} is read by YAML as true/false; write it in quotes: "{key}":',
                ProblemCode.key_quoting,
            )
        elif node.tag != "tag:yaml.org,2002:str":
            self.problem(
                event.start_mark,
                path,
                f'the key {key} is not read as text; write it in quotes: "{key}":',
                ProblemCode.key_quoting,
            )
        if key in frame.first_seen:
            self.problem(
                event.start_mark,
                path,
                f"duplicate key {key!r} (first at line {frame.first_seen[key]}); "
                "a key can appear only once in a mapping",
                ProblemCode.duplicate_key,
            )
        else:
            frame.first_seen[key] = line
            self.index.keys[path] = (line, col)
        frame.key = key

    def feed(self, event: yaml.Event) -> bool:
        """Take one event; False to stop reading."""
        if isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _resolve(event.value, event.implicit)
            # Marks are not needed on the node: the index keeps line and column.
            node = yaml.ScalarNode(tag, event.value, None, None, event.style)
            path = self.next_path()
            # When the file's text is clean (checked whole in `_read_events`), only a
            # double-quoted scalar's escapes (\0, \ud800) can make a value that is not text.
            if (self.unclean or event.style == '"') and not is_text(event.value):
                self.problem(
                    event.start_mark,
                    path if path is not None else self.stack[-1].path,
                    f"the text {MESSAGE}; remove it",
                    ProblemCode.not_text,
                )
                return False
            if path is None:
                self.key(event, node)
                return True
            line, col = _mark(event.start_mark)
            self.index.values[path] = (line, col, node)
            if tag not in SAFE_TAGS:
                self.problem(event.start_mark, path, _tag_message(tag), ProblemCode.tag)
                self.attach(None)
            else:
                try:
                    value = _scalar(node)
                except ValueError:  # an integer of more than 4,300 digits
                    self.problem(
                        event.start_mark,
                        path,
                        f"the number has {len(event.value)} characters; write at most "
                        f"{MAX_NUMBER_CHARS}",
                        ProblemCode.number_too_long,
                    )
                    return False
                self.attach(value)
            return True
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            path = self.next_path()
            if path is None:
                self.problem(
                    event.start_mark,
                    self.stack[-1].path,
                    "a key must be plain text",
                    ProblemCode.key_not_text,
                )
                return False
            if len(self.stack) >= MAX_DEPTH:
                self.problem(
                    event.start_mark,
                    (),
                    f"the document nests deeper than {MAX_DEPTH} levels; a questionnaire never needs that",
                    ProblemCode.too_deep,
                )
                return False
            line, col = _mark(event.start_mark)
            self.index.values[path] = (line, col, None)
            if event.tag is not None and event.tag != "!" and event.tag not in SAFE_TAGS:
                self.problem(event.start_mark, path, _tag_message(event.tag), ProblemCode.tag)
            container: dict[str, Any] | list[Any] = (
                {} if isinstance(event, yaml.MappingStartEvent) else []
            )
            self.stack.append(_Frame(container, path))
            return True
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            self.attach(frame.container)
            return True
        if isinstance(event, yaml.AliasEvent):
            anchor = event.anchor or ""
            if anchor not in self.aliases:
                self.aliases.add(anchor)
                self.problem(
                    event.start_mark,
                    (),
                    f"aliases (*{anchor}) are not allowed; write the value out in full",
                    ProblemCode.alias,
                )
            path = self.next_path()
            if path is None:
                self.stack[-1].key = f"*{anchor}"
            else:
                self.attach(None)
            return True
        if isinstance(event, yaml.DocumentStartEvent) and self.root is not None:
            self.problem(
                event.start_mark,
                (),
                "a questionnaire file holds one YAML document; remove the second '---' and put "
                "each questionnaire in its own file",
                ProblemCode.second_document,
            )
            return False
        return True


def _tag_message(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"YAML tags such as {shown} are not allowed; write plain values"


def _read_events(text: str, file: str, index: Index) -> tuple[Any, list[Problem]]:
    builder = _Builder(file, index)
    builder.unclean = not is_text(text)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if not builder.feed(event):
                break
    except yaml.MarkedYAMLError as error:
        line, col = _mark(error.problem_mark or error.context_mark)
        code, message = _syntax_problem(error, text)
        builder.problems.append(Problem(file, line, col, "", message, "error", code))
        return None, builder.problems
    except yaml.YAMLError as error:
        code, message = _syntax_problem(error, text)
        builder.problems.append(Problem(file, 1, 1, "", message, "error", code))
        return None, builder.problems
    fatal = any(p.code in FATAL for p in builder.problems)
    return (None if fatal else builder.root), builder.problems


@dataclass
class Document:
    """A YAML file read safely: its data (None on failure), where each value starts, problems."""

    data: Any
    index: Index
    problems: list[Problem]


def read_yaml(raw: bytes, file: str) -> Document:
    """Bytes to plain data, refusing what a questionnaire or answers file never needs."""
    index = Index()
    if len(raw) > MAX_BYTES:
        message = f"the file is {len(raw)} bytes; the limit is {MAX_BYTES} (2 MB)"
        return Document(None, index, [Problem(file, 1, 1, "", message, code=ProblemCode.too_large)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        col = error.start - (before.rfind(b"\n") + 1) + 1
        message = f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x}); save it as UTF-8"
        return Document(
            None, index, [Problem(file, line, col, "", message, code=ProblemCode.not_utf8)]
        )
    text = text.removeprefix("\ufeff")
    data, problems = _read_events(text, file, index)
    if data is None:
        if not problems:
            problems = [Problem(file, 1, 1, "", "the file is empty", code=ProblemCode.empty)]
        return Document(None, index, problems)
    if not isinstance(data, dict):
        line, col = index.locate(())
        kind = "a list" if isinstance(data, list) else "a single value"
        problems.append(
            Problem(
                file,
                line,
                col,
                "",
                f"the top level is {kind}; it must be a mapping of fields",
                code=ProblemCode.top_level,
            )
        )
        return Document(None, index, problems)
    return Document(data, index, problems)
