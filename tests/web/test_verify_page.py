"""Issue 14: the public verify page (no sign-in, rate-limited, capped, nothing stored)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader, PdfWriter
from sqlmodel import func, select

from service import db
from service.config import Settings
from service.main import create_app
from service.models import AuditEvent
from service.report_delivery import service as delivery
from service.report_delivery.models import VerifyUse
from tests.builders import World, login
from tests.web.test_report_truth import _returned_then_accepted

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _check(client: TestClient, data: bytes, name: str = "report.pdf", lang: str = "en") -> str:
    headers = {"Accept-Language": lang}
    page = client.get("/verify", headers=headers)
    assert page.status_code == 200
    token = CSRF.search(page.text)
    assert token is not None
    response = client.post(
        "/verify",
        data={"csrf_token": token.group(1)},
        files={"file": (name, data, "application/pdf")},
        headers=headers,
    )
    return f"{response.status_code} {response.text}"


def _downloads(app: FastAPI, world: World) -> tuple[bytes, bytes]:
    aid = _returned_then_accepted(app, world)
    with TestClient(app) as officer:
        login(officer, world.officer_a.email)
        first = officer.get(f"/assessments/{aid}/report.pdf?number=1&lang=en").content
        second = officer.get(f"/assessments/{aid}/report.pdf?number=2&lang=en").content
    return first, second


def test_the_page_is_public_and_offers_the_certificate(app: FastAPI, client: TestClient) -> None:
    page = client.get("/verify")
    assert page.status_code == 200
    assert "Check a gap report" in page.text
    cert = client.get("/verify/instance.pem")
    assert cert.status_code == 200
    assert cert.content.startswith(b"-----BEGIN CERTIFICATE-----")
    with db.new_session(app.state.engine) as session:
        assert cert.content == delivery.instance_certificate(session, app.state.settings)


def test_issued_reports_pass_and_say_where_the_submission_stands(
    app: FastAPI, world: World
) -> None:
    first, second = _downloads(app, world)
    with db.new_session(app.state.engine) as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    with TestClient(app) as anyone:
        out = _check(anyone, second)
        assert out.startswith("200 "), re.findall(r"error-message.*", out)
        assert "This report is authentic and unchanged" in out
        assert "It was signed by this service" in out
        assert "Submission 2 was accepted on" in out
        out = _check(anyone, first)
        assert "This report is authentic and unchanged" in out
        assert "Submission 1 was returned to the agency on" in out
        assert "It has been superseded by submission 2." in out
    with TestClient(app) as francophone:
        fr = _check(francophone, first, lang="fr")
        assert "Ce rapport est authentique et inchangé" in fr
        assert "remplacée par la soumission 2" in fr
    with db.new_session(app.state.engine) as session:  # nothing stored, not even an audit event
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events


def test_forgeries_fail_on_the_page(app: FastAPI, world: World, tmp_path: Path) -> None:
    from weasyprint import HTML

    first, _second = _downloads(app, world)
    overlay = HTML(
        string="<style>@page{background:white}</style><p>Rating: GREEN / Status: Accepted</p>"
    ).write_pdf()
    writer = PdfWriter(io.BytesIO(first), incremental=True)
    writer.pages[0].merge_page(PdfReader(io.BytesIO(overlay)).pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    with TestClient(app) as anyone:
        out = _check(anyone, buffer.getvalue())
        assert "Do not rely on this report" in out, re.findall(r"<li>.*", out)
        assert "The report was changed or added to after it was signed." in out, re.findall(
            r"<li>.*", out
        )
        unsigned = HTML(string="<p>Rating: GREEN</p>").write_pdf()
        out = _check(anyone, unsigned)
        assert "Do not rely on this report" in out
        assert "it is a draft, not a report this service issued" in out
        out = _check(anyone, b"not a pdf at all")
        assert out.startswith("422 ")
        assert "The file is not a PDF report that can be read" in out


def test_the_upload_is_capped_and_the_page_rate_limited(app: FastAPI, client: TestClient) -> None:
    limit = delivery.verify_limit(app.state.settings)
    out = _check(client, b"%PDF-" + b"0" * limit)
    assert out.startswith("413 ")
    out = _check(client, b"")
    assert out.startswith("422 ")
    per_minute = app.state.settings.verify_per_minute
    for _ in range(per_minute - 2):
        _check(client, b"not a pdf")
    out = _check(client, b"not a pdf")
    assert out.startswith("429 ")
    assert "Too many checks from your address" in out


def _technical_details(out: str) -> list[str]:
    block = re.search(r"<details.*?</details>", out, re.S)
    assert block is not None, out
    return [
        html.unescape(re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", item)).strip())
        for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(0), re.S)
    ]


def test_the_technical_details_are_in_french(app: FastAPI, world: World) -> None:
    """Every line of the technical details goes through the catalogue: a French visitor reads
    the checks of an issued report, and the failures of a forged one, in French."""
    first, second = _downloads(app, world)
    writer = PdfWriter(io.BytesIO(first), incremental=True)
    writer.add_blank_page()  # an update after signing
    forged = io.BytesIO()
    writer.write(forged)
    nb = "\u00a0"
    with TestClient(app) as francophone:
        held = _technical_details(_check(francophone, second, lang="fr"))
        failed = _technical_details(_check(francophone, forged.getvalue(), lang="fr"))
    assert held
    assert failed
    english = re.compile(
        r"\b(ok|DIFFERENT|signature: |signer|submission|review state|the report|hash|matches)\b"
    )
    for line in held + failed:
        assert not english.search(line), line
    assert f"Valide{nb}: signature{nb}: valide et couvre tout le fichier" in held[0]
    assert any(f"état de l'examen{nb}: soumission 2 acceptée le" in line for line in held), held
    assert any("résultat recalculé" in line for line in held), held
    assert any(
        f"Échoue{nb}: signature{nb}: elle ne couvre pas tout le fichier" in line for line in failed
    ), failed
    with TestClient(app) as anglophone:
        english_lines = _technical_details(_check(anglophone, second, lang="en"))
    assert english_lines[0].startswith("Holds: signature: valid and covers the whole file")


def test_the_rate_limit_is_shared_by_every_worker(settings: Settings) -> None:
    """Two workers (two apps on one database) count one client's checks together: the limit
    is per client, not per process (each uvicorn worker counted its own before). What is kept
    is a keyed hash of the address and the time, for a minute; never the address or the file."""
    first, second = create_app(settings), create_app(settings)
    with TestClient(first) as one, TestClient(second) as two:
        for n in range(settings.verify_per_minute):
            out = _check(one if n % 2 else two, b"not a pdf")
            assert out.startswith("422 "), out[:200]
        assert _check(one, b"not a pdf").startswith("429 ")
        assert _check(two, b"not a pdf").startswith("429 ")
        other = TestClient(first, client=("198.51.100.7", 5000))
        assert _check(other, b"not a pdf").startswith("422 ")  # another client is not limited
    with db.new_session(first.state.engine) as session:
        kept = session.exec(select(VerifyUse)).all()
    assert kept
    assert all("testclient" not in row.client and len(row.client) == 64 for row in kept)
    first.state.engine.dispose()
    second.state.engine.dispose()
