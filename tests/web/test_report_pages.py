"""The result page, the HTML report and the PDF: rendered off the request and cached."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.main import create_app
from service.models import ReportCache, Submission
from tests.builders import World, login, make_world, post_form, start_assessment
from tests.conftest import make_settings


@pytest.fixture
def prerender_app(sqlite_url: str) -> Iterator[FastAPI]:
    app = create_app(make_settings(sqlite_url, report_prerender=True))
    yield app
    app.state.engine.dispose()


@pytest.mark.slow
def test_submit_prerenders_pdfs_then_downloads_come_from_cache(prerender_app: FastAPI) -> None:
    with TestClient(prerender_app) as client:
        world: World = make_world(prerender_app.state.engine)
        login(client, world.officer_a.email)
        base = start_assessment(client)
        post_form(
            client,
            base + "/scope",
            base + "/scope",
            {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"},
        )
        post_form(client, base + "/scope/check", base + "/scope/check", {"completed": "yes"})
        post_form(
            client,
            base + "/governance",
            base + "/governance",
            {"pia_done": "yes", "pia_date": "2021-01-02", "action": "continue"},
        )
        post_form(
            client, base + "/governance/check", base + "/governance/check", {"completed": "yes"}
        )
        assert (
            post_form(
                client, base + "/check-your-answers", base + "/check-your-answers", {}
            ).status_code
            == 303
        )  # type: ignore[attr-defined]
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
        started = time.perf_counter()
        pdf = client.get(base + "/report.pdf?lang=fr")
        assert time.perf_counter() - started < 1.0  # served from the cache
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert pdf.content == next(r.pdf for r in rows if r.language == "fr")
        html = client.get(base + "/report.html?lang=en")
        assert html.status_code == 200
        assert sha in html.text
        assert "script-src" not in html.headers["content-security-policy"]
        assert "default-src 'none'" in html.headers["content-security-policy"]
