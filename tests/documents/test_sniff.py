"""The type is decided by content; names are for display only."""

from __future__ import annotations

import pytest

from service.documents import sniff
from tests.documents import files


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (files.PDF, sniff.PDF),
        (files.PNG, sniff.PNG),
        (files.JPEG, sniff.JPEG),
        (files.TEXT, sniff.TEXT),
        (files.DOCX, sniff.DOCX),
        (files.XLSX, sniff.XLSX),
        (files.ODT, sniff.ODT),
    ],
)
def test_accepted_types(data: bytes, media_type: str) -> None:
    assert sniff.sniff(data).media_type == media_type


@pytest.mark.parametrize(
    "data",
    [
        files.POLYGLOT,
        files.PNG + files.PLAIN_ZIP,
        files.PLAIN_ZIP,
        files.HTML,
        files.EXE,
        b"GIF89a....",
        b"\xff\xfe\x00t\x00e\x00x\x00t",
        b"PK\x03\x04 broken",
        b"",
    ],
    ids=["pdf-zip", "png-zip", "zip", "html", "exe", "gif", "utf16", "broken-zip", "empty"],
)
def test_refused_types(data: bytes) -> None:
    with pytest.raises(sniff.Refused):
        sniff.sniff(data)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("..", "document.pdf"),
        ("", "document.pdf"),
        (None, "document.pdf"),
        ("a\x00b<script>.pdf", "abscript.pdf"),
        ("Rapport d'EFVP é.pdf", "Rapport d'EFVP é.pdf"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_names_are_cleaned(name: str | None, shown: str) -> None:
    assert sniff.clean_name(name, sniff.PDF) == shown


def test_macro_documents_are_refused() -> None:
    from tests.documents.files import _zip

    docm = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document/>",
            "word/vbaProject.bin": b"\x00",
        }
    )
    with pytest.raises(sniff.Refused, match="macros"):
        sniff.sniff(docm)


def test_pdf_with_a_stray_zip_marker_is_still_a_pdf() -> None:
    data = files.PDF + b"stream PK\x05\x06 not a zip endstream\n%%EOF\n"
    assert sniff.sniff(data).media_type == sniff.PDF
