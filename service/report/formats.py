"""Report formats as a registry, and the typed job that crosses to the render process.

A `Format` names a rendering (pdf, html, the html fragment a page of ours embeds; the open
data: OSCAL assessment results and plan, the findings as JSON and CSV; later the public edition) with its media type, file extension and renderer. A `RenderJob` is
everything one rendering needs, picklable for a `ProcessPoolExecutor`; `job.cache_key()` is its
key in any cache (`cache.cache_key`), and `render(job, questionnaire)` makes the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import Result
from service.questionnaire.submission import (
    parse_sealed,
    parse_submission,
    record_hash,
    record_version,
)
from service.report import cache
from service.report.inputs import PAPERS, Issued, ReportInput, ReviewInfo, build_report_input
from service.report.sign import SigningIdentity

Renderer = Callable[[ReportInput, "RenderJob"], bytes]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    media_type: str
    extension: str
    render: Renderer
    cached: bool = False  # worth keeping: slow to make (the PDF)


@dataclass(frozen=True, slots=True)
class RenderJob:
    """One rendering of one submission. Plain and picklable: it crosses to the render process."""

    questionnaire_id: str
    questionnaire_version: str
    canonical: bytes  # the canonical submission JSON
    format: str = "pdf"
    lang: str = "en"
    status: str = "submitted"  # draft | submitted | returned | accepted
    review: ReviewInfo | None = None
    previous: Result | None = None  # the result a reassessment started from
    paper: str = "letter"  # PDF only
    marking: str | None = None  # PDF only
    signer: SigningIdentity | None = None  # PDF only: the instance that issues and signs it

    @property
    def sha256(self) -> str:
        """The submission's hash (the root of a version-2 record's commitments)."""
        return record_hash(self.canonical)

    def cache_key(self) -> str:
        """64 hex digits: usable as a database key; the same job always gives the same key."""
        return cache.cache_key(
            sha256=self.sha256,
            format=self.format,
            lang=self.lang,
            status=self.status,
            review=self.review,
            paper=self.paper,
            marking=self.marking,
            previous=self.previous,
            signer=self.signer.fingerprint if self.signer else "",
        )


def _pdf(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import render as html_pdf  # WeasyPrint: imported where a PDF is made

    return html_pdf.render_pdf(
        report, lang=job.lang, paper=job.paper, marking=job.marking, signer=job.signer
    )


def _html(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import render as html_pdf

    return html_pdf.render_html(report, lang=job.lang).encode("utf-8")


def _fragment(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import render as html_pdf

    return html_pdf.render_html(report, lang=job.lang, fragment=True).encode("utf-8")


def _oscal(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import oscal

    return oscal.dumps(oscal.assessment_results(report, job.lang))


def _oscal_plan(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import oscal

    return oscal.dumps(oscal.assessment_plan(report, job.lang))


def _oscal_poam(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import oscal

    return oscal.dumps(oscal.plan_of_action(report, job.lang))


def _findings_json(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import opendata

    return opendata.findings_json(report, job.lang)


def _findings_csv(report: ReportInput, job: RenderJob) -> bytes:
    from service.report import opendata

    return opendata.findings_csv(report, job.lang)


FORMATS: Mapping[str, Format] = {
    f.name: f
    for f in (
        Format("pdf", "application/pdf", "pdf", _pdf, cached=True),
        Format("html", "text/html; charset=utf-8", "html", _html),
        # the report's body, for a page of ours that links `render.screen_css()`
        Format("html-fragment", "text/html; charset=utf-8", "html", _fragment),
        # open data (docs/open-data.md): OSCAL assessment results and its plan stub, findings
        Format("oscal", "application/json", "oscal.json", _oscal),
        Format("oscal-plan", "application/json", "oscal-ap.json", _oscal_plan),
        # the gaps and the action plan (as at the decision here; live from report delivery)
        Format("oscal-poam", "application/json", "oscal-poam.json", _oscal_poam),
        Format("json", "application/json", "json", _findings_json),
        Format("csv", "text/csv; charset=utf-8", "csv", _findings_csv),
    )
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}") from None


def report_input(
    job: RenderJob, questionnaire: Questionnaire, *, issued: Issued | None = None
) -> ReportInput:
    """What the job's document is made from: its record (either version), review state and the
    result a reassessment started from; the answers scored again (as `verify` does)."""
    source = (
        parse_sealed(job.canonical)
        if record_version(job.canonical) == 2
        else parse_submission(job.canonical)
    )
    return build_report_input(
        questionnaire,
        source,
        status=job.status,
        review=job.review,
        previous=job.previous,
        issued=issued,
    )


def render(job: RenderJob, questionnaire: Questionnaire, *, now: datetime | None = None) -> bytes:
    """The job's document. A PDF is served from the in-process cache on a repeat; a PDF with a
    signer is issued at ``now`` (the clock when not given), printed on its cover and signed."""
    fmt = get_format(job.format)
    if (questionnaire.id, questionnaire.version) != (
        job.questionnaire_id,
        job.questionnaire_version,
    ):
        raise ValueError("the questionnaire is not the one the job names")
    if job.paper not in PAPERS:
        raise ValueError(f"unsupported paper {job.paper!r}; use letter or a4")
    key = job.cache_key() if fmt.cached else None
    if key is not None and (hit := cache.get(key)) is not None:
        return hit
    issued = None
    if job.signer is not None and fmt.name == "pdf":
        at = (now or datetime.now(UTC)).replace(microsecond=0)
        issued = Issued(instance=job.signer.name, at=at)
    report = report_input(job, questionnaire, issued=issued)
    data = fmt.render(report, job)
    if key is not None:
        cache.put(key, data)
    return data
