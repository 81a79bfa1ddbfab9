"""`policygap report` and `policygap verify`: untouched reports pass, altered ones are caught."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject
from typer.testing import CliRunner

from service.cli import app
from service.questionnaire.submission import canonical_json
from service.report import render
from service.report.render import ReportInput
from tests.report.conftest import (
    DATA,
    FIXTURE_CASES,
    QUESTIONNAIRES,
    RenderCache,
    report_input,
    sample_cases,
)

MEDIUM = DATA / "medium.yaml"
runner = CliRunner()


@pytest.fixture
def lakeshore(rendered_cache: RenderCache) -> tuple[ReportInput, bytes]:
    """The fixture agency's English report, rendered once per session."""
    case = next(c for c in FIXTURE_CASES if c.name == "fixture-lakeshore-en")
    done = rendered_cache.get(case)
    return done.report, done.pdf


def with_attachment(pdf: bytes, data: bytes) -> bytes:
    """The same PDF with its submission.json replaced by `data`."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    names = writer._root_object[NameObject("/Names")]
    del names[NameObject("/EmbeddedFiles")]
    writer.add_attachment(render.ATTACHMENT_NAME, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def verify(path: Path, *args: str) -> tuple[int, str]:
    """`policygap verify` on its own (no instance database beside it); these reports are drafts
    rendered by the command line, unsigned, so they are accepted only with --allow-unsigned."""
    result = runner.invoke(app, ["verify", str(path), "--no-database", "--allow-unsigned", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_untouched_report_is_accepted(lakeshore: tuple[ReportInput, bytes], tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(lakeshore[1])
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 0, out
    assert "verified" in out
    assert lakeshore[0].sha256 in out


def test_sample_agency_found_by_id_and_version(rendered_cache: RenderCache, tmp_path: Path) -> None:
    case = next(c for c in sample_cases() if c.name == "sample-ta2-federal-force-fr")
    path = tmp_path / "ta2.pdf"
    path.write_bytes(rendered_cache.get(case).pdf)
    code, out = verify(path, "--questionnaires-dir", str(QUESTIONNAIRES))
    assert code == 0, out
    # without the folder, it says where it looked
    code, out = verify(path, "--questionnaires-dir", str(tmp_path))
    assert code == 1
    assert "is not in" in out


def test_altered_attachment_is_rejected(
    lakeshore: tuple[ReportInput, bytes], tmp_path: Path
) -> None:
    report, pdf = lakeshore
    data = json.loads(canonical_json(report.record))
    data["evidence"]["policy"] = data["evidence"]["policy"] + " (signed)"
    altered = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path = tmp_path / "altered.pdf"
    path.write_bytes(with_attachment(pdf, altered.encode("utf-8")))
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 1
    assert "is not the SHA-256 of the attached submission" in out


def test_non_canonical_attachment_is_rejected(
    lakeshore: tuple[ReportInput, bytes], tmp_path: Path
) -> None:
    report, pdf = lakeshore
    pretty = json.dumps(json.loads(canonical_json(report.record)), indent=2).encode()
    path = tmp_path / "pretty.pdf"
    path.write_bytes(with_attachment(pdf, pretty))
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 1
    assert "canonical" in out


def test_altered_answers_are_rejected(lakeshore: tuple[ReportInput, bytes], tmp_path: Path) -> None:
    """Answers changed and the hash printed to match: the stated result no longer follows."""
    report, _ = lakeshore
    answers = dict(report.record.answers)
    answers["gallery"] = "mugshots"  # COL-02 becomes met
    record = report.record.model_copy(update={"answers": answers})
    forged = ReportInput(report.questionnaire, record, report.result, report.status)
    path = tmp_path / "forged.pdf"
    path.write_bytes(render.render_pdf(forged))
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 1
    assert "gaps differ" in out
    assert "COL-02" in out
    assert "score: the report says 25.6" in out


def test_report_from_another_submission_is_rejected(
    lakeshore: tuple[ReportInput, bytes], tmp_path: Path
) -> None:
    other = report_input(MEDIUM, DATA / "border.yaml")
    path = tmp_path / "swapped.pdf"
    path.write_bytes(with_attachment(lakeshore[1], other.canonical))
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 1
    assert other.sha256 in out
    assert "rating: the report says red, the answers give green" in out


def test_changed_questionnaire_is_rejected(
    lakeshore: tuple[ReportInput, bytes], tmp_path: Path
) -> None:
    changed = tmp_path / "medium.yaml"
    changed.write_bytes(MEDIUM.read_bytes() + b"\n# edited\n")
    path = tmp_path / "report.pdf"
    path.write_bytes(lakeshore[1])
    code, out = verify(path, "--questionnaire", str(changed))
    assert code == 1
    assert "questionnaire hash differs" in out


def test_report_without_attachment_is_rejected(
    lakeshore: tuple[ReportInput, bytes], tmp_path: Path
) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(lakeshore[1])))
    del writer._root_object[NameObject("/Names")]
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "bare.pdf"
    path.write_bytes(out.getvalue())
    code, text = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 1
    assert "no submission.json attachment" in text


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, not a pdf", b"%PDF-1.7\n garbage \x00\x01", b"<html></html>"],
    ids=["empty", "text", "broken-pdf", "html"],
)
def test_bad_input_exits_2_without_traceback(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code == 2, out
    assert "Traceback" not in out
    code, out = verify(tmp_path / "missing.pdf")
    assert code == 2
    assert "cannot read" in out


def test_truncated_pdf_exits_2(lakeshore: tuple[ReportInput, bytes], tmp_path: Path) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(lakeshore[1][:2000])
    code, out = verify(path, "--questionnaire", str(MEDIUM))
    assert code in (1, 2)
    assert "Traceback" not in out


def test_report_command_writes_pdf_and_html(tmp_path: Path) -> None:
    pdf = tmp_path / "out.pdf"
    html = tmp_path / "out.html"
    result = runner.invoke(
        app,
        [
            "report",
            str(MEDIUM),
            str(DATA / "border.yaml"),
            "-o",
            str(pdf),
            "--lang",
            "fr",
            "--html",
            str(html),
            "--paper",
            "a4",
            "--marking",
            "Protégé B",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "GREEN" in result.output
    reader = PdfReader(pdf)
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert round(float(reader.pages[0].mediabox.height)) == 842
    assert "PROTÉGÉ B" in (reader.pages[1].extract_text() or "")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    code, out = verify(pdf, "--questionnaire", str(MEDIUM))
    assert code == 0, out


def test_report_command_refuses_bad_answers(tmp_path: Path) -> None:
    answers = tmp_path / "bad.yaml"
    answers.write_text(
        'questionnaire: report-fixture\nversion: "2.1"\nanswers:\n  pia_done: yes\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["report", str(MEDIUM), str(answers), "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "x.pdf").exists()
