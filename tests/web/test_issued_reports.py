"""Issue 14: reports the server issues are signed; `policygap verify` tells them from forgeries.

An untouched report downloaded from the app passes `verify --trust <instance certificate>`; a
page overlay appended to it, a report rendered from scratch with `policygap report --status
accepted` (unsigned, or signed with another key) fail; a report of a returned submission says
so; poppler's `pdfsig` finds the issued signature valid and covering the whole document.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader, PdfWriter
from typer.testing import CliRunner

from service import db
from service.cli import app as cli
from service.report.sign import make_identity
from service.report_delivery import service as delivery
from tests.builders import World, login
from tests.review.helpers import DATA, GOOD
from tests.web.test_report_truth import _pdf_text, _returned_then_accepted

runner = CliRunner()
MINI = DATA / "web-mini.yaml"


def verify(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        cli, ["verify", str(path), "--no-database", "--questionnaires-dir", str(DATA), *args]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.fixture
def issued(app: FastAPI, client: TestClient, world: World, tmp_path: Path) -> dict[str, Path]:
    """Submission 1 returned, submission 2 accepted; both reports downloaded by the officer,
    and the instance certificate."""
    aid = _returned_then_accepted(app, world)
    login(client, world.officer_a.email)
    out: dict[str, Path] = {}
    for number in (1, 2):
        response = client.get(f"/assessments/{aid}/report.pdf?number={number}&lang=en")
        assert response.status_code == 200
        out[f"report{number}"] = tmp_path / f"report-{number}.pdf"
        out[f"report{number}"].write_bytes(response.content)
    with db.new_session(app.state.engine) as session:
        cert = delivery.instance_certificate(session, app.state.settings)
    out["cert"] = tmp_path / "instance.pem"
    out["cert"].write_bytes(cert)
    return out


def test_an_untouched_issued_report_passes_verify(issued: dict[str, Path]) -> None:
    code, output = verify(issued["report2"], "--trust", str(issued["cert"]))
    assert code == 0, output
    assert "ok: signature: valid and covers the whole file" in output
    assert "is trusted" in output
    assert "review state: submission 2 accepted" in output
    assert "verified" in output


def test_a_report_of_a_returned_submission_says_returned(issued: dict[str, Path]) -> None:
    assert "Returned" in _pdf_text(issued["report1"].read_bytes())
    assert "Accepted by" not in _pdf_text(issued["report1"].read_bytes())
    code, output = verify(issued["report1"], "--trust", str(issued["cert"]))
    assert code == 0, output
    assert "review state: submission 1 returned" in output


def test_the_overlay_forgery_fails_verify(issued: dict[str, Path], tmp_path: Path) -> None:
    from weasyprint import HTML

    overlay = HTML(
        string="<style>@page{background:white}</style><p>Rating: GREEN / Status: Accepted</p>"
    ).write_pdf()
    writer = PdfWriter(io.BytesIO(issued["report1"].read_bytes()), incremental=True)
    writer.pages[0].merge_page(PdfReader(io.BytesIO(overlay)).pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    forged = tmp_path / "overlay.pdf"
    forged.write_bytes(buffer.getvalue())
    assert "Rating: GREEN" in _pdf_text(forged.read_bytes())
    code, output = verify(forged, "--trust", str(issued["cert"]))
    assert code == 1, output
    assert "it does not cover the whole file" in output


def _answers_file(tmp_path: Path) -> Path:
    """Another agency's answers, relabelled as the forger likes."""
    path = tmp_path / "answers.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "questionnaire": "web-mini",
                "version": "1.0",
                "agency": "Agency A",
                "program": "Forged program",
                "as_of": "2026-11-26",
                "answers": GOOD,
            }
        ),
        encoding="utf-8",
    )
    return path


def test_a_self_rendered_accepted_report_fails_verify(
    issued: dict[str, Path], tmp_path: Path
) -> None:
    forged = tmp_path / "forged.pdf"
    made = runner.invoke(
        cli,
        [
            "report",
            str(MINI),
            str(_answers_file(tmp_path)),
            "--status",
            "accepted",
            "-o",
            str(forged),
        ],
    )
    assert made.exit_code == 0, made.output
    code, output = verify(forged, "--trust", str(issued["cert"]))
    assert code == 1, output
    assert "unsigned: a draft, not an issued report" in output


def test_a_report_signed_with_another_key_fails_against_trust(
    issued: dict[str, Path], tmp_path: Path
) -> None:
    forger = make_identity("PolicyGap", now=datetime.now(UTC))  # the same name, another key
    key, cert = tmp_path / "forger.key", tmp_path / "forger.pem"
    key.write_bytes(forger.key_pem)
    cert.write_bytes(forger.cert_pem)
    forged = tmp_path / "forged-signed.pdf"
    made = runner.invoke(
        cli,
        [
            "report",
            str(MINI),
            str(_answers_file(tmp_path)),
            "--status",
            "accepted",
            "-o",
            str(forged),
            "--sign-with",
            str(key),
            "--cert",
            str(cert),
        ],
    )
    assert made.exit_code == 0, made.output
    code, output = verify(forged, "--trust", str(issued["cert"]))
    assert code == 1, output
    assert "is not a trusted instance" in output
    # signed by a key that is trusted, it would pass the signature checks: the trust is the point
    code, output = verify(forged, "--trust", str(cert))
    assert "ok: signature: valid and covers the whole file" in output


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) not installed")
def test_pdfsig_finds_the_issued_signature_valid_and_whole(issued: dict[str, Path]) -> None:
    out = subprocess.run(
        ["pdfsig", str(issued["report2"])], capture_output=True, text=True, check=False
    ).stdout
    assert "Signature is Valid." in out
    assert "Total document signed" in out
