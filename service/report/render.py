"""The gap report: one set of Jinja2 templates (reports/templates) for the HTML page and the PDF.

`render_html` and `render_pdf` are module-level functions of picklable inputs, so the web app
can call them in a `ProcessPoolExecutor`. Everything shown is computed in the typed view
(`view.py`) from the Result; templates only lay it out, with autoescape on and StrictUndefined, so free text (answers,
evidence notes, program names, comments) is always escaped.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from functools import lru_cache
from importlib import metadata

import jinja2
from markupsafe import Markup

from service.report import cache, i18n
from service.report.assets import BASE_URL, REPORTS_DIR
from service.report.fetcher import SafeURLFetcher
from service.report.inputs import (
    ATTACHMENT_NAME,
    MAX_MARKING,
    PAPERS,
    REVIEW_ATTACHMENT,
    STATUSES,
    TEMPLATE_VERSION,
    ReportInput,
    ReviewInfo,
    build_report_input,
)
from service.report.sign import SigningIdentity, sign_pdf
from service.report.view import RESULT_PREFIX, ReportView, build_view, stated_line

__all__ = [
    "ATTACHMENT_NAME",
    "MAX_MARKING",
    "PAPERS",
    "RESULT_PREFIX",
    "STATUSES",
    "TEMPLATE_VERSION",
    "ReportInput",
    "ReviewInfo",
    "build_report_input",
    "build_view",
    "cache_key",
    "clear_cache",
    "render_html",
    "render_pdf",
    "render_pdf_cached",
    "report_view",
    "screen_css",
    "stated_line",
    "tool_version",
]


TEMPLATES_DIR = REPORTS_DIR / "templates"
CSS_DIR = REPORTS_DIR / "css"


@lru_cache(maxsize=1)
def tool_version() -> str:
    try:
        return metadata.version("policygap")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


# ---------------------------------------------------------------------------------------------
# Templates


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return env


@lru_cache(maxsize=8)
def _css(name: str) -> str:
    return (CSS_DIR / name).read_text(encoding="utf-8")


def _page_css(lang: str, paper: str) -> str:
    """The @page rules: fixed words from i18n and a whitelisted paper size, never user input."""
    t = i18n.TEXT[lang]
    size = PAPERS[paper]
    return (
        f"@page {{ size: {size};"
        f' @bottom-right {{ content: "{t["page"]} " counter(page) " {t["of"]} " counter(pages); }} }}'
    )


# ---------------------------------------------------------------------------------------------
# Rendering


def report_view(report: ReportInput, lang: str, *, marking: str | None = None) -> ReportView:
    """`build_view` with this installation's tool version, as the templates print it."""
    return build_view(report, lang, marking=marking, tool_version=tool_version())


def _render(
    report: ReportInput,
    lang: str,
    *,
    fragment: bool,
    pdf: bool,
    paper: str = "letter",
    marking: str | None = None,
) -> str:
    view = report_view(report, lang, marking=marking)
    css = _css("report.css")
    if pdf:
        css = _css("fonts.css") + css + _css("print.css") + _page_css(lang, paper)
    template = _environment().get_template("report.html")
    # Review point: the only Markup in the report. It wraps our own style sheets, read from
    # reports/css/ (never user input), so the <style> element is not HTML-escaped.
    style = Markup(css.replace("</", "<\\/"))  # noqa: S704
    return template.render(
        css=style, fragment=fragment, pdf=pdf, view=view, t=view.labels, lang=view.lang
    )


def screen_css() -> str:
    """The report's screen style sheet, for a web page that embeds `render_html(fragment=True)`."""
    return _css("report.css")


def render_html(report: ReportInput, *, lang: str = "en", fragment: bool = False) -> str:
    """The report as an HTML page, or (fragment=True) its body for embedding in a page."""
    return _render(report, lang, fragment=fragment, pdf=False)


def _as_datetime(report: ReportInput) -> datetime:
    rec = report.record
    if rec.submitted_at is not None:
        when = rec.submitted_at
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.combine(rec.as_of, time(0, 0), tzinfo=UTC)


def write_tagged_pdf(
    html: str, report: ReportInput, *, when: datetime, identifier: str, source: str
) -> bytes:
    """``html`` as a tagged PDF (PDF/UA-1) with the record (``source`` describes it) and the
    review state attached, table headers scoped: the full report and the public edition alike."""
    from weasyprint import HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    from service.report.tagging import complete_tables

    fetcher = SafeURLFetcher()
    attachments = [
        Attachment(
            string=report.canonical,
            name=ATTACHMENT_NAME,
            description=source,
            created=when,
            modified=when,
            url_fetcher=fetcher,
            relationship="Source",
        ),
        Attachment(
            string=report.review_record(),
            name=REVIEW_ATTACHMENT,
            description="PolicyGap review state of this submission (covered by the signature)",
            created=when,
            modified=when,
            url_fetcher=fetcher,
            relationship="Data",
        ),
    ]
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    data: bytes = document.write_pdf(
        font_config=FontConfiguration(),
        pdf_variant="pdf/ua-1",
        attachments=attachments,
        pdf_identifier=identifier.encode("ascii"),
        presentational_hints=False,
        uncompressed_pdf=False,
        finisher=complete_tables,  # the tables' header scopes, before signing
    )
    return data


def render_pdf(
    report: ReportInput,
    *,
    lang: str = "en",
    paper: str = "letter",
    marking: str | None = None,
    signer: SigningIdentity | None = None,
) -> bytes:
    """The report as a tagged PDF (PDF/UA-1) with the canonical submission and its review state
    attached; signed (PAdES) by ``signer`` when given, at the time ``report.issued`` names."""
    if paper not in PAPERS:
        raise ValueError(f"unsupported paper {paper!r}; use letter or a4")
    if signer is not None and report.issued is None:
        raise ValueError("a signed report names who issues it and when (report.issued)")
    html = _render(report, lang, fragment=False, pdf=True, paper=paper, marking=marking)
    identifier = hashlib.sha256(
        f"{report.sha256}:{lang}:{paper}:{TEMPLATE_VERSION}".encode()
    ).hexdigest()[:32]
    data = write_tagged_pdf(
        html,
        report,
        when=_as_datetime(report),
        identifier=identifier,
        source="PolicyGap canonical submission (its hash is printed in the report)",
    )
    if signer is not None and report.issued is not None:
        reason = f"PolicyGap report, submission {report.record.number}: {report.status}"
        data = sign_pdf(data, signer, signed_at=report.issued.at, reason=reason)
    return data


# ---------------------------------------------------------------------------------------------
# Cache: a submission never changes, so its rendering can be served again (service/report/cache.py).


def cache_key(
    report: ReportInput, *, lang: str, paper: str = "letter", marking: str | None = None
) -> str:
    """The PDF's key in the one cache-key function (`cache.cache_key`)."""
    return cache.cache_key(
        sha256=report.sha256,
        format="pdf",
        lang=lang,
        status=report.status,
        review=report.review,
        paper=paper,
        marking=marking,
        previous=report.previous,
    )


def render_pdf_cached(
    report: ReportInput,
    *,
    lang: str = "en",
    paper: str = "letter",
    marking: str | None = None,
) -> bytes:
    """`render_pdf`, served from a small in-process cache on a repeated request."""
    key = cache_key(report, lang=lang, paper=paper, marking=marking)
    hit = cache.get(key)
    if hit is not None:
        return hit
    data = render_pdf(report, lang=lang, paper=paper, marking=marking)
    cache.put(key, data)
    return data


def clear_cache() -> None:
    cache.clear()


def warm_up() -> None:
    """Load what every PDF needs in this process (WeasyPrint, the fonts, the templates, the
    signing library) by rendering a one-page document with the report's print styles, so that
    the first real report costs one render and nothing more."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    _environment().get_template("report.html")
    css = _css("fonts.css") + _css("report.css") + _css("print.css") + _page_css("en", "letter")
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>warm-up</title>'
        f"<style>{css}</style></head><body><h1>PolicyGap</h1>"
        "<p>Préparation du rapport · <strong>report</strong> <em>warm-up</em></p></body></html>"
    )
    HTML(string=html, base_url=BASE_URL, url_fetcher=SafeURLFetcher()).write_pdf(
        font_config=FontConfiguration(), pdf_variant="pdf/ua-1"
    )
