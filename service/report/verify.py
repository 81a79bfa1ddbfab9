"""Check a report PDF against the submission attached to it, and recompute its result.

`verify_pdf` reads the `submission.json` attachment, checks that its SHA-256 is the one printed
in the report, finds the questionnaire it was answered against and checks that file's hash,
then scores the answers again and compares rating, score and gaps with what the report states.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import score
from service.questionnaire.submission import (
    SubmissionRecord,
    canonical_json,
    parse_submission,
    sha256_hex,
)
from service.report.render import ATTACHMENT_NAME, RESULT_PREFIX

HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
STATED = re.compile(
    re.escape(RESULT_PREFIX)
    + r" rating=(?P<rating>[a-z]+); score=(?P<score>[0-9]+(?:\.[0-9])?|none);"
    r" gaps=(?P<gaps>none|[A-Z]{3}-\d{2}(?: [A-Z]{3}-\d{2})*)"
)
MAX_PDF_BYTES = 50 * 1024 * 1024


class NotAReport(Exception):
    """The input is not a PDF at all, or cannot be read (exit 2)."""


@dataclass
class Verification:
    record: SubmissionRecord | None = None
    sha256: str = ""
    differences: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

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


def verify_pdf(
    data: bytes, find_questionnaire: Callable[[SubmissionRecord], Questionnaire | str]
) -> Verification:
    """Every difference between a report and its data; `find_questionnaire` returns the
    questionnaire for a record, or a message saying why there is none."""
    if len(data) > MAX_PDF_BYTES:
        raise NotAReport(f"the file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB")
    content = read_pdf(data)
    out = Verification()
    blobs = content.attachments.get(ATTACHMENT_NAME)
    if not blobs:
        out.differences.append(f"the PDF has no {ATTACHMENT_NAME} attachment")
        return out
    if len(blobs) > 1:
        out.differences.append(f"the PDF has {len(blobs)} {ATTACHMENT_NAME} attachments")
        return out
    raw = blobs[0]
    out.sha256 = sha256_hex(raw)
    try:
        record = parse_submission(raw)
    except ValueError as error:
        out.differences.append(f"the attachment is not a PolicyGap submission: {error}")
        return out
    out.record = record
    if canonical_json(record) != raw:
        out.differences.append("the attachment is not in canonical form (it was rewritten)")

    # the printed hash: 64-hex strings in the text, less the questionnaire's and any in free text
    free = _free_text(record)
    printed = {
        h for h in HEX64.findall(content.text) if h != record.questionnaire_sha256 and h not in free
    }
    if out.sha256 in printed:
        out.checks.append(f"submission SHA-256 {out.sha256} is printed in the report")
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

    found = find_questionnaire(record)
    if isinstance(found, str):
        out.differences.append(found)
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

    try:
        result = score(questionnaire, record.to_answers(), as_of=record.as_of)
    except (ValueError, KeyError, TypeError) as error:
        out.differences.append(f"the answers cannot be scored: {error}")
        return out
    stated = list(STATED.finditer(content.text))
    if not stated:
        out.differences.append("the report does not state its result (no policygap-result line)")
        return out
    if len(stated) > 1:
        out.differences.append("the report states more than one result")
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
    if not out.differences:
        out.checks.append(
            f"result recomputed: rating {result.rating.value}, score {score_text}, "
            f"{len(result.gaps)} gap(s)"
        )
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
