"""The report pages: the result page (the report embedded), the report as a document of its
own (HTML) and as PDF, and the report's screen styles. Every read is audited.

And the public verify page (``/verify``): anyone uploads a report and reads the checks of
``policygap verify`` in plain language, and the submission's current state when this instance
issued it; rate-limited per client address; nothing is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.assessments import service as assessment_service
from service.assessments.frame import Page, PageDep
from service.assessments.models import Assessment, Submission
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.config import Settings
from service.errors import NotFound
from service.i18n.catalogue import N_
from service.i18n.formats import format_date, format_size
from service.report.i18n import words as report_words
from service.report.verify import NotAReport, Verification, compare_editions
from service.report_delivery import service as web_reports
from service.web.page import PageContext, PublicPageDep, PublicPageForm

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
    """Who read which report (reads are audited, not only changes: the audit log of admin/pages.py)."""
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
    submissions = assessment_service.submissions(
        session=page.session, assessment_id=assessment.id, viewer=page.viewer
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
            # the report's parts, for the page's index (the report's own headings and ids)
            "report_parts": [
                (f"pg-{part}", report_words(page.visitor.lang)[key])
                for part, key in (
                    ("summary", "summary"),
                    ("actions", "action_plan"),
                    ("detail", "detail"),
                    ("method", "method"),
                    ("appendix", "appendix"),
                )
            ],
            "submissions": submissions,
            # about the latest submission only (the one a job renders after a decision)
            "preparing": web_reports.preparing_languages(
                page.request.app, assessment_id=assessment.id
            )
            if submissions and submissions[-1].number == submission.number
            else [],
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


@router.get("/assessments/{assessment_id}/open-data", name="download_open_data")
def download_open_data(
    page: PageDep,
    assessment_id: str,
    format: str = "oscal",
    lang: str | None = None,
    number: int | None = None,
) -> Response:
    """A submission as open data (docs/open-data.md): OSCAL assessment results, plan or plan of
    action and milestones (which also needs the action plan's permission; none for a
    submission without gaps), the findings as JSON or CSV; in its own review state, the same
    bytes on every download."""
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.report_export)
    if format not in web_reports.EXPORT_FORMATS:
        raise NotFound()
    if format == "oscal-poam":
        policy.check(page.viewer.user, Permission.actions_read)
    submission = _submission_or_404(page, assessment, number)
    if format == "oscal-poam" and not submission.result.get("gaps"):
        raise NotFound()
    data_lang = lang if lang in ("en", "fr") else page.visitor.lang
    _audit_read(page, "open_data_downloaded", assessment, submission, data_lang)
    data, fmt = web_reports.export(
        page.session,
        questionnaire=questionnaire,
        assessment=assessment,
        agency=agency,
        submission=submission,
        format=format,
        lang=data_lang,
    )
    filename = f"policygap-{assessment.id}-{submission.number}-{data_lang}.{fmt.extension}"
    return Response(
        data,
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- the public verify page ------------------------------------------------------------------

MULTIPART_ROOM = 64 * 1024  # framing and the CSRF token around the file

# Each check of ``policygap verify`` in plain language: (held, failed).
STEPS: dict[str, tuple[str, str]] = {
    "signature": (
        N_("The report is signed, and nothing was changed or added after it was signed."),
        N_("The report was changed or added to after it was signed."),
    ),
    "signer": (
        N_("It was signed by this service ({name})."),
        N_("It was not signed by this service: another key signed it."),
    ),
    "hash": (
        N_("The submission inside the report matches the fingerprint (SHA-256) printed on it."),
        N_("The report holds no readable submission, or not the one whose fingerprint it prints."),
    ),
    "questionnaire": (
        N_("The questionnaire it was answered against is the one this service holds."),
        N_("The questionnaire it names is not the one this service holds, or is unknown here."),
    ),
    "result": (
        N_("The rating, score and gaps printed follow from the answers inside it."),
        N_("The rating, score or gaps printed do not follow from the answers inside it."),
    ),
    "review": (
        N_("The review state printed on it is the one this service recorded."),
        N_("The review state printed on it is not the one this service recorded."),
    ),
}
UNSIGNED = N_("The report is not signed: it is a draft, not a report this service issued.")


def upload_limits(settings: Settings) -> list[tuple[str, int]]:
    """The body limit of the verify page's upload (for ``BodySizeLimitMiddleware``)."""
    # two files: a public edition and the full report it is checked against
    return [(r"/verify", 2 * web_reports.verify_limit(settings) + MULTIPART_ROOM)]


def _verify_page(
    page: PageContext,
    *,
    errors: list[tuple[str, str]] | None = None,
    outcome: Verification | None = None,
    name: str = "",
    status_code: int = 200,
    against: list[str] | None = None,
) -> HTMLResponse:
    _ = page._
    lang = page.visitor.lang
    context: dict[str, Any] = {
        "form_errors": errors or [],
        "max_size": format_size(web_reports.verify_limit(page.settings), lang),
        "outcome": None,
        "file_name": name,
        "withheld": [],
        "against": against,
    }
    if outcome is not None and outcome.withheld and outcome.record is not None:
        context["withheld"] = web_reports.withheld_words(
            page.registry, outcome.record, outcome.withheld, lang
        )
    if outcome is not None:
        instance = page.settings.instance_name
        rows = []
        unsigned = outcome.signature is None or not outcome.signature.present
        for step, held in outcome.steps.items():
            if step == "signature" and unsigned:
                rows.append({"ok": False, "text": _(UNSIGNED)})
                continue
            text = STEPS[step][0 if held else 1]
            rows.append({"ok": held, "text": _(text, name=instance)})
        state: list[str] = []
        server = outcome.server
        if server is not None:
            when = (
                format_date(date.fromisoformat(server.decided_at), lang)
                if server.decided_at
                else ""
            )
            if server.status == "accepted":
                state.append(
                    _(
                        "Submission {number} was accepted on {date}.",
                        number=server.number,
                        date=when,
                    )
                )
            elif server.status == "returned":
                state.append(
                    _(
                        "Submission {number} was returned to the agency on {date}.",
                        number=server.number,
                        date=when,
                    )
                )
            else:
                state.append(_("Submission {number} is waiting for review.", number=server.number))
            if server.latest_number > server.number:
                state.append(
                    _("It has been superseded by submission {number}.", number=server.latest_number)
                )
        context["outcome"] = {
            "ok": outcome.ok,
            "rows": rows,
            "state": state,
            # each line of ``policygap verify`` in the visitor's language
            "details": [
                *({"ok": True, "text": c.say(_)} for c in outcome.checks),
                *({"ok": False, "text": d.say(_)} for d in outcome.differences),
            ],
        }
    return page.render(
        "report_delivery/verify.html", context, status_code=status_code, errors=bool(errors)
    )


@router.get("/verify", name="show_verify")
def show_verify(page: PublicPageDep) -> HTMLResponse:
    """Anyone may check a report here: no sign-in, nothing stored."""
    return _verify_page(page)


@router.get("/verify/instance.pem", name="instance_certificate")
def instance_certificate(page: PublicPageDep) -> Response:
    """The certificate this instance signs its reports with (for ``policygap verify --trust``)."""
    return Response(
        web_reports.instance_certificate(page.session, page.settings),
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="policygap-instance.pem"'},
    )


@router.post("/verify", name="verify_report")
async def verify_report(page: PublicPageDep, form: PublicPageForm) -> HTMLResponse:
    _ = page._
    request = page.request
    address = request.client.host if request.client else ""
    if not web_reports.allow_verify(page.session, page.settings, address):
        message = _("Too many checks from your address. Wait a minute, then try again")
        return _verify_page(page, errors=[("file", message)], status_code=429)
    upload = form.get("file")
    limit = web_reports.verify_limit(page.settings)
    data = await upload.read(limit + 1) if isinstance(upload, UploadFile) else b""
    name = (upload.filename or "") if isinstance(upload, UploadFile) else ""
    if not data:
        return _verify_page(
            page, errors=[("file", _("Choose the report (PDF) to check"))], status_code=422
        )
    if len(data) > limit:
        size = format_size(limit, page.visitor.lang)
        message = _("The file must be smaller than {size}", size=size)
        return _verify_page(page, errors=[("file", message)], status_code=413)
    try:
        outcome = await run_in_threadpool(
            web_reports.check_report, page.session, page.settings, page.registry, data
        )
    except NotAReport:
        message = _("The file is not a PDF report that can be read")
        return _verify_page(page, errors=[("file", message)], name=name, status_code=422)
    # a public edition may be checked against the full report it comes from (optional)
    full_upload = form.get("full")
    full = await full_upload.read(limit + 1) if isinstance(full_upload, UploadFile) else b""
    if not full:
        return _verify_page(page, outcome=outcome, name=name)
    if len(full) > limit:
        size = format_size(limit, page.visitor.lang)
        message = _("The file must be smaller than {size}", size=size)
        return _verify_page(page, errors=[("full", message)], status_code=413)
    try:
        full_outcome = await run_in_threadpool(
            web_reports.check_report, page.session, page.settings, page.registry, full
        )
    except NotAReport:
        message = _("The file is not a PDF report that can be read")
        return _verify_page(page, errors=[("full", message)], name=name, status_code=422)
    problems = compare_editions(outcome, full_outcome)
    outcome.differences.extend(problems)
    if problems:
        lines = [p.say(_) for p in problems]
    else:
        lines = [
            _(
                "Both come from the same signed submission (fingerprint {sha256}).",
                sha256=outcome.sha256,
            )
        ]
    return _verify_page(page, outcome=outcome, name=name, against=lines)
