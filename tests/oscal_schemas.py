"""NIST's published OSCAL JSON schemas (tests/data/oscal/, pinned release), checked with
jsonschema and every `pattern` with the `regex` package (the schemas' \\p{L} and \\p{N})."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators

SCHEMAS = Path(__file__).resolve().parent / "data" / "oscal" / "v1.1.3"


# --- the validator: jsonschema, with every `pattern` checked by `regex` (\p{L}, \p{N}) --------


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or regex.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$", value)


@FORMATS.checks("uri-reference")
def _uri_reference(value: object) -> bool:
    return not isinstance(value, str) or regex.fullmatch(r"[^\s<>\"{}|\\^`]+", value) is not None


@FORMATS.checks("regex", raises=regex.error)
def _regex(value: object) -> bool:
    return not isinstance(value, str) or regex.compile(value) is not None


OscalValidator = validators.extend(Draft7Validator, {"pattern": _pattern})


@cache
def _validator(model: str) -> Any:
    schema = json.loads((SCHEMAS / f"oscal_{model}_schema.json").read_text(encoding="utf-8"))
    Draft7Validator(Draft7Validator.META_SCHEMA, format_checker=FORMATS).validate(schema)
    return OscalValidator(schema, format_checker=FORMATS)


def problems(document: bytes | dict[str, Any], model: str) -> list[str]:
    data = json.loads(document) if isinstance(document, bytes) else document
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in _validator(model).iter_errors(data)
    ]
