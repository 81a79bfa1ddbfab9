"""The result page, the HTML report and the PDF: rendered off the request and cached."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import select

from service import db
from service.assessments.models import Submission
from service.main import create_app
from service.report_delivery.models import ReportCache
from tests.builders import World, login, make_world, submit_mini
from tests.conftest import make_settings


def submit_small_assessment(client: TestClient) -> str:
    """Answer and submit the small test questionnaire; the assessment's base URL."""
    return submit_mini(client)


@pytest.fixture
def prerender_app(sqlite_url: str) -> Iterator[FastAPI]:
    app = create_app(make_settings(sqlite_url, report_prerender=True, embedded_worker=True))
    yield app
    app.state.engine.dispose()


@pytest.mark.slow
def test_submit_prerenders_pdfs_then_downloads_come_from_cache(prerender_app: FastAPI) -> None:
    with TestClient(prerender_app) as client:
        world: World = make_world(prerender_app.state.engine)
        login(client, world.officer_a.email)
        base = submit_small_assessment(client)
        deadline = time.monotonic() + 90
        while True:
            with db.new_session(prerender_app.state.engine) as s:
                rows = s.exec(select(ReportCache)).all()
                sha = s.exec(select(Submission)).one().sha256
            if len(rows) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert sorted(r.language for r in rows) == ["en", "fr"]
        assert all(r.sha256 == sha and r.review_state == "submitted" for r in rows)
        pdf = client.get(base + "/report.pdf?lang=fr")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert pdf.content == next(r.pdf for r in rows if r.language == "fr")
        html = client.get(base + "/report.html?lang=en")
        assert html.status_code == 200
        assert sha in html.text
        assert "script-src" not in html.headers["content-security-policy"]
        assert "default-src 'none'" in html.headers["content-security-policy"]


@pytest.mark.slow
def test_pdf_carries_the_configured_marking_and_paper(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, report_marking="Protected A", report_paper="a4"))
    try:
        with TestClient(app) as client:
            world = make_world(app.state.engine)
            login(client, world.officer_a.email)
            base = submit_small_assessment(client)
            pdf = client.get(base + "/report.pdf?lang=en")
            assert pdf.status_code == 200
            reader = PdfReader(io.BytesIO(pdf.content))
            first = reader.pages[0]
            assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (
                595,
                842,
            )
            # the running header prints the marking in capitals on every page
            assert all("PROTECTED A" in page.extract_text() for page in reader.pages)
    finally:
        app.state.engine.dispose()
