"""Administration pages (``/admin``) and JSON API (``/api/v1/admin``), role ``admin`` only.

``install(app)`` adds these routers, the account-security pages and the redirect to the second
factor's enrolment when an admin requires it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.admin import service as admin_service
from service.admin.service import AdminError, AuditFilter, OrganisationInput
from service.auth import scope, totp
from service.auth.policy import Permission
from service.errors import NotFound, Unprocessable
from service.i18n import labels
from service.models import BodyType, Organisation, OrgKind, Role, User
from service.questionnaire.loader import MAX_BYTES
from service.questionnaire.schema import localize
from service.web.page import PageContext, PageContextDep, PageContextForm, holding

pages = APIRouter(prefix="/admin", tags=["admin pages"], include_in_schema=False)


OrganisationsAdmin = Annotated[User, Depends(holding(Permission.admin_organisations))]
AccountsAdmin = Annotated[User, Depends(holding(Permission.admin_accounts))]
QuestionnairesAdmin = Annotated[User, Depends(holding(Permission.admin_questionnaires))]
AuditAdmin = Annotated[User, Depends(holding(Permission.admin_audit))]


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _page(
    page: PageContext, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    context.setdefault("form_errors", [])
    context.setdefault("provinces", scope.PROVINCES)
    context.setdefault("jurisdiction_codes", scope.JURISDICTIONS)
    return page.render(name, context, status_code=status_code, errors=bool(context["form_errors"]))


# Overview ----------------------------------------------------------------------------------


@pages.get("", name="admin_home")
def admin_home(
    page: PageContextDep,
    admin: AccountsAdmin,
) -> Response:
    return _page(
        page,
        "admin/home.html",
        {"required_roles": totp.required_roles(page.session), "enrolable": totp.ENROLABLE_ROLES},
    )


@pages.post("/security", name="admin_security")
def admin_security(page: PageContextDep, admin: AccountsAdmin, form: PageContextForm) -> Response:
    admin_service.set_required_totp_roles(
        page.session, admin, [str(v) for v in form.getlist("totp")]
    )
    return RedirectResponse("/admin?saved=1", status_code=303)


# Organisations -----------------------------------------------------------------------------


def _org_context(session: Session, org: Organisation | None, kind: str) -> dict[str, Any]:
    all_orgs = admin_service.list_organisations(session)
    return {
        "org": org,
        "kind": kind,
        "regulators": [o for o in all_orgs if o.kind == OrgKind.regulator],
        "agencies": [o for o in all_orgs if o.kind == OrgKind.agency],
        "body_types": [b.value for b in BodyType],
    }


def _org_input(form: Any, kind: str) -> OrganisationInput:
    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    return OrganisationInput(
        kind=kind,
        slug=text("slug"),
        name_en=text("name_en"),
        name_fr=text("name_fr"),
        body_type=text("body_type") or None,
        province=text("province") or None,
        regulator_id=_uuid(form.get("regulator_id")),
        agency_id=_uuid(form.get("agency_id")),
        jurisdictions=[str(v) for v in form.getlist("jurisdictions")],
    )


@pages.get("/organisations", name="admin_organisations")
def admin_organisations(
    page: PageContextDep,
    admin: OrganisationsAdmin,
) -> Response:
    orgs = admin_service.list_organisations(page.session)
    by_id = {o.id: o for o in orgs}
    overseers = {
        o.id: [r for r in orgs if scope.regulator_oversees(r, o)]
        for o in orgs
        if o.kind == OrgKind.agency
    }
    boards = {
        o.id: [b for b in orgs if b.kind == OrgKind.board and b.agency_id == o.id] for o in orgs
    }
    return _page(
        page,
        "admin/organisations.html",
        {
            "orgs": orgs,
            "by_id": by_id,
            "overseers": overseers,
            "boards": boards,
            "jurisdictions": {o.id: sorted(scope.jurisdictions_of(o)) for o in orgs},
        },
    )


@pages.get("/organisations/new", name="admin_new_organisation")
def admin_new_organisation(
    page: PageContextDep,
    admin: OrganisationsAdmin,
    kind: str = "agency",
) -> Response:
    if kind not in {k.value for k in OrgKind}:
        raise NotFound()
    return _page(
        page,
        "admin/organisation.html",
        {**_org_context(page.session, None, kind), "values": OrganisationInput(kind, "", "", "")},
    )


def _save_org_page(
    page: PageContext, admin: User, form: Any, org: Organisation | None, kind: str
) -> Response:
    _ = page._
    data = _org_input(form, kind)
    problems = data.problems(page.session, org.id if org else None)
    if not problems:
        admin_service.save_organisation(page.session, admin, data, org.id if org else None)
        return RedirectResponse("/admin/organisations", status_code=303)
    return _page(
        page,
        "admin/organisation.html",
        {
            **_org_context(page.session, org, kind),
            "values": data,
            "form_errors": [(f, _(m)) for f, m in problems],
        },
        status_code=422,
    )


@pages.post("/organisations", name="admin_create_organisation")
def admin_create_organisation(
    page: PageContextDep,
    admin: OrganisationsAdmin,
    form: PageContextForm,
) -> Response:
    kind = str(form.get("kind") or "")
    if kind not in {k.value for k in OrgKind}:
        raise NotFound()
    return _save_org_page(page, admin, form, None, kind)


def _org_or_404(session: Session, org_id: uuid.UUID) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    return org


@pages.get("/organisations/{org_id}", name="admin_organisation")
def admin_organisation(
    org_id: uuid.UUID,
    page: PageContextDep,
    admin: OrganisationsAdmin,
) -> Response:
    org = _org_or_404(page.session, org_id)
    values = OrganisationInput(
        kind=org.kind,
        slug=org.slug,
        name_en=org.name_en,
        name_fr=org.name_fr,
        body_type=org.body_type,
        province=org.province,
        regulator_id=org.regulator_id,
        agency_id=org.agency_id,
        jurisdictions=list(org.jurisdictions or []),
    )
    return _page(
        page,
        "admin/organisation.html",
        {**_org_context(page.session, org, org.kind), "values": values},
    )


@pages.post("/organisations/{org_id}", name="admin_update_organisation")
def admin_update_organisation(
    org_id: uuid.UUID,
    page: PageContextDep,
    admin: OrganisationsAdmin,
    form: PageContextForm,
) -> Response:
    org = _org_or_404(page.session, org_id)
    return _save_org_page(page, admin, form, org, org.kind)


# Users -------------------------------------------------------------------------------------


def _link(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + f"/account/set-password/{token}"


@pages.get("/users", name="admin_users")
def admin_users(
    page: PageContextDep,
    admin: AccountsAdmin,
) -> Response:
    return _page(
        page,
        "admin/users.html",
        {"users": admin_service.list_users(page.session)},
    )


@pages.get("/users/new", name="admin_new_user")
def admin_new_user(
    page: PageContextDep,
    admin: AccountsAdmin,
) -> Response:
    return _page(
        page,
        "admin/user_new.html",
        {"orgs": admin_service.list_organisations(page.session), "values": {}, "roles": list(Role)},
    )


@pages.post("/users", name="admin_invite_user")
def admin_invite_user(
    page: PageContextDep,
    admin: AccountsAdmin,
    form: PageContextForm,
) -> Response:
    _ = page._
    values = {k: str(form.get(k) or "") for k in ("email", "full_name", "role", "organisation_id")}
    try:
        user, token = admin_service.invite_user(
            page.session,
            admin,
            email=values["email"],
            full_name=values["full_name"],
            role=values["role"],
            organisation_id=_uuid(values["organisation_id"]),
            language=str(form.get("language") or "en"),
        )
    except AdminError as error:
        return _page(
            page,
            "admin/user_new.html",
            {
                "orgs": admin_service.list_organisations(page.session),
                "values": values,
                "roles": list(Role),
                "form_errors": [("email", _(str(error)))],
            },
            status_code=422,
        )
    return _page(
        page,
        "admin/link.html",
        {"target": user, "link": _link(page.request, token), "purpose": "invite"},
    )


def _user_or_404(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


@pages.get("/users/{user_id}", name="admin_user")
def admin_user(
    user_id: uuid.UUID,
    page: PageContextDep,
    admin: AccountsAdmin,
) -> Response:
    target = _user_or_404(page.session, user_id)
    return _page(
        page,
        "admin/user.html",
        {
            "target": target,
            "orgs": admin_service.list_organisations(page.session),
            "roles": list(Role),
        },
    )


@pages.post("/users/{user_id}", name="admin_update_user")
def admin_update_user(
    user_id: uuid.UUID,
    page: PageContextDep,
    admin: AccountsAdmin,
    form: PageContextForm,
) -> Response:
    _ = page._
    target = _user_or_404(page.session, user_id)
    action = str(form.get("action") or "save")
    try:
        if action == "reset":
            token = admin_service.reset_user(page.session, admin, target.id)
            return _page(
                page,
                "admin/link.html",
                {"target": target, "link": _link(page.request, token), "purpose": "reset"},
            )
        if action in ("deactivate", "activate"):
            admin_service.update_user(page.session, admin, target.id, active=action == "activate")
        else:
            admin_service.update_user(
                page.session,
                admin,
                target.id,
                role=str(form.get("role") or ""),
                organisation_id=_uuid(form.get("organisation_id")),
                full_name=str(form.get("full_name") or ""),
            )
    except AdminError as error:
        page.session.expire_all()
        return _page(
            page,
            "admin/user.html",
            {
                "target": page.session.get(User, user_id),
                "orgs": admin_service.list_organisations(page.session),
                "roles": list(Role),
                "form_errors": [("role", _(str(error)))],
            },
            status_code=422,
        )
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


# Questionnaire versions --------------------------------------------------------------------


@pages.get("/questionnaires", name="admin_questionnaires")
def admin_questionnaires(
    page: PageContextDep,
    admin: QuestionnairesAdmin,
) -> Response:
    return _page(
        page,
        "admin/questionnaires.html",
        {"rows": admin_service.questionnaire_versions(page.session, page.registry)},
    )


@pages.post("/questionnaires", name="admin_set_questionnaire")
def admin_set_questionnaire(
    page: PageContextDep, admin: QuestionnairesAdmin, form: PageContextForm
) -> Response:
    try:
        admin_service.set_version_state(
            page.session,
            admin,
            page.registry,
            str(form.get("questionnaire_id") or ""),
            str(form.get("version") or ""),
            str(form.get("state") or ""),
        )
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    return RedirectResponse("/admin/questionnaires", status_code=303)


# Questionnaire files uploaded in the app -------------------------------------------------------

QuestionnaireReviewer = Annotated[User, Depends(holding(Permission.questionnaire_review))]
UPLOAD_ROOM = 64 * 1024  # the multipart envelope around the file


def upload_limits() -> list[tuple[str, int]]:
    """The body limit of the upload route (for ``BodySizeLimitMiddleware``)."""
    return [(r"/admin/questionnaires/upload", MAX_BYTES + UPLOAD_ROOM)]


def _uploads_page(
    page: PageContext,
    *,
    problems: list[Any] | None = None,
    file_name: str = "",
    status_code: int = 200,
) -> Response:
    errors = [("file", page._("The file has problems: nothing was stored"))] if problems else []
    return _page(
        page,
        "admin/questionnaire_upload.html",
        {
            "uploads": admin_service.questionnaire_uploads(page.session),
            "problems": problems or [],
            "file_name": file_name,
            "form_errors": errors,
        },
        status_code=status_code,
    )


@pages.get("/questionnaires/upload", name="admin_questionnaire_upload")
def admin_questionnaire_upload(page: PageContextDep, admin: QuestionnairesAdmin) -> Response:
    return _uploads_page(page)


@pages.post("/questionnaires/upload", name="admin_upload_questionnaire")
async def admin_upload_questionnaire(
    page: PageContextDep, admin: QuestionnairesAdmin, form: PageContextForm
) -> Response:
    upload = form.get("file")
    raw = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    name = (upload.filename or "") if isinstance(upload, UploadFile) else ""
    return await run_in_threadpool(_upload_sync, page, admin, raw, name)


def _upload_sync(page: PageContext, admin: User, raw: bytes, name: str) -> Response:
    if not raw:
        return _page(
            page,
            "admin/questionnaire_upload.html",
            {
                "uploads": admin_service.questionnaire_uploads(page.session),
                "problems": [],
                "file_name": "",
                "form_errors": [("file", page._("Select a questionnaire file (YAML)"))],
            },
            status_code=422,
        )
    outcome = admin_service.upload_questionnaire(page.session, admin, page.registry, name, raw)
    if outcome.upload is None:
        return _uploads_page(page, problems=outcome.problems, file_name=name, status_code=422)
    return RedirectResponse(f"/admin/questionnaires/drafts/{outcome.upload.id}", status_code=303)


def _preview_rows(questionnaire: Any) -> list[dict[str, Any]]:
    """Every section and question in both languages, as the read-only preview shows them."""

    def both(value: Any) -> dict[str, str]:
        return {lang: localize(value, lang) for lang in ("en", "fr")} if value else {}

    return [
        {
            "id": s.id,
            "title": both(s.title),
            "description": both(s.description),
            "questions": [
                {
                    "id": q.id,
                    "type": q.type.value,
                    "required": q.required,
                    "visible_if": q.visible_if or "",
                    "text": both(q.text),
                    "hint": both(q.hint),
                    "guidance": both(q.guidance),
                    "options": [both(o.label) for o in q.choices()],
                }
                for q in s.questions
            ],
        }
        for s in questionnaire.sections
    ]


@pages.get("/questionnaires/drafts", name="admin_questionnaire_drafts")
def admin_questionnaire_drafts(page: PageContextDep, reviewer: QuestionnaireReviewer) -> Response:
    """The uploaded versions, for the admins and reviewers who preview and approve them."""
    return _page(
        page,
        "admin/questionnaire_drafts.html",
        {"uploads": admin_service.questionnaire_uploads(page.session)},
    )


@pages.get("/questionnaires/drafts/{upload_id}", name="admin_questionnaire_draft")
def admin_questionnaire_draft(
    page: PageContextDep, reviewer: QuestionnaireReviewer, upload_id: str
) -> Response:
    key = _uuid(upload_id)
    if key is None:
        raise NotFound()
    row, result = admin_service.draft_of(page.session, reviewer, key)
    q = result.questionnaire
    if q is None:  # pragma: no cover - only valid files are stored
        raise NotFound()
    return _page(
        page,
        "admin/questionnaire_draft.html",
        {
            "row": row,
            "q": q,
            "title": {lang: localize(q.title, lang) for lang in ("en", "fr")},
            "sections": _preview_rows(q),
            "criteria": len(q.criteria),
            "warnings": [p.format() for p in result.warnings],
            "own": row.uploaded_by_id == reviewer.id,
        },
    )


@pages.post("/questionnaires/drafts/{upload_id}/approve", name="admin_approve_questionnaire")
def admin_approve_questionnaire(
    page: PageContextDep, reviewer: QuestionnaireReviewer, upload_id: str, form: PageContextForm
) -> Response:
    key = _uuid(upload_id)
    if key is None:
        raise NotFound()
    try:
        admin_service.approve_upload(page.session, reviewer, key)
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    refresh = getattr(page.request.app.state, "refresh_registry", None)
    if refresh is not None:
        refresh()
    return RedirectResponse(f"/admin/questionnaires/drafts/{key}?published=1", status_code=303)


# Audit log ---------------------------------------------------------------------------------


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    moment = datetime.combine(day, time(0), tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


def _audit_filter(
    who: str | None, what: str | None, since: str | None, until: str | None, org: str | None
) -> AuditFilter:
    return AuditFilter(
        who=(who or "")[:200],
        what=(what or "")[:40],
        since=_day(since),
        until=_day(until, end=True),
        organisation_id=_uuid(org),
    )


def _titles(page: PageContext, questionnaire: tuple[str, str]) -> dict[str, str]:
    """The titles of a questionnaire's sections and the text of its questions, by id."""
    found = page.registry.get(*questionnaire)
    if found is None:
        return {}
    names = {s.id: localize(s.title, page.lang) for s in found.sections}
    names.update({q.id: localize(q.text, page.lang) for q in found.questions()})
    return names


def _audit_details(
    page: PageContext, rows: list[admin_service.AuditRow]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """Each event's detail as (label, words) lines: questions and sections by their titles."""
    colon = "\u00a0:" if page.lang == "fr" else ":"
    titles: dict[tuple[str, str], dict[str, str]] = {}
    out: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for row in rows:
        names: dict[str, str] = {}
        if row.questionnaire is not None:
            if row.questionnaire not in titles:
                titles[row.questionnaire] = _titles(page, row.questionnaire)
            names = titles[row.questionnaire]
        items = labels.detail_items(row.event.detail, page.lang, names=names, limit=4)
        out[row.event.id] = [(f"{label}{colon}", words) for label, words in items]
    return out


@pages.get("/audit", name="admin_audit")
def admin_audit(
    page: PageContextDep,
    admin: AuditAdmin,
    who: str | None = None,
    what: str | None = None,
    since: str | None = None,
    until: str | None = None,
    org: str | None = None,
) -> Response:
    _ = page._
    # dates are typed as yyyy-mm-dd in either language; one that is not is said, not ignored
    form_errors = [
        (field, _("Enter the date as yyyy-mm-dd, for example 2026-11-26"))
        for field, value in (("since", since), ("until", until))
        if value and _day(value) is None
    ]
    filters = _audit_filter(who, what, since, until, org)
    rows = admin_service.audit_log(page.session, filters, limit=500)
    given = {"who": who, "what": what, "since": since, "until": until, "org": org}
    query = {k: v for k, v in given.items() if v}
    return _page(
        page,
        "admin/audit.html",
        {
            "rows": rows,
            "details": _audit_details(page, rows),
            "form_errors": form_errors,
            "actions": admin_service.audit_actions(page.session),
            "orgs": admin_service.list_organisations(page.session),
            "q": {
                "who": who or "",
                "what": what or "",
                "since": since or "",
                "until": until or "",
                "org": org or "",
            },
            "csv_url": "/admin/audit.csv" + ("?" + urlencode(query) if query else ""),
        },
    )


def _csv_response(session: Session, filters: AuditFilter) -> Response:
    body = admin_service.audit_csv(admin_service.audit_log(session, filters, limit=None))
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="policygap-audit.csv"'},
    )


@pages.get("/audit.csv", name="admin_audit_csv")
def admin_audit_csv(
    page: PageContextDep,
    admin: AuditAdmin,
    who: str | None = None,
    what: str | None = None,
    since: str | None = None,
    until: str | None = None,
    org: str | None = None,
) -> Response:
    return _csv_response(page.session, _audit_filter(who, what, since, until, org))


# JSON API ----------------------------------------------------------------------------------


# Installation ------------------------------------------------------------------------------


async def _second_factor_required(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"detail": totp.SecondFactorRequired.message, "code": totp.SecondFactorRequired.code},
            status_code=403,
        )
    return RedirectResponse("/account/totp", status_code=303)


def install(app: FastAPI) -> None:
    """Add the administration routes (and the answer to a missing second factor) to the app."""
    app.add_exception_handler(totp.SecondFactorRequired, _second_factor_required)
    app.include_router(pages)
