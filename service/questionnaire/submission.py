"""The canonical submission: the bytes whose SHA-256 identifies a submitted assessment.

One function builds them, for the web app, the CLI and `policygap verify`: JSON with sorted
keys, no insignificant whitespace, UTF-8 (not ASCII escapes). It holds the questionnaire id,
version and hash, `as_of`, the agency, the program, the answers, the evidence notes, the
submission number and the time of submission, so a report can be checked against its data
and its score recomputed years later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    """Read canonical submission bytes back (raises ValueError on anything else)."""
    try:
        return SubmissionRecord.model_validate_json(data)
    except Exception as error:
        raise ValueError(f"not a PolicyGap submission: {error}") from error
