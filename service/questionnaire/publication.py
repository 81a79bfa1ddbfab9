"""The public edition's redaction, in the core: which fields of a sealed record are free text an
officer may withhold, what each starts as, the reasons offered, and the record a redacted copy
is scored from.

Only free text can be withheld: a text or long-text answer, an evidence note, a document (its
name, size and hash). Identity fields, choice, number and date answers are what the verdicts are
computed from and are always public. A withheld field keeps its commitment in the sealed record
(`SealedRecord.withholding`), so the public copy has the same root as the full one.

Pure: no I/O, no randomness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.questionnaire.schema import (
    Publication,
    Questionnaire,
    QuestionType,
    WithholdingReason,
)
from service.questionnaire.submission import (
    IDENTITY,
    SealedRecord,
    SubmissionRecord,
)

FREE_TEXT_TYPES = frozenset({QuestionType.text, QuestionType.long_text})
# What a withheld answer or note counts as when a public copy is scored again: present. A
# criterion reads free text only for its presence (evidence), never for its words.
WITHHELD_PLACEHOLDER = "[withheld]"


@dataclass(frozen=True)
class Item:
    """One field of a sealed record that the public edition may withhold."""

    path: str  # answers/<q>, evidence/<q> or documents/<q>/<n>
    question_id: str
    kind: str  # answer | evidence | document
    default_publish: bool


def kind_of(path: str) -> str:
    head = path.partition("/")[0]
    return {"answers": "answer", "evidence": "evidence", "documents": "document"}.get(head, "")


def question_of(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 1 else ""


def withholdable(questionnaire: Questionnaire, path: str) -> bool:
    """Whether ``path`` is free text an officer may withhold (never identity or choice answers)."""
    if path in IDENTITY:
        return False
    kind = kind_of(path)
    if kind in ("evidence", "document"):
        return True
    if kind == "answer":
        question = questionnaire.question_index().get(question_of(path))
        return question is not None and question.type in FREE_TEXT_TYPES
    return False


def items(questionnaire: Questionnaire, sealed: SealedRecord) -> list[Item]:
    """The withholdable fields of ``sealed`` in questionnaire order, each with where it starts:
    the question's ``publication`` default (withheld when the question sets none)."""
    index = questionnaire.question_index()
    order = {q.id: n for n, q in enumerate(questionnaire.questions())}
    rank = {"answer": 0, "evidence": 1, "document": 2}
    found = []
    for path in [*sealed.fields, *sealed.withheld]:
        if not withholdable(questionnaire, path):
            continue
        qid = question_of(path)
        question = index.get(qid)
        publish = question is not None and question.publication is Publication.publish
        found.append(Item(path, qid, kind_of(path), publish))
    found.sort(key=lambda i: (order.get(i.question_id, 10**6), rank[i.kind], i.path))
    return found


def regime_of(questionnaire: Questionnaire, facts: Mapping[str, Any]) -> str | None:
    """The value of the public edition's regime fact among the derived ``facts`` (None when the
    questionnaire names none or it was not derived)."""
    name = questionnaire.public_edition.regime_fact
    value = facts.get(name) if name else None
    return str(value) if isinstance(value, str) and value else None


def reasons_for(questionnaire: Questionnaire, regime: str | None) -> list[WithholdingReason]:
    """The reasons offered for a submission of ``regime``: those of that regime and those of
    every regime (all of them when the regime is not known)."""
    reasons = questionnaire.public_edition.reasons
    if regime is None:
        return list(reasons)
    return [r for r in reasons if not r.regimes or regime in r.regimes]


def reason_index(questionnaire: Questionnaire) -> dict[str, WithholdingReason]:
    return {r.key: r for r in questionnaire.public_edition.reasons}


def redact(
    questionnaire: Questionnaire, sealed: SealedRecord, reasons: Mapping[str, str]
) -> SealedRecord:
    """The public copy: ``sealed`` with each path of ``reasons`` withheld (its commitment and the
    reason's key kept). ValueError for a path that is not withholdable free text."""
    refused = sorted(p for p in reasons if not withholdable(questionnaire, p))
    if refused:
        raise ValueError("only free text can be withheld, not: " + ", ".join(refused))
    return sealed.withholding(dict(reasons))


def scoring_record(sealed: SealedRecord) -> SubmissionRecord:
    """The record a (possibly redacted) sealed copy is scored from: its disclosed fields, and
    each withheld answer or note counted as present (``WITHHELD_PLACEHOLDER``); a question whose
    documents are withheld counts as evidenced. The same result as the full record, for free text
    is read only for its presence."""
    record = sealed.record()
    if not sealed.withheld:
        return record
    answers = dict(record.answers)
    evidence = dict(record.evidence)
    for path in sealed.withheld:
        kind, qid = kind_of(path), question_of(path)
        if kind == "answer":
            answers[qid] = WITHHELD_PLACEHOLDER
        elif (kind == "evidence" or kind == "document") and not evidence.get(qid, "").strip():
            evidence[qid] = WITHHELD_PLACEHOLDER
    return record.model_copy(
        update={
            "answers": dict(sorted(answers.items())),
            "evidence": dict(sorted(evidence.items())),
        }
    )
