"""Administration use cases: organisations, accounts, one-time links, questionnaire versions,
the audit log. Use cases that change something commit (``db.writing``) and are audited."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, or_, select

from service import db
from service.admin.models import AccountToken, QuestionnaireUpload
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.assessments.service import version_state
from service.auth import policy, scope, totp
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.errors import NotFound
from service.i18n.catalogue import N_
from service.models import (
    AuditEvent,
    BodyType,
    Organisation,
    OrgKind,
    QuestionnaireState,
    RecoveryCode,
    Role,
    SiteSetting,
    User,
    VersionState,
    WebSession,
    utcnow,
)
from service.questionnaire.loader import (
    MAX_BYTES,
    LoadResult,
    Problem,
    ProblemCode,
    Registry,
    load_text,
)
from service.security import new_token, token_hash

LINK_LIFETIME = timedelta(days=7)
# Not an Argon2 hash: matches no password until a one-time link sets one.
NO_PASSWORD = "!"  # noqa: S105


class AdminError(ValueError):
    """A refused change; the message is an English msgid."""


# Organisations -----------------------------------------------------------------------------


def list_organisations(session: Session) -> list[Organisation]:
    query = select(Organisation).order_by(col(Organisation.kind), col(Organisation.name_en))
    return list(session.exec(query))


# the fields of the organisation form, top to bottom (admin/organisation.html)
ORGANISATION_FIELDS = (
    "kind",
    "name_en",
    "name_fr",
    "slug",
    "body_type",
    "province",
    "regulator_id",
    "agency_id",
    "jurisdictions",
)


@dataclass
class OrganisationInput:
    kind: str
    slug: str
    name_en: str
    name_fr: str
    body_type: str | None = None
    province: str | None = None
    regulator_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    jurisdictions: list[str] | None = None

    def problems(self, session: Session, current: uuid.UUID | None = None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.kind not in {k.value for k in OrgKind}:
            out.append(("kind", N_("Choose the kind of organisation")))
        slug = self.slug.strip()
        if not slug or len(slug) > 64 or not all(c.isalnum() or c == "-" for c in slug):
            out.append(("slug", N_("Enter a short name of letters, digits and hyphens")))
        else:
            other = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
            if other is not None and other.id != current:
                out.append(("slug", N_("Another organisation has this short name")))
        if not self.name_en.strip():
            out.append(("name_en", N_("Enter the name in English")))
        if not self.name_fr.strip():
            out.append(("name_fr", N_("Enter the name in French")))
        if self.province and self.province not in scope.PROVINCES:
            out.append(("province", N_("Choose a province or territory")))
        if self.kind == OrgKind.agency:
            if self.body_type not in {b.value for b in BodyType}:
                out.append(("body_type", N_("Choose the type of body")))
            if self.body_type != BodyType.federal and not self.province:
                out.append(("province", N_("Choose a province or territory")))
            if self.regulator_id is not None:
                reg = session.get(Organisation, self.regulator_id)
                if reg is None or reg.kind != OrgKind.regulator:
                    out.append(("regulator_id", N_("Choose a regulator")))
        if self.kind == OrgKind.board:
            agency = session.get(Organisation, self.agency_id) if self.agency_id else None
            if agency is None or agency.kind != OrgKind.agency:
                out.append(("agency_id", N_("Choose the agency the board oversees")))
        if self.kind == OrgKind.regulator:
            bad = [j for j in self.jurisdictions or [] if j not in scope.JURISDICTIONS]
            if bad:
                out.append(("jurisdictions", N_("Choose the jurisdictions from the list")))
        # the error summary lists the problems in the order of the form's fields, once each
        order = {name: i for i, name in enumerate(ORGANISATION_FIELDS)}
        ordered: list[tuple[str, str]] = []
        for field, message in sorted(out, key=lambda p: order.get(p[0], len(order))):
            if all(field != f for f, _ in ordered):
                ordered.append((field, message))
        return ordered


def save_organisation(
    session: Session, actor: User, data: OrganisationInput, org_id: uuid.UUID | None = None
) -> Organisation:
    problems = data.problems(session, org_id)
    if problems:
        raise AdminError(problems[0][1])
    with db.writing(session):
        org = session.get(Organisation, org_id) if org_id else None
        if org_id is not None and org is None:
            raise AdminError(N_("No such organisation"))
        if org is None:
            org = Organisation(kind=OrgKind(data.kind), slug="", name_en="", name_fr="")
            session.add(org)
        elif org.kind != data.kind:
            raise AdminError(N_("The kind of an organisation cannot change"))
        org.slug = data.slug.strip()
        org.name_en = data.name_en.strip()
        org.name_fr = data.name_fr.strip()
        is_agency = data.kind == OrgKind.agency
        org.body_type = BodyType(data.body_type) if is_agency and data.body_type else None
        org.province = data.province or None
        org.regulator_id = data.regulator_id if is_agency else None
        org.agency_id = data.agency_id if data.kind == OrgKind.board else None
        org.jurisdictions = (
            sorted(set(data.jurisdictions or [])) or None
            if data.kind == OrgKind.regulator
            else None
        )
        session.flush()
        auth_service.audit(
            session,
            action="organisation_saved",
            actor_id=actor.id,
            organisation_id=str(org.id),
            slug=org.slug,
            created=org_id is None,
        )
    return org


# Accounts ----------------------------------------------------------------------------------


def list_users(session: Session) -> list[tuple[User, Organisation | None]]:
    query = (
        select(User, Organisation)
        .join(Organisation, col(Organisation.id) == col(User.organisation_id), isouter=True)
        .order_by(col(User.email))
    )
    return [(u, o) for u, o in session.exec(query)]


def role_fits(role: str, org: Organisation | None) -> bool:
    """Officers and contributors belong to an agency, reviewers to a regulator, board members
    to a board (``policy.ORGANISATION_KIND``); an admin to any organisation or none."""
    try:
        needed = policy.ORGANISATION_KIND[Role(role)]
    except (ValueError, KeyError):
        return False
    if needed is None:
        return True
    return org is not None and org.kind == needed


def _check_role(session: Session, role: str, organisation_id: uuid.UUID | None) -> None:
    if role not in {r.value for r in Role}:
        raise AdminError(N_("Choose a role"))
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if not role_fits(role, org):
        raise AdminError(N_("Choose an organisation of the kind this role needs"))


def new_account_link(
    session: Session, *, user_id: uuid.UUID, purpose: str, actor: User | None
) -> str:
    """A one-time link token to set a password (earlier unused links of the user stop working).
    Only its hash is stored; the caller shows ``/account/set-password/<token>`` once."""
    token = new_token()
    now = utcnow()
    with db.writing(session):
        session.exec(
            delete(AccountToken).where(
                col(AccountToken.user_id) == user_id, col(AccountToken.used_at).is_(None)
            )
        )
        session.add(
            AccountToken(
                user_id=user_id,
                token_hash=token_hash(token),
                purpose=purpose,
                created_by_id=actor.id if actor else None,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
    return token


def find_account_token(*, session: Session, token: str) -> tuple[AccountToken, User] | None:
    row = session.exec(
        select(AccountToken).where(AccountToken.token_hash == token_hash(token))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def use_account_token(*, session: Session, token: str, password: str) -> User:
    found = find_account_token(session=session, token=token)
    if found is None:
        raise AdminError(
            N_("This link is not valid any more. Ask your administrator for a new one")
        )
    row, user = found
    auth_service.set_password(session=session, user_id=user.id, password=password)
    with db.writing(session):
        fresh = session.get(AccountToken, row.id)
        if fresh is not None:
            fresh.used_at = utcnow()
        auth_service.audit(session, action="password_set", actor_id=user.id, purpose=row.purpose)
    return user


def invite_user(
    session: Session,
    actor: User,
    *,
    email: str,
    full_name: str,
    role: str,
    organisation_id: uuid.UUID | None,
    language: str = "en",
) -> tuple[User, str]:
    """Create an account without a usable password and return it with its invitation token."""
    email = auth_service.normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AdminError(N_("Enter an email address like name@example.ca"))
    if not full_name.strip():
        raise AdminError(N_("Enter the person's name"))
    _check_role(session, role, organisation_id)
    if auth_service.get_user_by_email(session=session, email=email) is not None:
        raise AdminError(N_("An account with this email address exists already"))
    user = auth_service.create_user(
        session=session,
        email=email,
        password="",
        full_name=full_name.strip(),
        role=Role(role),
        organisation_id=organisation_id,
        language=language if language in ("en", "fr") else "en",
        password_hash=NO_PASSWORD,
    )
    auth_service.record(
        session, action="user_invited", actor_id=actor.id, user_id=str(user.id), email=email
    )
    token = new_account_link(session, user_id=user.id, purpose="invite", actor=actor)
    return user, token


def update_user(
    session: Session,
    actor: User,
    user_id: uuid.UUID,
    *,
    role: str | None = None,
    organisation_id: uuid.UUID | None = None,
    active: bool | None = None,
    full_name: str | None = None,
) -> User:
    """Change role, organisation, name or active state. Deactivation (and any change of role or
    organisation) ends the user's sessions at once."""
    with db.writing(session):
        user = session.get(User, user_id)
        if user is None:
            raise AdminError(N_("No such user"))
        new_role = Role(role) if role is not None else user.role
        new_org = organisation_id if role is not None else user.organisation_id
        if role is not None:
            _check_role(session, new_role, new_org)
        if user.id == actor.id and (active is False or new_role != user.role):
            raise AdminError(N_("You cannot deactivate your own account or change your own role"))
        changes: dict[str, Any] = {}
        if new_role != user.role or new_org != user.organisation_id:
            changes.update(role=new_role, organisation_id=str(new_org) if new_org else None)
            user.role, user.organisation_id = new_role, new_org
        if active is not None and active != user.active:
            changes["active"] = active
            user.active = active
        if full_name is not None and full_name.strip() and full_name.strip() != user.full_name:
            changes["full_name"] = full_name.strip()
            user.full_name = full_name.strip()
        if changes:
            if "active" in changes or "role" in changes:
                session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
            if changes.get("active") is False:
                auth_service.revoke_all_api_tokens(session, user.id)
            auth_service.audit(
                session, action="user_changed", actor_id=actor.id, user_id=str(user.id), **changes
            )
    return user


def reset_user(session: Session, actor: User, user_id: uuid.UUID) -> str:
    """Reset: the password stops working, sessions end, API tokens are revoked and the second
    factor is removed; returns the one-time link token to set a new password."""
    with db.writing(session):
        user = session.get(User, user_id)
        if user is None:
            raise AdminError(N_("No such user"))
        user.password_hash = NO_PASSWORD
        user.totp_secret = None
        session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
        user.totp_last_step = None
        session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
        auth_service.revoke_all_api_tokens(session, user.id)
        auth_service.audit(session, action="user_reset", actor_id=actor.id, user_id=str(user.id))
    return new_account_link(session, user_id=user_id, purpose="reset", actor=actor)


def set_required_totp_roles(session: Session, actor: User, roles: Iterable[str]) -> None:
    chosen = sorted({r for r in roles if r in totp.ENROLABLE_ROLES})
    with db.writing(session):
        row = session.get(SiteSetting, totp.REQUIRE_SETTING)
        if row is None:
            row = SiteSetting(key=totp.REQUIRE_SETTING)
            session.add(row)
        row.value = ",".join(chosen)
        row.changed_at = utcnow()
        auth_service.audit(session, action="totp_requirement", actor_id=actor.id, roles=chosen)


# Questionnaire versions --------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    file: str
    questionnaire_id: str | None
    version: str | None
    sha256: str
    errors: list[str]
    warnings: list[str]
    state: str  # published | retired | invalid
    explicit: bool  # an admin chose the state
    assessments: int


def questionnaire_versions(session: Session, registry: Registry) -> list[VersionRow]:
    states = assessment_service.questionnaire_states(session)
    counts: dict[tuple[str, str], int] = {}
    for qid, version in session.exec(
        select(Assessment.questionnaire_id, Assessment.questionnaire_version)
    ):
        counts[(qid, version)] = counts.get((qid, version), 0) + 1
    rows = []
    for result in registry.results:
        q = result.questionnaire
        rows.append(
            VersionRow(
                file=result.file,
                questionnaire_id=q.id if q else None,
                version=q.version if q else None,
                sha256=result.sha256,
                errors=[p.format() for p in result.errors],
                warnings=[p.format() for p in result.warnings],
                state=version_state(states, registry, q) if q else "invalid",
                explicit=bool(q and (q.id, q.version) in states),
                assessments=counts.get((q.id, q.version), 0) if q else 0,
            )
        )
    return sorted(rows, key=lambda r: (r.questionnaire_id or "~", r.version or "", r.file))


def set_version_state(
    session: Session,
    actor: User,
    registry: Registry,
    questionnaire_id: str,
    version: str,
    state: str,
) -> None:
    if state not in set(VersionState):
        raise AdminError(N_("Choose publish or retire"))
    if registry.get(questionnaire_id, version) is None:
        raise AdminError(N_("No such questionnaire version"))
    with db.writing(session):
        row = session.get(QuestionnaireState, (questionnaire_id, version))
        if row is None:
            row = QuestionnaireState(
                questionnaire_id=questionnaire_id, version=version, state=VersionState(state)
            )
            session.add(row)
        row.state = VersionState(state)
        row.changed_by_id = actor.id
        row.changed_at = utcnow()
        auth_service.audit(
            session,
            action=f"questionnaire_{VersionState(state).value}",
            actor_id=actor.id,
            questionnaire_id=questionnaire_id,
            version=version,
        )


# Audit log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    who: str = ""  # part of the actor's email or name
    what: str = ""  # the action, exactly
    since: datetime | None = None
    until: datetime | None = None
    organisation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: User | None
    organisation: Organisation | None  # the assessment's agency, else the actor's organisation
    questionnaire: tuple[str, str] | None = None  # the assessment's questionnaire (id, version)


def audit_actions(session: Session) -> list[str]:
    return sorted(set(session.exec(select(AuditEvent.action).distinct())))


def audit_log(session: Session, filters: AuditFilter, *, limit: int | None = 200) -> list[AuditRow]:
    actor_org = aliased(Organisation)
    agency = aliased(Organisation)
    query = (
        select(AuditEvent, User, actor_org, agency)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .join(actor_org, col(actor_org.id) == col(User.organisation_id), isouter=True)
        .join(Assessment, col(Assessment.id) == col(AuditEvent.assessment_id), isouter=True)
        .join(agency, col(agency.id) == col(Assessment.organisation_id), isouter=True)
    )
    if filters.who:
        like = f"%{filters.who.strip().lower()}%"
        query = query.where(or_(col(User.email).ilike(like), col(User.full_name).ilike(like)))
    if filters.what:
        query = query.where(AuditEvent.action == filters.what)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    if filters.organisation_id is not None:
        query = query.where(
            or_(
                col(agency.id) == filters.organisation_id,
                col(actor_org.id) == filters.organisation_id,
            )
        )
    query = query.order_by(col(AuditEvent.at).desc())
    if limit is not None:
        query = query.limit(limit)
    found = list(session.exec(query))
    ids = {e.assessment_id for e, _u, _ao, _ag in found if e.assessment_id is not None}
    versions: dict[uuid.UUID, tuple[str, str]] = {}
    if ids:
        pairs = select(
            col(Assessment.id), col(Assessment.questionnaire_id), Assessment.questionnaire_version
        ).where(col(Assessment.id).in_(ids))
        versions = {a: (q, v) for a, q, v in session.exec(pairs)}
    return [
        AuditRow(e, u, ag or ao, versions.get(e.assessment_id) if e.assessment_id else None)
        for e, u, ao, ag in found
    ]


CSV_COLUMNS: Sequence[str] = (
    "at",
    "action",
    "actor_email",
    "actor_name",
    "organisation",
    "assessment_id",
    "detail",
)


def _csv_safe(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def audit_csv(rows: Iterable[AuditRow]) -> str:
    import json

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        e = row.event
        writer.writerow(
            [
                _csv_safe(v)
                for v in (
                    e.at.isoformat(),
                    e.action,
                    row.actor.email if row.actor else "",
                    row.actor.full_name if row.actor else "",
                    row.organisation.slug if row.organisation else "",
                    str(e.assessment_id or ""),
                    json.dumps(e.detail, sort_keys=True, ensure_ascii=False),
                )
            ]
        )
    return out.getvalue()


# Questionnaire files uploaded in the app (draft -> published, four eyes) --------------------

DRAFT = "draft"
PUBLISHED = "published"


@dataclass(frozen=True)
class UploadOutcome:
    """A stored draft, or every problem that kept the file out (nothing stored then)."""

    upload: QuestionnaireUpload | None
    problems: list[Problem]


def upload_questionnaire(
    session: Session, actor: User, registry: Registry, file_name: str, raw: bytes
) -> UploadOutcome:
    """Check an uploaded file with the same strict loader as `policygap validate` and store it
    as a draft version. Nothing is stored when the file has an error, is over the size cap, or
    is a version already loaded or uploaded."""
    policy.check(actor, Permission.admin_questionnaires)
    name = (file_name or "questionnaire.yaml").replace("\\", "/").rsplit("/", 1)[-1][:200]
    if len(raw) > MAX_BYTES:
        message = f"the file is {len(raw)} bytes; the limit is {MAX_BYTES} (2 MB)"
        return UploadOutcome(None, [Problem(name, 1, 1, "", message, code=ProblemCode.too_large)])
    try:
        result = load_text(raw, name)
    except RecursionError:
        problem = Problem(
            name, 1, 1, "", "the document nests too deeply", code=ProblemCode.too_deep
        )
        return UploadOutcome(None, [problem])
    if result.errors or result.questionnaire is None:
        return UploadOutcome(None, result.errors)
    q = result.questionnaire
    taken = (
        registry.get(q.id, q.version) is not None
        or session.exec(
            select(QuestionnaireUpload.id).where(
                QuestionnaireUpload.questionnaire_id == q.id,
                QuestionnaireUpload.version == q.version,
            )
        ).first()
    )
    if taken:
        message = f"version {q.version} of {q.id} exists already; give the file a new version"
        return UploadOutcome(
            None, [Problem(name, 1, 1, "version", message, code=ProblemCode.duplicate)]
        )
    row = QuestionnaireUpload(
        questionnaire_id=q.id,
        version=q.version,
        file_name=name,
        sha256=result.sha256,
        content=raw,
        status=DRAFT,
        uploaded_by_id=actor.id,
    )
    with db.writing(session):
        session.add(row)
        auth_service.audit(
            session,
            action="questionnaire_upload",
            actor_id=actor.id,
            questionnaire_id=q.id,
            version=q.version,
            sha256=result.sha256,
        )
    return UploadOutcome(row, result.warnings)


def questionnaire_uploads(session: Session) -> list[QuestionnaireUpload]:
    return list(
        session.exec(select(QuestionnaireUpload).order_by(col(QuestionnaireUpload.uploaded_at)))
    )


def draft_of(
    session: Session, actor: User, upload_id: uuid.UUID
) -> tuple[QuestionnaireUpload, LoadResult]:
    """A draft (or published) upload and its questionnaire, for the people who may approve it."""
    policy.check(actor, Permission.questionnaire_review)
    row = session.get(QuestionnaireUpload, upload_id)
    if row is None:
        raise NotFound()
    return row, load_text(row.content, row.file_name)


def approve_upload(session: Session, actor: User, upload_id: uuid.UUID) -> QuestionnaireUpload:
    """Publish a draft: a second person (another admin or a reviewer) approves it (four eyes)."""
    policy.check(actor, Permission.questionnaire_review)
    with db.writing(session):
        row = session.get(QuestionnaireUpload, upload_id)
        if row is None:
            raise NotFound()
        if row.status != DRAFT:
            raise AdminError(N_("This version is already published"))
        if row.uploaded_by_id == actor.id:
            raise AdminError(
                N_("A second person must approve: another administrator or a reviewer")
            )
        row.status = PUBLISHED
        row.approved_by_id = actor.id
        row.approved_at = utcnow()
        auth_service.audit(
            session,
            action="questionnaire_approve",
            actor_id=actor.id,
            questionnaire_id=row.questionnaire_id,
            version=row.version,
            sha256=row.sha256,
            uploaded_by=str(row.uploaded_by_id),
        )
    return row


def published_results(session: Session) -> list[LoadResult]:
    """Every published upload, loaded by the strict loader (its SHA-256 checked)."""
    results = []
    for row in session.exec(
        select(QuestionnaireUpload).where(QuestionnaireUpload.status == PUBLISHED)
    ):
        result = load_text(row.content, f"database:{row.file_name}")
        if result.sha256 != row.sha256:  # pragma: no cover - the bytes were changed in place
            result = LoadResult(
                result.file,
                None,
                result.sha256,
                [
                    Problem(
                        result.file,
                        1,
                        1,
                        "",
                        "the stored file does not match its SHA-256",
                        code=ProblemCode.unreadable,
                    )
                ],
            )
        results.append(result)
    return results


def published_stamp(session: Session) -> tuple[int, str]:
    """Changes when a version is published: every app instance compares it to reload."""
    rows = session.exec(
        select(QuestionnaireUpload.approved_at).where(QuestionnaireUpload.status == PUBLISHED)
    ).all()
    latest = max((r for r in rows if r is not None), default=None)
    return len(rows), latest.isoformat() if latest else ""


def build_registry(session: Session, directory: Registry) -> Registry:
    """The files of POLICYGAP_QUESTIONNAIRES_DIR and the versions published in the database."""
    return Registry([*directory.results, *published_results(session)])
