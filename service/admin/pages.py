"""Administration pages (``/admin``) and JSON API (``/api/v1/admin``), role ``admin`` only.

``install(app)`` adds these routers, the account-security pages and the redirect to the second
factor's enrolment when an admin requires it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from service.admin import service as admin_service
from service.admin.service import AdminError, AuditFilter, OrganisationInput
from service.auth import scope, totp
from service.auth.deps import ApiUser, CheckedForm, CurrentUser, Visitor, VisitorDep
from service.config import Settings
from service.deps import RegistryDep, SessionDep, SettingsDep
from service.errors import Forbidden, NotFound, Unprocessable
from service.models import BodyType, Organisation, OrgKind, Role, User
from service.web.i18n import Translator
from service.web.templating import render

pages = APIRouter(prefix="/admin", tags=["admin pages"], include_in_schema=False)
api = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _require_admin(user: User) -> User:
    if Role(user.role) is not Role.admin:
        raise Forbidden("Only administrators can do this")
    return user


def get_admin(user: CurrentUser) -> User:
    return _require_admin(user)


def get_api_admin(user: ApiUser) -> User:
    return _require_admin(user)


AdminUser = Annotated[User, Depends(get_admin)]
ApiAdmin = Annotated[User, Depends(get_api_admin)]


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    session: Session,
    settings: Settings,
    visitor: Visitor,
    status_code: int = 200,
) -> Response:
    context.setdefault("form_errors", [])
    context.setdefault("provinces", scope.PROVINCES)
    context.setdefault("jurisdiction_codes", scope.JURISDICTIONS)
    return render(
        request,
        name,
        context,
        session=session,
        settings=settings,
        visitor=visitor,
        status_code=status_code,
        errors=bool(context["form_errors"]),
    )


# Overview ----------------------------------------------------------------------------------


@pages.get("", name="admin_home")
def admin_home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
) -> Response:
    return _page(
        request,
        "admin/home.html",
        {"required_roles": totp.required_roles(session), "enrolable": totp.ENROLABLE_ROLES},
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.post("/security", name="admin_security")
def admin_security(session: SessionDep, admin: AdminUser, form: CheckedForm) -> Response:
    admin_service.set_required_totp_roles(session, admin, [str(v) for v in form.getlist("totp")])
    return RedirectResponse("/admin?saved=1", status_code=303)


# Organisations -----------------------------------------------------------------------------


def _org_context(session: Session, org: Organisation | None, kind: str) -> dict[str, Any]:
    all_orgs = admin_service.list_organisations(session)
    return {
        "org": org,
        "kind": kind,
        "regulators": [o for o in all_orgs if o.kind == OrgKind.regulator.value],
        "agencies": [o for o in all_orgs if o.kind == OrgKind.agency.value],
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
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
) -> Response:
    orgs = admin_service.list_organisations(session)
    by_id = {o.id: o for o in orgs}
    overseers = {
        o.id: [r for r in orgs if scope.regulator_oversees(r, o)]
        for o in orgs
        if o.kind == OrgKind.agency.value
    }
    boards = {
        o.id: [b for b in orgs if b.kind == OrgKind.board.value and b.agency_id == o.id]
        for o in orgs
    }
    return _page(
        request,
        "admin/organisations.html",
        {
            "orgs": orgs,
            "by_id": by_id,
            "overseers": overseers,
            "boards": boards,
            "jurisdictions_of": scope.jurisdictions_of,
        },
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.get("/organisations/new", name="admin_new_organisation")
def admin_new_organisation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
    kind: str = "agency",
) -> Response:
    if kind not in {k.value for k in OrgKind}:
        raise NotFound()
    return _page(
        request,
        "admin/organisation.html",
        {**_org_context(session, None, kind), "values": OrganisationInput(kind, "", "", "")},
        session=session,
        settings=settings,
        visitor=visitor,
    )


def _save_org_page(
    request: Request,
    session: Session,
    settings: Settings,
    visitor: Visitor,
    admin: User,
    form: Any,
    org: Organisation | None,
    kind: str,
) -> Response:
    _ = Translator(visitor.lang)
    data = _org_input(form, kind)
    problems = data.problems(session, org.id if org else None)
    if not problems:
        admin_service.save_organisation(session, admin, data, org.id if org else None)
        return RedirectResponse("/admin/organisations", status_code=303)
    return _page(
        request,
        "admin/organisation.html",
        {
            **_org_context(session, org, kind),
            "values": data,
            "form_errors": [(f, _(m)) for f, m in problems],
        },
        session=session,
        settings=settings,
        visitor=visitor,
        status_code=422,
    )


@pages.post("/organisations", name="admin_create_organisation")
def admin_create_organisation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
    form: CheckedForm,
) -> Response:
    kind = str(form.get("kind") or "")
    if kind not in {k.value for k in OrgKind}:
        raise NotFound()
    return _save_org_page(request, session, settings, visitor, admin, form, None, kind)


def _org_or_404(session: Session, org_id: uuid.UUID) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    return org


@pages.get("/organisations/{org_id}", name="admin_organisation")
def admin_organisation(
    request: Request,
    org_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
) -> Response:
    org = _org_or_404(session, org_id)
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
        request,
        "admin/organisation.html",
        {**_org_context(session, org, org.kind), "values": values},
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.post("/organisations/{org_id}", name="admin_update_organisation")
def admin_update_organisation(
    request: Request,
    org_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
    form: CheckedForm,
) -> Response:
    org = _org_or_404(session, org_id)
    return _save_org_page(request, session, settings, visitor, admin, form, org, org.kind)


# Users -------------------------------------------------------------------------------------


def _link(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + f"/account/set-password/{token}"


@pages.get("/users", name="admin_users")
def admin_users(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
) -> Response:
    return _page(
        request,
        "admin/users.html",
        {"users": admin_service.list_users(session)},
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.get("/users/new", name="admin_new_user")
def admin_new_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
) -> Response:
    return _page(
        request,
        "admin/user_new.html",
        {"orgs": admin_service.list_organisations(session), "values": {}, "roles": list(Role)},
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.post("/users", name="admin_invite_user")
def admin_invite_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
    form: CheckedForm,
) -> Response:
    _ = Translator(visitor.lang)
    values = {k: str(form.get(k) or "") for k in ("email", "full_name", "role", "organisation_id")}
    try:
        user, token = admin_service.invite_user(
            session,
            admin,
            email=values["email"],
            full_name=values["full_name"],
            role=values["role"],
            organisation_id=_uuid(values["organisation_id"]),
            language=str(form.get("language") or "en"),
        )
    except AdminError as error:
        return _page(
            request,
            "admin/user_new.html",
            {
                "orgs": admin_service.list_organisations(session),
                "values": values,
                "roles": list(Role),
                "form_errors": [("email", _(str(error)))],
            },
            session=session,
            settings=settings,
            visitor=visitor,
            status_code=422,
        )
    return _page(
        request,
        "admin/link.html",
        {"target": user, "link": _link(request, token), "purpose": "invite"},
        session=session,
        settings=settings,
        visitor=visitor,
    )


def _user_or_404(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


@pages.get("/users/{user_id}", name="admin_user")
def admin_user(
    request: Request,
    user_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
) -> Response:
    target = _user_or_404(session, user_id)
    return _page(
        request,
        "admin/user.html",
        {"target": target, "orgs": admin_service.list_organisations(session), "roles": list(Role)},
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.post("/users/{user_id}", name="admin_update_user")
def admin_update_user(
    request: Request,
    user_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
    form: CheckedForm,
) -> Response:
    _ = Translator(visitor.lang)
    target = _user_or_404(session, user_id)
    action = str(form.get("action") or "save")
    try:
        if action == "reset":
            token = admin_service.reset_user(session, admin, target.id)
            return _page(
                request,
                "admin/link.html",
                {"target": target, "link": _link(request, token), "purpose": "reset"},
                session=session,
                settings=settings,
                visitor=visitor,
            )
        if action in ("deactivate", "activate"):
            admin_service.update_user(session, admin, target.id, active=action == "activate")
        else:
            admin_service.update_user(
                session,
                admin,
                target.id,
                role=str(form.get("role") or ""),
                organisation_id=_uuid(form.get("organisation_id")),
                full_name=str(form.get("full_name") or ""),
            )
    except AdminError as error:
        session.expire_all()
        return _page(
            request,
            "admin/user.html",
            {
                "target": session.get(User, user_id),
                "orgs": admin_service.list_organisations(session),
                "roles": list(Role),
                "form_errors": [("role", _(str(error)))],
            },
            session=session,
            settings=settings,
            visitor=visitor,
            status_code=422,
        )
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


# Questionnaire versions --------------------------------------------------------------------


@pages.get("/questionnaires", name="admin_questionnaires")
def admin_questionnaires(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    registry: RegistryDep,
    admin: AdminUser,
) -> Response:
    return _page(
        request,
        "admin/questionnaires.html",
        {"rows": admin_service.questionnaire_versions(session, registry)},
        session=session,
        settings=settings,
        visitor=visitor,
    )


@pages.post("/questionnaires", name="admin_set_questionnaire")
def admin_set_questionnaire(
    session: SessionDep, registry: RegistryDep, admin: AdminUser, form: CheckedForm
) -> Response:
    try:
        admin_service.set_version_state(
            session,
            admin,
            registry,
            str(form.get("questionnaire_id") or ""),
            str(form.get("version") or ""),
            str(form.get("state") or ""),
        )
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    return RedirectResponse("/admin/questionnaires", status_code=303)


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


@pages.get("/audit", name="admin_audit")
def admin_audit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    admin: AdminUser,
    who: str | None = None,
    what: str | None = None,
    since: str | None = None,
    until: str | None = None,
    org: str | None = None,
) -> Response:
    filters = _audit_filter(who, what, since, until, org)
    rows = admin_service.audit_log(session, filters, limit=500)
    given = {"who": who, "what": what, "since": since, "until": until, "org": org}
    query = {k: v for k, v in given.items() if v}
    return _page(
        request,
        "admin/audit.html",
        {
            "rows": rows,
            "actions": admin_service.audit_actions(session),
            "orgs": admin_service.list_organisations(session),
            "q": {
                "who": who or "",
                "what": what or "",
                "since": since or "",
                "until": until or "",
                "org": org or "",
            },
            "csv_url": "/admin/audit.csv" + ("?" + urlencode(query) if query else ""),
        },
        session=session,
        settings=settings,
        visitor=visitor,
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
    session: SessionDep,
    admin: AdminUser,
    who: str | None = None,
    what: str | None = None,
    since: str | None = None,
    until: str | None = None,
    org: str | None = None,
) -> Response:
    return _csv_response(session, _audit_filter(who, what, since, until, org))


# JSON API ----------------------------------------------------------------------------------


class OrganisationOut(BaseModel):
    id: uuid.UUID
    kind: str
    slug: str
    name_en: str
    name_fr: str
    body_type: str | None
    province: str | None
    regulator_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    jurisdictions: list[str]
    overseen_by: list[uuid.UUID] = Field(default_factory=list)


class OrganisationIn(BaseModel):
    kind: str
    slug: str
    name_en: str
    name_fr: str
    body_type: str | None = None
    province: str | None = None
    regulator_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    jurisdictions: list[str] | None = None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    organisation_id: uuid.UUID | None
    active: bool
    second_factor: bool


class InviteIn(BaseModel):
    email: str
    full_name: str
    role: str
    organisation_id: uuid.UUID | None = None
    language: str = "en"


class UserPatch(BaseModel):
    role: str | None = None
    organisation_id: uuid.UUID | None = None
    active: bool | None = None
    full_name: str | None = None


class LinkOut(BaseModel):
    user: UserOut
    link: str


class VersionOut(BaseModel):
    file: str
    questionnaire_id: str | None
    version: str | None
    sha256: str
    valid: bool
    errors: list[str]
    warnings: list[str]
    state: str
    assessments: int


class VersionStateIn(BaseModel):
    state: str


class AuditOut(BaseModel):
    at: datetime
    action: str
    actor_id: uuid.UUID | None
    actor_email: str | None
    organisation_id: uuid.UUID | None
    assessment_id: uuid.UUID | None
    detail: dict[str, Any]


def _org_out(org: Organisation, regulators: list[Organisation]) -> OrganisationOut:
    return OrganisationOut(
        id=org.id,
        kind=org.kind,
        slug=org.slug,
        name_en=org.name_en,
        name_fr=org.name_fr,
        body_type=org.body_type,
        province=org.province,
        regulator_id=org.regulator_id,
        agency_id=org.agency_id,
        jurisdictions=sorted(scope.jurisdictions_of(org)) if org.kind == "regulator" else [],
        overseen_by=[r.id for r in regulators if scope.regulator_oversees(r, org)],
    )


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        organisation_id=user.organisation_id,
        active=user.active,
        second_factor=user.totp_secret is not None,
    )


@api.get("/organisations", response_model=list[OrganisationOut])
def api_organisations(session: SessionDep, admin: ApiAdmin) -> list[OrganisationOut]:
    orgs = admin_service.list_organisations(session)
    regulators = [o for o in orgs if o.kind == OrgKind.regulator.value]
    return [_org_out(o, regulators) for o in orgs]


def _api_save_org(
    session: Session, admin: User, body: OrganisationIn, org_id: uuid.UUID | None
) -> OrganisationOut:
    data = OrganisationInput(**body.model_dump())
    problems = data.problems(session, org_id)
    if problems:
        raise Unprocessable(problems[0][1], field=problems[0][0])
    try:
        org = admin_service.save_organisation(session, admin, data, org_id)
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    regulators = [
        o for o in admin_service.list_organisations(session) if o.kind == OrgKind.regulator.value
    ]
    return _org_out(org, regulators)


@api.post("/organisations", response_model=OrganisationOut, status_code=201)
def api_create_organisation(
    session: SessionDep, admin: ApiAdmin, body: OrganisationIn
) -> OrganisationOut:
    return _api_save_org(session, admin, body, None)


@api.put("/organisations/{org_id}", response_model=OrganisationOut)
def api_update_organisation(
    org_id: uuid.UUID, session: SessionDep, admin: ApiAdmin, body: OrganisationIn
) -> OrganisationOut:
    _org_or_404(session, org_id)
    return _api_save_org(session, admin, body, org_id)


@api.get("/users", response_model=list[UserOut])
def api_users(session: SessionDep, admin: ApiAdmin) -> list[UserOut]:
    return [_user_out(u) for u, _o in admin_service.list_users(session)]


@api.post("/users", response_model=LinkOut, status_code=201)
def api_invite_user(
    request: Request, session: SessionDep, admin: ApiAdmin, body: InviteIn
) -> LinkOut:
    try:
        user, token = admin_service.invite_user(session, admin, **body.model_dump())
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    return LinkOut(user=_user_out(user), link=_link(request, token))


@api.patch("/users/{user_id}", response_model=UserOut)
def api_update_user(
    user_id: uuid.UUID, session: SessionDep, admin: ApiAdmin, body: UserPatch
) -> UserOut:
    _user_or_404(session, user_id)
    values = body.model_dump(exclude_unset=True)
    if "organisation_id" in values and "role" not in values:
        values["role"] = _user_or_404(session, user_id).role
    try:
        user = admin_service.update_user(session, admin, user_id, **values)
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    return _user_out(user)


@api.post("/users/{user_id}/reset", response_model=LinkOut)
def api_reset_user(
    request: Request, user_id: uuid.UUID, session: SessionDep, admin: ApiAdmin
) -> LinkOut:
    user = _user_or_404(session, user_id)
    token = admin_service.reset_user(session, admin, user.id)
    return LinkOut(user=_user_out(user), link=_link(request, token))


@api.get("/questionnaires", response_model=list[VersionOut])
def api_questionnaires(
    session: SessionDep, registry: RegistryDep, admin: ApiAdmin
) -> list[VersionOut]:
    return [
        VersionOut(
            file=r.file,
            questionnaire_id=r.questionnaire_id,
            version=r.version,
            sha256=r.sha256,
            valid=not r.errors,
            errors=r.errors,
            warnings=r.warnings,
            state=r.state,
            assessments=r.assessments,
        )
        for r in admin_service.questionnaire_versions(session, registry)
    ]


@api.put("/questionnaires/{questionnaire_id}/{version}", status_code=204)
def api_set_questionnaire(
    questionnaire_id: str,
    version: str,
    session: SessionDep,
    registry: RegistryDep,
    admin: ApiAdmin,
    body: VersionStateIn,
) -> Response:
    if registry.get(questionnaire_id, version) is None:
        raise NotFound()
    try:
        admin_service.set_version_state(
            session, admin, registry, questionnaire_id, version, body.state
        )
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    return Response(status_code=204)


AuditQuery = Annotated[str | None, Query(max_length=200)]


@api.get("/audit", response_model=list[AuditOut])
def api_audit(
    session: SessionDep,
    admin: ApiAdmin,
    who: AuditQuery = None,
    what: AuditQuery = None,
    since: AuditQuery = None,
    until: AuditQuery = None,
    org: AuditQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditOut]:
    rows = admin_service.audit_log(
        session, _audit_filter(who, what, since, until, org), limit=limit
    )
    return [
        AuditOut(
            at=r.event.at,
            action=r.event.action,
            actor_id=r.event.actor_id,
            actor_email=r.actor.email if r.actor else None,
            organisation_id=r.organisation.id if r.organisation else None,
            assessment_id=r.event.assessment_id,
            detail=r.event.detail,
        )
        for r in rows
    ]


@api.get("/audit.csv", response_class=Response)
def api_audit_csv(
    session: SessionDep,
    admin: ApiAdmin,
    who: AuditQuery = None,
    what: AuditQuery = None,
    since: AuditQuery = None,
    until: AuditQuery = None,
    org: AuditQuery = None,
) -> Response:
    return _csv_response(session, _audit_filter(who, what, since, until, org))


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
    app.include_router(api)
