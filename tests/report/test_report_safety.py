"""Free text is printed as text, and rendering fetches nothing: not even from a local listener."""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from service.questionnaire.answers import AnswersFile
from service.report import render
from service.report.assets import BASE_URL
from service.report.fetcher import BlockedURLError, MissingAssetError, SafeURLFetcher
from service.report.inputs import REVIEW_ATTACHMENT
from tests.report.conftest import DATA, load_questionnaire


class Listener:
    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append(self.path)
                body = b"body { background: red }"
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(timeout=5)


def hostile(url: str, secret: Path) -> dict[str, str]:
    return {
        "img": f'<img src="{url}/img.png" alt="x">',
        "css": f"<style>@import url({url}/import.css); body {{ background: url('{url}/bg.png') }}</style>",
        "link": f'<a href="{url}/a">click</a> <link rel="stylesheet" href="{url}/link.css">',
        "attach": f'<link rel="attachment" href="file://{secret}"><a rel="attachment" href="file://{secret}">f</a>',
        "svg": f'<svg><image href="{url}/svg.png"/></svg><object data="{url}/o"></object>',
        "close": "</p></section></div><script>alert(1)</script><iframe src='" + url + "/f'>",
    }


def test_free_text_is_printed_as_text_and_nothing_is_fetched(
    listener: Listener, tmp_path: Path, weasyprint_warnings: list[str]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    bad = hostile(listener.url, secret)
    q = load_questionnaire(DATA / "medium.yaml")
    data = AnswersFile(
        questionnaire=q.id,
        version=q.version,
        agency=bad["close"],
        program=bad["img"],
        as_of=None,
        answers={
            "body_type": "municipal_police",
            "province": "on",
            "uses": ["retrospective"],
            "gallery": "mugshots",
            "searches_per_year": 3,
            "program_description": bad["css"] + bad["svg"],
            "pia_done": "yes",
            "pia_date": "2026-01-01",
        },
        evidence={"pia_done": bad["link"], "policy": bad["attach"]},
    )
    from datetime import date

    report = render.build_report_input(q, data, as_of=date(2026, 11, 26))
    marking = f'Protected A"; }} @page {{ background: url({listener.url}/marking) }}'
    pdf = render.render_pdf(report, marking=marking)
    html = render.render_html(report)

    assert listener.requests == []
    # escaped in the HTML
    assert "<img src=" not in html
    assert "&lt;img src=" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<link rel="attachment"' not in html
    # printed as text in the PDF; only our attachment, not the server's file
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())
    assert "<img src=" in text
    assert "<script>alert(1)</script>" in text
    assert "@import url(" in text
    # only our two attachments: no file of the server was embedded
    assert sorted(reader.attachments) == sorted([render.ATTACHMENT_NAME, REVIEW_ATTACHMENT])
    assert b"TOP-SECRET-CONTENT" not in pdf
    assert weasyprint_warnings == []


def test_the_fetcher_blocks_what_escaping_would_miss(
    listener: Listener, tmp_path: Path, weasyprint_warnings: list[str]
) -> None:
    """Defence in depth: even raw hostile HTML fetches nothing through SafeURLFetcher."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    bad = hostile(listener.url, secret)
    page = "<html><body>" + "".join(bad.values()) + "</body></html>"
    pdf = HTML(string=page, base_url=BASE_URL, url_fetcher=SafeURLFetcher()).write_pdf()
    assert listener.requests == []
    assert b"TOP-SECRET-CONTENT" not in pdf
    assert list(PdfReader(io.BytesIO(pdf)).attachments) == []
    assert any("may not fetch" in w for w in weasyprint_warnings)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://example.org/x.css",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "https://policygap-report.invalid:8443/css/report.css",
        "https://policygap-report.invalid/../../etc/passwd",
        "https://policygap-report.invalid/%2e%2e/%2e%2e/etc/passwd",
        "https://policygap-report.invalid/",
        "http://policygap-report.invalid/css/report.css",
    ],
)
def test_fetcher_refuses(url: str) -> None:
    with pytest.raises(BlockedURLError):
        SafeURLFetcher().fetch(url)


def test_fetcher_allows_data_and_our_assets() -> None:
    fetcher = SafeURLFetcher()
    response = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"
    font = fetcher.fetch(BASE_URL + "fonts/LiberationSans-Regular.ttf")
    assert font.read()[:4] == b"\x00\x01\x00\x00"
    assert font.content_type == "font/ttf"
    with pytest.raises(MissingAssetError):
        fetcher.fetch(BASE_URL + "fonts/missing.ttf")
