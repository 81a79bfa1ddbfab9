"""An assessment as one ZIP archive: ``answers.json`` (the answers-file format),
``documents/<sha256>`` (each document's bytes) and ``manifest.json`` (which document backs which
question, with names, sizes, types and hashes, and the SHA-256 of ``answers.json``).

Import trusts nothing in the archive: only those member names are accepted (so no path can
escape), member count, sizes and compression ratio are capped before anything is inflated, every
document must hash to its name and sniff to its declared type, and the answers must fit the
questionnaire. Nothing is changed unless the whole archive passes.

Memory stays bounded whatever the members inflate to: each document is inflated a chunk at a
time into a spool file (hashed as it goes), sniffed from that file, and later copied from it into
the document store in chunks; only the JSON members are read whole (capped at 2 MB).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.documents.sniff import Refused, check_name, clean_name, sniff_file
from service.i18n.catalogue import N_
from service.questionnaire import loader
from service.questionnaire.answers import AnswersFile, check_answers_file
from service.questionnaire.schema import Questionnaire

FORMAT = "policygap-archive/1"
ANSWERS = "answers.json"
MANIFEST = "manifest.json"
_DOCUMENT = re.compile(r"^documents/([0-9a-f]{64})$")
MAX_MEMBERS = 500
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MB
MAX_JSON_BYTES = 2 * 1024 * 1024
CHUNK = 64 * 1024  # how much of a member is inflated at a time


class ManifestDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=100)
    name: str = Field(max_length=500)
    size: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    media_type: str = Field(max_length=100)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    answers_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    documents: list[ManifestDocument] = Field(default_factory=list, max_length=MAX_MEMBERS)


class BadArchive(Exception):
    """The archive is refused; the message says why, in plain English. ``template`` and
    ``values`` let a page say it in the reader's language (``template`` is a catalogue id;
    ``reason``, when given, is one too)."""

    def __init__(self, template: str, **values: str) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values


@dataclass(frozen=True)
class ArchiveDocument:
    """A checked document of an archive; its bytes wait in a spool file (``path``)."""

    question: str
    name: str
    media_type: str
    sha256: str
    size: int
    path: Path


@dataclass
class Archive:
    """A checked archive. Its documents' spool files live until ``close()`` (or the end of a
    ``with`` block)."""

    answers: AnswersFile
    documents: list[ArchiveDocument]
    spool: Path | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)
            self.spool = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def build(answers: AnswersFile, documents: list[tuple[str, str, str, bytes]]) -> bytes:
    """The archive bytes; ``documents`` are (question, name, media type, data)."""
    answers_bytes = json.dumps(
        answers.model_dump(mode="json", exclude_none=True),
        indent=2,
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")
    entries = []
    blobs: dict[str, bytes] = {}
    for question, name, media_type, data in documents:
        sha = hashlib.sha256(data).hexdigest()
        blobs[sha] = data
        entries.append(
            {
                "question": question,
                "name": name,
                "size": len(data),
                "sha256": sha,
                "media_type": media_type,
            }
        )
    manifest = {
        "format": FORMAT,
        "answers_sha256": hashlib.sha256(answers_bytes).hexdigest(),
        "documents": entries,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr(ANSWERS, answers_bytes)
        for sha, data in sorted(blobs.items()):
            archive.writestr(f"documents/{sha}", data)
    return out.getvalue()


def _spool(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path) -> str:
    """Inflate a member into ``path`` a chunk at a time, never more than ``limit`` bytes
    whatever its header claims; returns its SHA-256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with archive.open(info) as member, path.open("wb") as out:
            while chunk := member.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise BadArchive(N_("{name} is larger than allowed"), name=info.filename)
                digest.update(chunk)
                out.write(chunk)
    except NotImplementedError as error:  # a compression method zipfile cannot inflate
        raise BadArchive(
            N_("{name} is compressed in a way that is not supported"), name=info.filename
        ) from error
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise BadArchive(N_("The archive is damaged")) from error
    return digest.hexdigest()


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, never more than ``limit`` whatever its header claims."""
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except NotImplementedError as error:  # a compression method zipfile cannot inflate
        raise BadArchive(
            N_("{name} is compressed in a way that is not supported"), name=info.filename
        ) from error
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise BadArchive(N_("The archive is damaged")) from error
    if len(data) > limit:
        raise BadArchive(N_("{name} is larger than allowed"), name=info.filename)
    return data


def read(
    raw: bytes,
    questionnaire: Questionnaire,
    *,
    max_document_bytes: int,
    max_total_bytes: int,
    spool_dir: Path | None = None,
) -> Archive:
    """Check an uploaded archive completely; ``BadArchive`` on the first problem. The documents
    are spooled to files in a new folder under ``spool_dir`` (the system's temporary folder when
    None), which the returned archive removes when closed (at once on a refusal)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise BadArchive(N_("The file is not a ZIP archive")) from error
    if spool_dir is not None:
        spool_dir.mkdir(parents=True, exist_ok=True)
    spool = Path(tempfile.mkdtemp(prefix=".archive-", dir=spool_dir))
    try:
        with archive:
            checked = _check(
                archive, infos, questionnaire, max_document_bytes, max_total_bytes, spool
            )
    except BaseException:
        shutil.rmtree(spool, ignore_errors=True)
        raise
    checked.spool = spool
    return checked


def _check(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    questionnaire: Questionnaire,
    max_document_bytes: int,
    max_total_bytes: int,
    spool: Path,
) -> Archive:
    if len(infos) > MAX_MEMBERS:
        raise BadArchive(N_("The archive has too many files"))
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise BadArchive(N_("The archive holds the same file name twice"))
    by_name: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if name not in (ANSWERS, MANIFEST) and not _DOCUMENT.fullmatch(name):
            raise BadArchive(N_("Unexpected file in the archive: {name!r}"), name=name[:100])
        if info.flag_bits & 0x1:
            raise BadArchive(N_("Encrypted archives are not accepted"))
        limit = MAX_JSON_BYTES if name in (ANSWERS, MANIFEST) else max_document_bytes
        if info.file_size > limit:
            raise BadArchive(N_("{name} is larger than allowed"), name=name)
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BadArchive(N_("{name} is compressed suspiciously well (a ZIP bomb?)"), name=name)
        total += info.file_size
        by_name[name] = info
    if total > max_total_bytes:
        raise BadArchive(N_("The archive is larger than allowed once unpacked"))
    if ANSWERS not in by_name or MANIFEST not in by_name:
        raise BadArchive(N_("The archive must hold answers.json and manifest.json"))
    try:
        manifest = Manifest.model_validate_json(_read(archive, by_name[MANIFEST], MAX_JSON_BYTES))
        answers_raw = _read(archive, by_name[ANSWERS], MAX_JSON_BYTES)
        if manifest.format != FORMAT:
            raise BadArchive(N_("The archive format must be {format}"), format=FORMAT)
        if hashlib.sha256(answers_raw).hexdigest() != manifest.answers_sha256:
            raise BadArchive(N_("answers.json does not match the hash in the manifest"))
        # the answers-file reader of the CLI and the web import: depth, numbers and text
        # checked, never a RecursionError
        answers = loader.load_answers(answers_raw, ANSWERS)[0]
        if answers is None:
            raise BadArchive(N_("The manifest or the answers file is not valid"))
    except ValidationError as error:
        raise BadArchive(N_("The manifest or the answers file is not valid")) from error
    problems = check_answers_file(questionnaire, answers)
    if problems:
        raise BadArchive(
            N_("The answers do not fit this questionnaire: {problems}"),
            problems="; ".join(problems[:3]),
        )
    questions = questionnaire.question_index()
    blobs: dict[str, tuple[Path, int]] = {}  # sha256 -> its spool file and size
    documents: list[ArchiveDocument] = []
    for entry in manifest.documents:
        if entry.question not in questions:
            raise BadArchive(
                N_("There is no question {question!r} in this questionnaire"),
                question=entry.question,
            )
        member = f"documents/{entry.sha256}"
        if member not in by_name:
            raise BadArchive(
                N_("The document {name!r} is missing from the archive"), name=entry.name
            )
        if entry.sha256 not in blobs:
            path = spool / entry.sha256
            if _spool(archive, by_name[member], max_document_bytes, path) != entry.sha256:
                raise BadArchive(
                    N_("The document {name!r} does not match its hash"), name=entry.name
                )
            blobs[entry.sha256] = (path, path.stat().st_size)
        path, size = blobs[entry.sha256]
        if size != entry.size:
            raise BadArchive(
                N_("The document {name!r} does not have its stated size"), name=entry.name
            )
        try:
            with path.open("rb") as spooled:
                media_type = sniff_file(spooled).media_type
            check_name(entry.name, media_type)
        except Refused as error:
            raise BadArchive(
                N_("The document {name!r}: {reason}"), name=entry.name, reason=str(error)
            ) from error
        if media_type != entry.media_type:
            raise BadArchive(N_("The document {name!r} is not the type it claims"), name=entry.name)
        documents.append(
            ArchiveDocument(
                question=entry.question,
                name=clean_name(entry.name, media_type),
                media_type=media_type,
                sha256=entry.sha256,
                size=size,
                path=path,
            )
        )
    unused = {n for n in by_name if _DOCUMENT.fullmatch(n)} - {
        f"documents/{d.sha256}" for d in manifest.documents
    }
    if unused:
        raise BadArchive(N_("The archive holds documents the manifest does not list"))
    return Archive(answers=answers, documents=documents)
