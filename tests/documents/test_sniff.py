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
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\windows\\win.ini", "win.pdf"),
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


def test_markup_anywhere_in_a_text_file_is_refused() -> None:
    """Issue 16: markup after the first 4 KB passed as text/plain."""
    padding = b"Notes of the privacy impact assessment.\n" * 200  # over 4 KB
    assert len(padding) > 4096
    for marker in (b"<script>alert(1)</script>", b"<SVG onload=x>", b"%PDF-1.4"):
        with pytest.raises(sniff.Refused, match="markup"):
            sniff.sniff(padding + marker + b"\n")
    assert sniff.sniff(padding).media_type == sniff.TEXT


@pytest.mark.parametrize(
    ("name", "media_type", "shown"),
    [
        ("evidence.html", sniff.TEXT, "evidence.txt"),
        ("scan.svg", sniff.PDF, "scan.pdf"),
        ("photo.JPEG", sniff.JPEG, "photo.JPEG"),
        ("photo.jpg", sniff.JPEG, "photo.jpg"),
        ("notes.csv", sniff.TEXT, "notes.csv"),
        ("Policy v2.docx", sniff.DOCX, "Policy v2.docx"),
        ("Policy v2", sniff.DOCX, "Policy v2.docx"),
        ("report.pdf.exe", sniff.PDF, "report.pdf.pdf"),
    ],
)
def test_the_name_takes_the_extension_of_the_detected_type(
    name: str, media_type: str, shown: str
) -> None:
    assert sniff.clean_name(name, media_type) == shown


def test_a_text_file_named_as_another_type_is_refused_saying_what_it_is() -> None:
    with pytest.raises(sniff.Refused, match="but it is a text file"):
        sniff.check_name("scan.pdf", sniff.TEXT)
    with pytest.raises(sniff.Refused, match="but it is a text file"):
        sniff.check_name("photo.PNG", sniff.TEXT)
    sniff.check_name("notes.txt", sniff.TEXT)
    sniff.check_name("notes", sniff.TEXT)
    sniff.check_name("scan.svg", sniff.PDF)  # renamed, not refused


def test_a_text_file_is_scanned_whole_a_chunk_at_a_time() -> None:
    """The streamed scan finds markup straddling two chunks, and accepts a UTF-8 character
    whose bytes straddle them."""
    chunk = sniff.CHUNK
    straddling = b"a" * (chunk - 4) + b"<script>alert(1)</script>\n"
    with pytest.raises(sniff.Refused, match="markup"):
        sniff.sniff(straddling)
    accented = b"a" * (chunk - 1) + "é and more\n".encode()
    assert sniff.sniff(accented).media_type == "text/plain"
    broken = b"a" * (chunk * 2) + b"\xc3"
    with pytest.raises(sniff.Refused, match="UTF-8"):
        sniff.sniff(broken)
