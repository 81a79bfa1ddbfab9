"""Small sample files of every accepted type, and nasty ones, built in memory."""

from __future__ import annotations

import io
import zipfile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"
TEXT = "Politique de conservation, version 2 (2025-03-01) é\n".encode()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
PLAIN_ZIP = _zip({"readme.txt": b"hello"})
# a PDF that is also a ZIP archive (the ZIP's central directory at the end)
POLYGLOT = PDF + PLAIN_ZIP
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
EXE = b"MZ\x90\x00" + b"\x00" * 60


def compressible_text(size: int, seed: int) -> bytes:
    """``size`` bytes of plain text that deflate shrinks about 185 times: under the archive's
    200:1 check, so an archive of a few of them is small and inflates to much more."""
    import random

    rng = random.Random(seed)
    block = b"Retention schedule, records office: every search is logged and reviewed.\n" * 400
    out = bytearray()
    while len(out) < size:
        out += block[: rng.randrange(500, 8000)] + b"%08x\n" % rng.getrandbits(32)
    return bytes(out[:size])
