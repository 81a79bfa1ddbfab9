"""Decide a document's type from its bytes, never from its name or declared type.

Accepted: PDF, DOCX, XLSX, ODT (ZIP containers, checked by their members), PNG, JPEG and plain
UTF-8 text. A file that is two things at once (a ZIP with a PDF header, an image with a ZIP
appended, text holding markup a browser would run) is refused.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"

EXTENSIONS = {
    PDF: "pdf",
    DOCX: "docx",
    XLSX: "xlsx",
    ODT: "odt",
    PNG: "png",
    JPEG: "jpg",
    TEXT: "txt",
}
# Other extensions a name of that type may keep (a download is served as the detected type).
ALIASES = {JPEG: {"jpeg", "jpe"}, TEXT: {"text", "csv", "md", "log"}}
# A text file named as one of these is refused: someone picked the wrong file, or disguised one.
_BINARY_EXTENSIONS = {"pdf", "docx", "xlsx", "odt", "png", "jpg", "jpeg", "doc", "xls", "gif"}
KINDS = {PDF: "PDF", DOCX: "DOCX", XLSX: "XLSX", ODT: "ODT", PNG: "PNG", JPEG: "JPEG", TEXT: "Text"}

_ZIP = b"PK\x03\x04"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_MAX_ZIP_MEMBERS = 10_000
# Markup a browser would run, or another file inside, anywhere in a text file (not only its head).
_MARKUP = re.compile(rb"<(?:html|script|!doctype|svg|\?xml|body|iframe)|%pdf-", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")  # below space, except \t \n \f \r
CHUNK = 64 * 1024  # a text file is scanned this much at a time
_OVERLAP = 16  # bytes kept from the last chunk, so that markup across two chunks is found
_OTHER_MAGIC = (_ZIP, b"%PDF-", _PNG, _JPEG, b"GIF8", b"\x7fELF", b"MZ", b"\xd0\xcf\x11\xe0")


class Refused(Exception):
    """Not a type we accept; the message says why (a catalogue msgid)."""


@dataclass(frozen=True)
class Sniffed:
    media_type: str


def _zip_type(f: BinaryIO) -> str:
    try:
        archive = zipfile.ZipFile(f)
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise Refused("The file is a damaged ZIP container") from error
    if len(infos) > _MAX_ZIP_MEMBERS:
        raise Refused("The file has too many parts")
    names = {info.filename for info in infos}
    if any(n.endswith("vbaProject.bin") for n in names):
        raise Refused("Documents with macros are not accepted")
    if "mimetype" in names:
        if archive.getinfo("mimetype").file_size > 200:
            raise Refused("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")
        try:
            declared = archive.read("mimetype").strip()
        except (zipfile.BadZipFile, ValueError, OSError, RuntimeError) as error:
            raise Refused("The file is a damaged ZIP container") from error
        if declared == ODT.encode() and "content.xml" in names:
            return ODT
        raise Refused("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names) and "word/document.xml" in names:
            return DOCX
        if any(n.startswith("xl/") for n in names) and "xl/workbook.xml" in names:
            return XLSX
    raise Refused("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")


def _has_zip_tail(f: BinaryIO) -> bool:
    """A ZIP end-of-central-directory record: the file is also readable as an archive."""
    size = f.seek(0, io.SEEK_END)
    f.seek(max(0, size - 66_000))
    if b"PK\x05\x06" not in f.read(66_000):
        return False
    try:
        with zipfile.ZipFile(f) as archive:  # a file object passed in stays open
            return bool(archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def sniff(data: bytes) -> Sniffed:
    """The media type of ``data`` by content, or ``Refused``."""
    return sniff_file(io.BytesIO(data))


def sniff_file(f: BinaryIO) -> Sniffed:
    """The media type of the seekable file ``f`` by content, or ``Refused``; the file is read
    in parts (its head, its tail, a text a chunk at a time), never whole."""
    f.seek(0)
    head = f.read(1024)
    if not head:
        raise Refused("The selected file is empty")
    if head.startswith(b"%PDF-"):
        if _has_zip_tail(f):
            raise Refused("The file is both a PDF and a ZIP archive")
        return Sniffed(PDF)
    if head.startswith(_ZIP):
        if b"%PDF-" in head:
            raise Refused("The file is both a PDF and a ZIP archive")
        return Sniffed(_zip_type(f))
    if head.startswith(_PNG):
        if _has_zip_tail(f) or b"%PDF-" in head:
            raise Refused("The image also holds another kind of file")
        return Sniffed(PNG)
    if head.startswith(_JPEG):
        if _has_zip_tail(f) or b"%PDF-" in head:
            raise Refused("The image also holds another kind of file")
        return Sniffed(JPEG)
    return Sniffed(_text(f, head))


def _text(f: BinaryIO, head: bytes) -> str:
    """Plain UTF-8 text, the whole of it checked a chunk at a time: no NUL or control
    character, no markup a browser would run or another file's signature anywhere."""
    if any(head.startswith(m) for m in _OTHER_MAGIC):
        raise Refused("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    f.seek(0)
    carry = b""
    while True:
        chunk = f.read(CHUNK)
        if b"\x00" in chunk:
            raise Refused("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            raise Refused("A text file must be UTF-8 encoded") from error
        if _CONTROL.search(text):
            raise Refused("The file must be a PDF, DOCX, ODT, XLSX, PNG, JPEG or text file")
        if _MARKUP.search(carry + chunk):
            raise Refused("A text file must not hold web page markup or another file")
        if not chunk:
            return TEXT
        carry = chunk[-_OVERLAP:]


def _extension(name: str) -> str | None:
    stem, dot, ext = name.rpartition(".")
    return ext if dot and stem and 0 < len(ext) <= 8 and ext.isalnum() else None


def check_name(name: str | None, media_type: str) -> None:
    """Refuse a text file whose name says it is a PDF, an office document or an image."""
    ext = _extension((name or "").replace("\\", "/").split("/")[-1].strip(" ."))
    if media_type == TEXT and ext is not None and ext.lower() in _BINARY_EXTENSIONS:
        raise Refused("The file is named as a PDF, office document or image, but it is a text file")


def clean_name(name: str | None, media_type: str) -> str:
    """A display name: the last path component, control and separator characters removed,
    at most 150 characters, never empty. Never used to build a path."""
    raw = (name or "").replace("\\", "/").split("/")[-1]
    kept = "".join(c for c in raw if c.isprintable() and c not in '<>:"|?*').strip(" .")
    wanted = EXTENSIONS[media_type]
    if not kept:
        return f"document.{wanted}"
    # The extension is the detected type's (a download of ``evidence.html`` that is text is
    # ``evidence.txt``, a PDF named ``scan.svg`` is ``scan.pdf``), or one of its aliases.
    ext = _extension(kept)
    stem = kept[: -len(ext) - 1] if ext is not None else kept
    if ext is None or ext.lower() not in {wanted} | ALIASES.get(media_type, set()):
        ext = wanted
    return (stem[: 150 - len(ext) - 1].rstrip(" .") or "document") + "." + ext
