"""The administration JSON API (``/api/v1/admin``), role ``admin`` only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from service.admin import service as admin_service
from service.admin.pages import (
    _audit_filter,
    _csv_response,
    _link,
    _org_or_404,
    _user_or_404,
)
from service.admin.schemas import (
    AuditOut,
    InviteIn,
    LinkOut,
    OrganisationIn,
    OrganisationOut,
    UserOut,
    UserPatch,
    VersionOut,
    VersionStateIn,
)
from service.admin.service import AdminError, OrganisationInput
from service.api.deps import require
from service.auth import scope
from service.auth.policy import Permission
from service.deps import RegistryDep, SessionDep
from service.errors import NotFound, Unprocessable
from service.models import Organisation, OrgKind, User

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


ApiOrganisationsAdmin = Annotated[User, require(Permission.admin_organisations)]
ApiAccountsAdmin = Annotated[User, require(Permission.admin_accounts)]
ApiQuestionnairesAdmin = Annotated[User, require(Permission.admin_questionnaires)]
ApiAuditAdmin = Annotated[User, require(Permission.admin_audit)]


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


@router.get("/organisations", response_model=list[OrganisationOut])
def api_organisations(session: SessionDep, admin: ApiOrganisationsAdmin) -> list[OrganisationOut]:
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


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
def api_create_organisation(
    session: SessionDep, admin: ApiOrganisationsAdmin, body: OrganisationIn
) -> OrganisationOut:
    return _api_save_org(session, admin, body, None)


@router.put("/organisations/{org_id}", response_model=OrganisationOut)
def api_update_organisation(
    org_id: uuid.UUID, session: SessionDep, admin: ApiOrganisationsAdmin, body: OrganisationIn
) -> OrganisationOut:
    _org_or_404(session, org_id)
    return _api_save_org(session, admin, body, org_id)


@router.get("/users", response_model=list[UserOut])
def api_users(session: SessionDep, admin: ApiAccountsAdmin) -> list[UserOut]:
    return [_user_out(u) for u, _o in admin_service.list_users(session)]


@router.post("/users", response_model=LinkOut, status_code=201)
def api_invite_user(
    request: Request, session: SessionDep, admin: ApiAccountsAdmin, body: InviteIn
) -> LinkOut:
    try:
        user, token = admin_service.invite_user(session, admin, **body.model_dump())
    except AdminError as error:
        raise Unprocessable(str(error)) from error
    return LinkOut(user=_user_out(user), link=_link(request, token))


@router.patch("/users/{user_id}", response_model=UserOut)
def api_update_user(
    user_id: uuid.UUID, session: SessionDep, admin: ApiAccountsAdmin, body: UserPatch
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


@router.post("/users/{user_id}/reset", response_model=LinkOut)
def api_reset_user(
    request: Request, user_id: uuid.UUID, session: SessionDep, admin: ApiAccountsAdmin
) -> LinkOut:
    user = _user_or_404(session, user_id)
    token = admin_service.reset_user(session, admin, user.id)
    return LinkOut(user=_user_out(user), link=_link(request, token))


@router.get("/questionnaires", response_model=list[VersionOut])
def api_questionnaires(
    session: SessionDep, registry: RegistryDep, admin: ApiQuestionnairesAdmin
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


@router.put("/questionnaires/{questionnaire_id}/{version}", status_code=204)
def api_set_questionnaire(
    questionnaire_id: str,
    version: str,
    session: SessionDep,
    registry: RegistryDep,
    admin: ApiQuestionnairesAdmin,
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


@router.get("/audit", response_model=list[AuditOut])
def api_audit(
    session: SessionDep,
    admin: ApiAuditAdmin,
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


@router.get("/audit.csv", response_class=Response)
def api_audit_csv(
    session: SessionDep,
    admin: ApiAuditAdmin,
    who: AuditQuery = None,
    what: AuditQuery = None,
    since: AuditQuery = None,
    until: AuditQuery = None,
    org: AuditQuery = None,
) -> Response:
    return _csv_response(session, _audit_filter(who, what, since, until, org))
