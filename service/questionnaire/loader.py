"""Load a questionnaire file: safe YAML, schema validation, and every cross-reference checked.

Every problem is a `Problem` located by file, line, column and the path inside the document,
and the loader reports all problems of a file at once. It never raises for bad input.

The public face of three parts:
- `source.py`: bytes, YAML events and nodes, with where every value starts (stages 1-3);
- `checks.py`: the Pydantic models, then the semantic checks and warnings (stages 4-5);
- `registry.py`: the result of loading a file, and the `Registry` of a folder's questionnaires.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from service.questionnaire.answers import AnswersFile
from service.questionnaire.checks import check, schema_problems
from service.questionnaire.registry import LoadedQuestionnaire, LoadResult, Registry
from service.questionnaire.schema import Questionnaire
from service.questionnaire.source import (
    MAX_BYTES,
    Document,
    PathT,
    Problem,
    ProblemCode,
    Reporter,
    format_path,
    read_yaml,
)

__all__ = [
    "MAX_BYTES",
    "Document",
    "LoadResult",
    "LoadedQuestionnaire",
    "Problem",
    "ProblemCode",
    "Registry",
    "format_path",
    "load_answers",
    "load_directory",
    "load_file",
    "load_text",
    "locate_answer_problems",
    "read_yaml",
]

_START = "; a questionnaire starts with id:, version:, title:, sections: and criteria:"


def load_text(raw: bytes, file: str, *, previous: Questionnaire | None = None) -> LoadResult:
    """Load a questionnaire from bytes; `file` names it in messages. With `previous`, its
    `answers_from` declaration for that version is checked against it too."""
    sha256 = hashlib.sha256(raw).hexdigest()
    doc = read_yaml(raw, file)
    if doc.data is None:
        problems = doc.problems
        for p in problems:
            if p.code in (ProblemCode.empty, ProblemCode.top_level):
                problems = [Problem(p.file, p.line, p.col, p.path, p.message + _START, code=p.code)]
        return LoadResult(file, None, sha256, problems)
    checked = check(doc, file, sha256, previous=previous)
    return LoadResult(file, checked.questionnaire, sha256, checked.problems, checked.program)


def load_answers(raw: bytes, file: str) -> tuple[AnswersFile | None, list[Problem]]:
    """Read an answers file (YAML or JSON) safely; problems are located like the loader's."""
    doc = read_yaml(raw, file)
    if doc.data is None:
        return None, doc.problems
    try:
        return AnswersFile.model_validate(doc.data), doc.problems
    except ValidationError as error:
        report = Reporter(file, doc.index)
        report.problems.extend(doc.problems)
        schema_problems(error, doc.data, report)
        return None, report.problems


def locate_answer_problems(file: str, raw: bytes, messages: list[str]) -> list[Problem]:
    """Turn `answers.q: message` strings into located problems."""
    doc = read_yaml(raw, file)
    out: list[Problem] = []
    for message in messages:
        head, _, text = message.partition(": ")
        path: PathT = tuple(head.split(".", 1)) if "." in head else (head,)
        line, col = doc.index.locate(path)
        out.append(Problem(file, line, col, head, text, code=ProblemCode.answer))
    return out


def load_file(path: Path | str, *, previous: Questionnaire | None = None) -> LoadResult:
    """Load and check one questionnaire file. Never raises for bad content."""
    file = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_BYTES:
            message = f"the file is {size} bytes; the limit is {MAX_BYTES} (2 MB)"
            return LoadResult(
                file, None, "", [Problem(file, 1, 1, "", message, code=ProblemCode.too_large)]
            )
        raw = Path(path).read_bytes()
    except OSError as error:
        message = f"cannot read the file: {error.strerror}"
        return LoadResult(
            file, None, "", [Problem(file, 1, 1, "", message, code=ProblemCode.unreadable)]
        )
    try:
        return load_text(raw, file, previous=previous)
    except RecursionError:
        message = "the document nests too deeply"
        return LoadResult(
            file, None, "", [Problem(file, 1, 1, "", message, code=ProblemCode.too_deep)]
        )


def load_directory(directory: Path | str) -> Registry:
    """Every `*.yaml` questionnaire directly in `directory` (answer files live in examples/)."""
    paths = sorted(Path(directory).glob("*.yaml")) + sorted(Path(directory).glob("*.yml"))
    return Registry([load_file(p) for p in paths])
