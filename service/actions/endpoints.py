"""The action plan API: read the plan, read and change one action (the agency's officers,
``If-Match: "<version>"``: 428 without a readable one, 412 when it is not the current one),
comment on one (the regulator). Labels in the request's language (``?lang=`` or
``Accept-Language``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from sqlmodel import Session

from service.actions import service as action_service
from service.actions.schemas import (
    ActionPlanPublic,
    ActionPublic,
    ActionUpdate,
    CommentCreate,
    CommentPublic,
    PlanProgress,
)
from service.actions.service import ActionChange, ActionVersionRequired, Plan, PlanItem
from service.api.deps import IfMatch, LangDep, ViewerDep, require
from service.api.responses import ERRORS
from service.assessments import service as assessment_service
from service.auth.policy import Permission
from service.auth.principal import Viewer
from service.deps import RegistryDep, SessionDep
from service.errors import NotFound, PreconditionFailed
from service.i18n import N_
from service.questionnaire.loader import Registry

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["actions"])


def _plan(
    session: Session, registry: Registry, viewer: Viewer, assessment_id: uuid.UUID, lang: str
) -> Plan:
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if questionnaire is None:
        raise NotFound("The questionnaire version of this assessment is not loaded")
    return action_service.plan(
        session=session,
        viewer=viewer,
        assessment=assessment,
        questionnaire=questionnaire,
        lang=lang,
    )


def _public(item: PlanItem) -> ActionPublic:
    return ActionPublic(
        criterion_id=item.criterion_id,
        title=item.title,
        section_title=item.section_title,
        severity=item.severity,
        severity_label=item.severity_label,
        recommendation=item.recommendation,
        owner=item.owner,
        target_date=item.target_date,
        status=item.status,
        status_label=item.status_label,
        risk_reason=item.risk_reason,
        risk_accepted_by=item.risk_accepted_by,
        note=item.note,
        version=item.version,
        updated_at=item.updated_at,
        carried_over=item.carried,
        comments=[
            CommentPublic(author=c.author, body=c.body, created_at=c.at) for c in item.comments
        ],
    )


def _version(if_match: str | None) -> int:
    """The version ``If-Match`` names (428 when there is none or it is not a number)."""
    text = (if_match or "").strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ActionVersionRequired()
    return int(text)


@router.get(
    "/assessments/{assessment_id}/actions",
    response_model=ActionPlanPublic,
    summary="The action plan",
    dependencies=[require(Permission.actions_read)],
)
def get_plan(
    assessment_id: uuid.UUID,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
) -> ActionPlanPublic:
    """Every gap of the latest submission as an action, with the plan's progress."""
    plan = _plan(session, registry, viewer, assessment_id, lang)
    return ActionPlanPublic(
        assessment_id=plan.assessment_id,
        submission_number=plan.submission_number,
        progress=PlanProgress(total=plan.total, closed=plan.closed, by_status=dict(plan.counts)),
        actions=[_public(item) for item in plan.items],
    )


@router.get(
    "/assessments/{assessment_id}/actions/{criterion_id}",
    response_model=ActionPublic,
    summary="One action",
    dependencies=[require(Permission.actions_read)],
)
def get_action(
    assessment_id: uuid.UUID,
    criterion_id: str,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
) -> ActionPublic:
    """One action; its ETag is the version to send back in If-Match."""
    item = _plan(session, registry, viewer, assessment_id, lang).item(criterion_id)
    response.headers["ETag"] = f'"{item.version}"'
    return _public(item)


@router.put(
    "/assessments/{assessment_id}/actions/{criterion_id}",
    response_model=ActionPublic,
    summary="Change one action",
    dependencies=[require(Permission.actions_edit)],
)
def put_action(
    assessment_id: uuid.UUID,
    criterion_id: str,
    body: ActionUpdate,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
    if_match: IfMatch = None,
) -> ActionPublic:
    """Set owner, target date, status (with the reason and who accepted a risk) and note."""
    try:
        action_service.update(
            session=session,
            viewer=viewer,
            assessment_id=assessment_id,
            criterion_id=criterion_id,
            expected_version=_version(if_match) if if_match is not None else None,
            change=ActionChange(
                owner=body.owner.strip(),
                target_date=body.target_date,
                status=body.status,
                risk_reason=body.risk_reason.strip(),
                risk_accepted_by=body.risk_accepted_by.strip(),
                note=body.note.strip(),
            ),
        )
    except action_service.StaleAction as error:
        # as every API write: a stale If-Match is 412 (the web form's conflict page is 409)
        raise PreconditionFailed(
            N_("The If-Match version is not the action's current version")
        ) from error
    item = _plan(session, registry, viewer, assessment_id, lang).item(criterion_id)
    response.headers["ETag"] = f'"{item.version}"'
    return _public(item)


@router.post(
    "/assessments/{assessment_id}/actions/{criterion_id}/comments",
    response_model=CommentPublic,
    status_code=201,
    summary="Comment on one action",
    dependencies=[require(Permission.actions_comment)],
)
def post_comment(
    assessment_id: uuid.UUID,
    criterion_id: str,
    body: CommentCreate,
    session: SessionDep,
    viewer: ViewerDep,
) -> CommentPublic:
    """The regulator's comment on an action (its target date, say)."""
    row = action_service.comment(
        session=session,
        viewer=viewer,
        assessment_id=assessment_id,
        criterion_id=criterion_id,
        body=body.body,
    )
    return CommentPublic(author=viewer.user.full_name, body=row.body, created_at=row.created_at)
