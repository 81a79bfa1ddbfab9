"""Text that is valid Unicode scalar values: what every edge of the app accepts.

A JSON or YAML escape such as ``\\ud800`` gives Python a lone surrogate, which no UTF-8 page,
JSON response or PDF can hold; a NUL character cannot be stored in PostgreSQL text. Both are
refused where text comes in (``first_bad_text``), and ``scrubbed`` makes what was stored before
readable (each such character becomes U+FFFD)."""

from __future__ import annotations

import re
from typing import Any

_BAD = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
MESSAGE = "holds a character that is not text (a lone surrogate or a NUL)"


def is_text(value: str) -> bool:
    """Whether ``value`` holds only Unicode scalar values other than NUL."""
    return _BAD.search(value) is None


def first_bad_text(value: Any) -> tuple[str | int, ...] | None:
    """The path to the first key or string inside ``value`` (dicts, lists, strings) that is not
    text; ``()`` for ``value`` itself; None when all is text. Iterative: any depth."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not is_text(item):
                return path
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                if isinstance(key, str) and not is_text(key):
                    return (*path, key)
                stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack.extend(((*path, i), child) for i, child in reversed(list(enumerate(item))))
    return None


def clean(value: str) -> str:
    """``value`` with each lone surrogate and NUL replaced by U+FFFD (a surrogate pair, as a
    UTF-16 escape writes a character beyond U+FFFF, becomes that character)."""
    if is_text(value):
        return value
    joined = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined.replace("\x00", REPLACEMENT)


def scrubbed(value: Any) -> Any:
    """``value`` (plain data) with every key and string ``clean``."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    return value
