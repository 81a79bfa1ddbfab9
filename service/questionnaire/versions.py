"""The order of questionnaire versions: one total order over every version text.

The loader accepts any text as a version, so `version_key` must order any text, never raise,
and never compare a number with a word. The rule (also in questionnaires/README.md):

- a version is a release, dot-separated numbers (`2.0`, `10.1.3`), optionally after a `v`,
  then optionally a tag (`-rc1`, `rc.2`, `-beta`);
- releases compare number by number (`10.0` after `9.1`, `1.10` after `1.9`); trailing zero
  parts do not count, so `1.0`, `1.0.0` and `1` are the same version;
- a tagged version comes before its release (`2.0-rc1` before `2.0`, after `1.9`); tags
  compare part by part, numbers as numbers (`rc2` before `rc10`), a number before a word,
  words alphabetically ignoring case, fewer parts first (`rc` before `rc1`);
- text without a leading number (`draft`) is a release of no number: it comes before `0.1`.
"""

from __future__ import annotations

import re

VERSION_ORDER_NOTE = (
    "Versions compare number by number (10.0 after 9.1); 1.0, 1.0.0 and 1 are the same "
    "version; a tagged version such as 2.0-rc1 comes before its release 2.0."
)

# ASCII digits only: str.isdigit() also accepts characters such as "²" that int() refuses.
_RELEASE = re.compile(r"[vV]?([0-9]+(?:\.[0-9]+)*)")
_TAG_PART = re.compile(r"[0-9]+|[^0-9.\-_+]+")

# A tag part: (0, number, "") for a number, (1, 0, word) for a word, so parts of different
# kinds compare without mixing int and str.
TagPart = tuple[int, int, str]
VersionKey = tuple[tuple[int, ...], int, tuple[TagPart, ...]]


def version_key(version: str) -> VersionKey:
    """A sort key for `version`: (release numbers, 1 when untagged else 0, tag parts)."""
    match = _RELEASE.match(version)
    if match is None:
        numbers: list[int] = []
        rest = version
    else:
        numbers = [int(p) for p in match.group(1).split(".")]
        rest = version[match.end() :]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    tag = tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part.casefold())
        for part in _TAG_PART.findall(rest)
    )
    return (tuple(numbers), 0 if tag else 1, tag)
