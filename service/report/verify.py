"""Check a report PDF: who issued it, that it is whole, and that it says what its data says.

`verify_pdf` checks, in this order, and records each as ok or failed:

1. the signature: present, intact, and covering the whole file (any update appended after signing,
   such as a page overlay, fails); a report without one is "unsigned: a draft, not an issued report"
   and fails unless unsigned reports are allowed;
2. the signer: one of the trusted certificates (the instance's own, or `--trust CERT`);
3. the printed hash: the `submission.json` attachment (version 1, or the sealed version-2 record,
   whose hash is the root of its commitments) is the one whose hash the report prints;
4. the questionnaire: found by id and version, with the hash the submission names;
5. the result: the answers scored again give the rating, score and gaps the report states;
6. the review state: `review.json` names this submission, and, when a lookup of the issuing
   server's record is given, that record agrees (and says where the submission stands now).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import score
from service.questionnaire.submission import (
    SubmissionRecord,
    canonical_json,
    parse_sealed,
    parse_submission,
    record_version,
    sha256_hex,
)
from service.report.inputs import ATTACHMENT_NAME, REVIEW_ATTACHMENT, REVIEW_FORMAT
from service.report.sign import SignatureCheck, certificate_fingerprint, check_signature
from service.report.view import RESULT_PREFIX

UNSIGNED = "unsigned: a draft, not an issued report"

HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
STATED = re.compile(
    re.escape(RESULT_PREFIX)
    + r" rating=(?P<rating>[a-z]+); score=(?P<score>[0-9]+(?:\.[0-9])?|none);"
    r" gaps=(?P<gaps>none|[A-Z]{3}-\d{2}(?: [A-Z]{3}-\d{2})*)"
)
MAX_PDF_BYTES = 50 * 1024 * 1024


class NotAReport(Exception):
    """The input is not a PDF at all, or cannot be read (exit 2)."""


@dataclass(frozen=True)
class ServerRecord:
    """What the issuing server holds about a submission, for the review-state check."""

    status: str  # submitted | returned | accepted
    number: int
    latest_number: int  # the assessment's latest submission (a later one supersedes this one)
    decided_at: str = ""  # YYYY-MM-DD of the decision, if any


@dataclass(frozen=True)
class Instance:
    """The instance a check runs beside: its certificate, and its record of each submission."""

    certificate: bytes  # PEM
    lookup: Callable[[str], ServerRecord | None]  # submission hash -> the server's record


@dataclass
class Verification:
    record: SubmissionRecord | None = None
    sha256: str = ""
    version: int = 0  # of the canonical record read (1 or 2)
    signature: SignatureCheck | None = None
    review: dict[str, object] | None = None  # the review.json attachment, when present
    server: ServerRecord | None = None
    differences: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    # each check made, in order, and whether it held: signature, signer, hash, questionnaire,
    # result, review (a check not reached is absent)
    steps: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class PdfContent:
    text: str
    attachments: dict[str, list[bytes]]


def read_pdf(data: bytes) -> PdfContent:
    """The whitespace-normalised text and the attachments of a PDF (NotAReport if it is none)."""
    if not data.startswith(b"%PDF-"):
        raise NotAReport("not a PDF file (it does not start with %PDF-)")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        text = " ".join(page.extract_text() or "" for page in reader.pages)
        attachments = {name: list(values) for name, values in reader.attachments.items()}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise NotAReport(f"the PDF cannot be read: {error}") from error
    return PdfContent(" ".join(text.split()), attachments)


def _free_text(record: SubmissionRecord) -> str:
    parts = [record.agency, record.program, *record.evidence.values()]
    parts.extend(f"{d.name} {d.sha256}" for refs in record.documents.values() for d in refs)
    for value in record.answers.values():
        parts.extend(value if isinstance(value, list) else [str(value)])
    return "\n".join(parts)


def _check_signature(
    out: Verification, data: bytes, trusted: Sequence[bytes], allow_unsigned: bool
) -> None:
    sig = out.signature = check_signature(data, list(trusted))
    if not sig.present:
        (out.checks if allow_unsigned else out.differences).append(UNSIGNED)
        out.steps["signature"] = allow_unsigned
        return
    out.steps["signature"] = sig.intact and sig.whole_file
    out.steps["signer"] = sig.trusted
    if not sig.intact:
        out.differences.append("signature: the signed bytes were changed after signing")
    elif not sig.whole_file:
        out.differences.append(
            "signature: it does not cover the whole file (something was added after signing)"
        )
    else:
        when = sig.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if sig.signed_at else "?"
        out.checks.append(f"signature: valid and covers the whole file (signed {when})")
    if sig.trusted:
        out.checks.append(
            f"signer: {sig.signer} (certificate {sig.signer_fingerprint[:16]}) is trusted"
        )
    else:
        out.differences.append(
            f"signer: {sig.signer or 'unknown'} (certificate {sig.signer_fingerprint[:16] or '?'}) "
            "is not a trusted instance; give its certificate with --trust"
        )


def _read_record(out: Verification, raw: bytes) -> SubmissionRecord | None:
    out.version = record_version(raw)
    try:
        if out.version == 2:
            sealed = parse_sealed(raw)
            record = sealed.record()
            out.sha256 = sealed.root()
            canonical = sealed.canonical()
        else:
            record = parse_submission(raw)
            out.sha256 = sha256_hex(raw)
            canonical = canonical_json(record)
    except ValueError as error:
        out.differences.append(f"the attachment is not a PolicyGap submission: {error}")
        return None
    out.record = record
    if canonical != raw:
        out.differences.append("the attachment is not in canonical form (it was rewritten)")
    return record


def _check_review(
    out: Verification, content: PdfContent, record: SubmissionRecord, instance: Instance | None
) -> bool:
    """Check the review state; False when there is none to check (a version-1 report)."""
    blobs = content.attachments.get(REVIEW_ATTACHMENT) or []
    if not blobs:
        if out.version == 2:
            out.differences.append(f"review state: the PDF has no {REVIEW_ATTACHMENT} attachment")
        return out.version == 2
    try:
        review = json.loads(blobs[0])
    except ValueError:
        out.differences.append(f"review state: {REVIEW_ATTACHMENT} is not JSON")
        return True
    if not isinstance(review, dict) or review.get("format") != REVIEW_FORMAT:
        out.differences.append(
            f"review state: {REVIEW_ATTACHMENT} is not a PolicyGap review record"
        )
        return True
    out.review = review
    if review.get("submission_sha256") != out.sha256 or review.get("number") != record.number:
        out.differences.append("review state: it names another submission")
        return True
    status = str(review.get("status"))
    decided = f" on {str(review['decided_at'])[:10]}" if review.get("decided_at") else ""
    out.checks.append(f"review state: submission {record.number} {status}{decided}")
    signed_here = (
        instance is not None
        and out.signature is not None
        and out.signature.signer_fingerprint == certificate_fingerprint(instance.certificate)
    )
    if instance is None or not signed_here:
        return True  # only the instance that issued a report holds its record
    server = out.server = instance.lookup(out.sha256)
    if server is None:
        out.differences.append("review state: this server has no submission with this hash")
    elif server.status != status:
        out.differences.append(
            f"review state: the report says {status}, the server's record says {server.status}"
        )
    else:
        later = (
            f"; superseded by submission {server.latest_number}"
            if server.latest_number > server.number
            else ""
        )
        out.checks.append(f"review state: matches the server's record{later}")
    return True


def verify_pdf(
    data: bytes,
    find_questionnaire: Callable[[SubmissionRecord], Questionnaire | str],
    *,
    trusted: Sequence[bytes] = (),
    allow_unsigned: bool = False,
    instance: Instance | None = None,
) -> Verification:
    """Every check of a report, in order (see the module's docstring); `find_questionnaire`
    returns the questionnaire for a record, or a message saying why there is none; `trusted`
    holds the certificates (PEM) of the instances whose signature counts; `instance`, the
    instance this runs beside (trusted too, and asked for its record of a report it signed)."""
    if len(data) > MAX_PDF_BYTES:
        raise NotAReport(f"the file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB")
    content = read_pdf(data)
    out = Verification()
    certificates = [*trusted, *([instance.certificate] if instance is not None else [])]
    _check_signature(out, data, certificates, allow_unsigned)
    blobs = content.attachments.get(ATTACHMENT_NAME)
    if not blobs:
        out.differences.append(f"the PDF has no {ATTACHMENT_NAME} attachment")
        out.steps["hash"] = False
        return out
    if len(blobs) > 1:
        out.differences.append(f"the PDF has {len(blobs)} {ATTACHMENT_NAME} attachments")
        out.steps["hash"] = False
        return out
    before = len(out.differences)
    record = _read_record(out, blobs[0])
    if record is None:
        out.steps["hash"] = False
        return out

    # the printed hash: 64-hex strings in the text, less the questionnaire's and any in free text
    free = _free_text(record)
    printed = {
        h for h in HEX64.findall(content.text) if h != record.questionnaire_sha256 and h not in free
    }
    if out.sha256 in printed:
        out.checks.append(
            f"submission hash {out.sha256} (record version {out.version}) is printed in the report"
        )
        others = printed - {out.sha256}
        if others:
            out.differences.append(
                "the report prints other submission hashes: " + ", ".join(sorted(others))
            )
    elif printed:
        out.differences.append(
            f"the hash printed in the report ({', '.join(sorted(printed))}) is not the SHA-256 "
            f"of the attached submission ({out.sha256})"
        )
    else:
        out.differences.append("the report prints no submission hash")
    out.steps["hash"] = len(out.differences) == before

    before = len(out.differences)
    found = find_questionnaire(record)
    if isinstance(found, str):
        out.differences.append(found)
        out.steps["questionnaire"] = False
        return out
    questionnaire = found
    if (questionnaire.id, questionnaire.version) != (
        record.questionnaire_id,
        record.questionnaire_version,
    ):
        out.differences.append(
            f"the questionnaire is {questionnaire.id} {questionnaire.version}, but the "
            f"submission was answered against {record.questionnaire_id} "
            f"{record.questionnaire_version}"
        )
    if questionnaire.sha256 != record.questionnaire_sha256:
        out.differences.append(
            f"questionnaire hash differs: the submission names {record.questionnaire_sha256}, "
            f"the file has {questionnaire.sha256}"
        )
    else:
        out.checks.append(f"questionnaire {questionnaire.id} {questionnaire.version} hash matches")
    out.steps["questionnaire"] = len(out.differences) == before

    before = len(out.differences)
    try:
        result = score(questionnaire, record.to_answers(), as_of=record.as_of)
    except (ValueError, KeyError, TypeError) as error:
        out.differences.append(f"the answers cannot be scored: {error}")
        out.steps["result"] = False
        return out
    stated = list(STATED.finditer(content.text))
    if not stated:
        out.differences.append("the report does not state its result (no policygap-result line)")
        out.steps["result"] = False
        return out
    if len(stated) > 1:
        out.differences.append("the report states more than one result")
        out.steps["result"] = False
        return out
    match = stated[0]
    score_text = "none" if result.score is None else f"{result.score:.1f}"
    gaps = match["gaps"].split() if match["gaps"] != "none" else []
    if match["rating"] != result.rating.value:
        out.differences.append(
            f"rating: the report says {match['rating']}, the answers give {result.rating.value}"
        )
    if match["score"] != score_text:
        out.differences.append(
            f"score: the report says {match['score']}, the answers give {score_text}"
        )
    if gaps != result.gaps:
        missing = [g for g in result.gaps if g not in gaps]
        extra = [g for g in gaps if g not in result.gaps]
        detail = []
        if missing:
            detail.append("not stated: " + ", ".join(missing))
        if extra:
            detail.append("stated but not gaps: " + ", ".join(extra))
        if not detail:
            detail.append("in another order")
        out.differences.append("gaps differ (" + "; ".join(detail) + ")")
    out.steps["result"] = len(out.differences) == before
    if not out.differences:
        out.checks.append(
            f"result recomputed: rating {result.rating.value}, score {score_text}, "
            f"{len(result.gaps)} gap(s)"
        )
    before = len(out.differences)
    reviewed = _check_review(out, content, record, instance)
    if reviewed:
        out.steps["review"] = len(out.differences) == before
    return out


def questionnaire_finder(
    directory: Path, override: Questionnaire | None = None
) -> Callable[[SubmissionRecord], Questionnaire | str]:
    """Find a record's questionnaire: the given one, else by id and version in `directory`."""

    def find(record: SubmissionRecord) -> Questionnaire | str:
        if override is not None:
            return override
        from service.questionnaire.loader import load_directory

        if not directory.is_dir():
            return f"no questionnaire folder {directory}; name the file with --questionnaire"
        found = load_directory(directory).get(record.questionnaire_id, record.questionnaire_version)
        if found is None:
            return (
                f"questionnaire {record.questionnaire_id} version "
                f"{record.questionnaire_version} is not in {directory}; "
                "name the file with --questionnaire"
            )
        return found

    return find
