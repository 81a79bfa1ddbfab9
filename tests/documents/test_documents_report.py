"""A submission's documents: counted as evidence, listed in the report, checked by `verify`."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.questionnaire.scoring import score
from service.questionnaire.submission import DocumentRef, canonical_json
from service.report import render
from tests.report.conftest import DATA, report_input

MEDIUM = DATA / "medium.yaml"
PIA = b"%PDF-1.4\n% the PIA\n%%EOF\n"
PIA_SHA = hashlib.sha256(PIA).hexdigest()
runner = CliRunner()


@pytest.fixture(scope="module")
def with_document() -> render.ReportInput:
    base = report_input(MEDIUM, DATA / "lakeshore.yaml")
    ref = DocumentRef(
        name="PIA <2025>.pdf", size=len(PIA), sha256=PIA_SHA, media_type="application/pdf"
    )
    record = base.record.model_copy(
        update={
            "answers": {**base.record.answers, "pia_done": "yes"},
            "documents": {"pia_done": [ref]},
        }
    )
    return render.build_report_input(base.questionnaire, record)


@pytest.fixture(scope="module")
def pdf(with_document: render.ReportInput) -> bytes:
    return render.render_pdf(with_document, lang="en")


def test_a_document_backs_met_like_a_note(with_document: render.ReportInput) -> None:
    gov = next(c for c in with_document.result.criteria if c.id == "GOV-01")
    assert gov.verdict.value == "met"
    assert gov.documented is True
    bare = with_document.record.model_copy(update={"documents": {}})
    capped = next(
        c
        for c in score(with_document.questionnaire, bare.to_answers(), as_of=bare.as_of).criteria
        if c.id == "GOV-01"
    )
    assert capped.documented is False  # no note and no document: met counts as partial


def test_canonical_json_without_documents_is_unchanged() -> None:
    base = report_input(MEDIUM, DATA / "lakeshore.yaml")
    assert b'"documents"' not in canonical_json(base.record)


def test_report_lists_documents_with_hashes(with_document: render.ReportInput) -> None:
    html = render.render_html(with_document, lang="en")
    assert "PIA &lt;2025&gt;.pdf" in html  # escaped
    assert PIA_SHA in html  # full hash in the appendix
    assert PIA_SHA[:12] in html
    french = render.render_html(with_document, lang="fr")
    assert "Documents" in french


def _verify(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "verify",
            str(path),
            "--no-database",
            "--allow-unsigned",
            "--questionnaire",
            str(MEDIUM),
            *args,
        ],
    )
    return result.exit_code, result.output


def test_verify_checks_frozen_documents(pdf: bytes, tmp_path: Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf)
    code, out = _verify(report)
    assert code == 0, out
    assert "give --documents" in out

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / PIA_SHA).write_bytes(PIA)
    code, out = _verify(report, "--documents", str(folder))
    assert code == 0, out
    assert f"SHA-256 {PIA_SHA} matches" in out

    (folder / PIA_SHA).unlink()
    (folder / "PIA <2025>.pdf").write_bytes(PIA + b"changed")  # found by name, altered
    code, out = _verify(report, "--documents", str(folder))
    assert code == 1
    assert "SHA-256 differs" in out

    (folder / "PIA <2025>.pdf").unlink()
    code, out = _verify(report, "--documents", str(folder))
    assert code == 1
    assert "not found" in out

    archive = tmp_path / "assessment.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"documents/{PIA_SHA}", PIA)
    code, out = _verify(report, "--documents", str(archive))
    assert code == 0, out


def test_draft_preview_counts_documents_as_submit_does(with_document: render.ReportInput) -> None:
    from service.questionnaire.answers import Answers
    from service.questionnaire.submission import answers_with_documents

    rec = with_document.record
    draft = answers_with_documents(
        Answers(values=dict(rec.answers), evidence=dict(rec.evidence)), dict(rec.documents)
    )
    assert dict(draft.evidence) == dict(rec.to_answers().evidence)
    assert draft.evidence["pia_done"] == f"document: PIA <2025>.pdf ({PIA_SHA[:12]})"
