"""Version 2 of the canonical submission: every field committed with its own salt.

A version-1 record is one JSON document and `Submission.sha256` is the SHA-256 of its bytes, so a
copy with one field left out can no longer be checked against it. Version 2 commits to each field
separately, so a redacted copy (the public edition) can be proven against the same hash without the
withheld values:

- the fields are the identity fields (`questionnaire_id`, `questionnaire_version`,
  `questionnaire_sha256`, `as_of`, `agency`, `program`, `number`, `submitted_at`), then
  `answers/<question id>`, `evidence/<question id>` and `documents/<question id>/<n>` (a document's
  name, size, SHA-256 and media type);
- each field's commitment is `SHA-256(salt || path || 0x00 || value)`, with a random 128-bit salt
  per field, the path in UTF-8, and the value as canonical JSON (`canonical_bytes`);
- the record's hash, printed in the report and stored as `Submission.sha256`, is the SHA-256 of the
  canonical JSON `{"commitments": {path: commitment, ...}, "format": "policygap-submission/2"}`.

The sealed record carries the salts and clear values of every disclosed field, and only the
commitment (with the reason) of a withheld one. The review state is not in it: it changes after
submit, so the report carries it in a separate attachment.

Pure: the caller passes the salts (`seal(record, salt=...)`), so this module reads no randomness.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.questionnaire.submission import (
    FORMAT,
    DocumentRef,
    SubmissionRecord,
    canonical_bytes,
    sha256_hex,
)

FORMAT_V2 = "policygap-submission/2"
SALT_BYTES = 16
IDENTITY = (
    "questionnaire_id",
    "questionnaire_version",
    "questionnaire_sha256",
    "as_of",
    "agency",
    "program",
    "number",
    "submitted_at",
)
REQUIRED = frozenset(IDENTITY) - {"submitted_at"}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SealedField(_Frozen):
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")
    value: Any


class WithheldField(_Frozen):
    commitment: str = Field(pattern=r"^[0-9a-f]{64}$")
    reason: str = ""


def commitment(salt: bytes, path: str, value: Any) -> str:
    """SHA-256(salt || path || 0x00 || canonical JSON of value), as lower-case hex."""
    return hashlib.sha256(
        salt + path.encode("utf-8") + b"\x00" + canonical_bytes(value)
    ).hexdigest()


def root_of(commitments: Mapping[str, str]) -> str:
    """The record's hash: SHA-256 of the canonical JSON of its sorted commitments."""
    return sha256_hex(canonical_bytes({"format": FORMAT_V2, "commitments": dict(commitments)}))


class SealedRecord(_Frozen):
    """A version-2 record: clear values with their salts, and the commitments of withheld fields."""

    format: Literal["policygap-submission/2"] = "policygap-submission/2"
    fields: dict[str, SealedField]
    withheld: dict[str, WithheldField] = Field(default_factory=dict)

    def commitments(self) -> dict[str, str]:
        out = {
            path: commitment(bytes.fromhex(f.salt), path, f.value)
            for path, f in self.fields.items()
        }
        out.update((path, w.commitment) for path, w in self.withheld.items())
        return dict(sorted(out.items()))

    def root(self) -> str:
        return root_of(self.commitments())

    def canonical(self) -> bytes:
        return canonical_bytes(self.model_dump(mode="json", exclude_defaults=False))

    def record(self) -> SubmissionRecord:
        """The submission the disclosed fields describe (withheld answers and notes are absent)."""
        missing = sorted(p for p in REQUIRED if p not in self.fields)
        if missing:
            raise ValueError("the record has no " + ", ".join(missing))
        identity = {p: self.fields[p].value for p in IDENTITY if p in self.fields}
        answers: dict[str, Any] = {}
        evidence: dict[str, str] = {}
        documents: dict[str, list[DocumentRef]] = {}
        for path, f in self.fields.items():
            kind, _, rest = path.partition("/")
            if kind == "answers":
                answers[rest] = f.value
            elif kind == "evidence":
                evidence[rest] = f.value
            elif kind == "documents":
                qid, _, _ = rest.partition("/")
                documents.setdefault(qid, []).append(DocumentRef.model_validate(f.value))
            elif path not in IDENTITY:
                raise ValueError(f"unknown field {path!r}")
        return SubmissionRecord.model_validate(
            {
                **identity,
                "format": FORMAT,
                "answers": dict(sorted(answers.items())),
                "evidence": dict(sorted(evidence.items())),
                "documents": {
                    q: sorted(refs, key=lambda r: (r.name, r.sha256))
                    for q, refs in sorted(documents.items())
                },
            }
        )

    def withholding(self, reasons: Mapping[str, str]) -> SealedRecord:
        """A copy with the named fields withheld (commitment and reason kept, value and salt not)."""
        unknown = sorted(set(reasons) - set(self.fields))
        if unknown:
            raise ValueError("no such disclosed field: " + ", ".join(unknown))
        blocked = sorted(p for p in reasons if p in IDENTITY)
        if blocked:
            raise ValueError("identity fields cannot be withheld: " + ", ".join(blocked))
        kept = {p: f for p, f in self.fields.items() if p not in reasons}
        withheld = dict(self.withheld)
        for path, reason in reasons.items():
            f = self.fields[path]
            withheld[path] = WithheldField(
                commitment=commitment(bytes.fromhex(f.salt), path, f.value), reason=reason
            )
        return SealedRecord(fields=kept, withheld=dict(sorted(withheld.items())))


def field_values(record: SubmissionRecord) -> dict[str, Any]:
    """path -> JSON value of every field of a record, in path order."""
    data = record.model_dump(mode="json")
    out: dict[str, Any] = {p: data[p] for p in IDENTITY if data.get(p) is not None}
    out.update((f"answers/{q}", v) for q, v in data["answers"].items())
    out.update((f"evidence/{q}", v) for q, v in data["evidence"].items())
    for qid, refs in data.get("documents", {}).items():
        out.update((f"documents/{qid}/{n}", ref) for n, ref in enumerate(refs, start=1))
    return dict(sorted(out.items()))


def seal(record: SubmissionRecord, *, salt: Callable[[str], bytes]) -> SealedRecord:
    """The version-2 record of ``record``; ``salt(path)`` gives each field's 16 random bytes."""
    fields: dict[str, SealedField] = {}
    for path, value in field_values(record).items():
        raw = salt(path)
        if len(raw) != SALT_BYTES:
            raise ValueError(f"a salt is {SALT_BYTES} bytes, not {len(raw)}")
        fields[path] = SealedField(salt=raw.hex(), value=value)
    return SealedRecord(fields=fields)


def parse_sealed(data: bytes) -> SealedRecord:
    """Read a version-2 record (ValueError for anything else, or one not in canonical form)."""
    try:
        sealed = SealedRecord.model_validate_json(data)
    except ValidationError as error:
        raise ValueError(f"not a PolicyGap version-2 submission: {error}") from error
    return sealed


def record_version(data: bytes) -> int:
    """1 or 2: which version of the canonical record ``data`` is (0: neither, or not JSON)."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return 0
    fmt = parsed.get("format") if isinstance(parsed, dict) else None
    return {FORMAT: 1, FORMAT_V2: 2}.get(fmt, 0) if isinstance(fmt, str) else 0
