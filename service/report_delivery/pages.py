"""The report pages: the result page (the report embedded), the report as a document of its
own (HTML) and as PDF, and the report's screen styles. Every read is audited.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from service.assessments import service as assessment_service
from service.assessments.frame import Page, PageDep
from service.assessments.models import Assessment, Submission
from service.auth import service as auth_service
from service.errors import NotFound
from service.report_delivery import service as web_reports

router = APIRouter(tags=["pages"], include_in_schema=False)


def _submission_or_404(page: Page, assessment: Assessment, number: int | None) -> Submission:
    submission = assessment_service.get_submission(
        session=page.session, assessment_id=assessment.id, viewer=page.viewer, number=number
    )
    if submission is None:
        raise NotFound()
    return submission


def _audit_read(
    page: Page, action: str, assessment: Assessment, submission: Submission, lang: str
) -> None:
    """Who read which report (issue 7: reads are audited, not only changes)."""
    auth_service.record(
        page.session,
        action=action,
        actor_id=page.visitor.user.id if page.visitor.user else None,
        assessment_id=assessment.id,
        submission=submission.number,
        language=lang,
    )


@router.get("/assessments/{assessment_id}/result", name="show_result")
def show_result(page: PageDep, assessment_id: str, number: int | None = None) -> HTMLResponse:
    """The result: the headline, the links to the documents, and the report itself."""
    assessment, agency, questionnaire = page.load(assessment_id)
    submission = _submission_or_404(page, assessment, number)
    _audit_read(page, "report_viewed", assessment, submission, page.visitor.lang)
    report = web_reports.report_html(
        registry=page.registry,
        questionnaire=questionnaire,
        assessment=assessment,
        agency=agency,
        submission=submission,
        lang=page.visitor.lang,
        fragment=True,
    )
    return page.render(
        "report_delivery/result.html",
        page.common(assessment, agency, questionnaire)
        | {
            "submission": submission,
            "result": submission.result,
            # Review point: the one Markup of the pages. The report package renders it with
            # autoescape on and StrictUndefined, from our own templates under reports/.
            "report": Markup(report),  # noqa: S704
            "submissions": assessment_service.submissions(
                session=page.session, assessment_id=assessment.id, viewer=page.viewer
            ),
        },
    )


@router.get("/report.css", name="report_css", include_in_schema=False)
def report_css() -> Response:
    """The report's screen styles, for the result page that embeds the report."""
    return Response(
        web_reports.screen_css(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


REPORT_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)


@router.get("/assessments/{assessment_id}/report.html", name="show_report_html")
def show_report_html(
    page: PageDep, assessment_id: str, lang: str | None = None, number: int | None = None
) -> HTMLResponse:
    """The gap report as a document of its own (its styles are inline, so it has its own CSP)."""
    assessment, agency, questionnaire = page.load(assessment_id)
    submission = _submission_or_404(page, assessment, number)
    report_lang = lang if lang in ("en", "fr") else page.visitor.lang
    _audit_read(page, "report_viewed", assessment, submission, report_lang)
    body = web_reports.report_html(
        registry=page.registry,
        questionnaire=questionnaire,
        assessment=assessment,
        agency=agency,
        submission=submission,
        lang=report_lang,
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/assessments/{assessment_id}/report.pdf", name="download_report")
def download_report(
    page: PageDep, assessment_id: str, lang: str | None = None, number: int | None = None
) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    submission = _submission_or_404(page, assessment, number)
    report_lang = lang if lang in ("en", "fr") else page.visitor.lang
    _audit_read(page, "report_downloaded", assessment, submission, report_lang)
    pdf = web_reports.report_pdf(
        page.request.app,
        session=page.session,
        questionnaire=questionnaire,
        assessment=assessment,
        agency=agency,
        submission=submission,
        lang=report_lang,
    )
    filename = f"policygap-{assessment.id}-{submission.number}-{report_lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
