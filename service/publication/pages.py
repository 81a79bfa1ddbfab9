"""The public edition's pages.

Behind sign-in, ``/assessments/{id}/public-edition``: the agency's officer prepares it, the
regulator releases it (or sends it back, changes or withdraws it), the board and the admin read
it beside the full text. Without sign-in, ``/public/...``: the published records, their PDFs in
English and French and their JSON. The public pages start no session and send no cookie: they
never read the session cookie, and their page context has no CSRF token to ask for.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from service.assessments.frame import Page, PageDep, PageForm
from service.auth import policy
from service.auth.deps import Visitor
from service.auth.policy import Permission
from service.deps import request_session
from service.errors import AppError, NotFound, Unprocessable
from service.models import EditionStatus, OrgKind
from service.publication import service as publication
from service.questionnaire.publication import reason_index
from service.questionnaire.schema import Questionnaire, localize
from service.report import opendata
from service.report import public as public_report
from service.web.page import PageContext, form_version, parse_id, redirect

router = APIRouter(tags=["pages"], include_in_schema=False)

PUBLIC_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
LANGS = ("en", "fr")
FIELD_IDS = frozenset({"note", "reason"})  # the regulator's text fields, linked by their own id


# --- behind sign-in: prepare, release, read -------------------------------------------------------


def _edition_page(
    page: Page,
    assessment_id: str,
    *,
    errors: list[tuple[str, str]] | None = None,
    posted: dict[str, tuple[bool, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.report_read)
    lang = page.visitor.lang
    submission = publication.accepted_submission(page.session, page.viewer, assessment)
    context: dict[str, Any] = page.common(assessment, agency, questionnaire) | {
        "submission": submission,
        "edition": None,
        "rows": [],
        "errors": [(f"item-{field}", page._(message)) for field, message in errors or []],
        "error_of": {},
    }
    if submission is None:
        return page.render("publication/edition.html", context, status_code=status_code)
    sealed = publication.sealed_of(submission)
    edition = publication.edition_of(page.session, submission)
    rows = publication.item_rows(questionnaire, sealed, edition, lang)
    if posted:
        rows = [
            replace(r, publish=posted[r.path][0], reason=posted[r.path][1])
            if r.path in posted
            else r
            for r in rows
        ]
    index_of = {r.path: r.index for r in rows}
    error_of = {index_of.get(f, f): page._(m) for f, m in errors or []}
    user = page.viewer.user
    org = page.viewer.organisation
    is_agency = org is not None and org.id == assessment.organisation_id
    status = edition.status if edition is not None else EditionStatus.draft
    context |= {
        "edition": edition,
        "status": status,
        "rows": rows,
        "reasons": [
            {"key": r.key, "label": localize(r.label, lang)}
            for r in publication.reasons_offered(questionnaire, submission)
        ],
        "reason_words": {
            k: localize(r.label, lang) for k, r in reason_index(questionnaire).items()
        },
        "errors": [
            (f if f in FIELD_IDS else f"item-{index_of.get(f, f)}", page._(m))
            for f, m in errors or []
        ],
        "error_of": error_of,
        "may_prepare": policy.allowed(user.role, Permission.public_prepare)
        and is_agency
        and status == EditionStatus.draft,
        "may_release": policy.allowed(user.role, Permission.public_release)
        and org is not None
        and org.kind == OrgKind.regulator
        and edition is not None
        and status in (EditionStatus.proposed, EditionStatus.released),
        "may_withdraw": policy.allowed(user.role, Permission.public_release)
        and org is not None
        and org.kind == OrgKind.regulator
        and edition is not None
        and status == EditionStatus.released,
        "version": edition.version if edition is not None else 0,
        "withheld_count": sum(1 for r in rows if not r.publish),
    }
    return page.render(
        "publication/edition.html", context, status_code=status_code, errors=bool(errors)
    )


@router.get("/assessments/{assessment_id}/public-edition", name="show_public_edition")
def show_public_edition(page: PageDep, assessment_id: str) -> HTMLResponse:
    """The public edition of an accepted assessment: to prepare, to release, or to read."""
    return _edition_page(page, assessment_id)


def _proposal(
    form: FormData, rows: list[publication.ItemRow]
) -> tuple[publication.Proposal, dict[str, tuple[bool, str]], list[tuple[str, str]]]:
    decisions: dict[str, tuple[bool, str]] = {}
    for r in rows:
        choice = form.get(f"publish-{r.index}")
        if choice not in ("publish", "withhold"):
            continue
        reason = form.get(f"reason-{r.index}")
        decisions[r.path] = (choice == "publish", reason if isinstance(reason, str) else "")
    raw = form.get("next_review")
    next_review: date | None = None
    problems: list[tuple[str, str]] = []
    if isinstance(raw, str) and raw.strip():
        try:
            next_review = date.fromisoformat(raw.strip())
        except ValueError:
            problems.append(("next_review", "Enter the next review date as YYYY-MM-DD"))
    return publication.Proposal(decisions, next_review), decisions, problems


def _rows_for(page: Page, assessment_id: str) -> tuple[uuid.UUID, Questionnaire, list[Any]]:
    assessment, _agency, questionnaire = page.load(assessment_id)
    submission = publication.accepted_submission(page.session, page.viewer, assessment)
    if submission is None:
        raise NotFound()
    edition = publication.edition_of(page.session, submission)
    rows = publication.item_rows(
        questionnaire, publication.sealed_of(submission), edition, page.visitor.lang
    )
    return assessment.id, questionnaire, rows


def _refused(
    page: Page,
    assessment_id: str,
    error: AppError,
    posted: dict[str, tuple[bool, str]] | None = None,
) -> HTMLResponse:
    if isinstance(error, Unprocessable):
        found = [
            (str(e["loc"][0]), str(e["msg"])) for e in error.detail.get("errors", []) if e["loc"]
        ]
        return _edition_page(
            page,
            assessment_id,
            errors=found or [("form", error.message)],
            posted=posted,
            status_code=422,
        )
    return _edition_page(
        page,
        assessment_id,
        errors=[("form", error.message)],
        posted=posted,
        status_code=error.status_code,
    )


@router.post("/assessments/{assessment_id}/public-edition", name="save_public_edition")
def save_public_edition(page: PageDep, form: PageForm, assessment_id: str) -> Response:
    """The agency's officer saves the edition, or sends it to the regulator."""
    policy.check(page.viewer.user, Permission.public_prepare)
    aid, questionnaire, rows = _rows_for(page, assessment_id)
    proposal, posted, problems = _proposal(form, rows)
    if problems:
        return _edition_page(page, assessment_id, errors=problems, posted=posted, status_code=422)
    try:
        publication.save(
            session=page.session,
            viewer=page.viewer,
            questionnaire=questionnaire,
            assessment_id=aid,
            expected_version=form_version(form),
            proposal=proposal,
            propose=form.get("action") == "propose",
        )
    except AppError as error:
        return _refused(page, assessment_id, error, posted)
    return redirect(f"/assessments/{aid}/public-edition")


@router.post("/assessments/{assessment_id}/public-edition/release", name="release_public_edition")
def release_public_edition(page: PageDep, form: PageForm, assessment_id: str) -> Response:
    """The regulator releases the proposed edition, or changes the released one."""
    policy.check(page.viewer.user, Permission.public_release)
    aid, questionnaire, rows = _rows_for(page, assessment_id)
    proposal, posted, problems = _proposal(form, rows)
    if problems:
        return _edition_page(page, assessment_id, errors=problems, posted=posted, status_code=422)
    try:
        edition = publication.release(
            session=page.session,
            viewer=page.viewer,
            questionnaire=questionnaire,
            assessment_id=aid,
            expected_version=form_version(form),
            proposal=proposal if posted else None,
        )
    except AppError as error:
        return _refused(page, assessment_id, error, posted)
    publication.prerender(page.request.app, edition)
    return redirect(f"/assessments/{aid}/public-edition")


@router.post("/assessments/{assessment_id}/public-edition/return", name="return_public_edition")
def return_public_edition(page: PageDep, form: PageForm, assessment_id: str) -> Response:
    """The regulator sends the proposal back to the agency, saying why."""
    policy.check(page.viewer.user, Permission.public_release)
    aid = parse_id(assessment_id)  # the use case loads the assessment and checks who may
    note = form.get("note")
    try:
        publication.send_back(
            session=page.session,
            viewer=page.viewer,
            assessment_id=aid,
            expected_version=form_version(form),
            note=note if isinstance(note, str) else "",
        )
    except AppError as error:
        return _refused(page, assessment_id, error)
    return redirect(f"/assessments/{aid}/public-edition")


@router.post("/assessments/{assessment_id}/public-edition/withdraw", name="withdraw_public_edition")
def withdraw_public_edition(page: PageDep, form: PageForm, assessment_id: str) -> Response:
    """The regulator withdraws the released record (it stays, saying when and why)."""
    policy.check(page.viewer.user, Permission.public_release)
    aid = parse_id(assessment_id)  # the use case loads the assessment and checks who may
    reason = form.get("reason")
    try:
        publication.withdraw(
            session=page.session,
            viewer=page.viewer,
            assessment_id=aid,
            expected_version=form_version(form),
            reason=reason if isinstance(reason, str) else "",
        )
    except AppError as error:
        return _refused(page, assessment_id, error)
    return redirect(f"/assessments/{aid}/public-edition")


# --- without sign-in: the published records --------------------------------------------------------


class PublishedPage(PageContext):
    """A published page: no session is read, none is started, so no cookie is ever sent."""

    @property
    def csrf_token(self) -> str | None:
        return None


async def get_published_page(request: Request) -> AsyncIterator[PublishedPage]:
    """The page context of a published page: an anonymous visitor in the language the address
    asks for (``?lang=fr``), whatever cookie the browser sends."""
    state = request.app.state
    asked = request.query_params.get("lang")
    lang = asked if asked in LANGS else state.settings.default_language
    async with request_session(request) as session:
        visitor = Visitor(None, None, None, lang=lang)
        request.state.visitor = visitor
        yield PublishedPage(request, session, state.settings, state.registry, visitor)


PublishedDep = Annotated[PublishedPage, Depends(get_published_page)]


def _lang(page: PublishedPage) -> str:
    return page.visitor.lang


def _record_id(raw: str) -> uuid.UUID:
    return parse_id(raw)


@router.get("/public/", name="public_list")
def public_list(
    page: PublishedDep,
    q: str = "",
    regulator: str = "",
    agency: str = "",
    withdrawn: str = "",
) -> HTMLResponse:
    """The published records, by regulator and agency, with search and filters."""
    lang = _lang(page)

    def as_id(raw: str) -> uuid.UUID | None:
        try:
            return uuid.UUID(raw) if raw else None
        except ValueError:
            return None

    regulators, agencies = publication.filters(page.session)
    rows = publication.published(
        page.session,
        query=q,
        regulator_id=as_id(regulator),
        agency_id=as_id(agency),
        include_withdrawn=withdrawn != "hide",
    )
    items = []
    for row in rows:
        questionnaire = page.registry.get(
            row.assessment.questionnaire_id, row.assessment.questionnaire_version
        )
        items.append(
            {
                "id": str(row.edition.id),
                "agency": row.agency.name(lang),
                "regulator": row.regulator.name(lang) if row.regulator else "",
                "program": row.assessment.program,
                "questionnaire": localize(questionnaire.title, lang) if questionnaire else "",
                "rating": row.submission.result.get("rating", ""),
                "released": row.edition.released_at.date().isoformat()
                if row.edition.released_at
                else "",
                "withdrawn": row.edition.withdrawn_at.date().isoformat()
                if row.edition.withdrawn_at
                else "",
            }
        )
    context = {
        "items": items,
        "q": q[:100],
        "regulators": [{"id": str(o.id), "name": o.name(lang)} for o in regulators],
        "agencies": [{"id": str(o.id), "name": o.name(lang)} for o in agencies],
        "regulator": regulator,
        "agency": agency,
        "withdrawn": withdrawn,
        "switch_url": f"/public/?lang={'fr' if lang == 'en' else 'en'}",
    }
    return page.render("publication/list.html", context)


def _register(page: PublishedPage) -> list[dict[str, Any]]:
    base = str(page.request.base_url).rstrip("/")
    return publication.register_rows(publication.published(page.session), _lang(page), base)


@router.get("/public/register.json", name="public_register_json")
def public_register_json(page: PublishedDep) -> Response:
    """Every published record as open data (docs/open-data.md, "The public register")."""
    data = {
        "format": publication.REGISTER_FORMAT,
        "language": _lang(page),
        "records": _register(page),
    }
    return Response(opendata.dumps(data), media_type="application/json")


@router.get("/public/register.csv", name="public_register_csv")
def public_register_csv(page: PublishedDep) -> Response:
    body = opendata.write_csv(list(publication.REGISTER_COLUMNS), _register(page))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="policygap-register.csv"'},
    )


@router.get("/public/register.labels.csv", name="public_register_labels")
def public_register_labels() -> Response:
    """The register's column labels in English and French (the header row's companion)."""
    return Response(
        opendata.labels_csv(publication.REGISTER_COLUMNS), media_type="text/csv; charset=utf-8"
    )


@router.get("/public/record.css", name="public_css")
def public_css() -> Response:
    return Response(
        public_report.public_css(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/public/{record_id}", name="public_record")
def public_record(page: PublishedDep, record_id: str) -> HTMLResponse:
    """One published record, in the language the address asks for, with a switch."""
    lang = _lang(page)
    row = publication.published_one(page.session, _record_id(record_id))
    inp = publication.public_input(page.session, page.registry, row)
    # Review point: the public edition's own renderer (autoescape on, StrictUndefined) made
    # this HTML from the redacted record; nothing withheld reaches it.
    body = Markup(public_report.render_public_html(inp, lang, fragment=True))  # noqa: S704
    other = "fr" if lang == "en" else "en"
    context = {
        "record": body,
        "record_id": str(row.edition.id),
        "agency": row.agency.name(lang),
        "program": row.assessment.program,
        "withdrawn": row.edition.status == EditionStatus.withdrawn,
        "switch_url": f"/public/{row.edition.id}?lang={other}",
    }
    response = page.render("publication/record.html", context)
    return response


@router.get("/public/{record_id}/record-{lang}.pdf", name="public_record_pdf")
def public_record_pdf(page: PublishedDep, record_id: str, lang: str) -> Response:
    """The record's signed PDF, one file per language."""
    if lang not in LANGS:
        raise NotFound()
    row = publication.published_one(page.session, _record_id(record_id))
    if row.edition.status == EditionStatus.withdrawn:
        raise NotFound()
    data = publication.pdf(page.request.app, page.session, page.registry, row, lang)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="policygap-public-{row.edition.id}-{lang}.pdf"'
        },
    )


@router.get("/public/{record_id}/record.json", name="public_record_json")
def public_record_json(page: PublishedDep, record_id: str) -> Response:
    """The record as open data (docs/open-data.md, "The public edition")."""
    row = publication.published_one(page.session, _record_id(record_id))
    inp = publication.public_input(page.session, page.registry, row)
    return Response(public_report.public_json(inp), media_type="application/json")
