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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from service.i18n.catalogue import N_, NP_, Translator
from service.questionnaire.publication import scoring_record, withholdable
from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import score
from service.questionnaire.submission import (
    SealedRecord,
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

UNSIGNED = N_("unsigned: a draft, not an issued report")
UNKNOWN_SIGNER = NP_("signer", "unknown")
# The review status words of review.json, said in the lines of a check
STATUS_WORDS = {
    "submitted": NP_("review status", "submitted"),
    "returned": NP_("review status", "returned"),
    "accepted": NP_("review status", "accepted"),
}

HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
STATED = re.compile(
    re.escape(RESULT_PREFIX)
    + r" rating=(?P<rating>[a-z]+); score=(?P<score>[0-9]+(?:\.[0-9])?|none);"
    r" gaps=(?P<gaps>none|[A-Z]{3}-\d{2}(?: [A-Z]{3}-\d{2})*)"
)
MAX_PDF_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Note:
    """One line of a check: an English catalogue message with ``{name}`` placeholders and their
    values. ``str()`` gives the English (the CLI prints it); ``say(_)`` the language of ``_``
    (the public verify page). A value that is a Note is said in the same language."""

    message: str
    values: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    context: str | None = None

    def __str__(self) -> str:
        return self.say(None)

    def say(self, _: Translator | None) -> str:
        values = {k: v.say(_) if isinstance(v, Note) else v for k, v in self.values.items()}
        if _ is None:
            text = self.message
        elif self.context is not None:
            text = _.pgettext(self.context, self.message)
        else:
            text = _(self.message)
        return text.format(**values) if values else text


def note(message: str, **values: object) -> Note:
    return Note(message, MappingProxyType(values))


def status_word(status: str) -> Note:
    """A review status as a word of the catalogue (an unknown one as it was written)."""
    context, word = STATUS_WORDS.get(status, (None, status))
    return Note(word, context=context)


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
    differences: list[Note] = field(default_factory=list)
    checks: list[Note] = field(default_factory=list)
    # each check made, in order, and whether it held: signature, signer, hash, questionnaire,
    # result, review (a check not reached is absent)
    steps: dict[str, bool] = field(default_factory=dict)
    sealed: SealedRecord | None = None  # the version-2 record read, when it is one
    # a public edition: each withheld field and the key of the reason it was withheld for
    withheld: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def public_edition(self) -> bool:
        """Whether the record read withholds fields (a public edition's redacted copy)."""
        return bool(self.withheld)


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
        (out.checks if allow_unsigned else out.differences).append(note(UNSIGNED))
        out.steps["signature"] = allow_unsigned
        return
    out.steps["signature"] = sig.intact and sig.whole_file
    out.steps["signer"] = sig.trusted
    if not sig.intact:
        out.differences.append(note(N_("signature: the signed bytes were changed after signing")))
    elif not sig.whole_file:
        out.differences.append(
            note(
                N_(
                    "signature: it does not cover the whole file (something was added after signing)"
                )
            )
        )
    else:
        when = sig.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if sig.signed_at else "?"
        out.checks.append(
            note(N_("signature: valid and covers the whole file (signed {when})"), when=when)
        )
    certificate = sig.signer_fingerprint[:16] or "?"
    if sig.trusted:
        out.checks.append(
            note(
                N_("signer: {signer} (certificate {certificate}) is trusted"),
                signer=sig.signer,
                certificate=certificate,
            )
        )
    else:
        out.differences.append(
            note(
                N_(
                    "signer: {signer} (certificate {certificate}) is not a trusted instance; "
                    "give its certificate with --trust"
                ),
                signer=sig.signer or Note(UNKNOWN_SIGNER[1], context=UNKNOWN_SIGNER[0]),
                certificate=certificate,
            )
        )


def _read_record(out: Verification, raw: bytes) -> SubmissionRecord | None:
    out.version = record_version(raw)
    try:
        if out.version == 2:
            sealed = out.sealed = parse_sealed(raw)
            record = sealed.record()
            out.sha256 = sealed.root()
            canonical = sealed.canonical()
            out.withheld = {path: w.reason for path, w in sealed.withheld.items()}
        else:
            record = parse_submission(raw)
            out.sha256 = sha256_hex(raw)
            canonical = canonical_json(record)
    except ValueError as error:
        out.differences.append(
            note(N_("the attachment is not a PolicyGap submission: {error}"), error=str(error))
        )
        return None
    out.record = record
    if canonical != raw:
        out.differences.append(
            note(N_("the attachment is not in canonical form (it was rewritten)"))
        )
    return record


def _check_review(
    out: Verification, content: PdfContent, record: SubmissionRecord, instance: Instance | None
) -> bool:
    """Check the review state; False when there is none to check (a version-1 report)."""
    blobs = content.attachments.get(REVIEW_ATTACHMENT) or []
    if not blobs:
        if out.version == 2:
            out.differences.append(
                note(N_("review state: the PDF has no {name} attachment"), name=REVIEW_ATTACHMENT)
            )
        return out.version == 2
    try:
        review = json.loads(blobs[0])
    except ValueError:
        out.differences.append(note(N_("review state: {name} is not JSON"), name=REVIEW_ATTACHMENT))
        return True
    if not isinstance(review, dict) or review.get("format") != REVIEW_FORMAT:
        out.differences.append(
            note(
                N_("review state: {name} is not a PolicyGap review record"), name=REVIEW_ATTACHMENT
            )
        )
        return True
    out.review = review
    if review.get("submission_sha256") != out.sha256 or review.get("number") != record.number:
        out.differences.append(note(N_("review state: it names another submission")))
        return True
    status = str(review.get("status"))
    if review.get("decided_at"):
        out.checks.append(
            note(
                N_("review state: submission {number} {status} on {date}"),
                number=record.number,
                status=status_word(status),
                date=str(review["decided_at"])[:10],
            )
        )
    else:
        out.checks.append(
            note(
                N_("review state: submission {number} {status}"),
                number=record.number,
                status=status_word(status),
            )
        )
    signed_here = (
        instance is not None
        and out.signature is not None
        and out.signature.signer_fingerprint == certificate_fingerprint(instance.certificate)
    )
    if instance is None or not signed_here:
        return True  # only the instance that issued a report holds its record
    server = out.server = instance.lookup(out.sha256)
    if server is None:
        out.differences.append(
            note(N_("review state: this server has no submission with this hash"))
        )
    elif server.status != status:
        out.differences.append(
            note(
                N_("review state: the report says {status}, the server's record says {recorded}"),
                status=status_word(status),
                recorded=status_word(server.status),
            )
        )
    elif server.latest_number > server.number:
        out.checks.append(
            note(
                N_("review state: matches the server's record; superseded by submission {number}"),
                number=server.latest_number,
            )
        )
    else:
        out.checks.append(note(N_("review state: matches the server's record")))
    return True


def _check_withheld(out: Verification, questionnaire: Questionnaire) -> None:
    """A public edition: only free text may be withheld (never what a verdict is computed
    from), each with a reason; say which fields were withheld and why."""
    refused = sorted(p for p in out.withheld if not withholdable(questionnaire, p))
    if refused:
        out.differences.append(
            note(
                N_("public edition: fields that cannot be withheld are withheld: {fields}"),
                fields=", ".join(refused),
            )
        )
    unexplained = sorted(p for p, reason in out.withheld.items() if not reason)
    if unexplained:
        out.differences.append(
            note(
                N_("public edition: withheld without a reason: {fields}"),
                fields=", ".join(unexplained),
            )
        )
    out.checks.append(
        note(
            N_(
                "public edition: {count} field(s) withheld, each proven by its commitment: {fields}"
            ),
            count=len(out.withheld),
            fields="; ".join(f"{p} ({r})" for p, r in sorted(out.withheld.items())),
        )
    )


def compare_editions(public: Verification, full: Verification) -> list[Note]:
    """A public edition checked against the full report (both already verified): the
    differences found (none when the public edition comes from the same signed submission).
    The same root proves that every clear field of the public edition is the full record's
    field, and that each withheld field is one of the full record's fields."""
    problems: list[Note] = []
    if not full.ok:
        problems.append(note(N_("the full report does not verify")))
    if not public.ok:
        problems.append(note(N_("the public edition does not verify")))
    if full.withheld:
        problems.append(note(N_("the full report withholds fields: it is not the full report")))
    if public.sha256 != full.sha256:
        problems.append(
            note(
                N_(
                    "the public edition is of submission {public}, the full report of {full}: "
                    "not the same submission"
                ),
                public=public.sha256 or "?",
                full=full.sha256 or "?",
            )
        )
    return problems


def verify_pdf(
    data: bytes,
    find_questionnaire: Callable[[SubmissionRecord], Questionnaire | Note],
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
        out.differences.append(note(N_("the PDF has no {name} attachment"), name=ATTACHMENT_NAME))
        out.steps["hash"] = False
        return out
    if len(blobs) > 1:
        out.differences.append(
            note(
                N_("the PDF has {count} {name} attachments"), count=len(blobs), name=ATTACHMENT_NAME
            )
        )
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
            note(
                N_("submission hash {sha256} (record version {version}) is printed in the report"),
                sha256=out.sha256,
                version=out.version,
            )
        )
        others = printed - {out.sha256}
        if others:
            out.differences.append(
                note(
                    N_("the report prints other submission hashes: {hashes}"),
                    hashes=", ".join(sorted(others)),
                )
            )
    elif printed:
        out.differences.append(
            note(
                N_(
                    "the hash printed in the report ({printed}) is not the SHA-256 "
                    "of the attached submission ({sha256})"
                ),
                printed=", ".join(sorted(printed)),
                sha256=out.sha256,
            )
        )
    else:
        out.differences.append(note(N_("the report prints no submission hash")))
    out.steps["hash"] = len(out.differences) == before

    before = len(out.differences)
    found = find_questionnaire(record)
    if isinstance(found, Note):
        out.differences.append(found)
        out.steps["questionnaire"] = False
        return out
    questionnaire = found
    if (questionnaire.id, questionnaire.version) != (
        record.questionnaire_id,
        record.questionnaire_version,
    ):
        out.differences.append(
            note(
                N_(
                    "the questionnaire is {id} {version}, but the submission was answered "
                    "against {answered_id} {answered_version}"
                ),
                id=questionnaire.id,
                version=questionnaire.version,
                answered_id=record.questionnaire_id,
                answered_version=record.questionnaire_version,
            )
        )
    if questionnaire.sha256 != record.questionnaire_sha256:
        out.differences.append(
            note(
                N_(
                    "questionnaire hash differs: the submission names {named}, the file has {found}"
                ),
                named=record.questionnaire_sha256,
                found=questionnaire.sha256,
            )
        )
    else:
        out.checks.append(
            note(
                N_("questionnaire {id} {version} hash matches"),
                id=questionnaire.id,
                version=questionnaire.version,
            )
        )
    out.steps["questionnaire"] = len(out.differences) == before

    if out.withheld:
        _check_withheld(out, questionnaire)
    scored = scoring_record(out.sealed) if out.sealed is not None and out.withheld else record
    before = len(out.differences)
    try:
        result = score(questionnaire, scored.to_answers(), as_of=record.as_of)
    except (ValueError, KeyError, TypeError) as error:
        out.differences.append(note(N_("the answers cannot be scored: {error}"), error=str(error)))
        out.steps["result"] = False
        return out
    stated = list(STATED.finditer(content.text))
    if not stated:
        out.differences.append(
            note(N_("the report does not state its result (no policygap-result line)"))
        )
        out.steps["result"] = False
        return out
    if len(stated) > 1:
        out.differences.append(note(N_("the report states more than one result")))
        out.steps["result"] = False
        return out
    match = stated[0]
    score_text = "none" if result.score is None else f"{result.score:.1f}"
    gaps = match["gaps"].split() if match["gaps"] != "none" else []
    if match["rating"] != result.rating.value:
        out.differences.append(
            note(
                N_("rating: the report says {stated}, the answers give {computed}"),
                stated=match["rating"],
                computed=result.rating.value,
            )
        )
    if match["score"] != score_text:
        out.differences.append(
            note(
                N_("score: the report says {stated}, the answers give {computed}"),
                stated=match["score"],
                computed=score_text,
            )
        )
    if gaps != result.gaps:
        missing = ", ".join(g for g in result.gaps if g not in gaps)
        extra = ", ".join(g for g in gaps if g not in result.gaps)
        if missing and extra:
            message = N_("gaps differ (not stated: {missing}; stated but not gaps: {extra})")
        elif missing:
            message = N_("gaps differ (not stated: {missing})")
        elif extra:
            message = N_("gaps differ (stated but not gaps: {extra})")
        else:
            message = N_("gaps differ (in another order)")
        out.differences.append(note(message, missing=missing, extra=extra))
    out.steps["result"] = len(out.differences) == before
    if not out.differences:
        out.checks.append(
            note(
                N_("result recomputed: rating {rating}, score {score}, {count} gap(s)"),
                rating=result.rating.value,
                score=score_text,
                count=len(result.gaps),
            )
        )
    before = len(out.differences)
    reviewed = _check_review(out, content, record, instance)
    if reviewed:
        out.steps["review"] = len(out.differences) == before
    return out


def questionnaire_finder(
    directory: Path, override: Questionnaire | None = None
) -> Callable[[SubmissionRecord], Questionnaire | Note]:
    """Find a record's questionnaire: the given one, else by id and version in `directory`."""

    def find(record: SubmissionRecord) -> Questionnaire | Note:
        if override is not None:
            return override
        from service.questionnaire.loader import load_directory

        if not directory.is_dir():
            return note(
                N_("no questionnaire folder {directory}; name the file with --questionnaire"),
                directory=str(directory),
            )
        found = load_directory(directory).get(record.questionnaire_id, record.questionnaire_version)
        if found is None:
            return note(
                N_(
                    "questionnaire {id} version {version} is not in {directory}; "
                    "name the file with --questionnaire"
                ),
                id=record.questionnaire_id,
                version=record.questionnaire_version,
                directory=str(directory),
            )
        return found

    return find
