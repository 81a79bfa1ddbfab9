"""`policygap verify --documents DIR|ARCHIVE.zip`: check the documents a submission froze.

A report can only vouch for the documents it is given. Each frozen document is looked up by its
SHA-256 (a file named ``<sha256>`` or ``<sha256>.<ext>``, also under ``documents/``, as in an
exported assessment archive), else by its display name; its bytes must hash to the frozen value.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from service.questionnaire.submission import DocumentRef, SubmissionRecord

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024


@dataclass
class DocumentCheck:
    checks: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


def _candidates_in_dir(directory: Path, ref: DocumentRef) -> list[Path]:
    found: list[Path] = []
    for base in (directory, directory / "documents"):
        if not base.is_dir():
            continue
        found.extend(p for p in base.glob(ref.sha256 + "*") if p.is_file())
        named = base / Path(ref.name).name
        if named.is_file():
            found.append(named)
    return found


def _read_limited(path: Path) -> bytes | None:
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        return None
    return path.read_bytes()


def check_documents(record: SubmissionRecord, source: Path) -> DocumentCheck:
    """Every frozen document of ``record`` found in ``source`` with the frozen SHA-256."""
    out = DocumentCheck()
    archive: zipfile.ZipFile | None = None
    if source.is_file():
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            out.differences.append(f"{source}: not a folder or a ZIP archive ({error})")
            return out
    try:
        for qid, refs in sorted(record.documents.items()):
            for ref in refs:
                label = f"document {ref.name!r} ({qid})"
                blobs: list[bytes] = []
                if archive is not None:
                    names = set(archive.namelist())
                    for member in (f"documents/{ref.sha256}", ref.sha256):
                        info = archive.getinfo(member) if member in names else None
                        if info is not None and info.file_size <= MAX_DOCUMENT_BYTES:
                            blobs.append(archive.read(info))
                else:
                    for path in _candidates_in_dir(source, ref):
                        data = _read_limited(path)
                        if data is not None:
                            blobs.append(data)
                if not blobs:
                    out.differences.append(f"{label}: not found in {source}")
                    continue
                hashes = {hashlib.sha256(b).hexdigest() for b in blobs}
                if ref.sha256 in hashes:
                    out.checks.append(f"{label}: SHA-256 {ref.sha256} matches")
                else:
                    out.differences.append(
                        f"{label}: SHA-256 differs: the submission froze {ref.sha256}, "
                        f"the file has {', '.join(sorted(hashes))}"
                    )
    finally:
        if archive is not None:
            archive.close()
    return out


def count(record: SubmissionRecord) -> int:
    return sum(len(refs) for refs in record.documents.values())
