"""The canonical submission: the bytes that identify a submitted assessment.

One function builds them, for the web app, the CLI and `policygap verify`: JSON with sorted
keys, no insignificant whitespace, UTF-8 (not ASCII escapes). It holds the questionnaire id,
version and hash, `as_of`, the agency, the program, the answers, the evidence notes, the
submission number and the time of submission, so a report can be checked against its data
and its score recomputed years later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.questionnaire.answers import Answers, AnswerValue

FORMAT = "policygap-submission/1"


class DocumentRef(BaseModel):
    """A document frozen with a submission: its display name, size, SHA-256 and media type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    size: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    media_type: str

    def label(self) -> str:
        return f"document: {self.name} ({self.sha256[:12]})"


class SubmissionRecord(BaseModel):
    """What a submission freezes. Its canonical JSON is `canonical_json(record)`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = FORMAT
    questionnaire_id: str
    questionnaire_version: str
    questionnaire_sha256: str
    as_of: date
    agency: str
    program: str
    number: int = Field(default=1, ge=1)
    submitted_at: datetime | None = None
    answers: dict[str, AnswerValue] = Field(default_factory=dict)
    evidence: dict[str, str] = Field(default_factory=dict)
    # question id -> documents; left out of the canonical JSON when empty (stable old hashes)
    documents: dict[str, list[DocumentRef]] = Field(default_factory=dict)

    def to_answers(self) -> Answers:
        """The answers to score, with the documents counted as evidence."""
        answers = Answers(values=dict(self.answers), evidence=dict(self.evidence))
        return answers_with_documents(answers, self.documents)


def answers_with_documents(
    answers: Answers, documents: Mapping[str, Sequence[DocumentRef]]
) -> Answers:
    """The document-evidence rule: a question with documents attached and no evidence note
    counts as evidenced, by an evidence entry naming the documents. A written note stays.

    One rule for a submission (`SubmissionRecord.to_answers`) and a draft's preview, so a
    draft previews as it will score."""
    evidence = dict(answers.evidence)
    for qid, refs in documents.items():
        if refs and not evidence.get(qid, "").strip():
            evidence[qid] = "; ".join(ref.label() for ref in refs)
    return Answers(values=answers.values, evidence=evidence)


def canonical_bytes(data: Mapping[str, Any]) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_json(record: SubmissionRecord) -> bytes:
    data = record.model_dump(mode="json")
    if not data.get("documents"):
        data.pop("documents", None)
    return canonical_bytes(data)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_submission(
    *,
    questionnaire_id: str,
    questionnaire_version: str,
    questionnaire_sha256: str,
    as_of: date,
    agency: str,
    program: str,
    answers: Answers,
    number: int = 1,
    submitted_at: datetime | None = None,
    documents: Mapping[str, list[DocumentRef]] | None = None,
) -> SubmissionRecord:
    """A submission record with empty answers and blank evidence notes left out."""
    values = {k: v for k, v in answers.values.items() if v not in (None, "", [])}
    notes = {k: v for k, v in answers.evidence.items() if v.strip()}
    return SubmissionRecord(
        questionnaire_id=questionnaire_id,
        questionnaire_version=questionnaire_version,
        questionnaire_sha256=questionnaire_sha256,
        as_of=as_of,
        agency=agency,
        program=program,
        number=number,
        submitted_at=submitted_at,
        answers=dict(sorted(values.items())),
        evidence=dict(sorted(notes.items())),
        documents={
            qid: sorted(refs, key=lambda r: (r.name, r.sha256))
            for qid, refs in sorted((documents or {}).items())
            if refs
        },
    )


def parse_submission(data: bytes) -> SubmissionRecord:
    """Read canonical submission bytes of either version back: the record they describe
    (raises ValueError on anything else)."""
    if record_version(data) == 2:
        return parse_sealed(data).record()
    try:
        return SubmissionRecord.model_validate_json(data)
    except Exception as error:
        raise ValueError(f"not a PolicyGap submission: {error}") from error


def record_hash(data: bytes) -> str:
    """The hash that identifies canonical submission bytes (`Submission.sha256`): the root of
    the commitments for version 2, the SHA-256 of the bytes for version 1."""
    if record_version(data) == 2:
        return parse_sealed(data).root()
    return sha256_hex(data)


# ---------------------------------------------------------------------------------------------
# Version 2: every field committed with its own salt
#
# Version 2 of the canonical submission: every field committed with its own salt.
#
# A version-1 record is one JSON document and `Submission.sha256` is the SHA-256 of its bytes, so a
# copy with one field left out can no longer be checked against it. Version 2 commits to each field
# separately, so a redacted copy (the public edition) can be proven against the same hash without the
# withheld values:
#
# - the fields are the identity fields (`questionnaire_id`, `questionnaire_version`,
#   `questionnaire_sha256`, `as_of`, `agency`, `program`, `number`, `submitted_at`), then
#   `answers/<question id>`, `evidence/<question id>` and `documents/<question id>/<n>` (a document's
#   name, size, SHA-256 and media type);
# - each field's commitment is `SHA-256(salt || path || 0x00 || value)`, with a random 128-bit salt
#   per field, the path in UTF-8, and the value as canonical JSON (`canonical_bytes`);
# - the record's hash, printed in the report and stored as `Submission.sha256`, is the SHA-256 of the
#   canonical JSON `{"commitments": {path: commitment, ...}, "format": "policygap-submission/2"}`.
#
# The sealed record carries the salts and clear values of every disclosed field, and only the
# commitment (with the reason) of a withheld one. The review state is not in it: it changes after
# submit, so the report carries it in a separate attachment.
#
# Pure: the caller passes the salts (`seal(record, salt=...)`), so this module reads no randomness.

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
