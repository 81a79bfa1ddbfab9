"""The action plan's use cases: read the plan, change an action, comment on one, freeze the
plan at a decision, carry the open actions into a reassessment.

Each gap of an assessment's latest submission (the report view's gap rows; the core's
``Verdict.is_gap`` decides what a gap is) is an action. A gap nobody has touched yet has no row:
it reads as "to do", version 0, and its first save makes the row. The plan is not part of the
frozen submission; every change is written with an audit event in one ``db.writing``
transaction, checked against the version the form or the request was read at (none: 428; an
older one: 409).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from service import db
from service.actions.models import (
    MAX_OWNER,
    MAX_TEXT,
    ActionComment,
    ActionPlanSnapshot,
    RemediationAction,
)
from service.assessments import service as assessment_service
from service.assessments.models import Assessment, Reassessment, Submission
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.auth.principal import Viewer
from service.errors import AppError, Forbidden, NotFound, StaleVersion, Unprocessable
from service.i18n import labels
from service.i18n.catalogue import N_
from service.models import ActionStatus, User, utcnow
from service.notices import service as notice_service
from service.notices.models import NoticeKind
from service.questionnaire import scoring
from service.questionnaire.schema import Questionnaire, localize
from service.report.inputs import PlanEntry

OPEN = frozenset({ActionStatus.todo, ActionStatus.in_progress})
CLOSED = frozenset({ActionStatus.done, ActionStatus.risk_accepted})
STATUSES = tuple(ActionStatus)
FIELDS = ("owner", "target_date", "status", "risk_reason", "risk_accepted_by", "note")


class ActionVersionRequired(AppError):
    status_code = 428
    code = "version_required"
    message = N_(
        "The change did not say which version of the action it was made on, so it was not saved"
    )


class StaleAction(StaleVersion):
    code = "stale_action"
    message = N_("Someone else saved this action after you opened it")


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentRow:
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class PlanItem:
    """One action: the gap it closes (from the report view) and where it stands."""

    criterion_id: str
    title: str
    section_title: str
    severity: str
    severity_label: str
    verdict_label: str
    recommendation: str
    owner: str = ""
    target_date: date | None = None
    status: ActionStatus = ActionStatus.todo
    status_label: str = ""
    risk_reason: str = ""
    risk_accepted_by: str = ""
    note: str = ""
    version: int = 0  # 0: nobody has saved this action yet
    updated_at: datetime | None = None
    carried: bool = False  # carried over from the assessment this one reassesses
    comments: tuple[CommentRow, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def due_state(self, today: date) -> str | None:
        """ "overdue" or "due_soon" for an open action with a target date (else None)."""
        return notice_service.overdue_words(self.target_date, today) if self.is_open else None


@dataclass(frozen=True)
class ClosedRow:
    """An action of the previous assessment that was closed, or one no longer a gap."""

    criterion_id: str
    title: str
    status: ActionStatus
    status_label: str
    owner: str
    risk_reason: str = ""


@dataclass(frozen=True)
class Plan:
    assessment_id: uuid.UUID
    submission_number: int | None  # the submission whose gaps the plan is made of
    items: tuple[PlanItem, ...]
    previous_assessment_id: uuid.UUID | None = None  # the assessment this one reassesses
    closed_before: tuple[ClosedRow, ...] = ()  # closed in the previous assessment's plan
    no_longer_gaps: tuple[ClosedRow, ...] = ()  # actions whose gap the latest submission closed
    counts: Mapping[str, int] = field(default_factory=dict)  # status -> number of actions

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def closed(self) -> int:
        return sum(1 for i in self.items if not i.is_open)

    def item(self, criterion_id: str) -> PlanItem:
        for item in self.items:
            if item.criterion_id == criterion_id:
                return item
        raise NotFound()


def _rows(session: Session, assessment_id: uuid.UUID) -> dict[str, RemediationAction]:
    query = select(RemediationAction).where(RemediationAction.assessment_id == assessment_id)
    return {row.criterion_id: row for row in session.exec(query)}


def _comments(session: Session, assessment_id: uuid.UUID) -> dict[str, list[CommentRow]]:
    found: dict[str, list[CommentRow]] = {}
    query = (
        select(ActionComment, User)
        .join(User, col(User.id) == col(ActionComment.author_id), isouter=True)
        .where(ActionComment.assessment_id == assessment_id)
        .order_by(col(ActionComment.created_at))
    )
    for comment, user in session.exec(query):
        found.setdefault(comment.criterion_id, []).append(
            CommentRow(
                author=user.full_name if user else "", body=comment.body, at=comment.created_at
            )
        )
    return found


def _criterion_words(questionnaire: Questionnaire, criterion_id: str, lang: str) -> dict[str, str]:
    """Title, section and severity of a criterion as the questionnaire states them (for an
    action with no submission of this assessment to read them from)."""
    for criterion in questionnaire.criteria:
        if criterion.id == criterion_id:
            section = next((s for s in questionnaire.sections if s.id == criterion.section), None)
            return {
                "title": localize(criterion.title, lang),
                "section_title": localize(section.title, lang) if section else "",
                "severity": criterion.severity.value,
                "recommendation": localize(criterion.recommendation, lang)
                if criterion.recommendation
                else "",
            }
    return {"title": criterion_id, "section_title": "", "severity": "", "recommendation": ""}


def _item(
    base: dict[str, Any],
    row: RemediationAction | None,
    comments: list[CommentRow],
    lang: str,
) -> PlanItem:
    status = row.status if row is not None else ActionStatus.todo
    return PlanItem(
        **base,
        owner=row.owner if row else "",
        target_date=row.target_date if row else None,
        status=status,
        status_label=labels.action_status_label(status, lang),
        risk_reason=row.risk_reason if row else "",
        risk_accepted_by=row.risk_accepted_by if row else "",
        note=row.note if row else "",
        version=row.version if row else 0,
        updated_at=row.updated_at if row else None,
        carried=bool(row and row.carried_from_id),
        comments=tuple(comments),
    )


def plan(
    *,
    session: Session,
    viewer: Viewer,
    assessment: Assessment,
    questionnaire: Questionnaire,
    lang: str,
) -> Plan:
    """The plan of ``assessment`` (loaded by the caller for ``viewer``: it is visible): the gaps
    of the latest submission the viewer may open, each with its action. Before the first
    submission of a reassessment, the actions carried over from the previous assessment."""
    policy.check(viewer.user, Permission.actions_read)
    submission = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer
    )
    rows = _rows(session, assessment.id)
    comments = _comments(session, assessment.id)
    items: list[PlanItem] = []
    no_longer: list[ClosedRow] = []
    if submission is not None:
        view = assessment_service.report_view(
            questionnaire, assessment, lang, submission=submission
        )
        for gap in view.gap_rows:
            base = {
                "criterion_id": gap.id,
                "title": gap.title,
                "section_title": gap.section_title,
                "severity": gap.severity.value,
                "severity_label": gap.severity_label,
                "verdict_label": gap.verdict_label,
                "recommendation": gap.recommendation,
            }
            items.append(_item(base, rows.get(gap.id), comments.get(gap.id, []), lang))
        gaps = {gap.id for gap in view.gap_rows}
        for cid, row in rows.items():
            if cid not in gaps:
                words = _criterion_words(questionnaire, cid, lang)
                no_longer.append(
                    ClosedRow(
                        criterion_id=cid,
                        title=words["title"],
                        status=row.status,
                        status_label=labels.action_status_label(row.status, lang),
                        owner=row.owner,
                        risk_reason=row.risk_reason,
                    )
                )
    else:
        order = {c.id: n for n, c in enumerate(questionnaire.criteria)}
        for cid in sorted(rows, key=lambda c: order.get(c, len(order))):
            words = _criterion_words(questionnaire, cid, lang)
            base = {
                "criterion_id": cid,
                **words,
                "severity_label": labels.severity_label(words["severity"], lang),
                "verdict_label": "",
            }
            items.append(_item(base, rows[cid], comments.get(cid, []), lang))
    link = assessment_service.reassessment_of(session=session, assessment_id=assessment.id)
    closed_before: list[ClosedRow] = []
    if link is not None:
        previous = _rows(session, link.previous_assessment_id)
        for cid, row in sorted(previous.items()):
            if row.status in CLOSED:
                closed_before.append(
                    ClosedRow(
                        criterion_id=cid,
                        title=_criterion_words(questionnaire, cid, lang)["title"],
                        status=row.status,
                        status_label=labels.action_status_label(row.status, lang),
                        owner=row.owner,
                        risk_reason=row.risk_reason,
                    )
                )
    counts = Counter(item.status.value for item in items)
    return Plan(
        assessment_id=assessment.id,
        submission_number=submission.number if submission is not None else None,
        items=tuple(items),
        previous_assessment_id=link.previous_assessment_id if link is not None else None,
        closed_before=tuple(closed_before),
        no_longer_gaps=tuple(no_longer),
        counts={s.value: counts.get(s.value, 0) for s in STATUSES},
    )


def may_edit(viewer: Viewer, assessment: Assessment) -> bool:
    """Whether ``viewer`` may change the actions of ``assessment``: the agency's officers."""
    return (
        policy.allowed(viewer.user.role, Permission.actions_edit)
        and viewer.user.organisation_id == assessment.organisation_id
    )


# --- changing an action --------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionChange:
    """What a person asks an action to be (every field: a form or a PUT sends all of them)."""

    owner: str = ""
    target_date: date | None = None
    status: ActionStatus = ActionStatus.todo
    risk_reason: str = ""
    risk_accepted_by: str = ""
    note: str = ""


def parse_date(raw: str) -> date | None:
    """A date typed as year-month-day (2027-03-31); None when it is not one."""
    text = raw.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def check(change: ActionChange) -> list[tuple[str, str]]:
    """The problems of ``change``, as (field, message id), in the form's order."""
    problems: list[tuple[str, str]] = []
    if len(change.owner) > MAX_OWNER:
        problems.append(("owner", N_("Enter an owner of 200 characters or fewer")))
    if change.status is ActionStatus.risk_accepted:
        if not change.risk_reason.strip():
            problems.append(("risk_reason", N_("Say why the risk is accepted")))
        elif len(change.risk_reason) > MAX_TEXT:
            problems.append(("risk_reason", N_("Enter a reason of 5000 characters or fewer")))
        if not change.risk_accepted_by.strip():
            problems.append(("risk_accepted_by", N_("Say who accepted the risk")))
        elif len(change.risk_accepted_by) > MAX_OWNER:
            problems.append(("risk_accepted_by", N_("Enter a name of 200 characters or fewer")))
    if len(change.note) > MAX_TEXT:
        problems.append(("note", N_("Enter a note of 5000 characters or fewer")))
    return problems


def parse_form(
    form: Mapping[str, Any],
) -> tuple[ActionChange, dict[str, str], list[tuple[str, str]]]:
    """The change a form asks for, what was typed (to show again), and the problems."""
    typed = {name: str(form.get(name) or "") for name in FIELDS}
    problems: list[tuple[str, str]] = []
    target = None
    if typed["target_date"].strip():
        target = parse_date(typed["target_date"])
        if target is None:
            problems.append(
                (
                    "target_date",
                    N_("Enter the target date as year-month-day, for example 2027-03-31"),
                )
            )
    try:
        status = ActionStatus(typed["status"])
    except ValueError:
        status = ActionStatus.todo
        problems.append(("status", N_("Choose where the action stands")))
    risk = status is ActionStatus.risk_accepted
    change = ActionChange(
        owner=typed["owner"].strip(),
        target_date=target,
        status=status,
        # a reason and a name belong to an accepted risk only
        risk_reason=typed["risk_reason"].strip() if risk else "",
        risk_accepted_by=typed["risk_accepted_by"].strip() if risk else "",
        note=typed["note"].strip(),
    )
    problems.extend(check(change))
    order = {name: n for n, name in enumerate(FIELDS)}
    problems.sort(key=lambda p: order[p[0]])
    return change, typed, problems


def _gap_ids(submission: Submission | None) -> list[str]:
    if submission is None:
        return []
    return list(scoring.Result.model_validate(submission.result).gaps)


def _value(name: str, row: RemediationAction | None) -> Any:
    if row is None:
        return getattr(ActionChange(), name)
    return getattr(row, name)


def update(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    criterion_id: str,
    expected_version: int | None,
    change: ActionChange,
) -> RemediationAction:
    """Set one action to ``change`` (the agency's officers), if it is still at
    ``expected_version`` (None: 428; another: 409 ``StaleAction``)."""
    if change.status is not ActionStatus.risk_accepted:  # a reason belongs to a risk only
        change = replace(change, risk_reason="", risk_accepted_by="")
    problems = check(change)
    if problems:
        raise Unprocessable(
            "Some fields are not acceptable",
            errors=[{"loc": [name], "msg": message} for name, message in problems],
        )
    try:
        with db.writing(session):
            assessment, _agency = assessment_service.get_visible(
                session=session, viewer=viewer, assessment_id=assessment_id
            )
            if not may_edit(viewer, assessment):
                raise Forbidden()
            row = session.exec(
                select(RemediationAction).where(
                    RemediationAction.assessment_id == assessment.id,
                    RemediationAction.criterion_id == criterion_id,
                )
            ).first()
            if row is None:
                latest = assessment_service.get_submission(
                    session=session, assessment_id=assessment.id, viewer=None
                )
                if criterion_id not in _gap_ids(latest):
                    raise NotFound()
            current = row.version if row is not None else 0
            if expected_version is None:
                raise ActionVersionRequired(current_version=current)
            if expected_version != current:
                raise StaleAction(current_version=current)
            changed = [n for n in FIELDS if getattr(change, n) != _value(n, row)]
            now = utcnow()
            if row is None:
                row = RemediationAction(
                    assessment_id=assessment.id, criterion_id=criterion_id, created_at=now
                )
            for name in FIELDS:
                setattr(row, name, getattr(change, name))
            row.updated_by_id = viewer.user.id
            row.updated_at = now  # every save counts, even one that changes nothing
            session.add(row)
            auth_service.audit(
                session,
                action="action_update",
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                criterion=criterion_id,
                fields=changed,
                action_status=change.status.value,
                owner=change.owner,
                target_date=change.target_date.isoformat() if change.target_date else "",
            )
    except (StaleDataError, IntegrityError) as error:
        # another save won the race between the version check and the commit
        raise StaleAction() from error
    return row


def comment(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    criterion_id: str,
    body: str,
) -> ActionComment:
    """A regulator's comment on one action of a plan they may see (its target date, say)."""
    text = body.strip()
    if not text:
        raise Unprocessable(N_("Enter a comment"), errors=[{"loc": ["body"], "msg": "empty"}])
    if len(text) > MAX_TEXT:
        raise Unprocessable(
            N_("Enter a comment of 5000 characters or fewer"),
            errors=[{"loc": ["body"], "msg": "too long"}],
        )
    with db.writing(session):
        assessment, _agency = assessment_service.get_visible(
            session=session, viewer=viewer, assessment_id=assessment_id
        )
        policy.check(viewer.user, Permission.actions_comment)
        latest = assessment_service.get_submission(
            session=session, assessment_id=assessment.id, viewer=viewer
        )
        if criterion_id not in _gap_ids(latest):
            raise NotFound()
        row = ActionComment(
            assessment_id=assessment.id,
            criterion_id=criterion_id,
            author_id=viewer.user.id,
            body=text,
        )
        session.add(row)
        auth_service.audit(
            session,
            action="action_comment",
            actor_id=viewer.user.id,
            assessment_id=assessment.id,
            criterion=criterion_id,
        )
        # the agency's officers hear of it: the program and the action, never the comment
        notice_service.notify_many(
            session,
            notice_service.agency_officers(session, assessment.organisation_id),
            NoticeKind.comment_on_target_date,
            {
                "program": assessment.program,
                "criterion": criterion_id,
                "link": f"/assessments/{assessment.id}/actions/{criterion_id}#comments",
            },
        )
    return row


# --- the plan at a decision, and in a reassessment ----------------------------------------------


def take_snapshot(
    session: Session, *, assessment_id: uuid.UUID, submission: Submission, at: datetime
) -> ActionPlanSnapshot:
    """Freeze the plan of ``submission``'s gaps as it stands now (inside the decision's
    transaction; the caller commits). Its report prints this, "as at" ``at``, for ever."""
    rows = _rows(session, assessment_id)
    items = []
    for cid in _gap_ids(submission):
        row = rows.get(cid)
        items.append(
            {
                "criterion_id": cid,
                "owner": row.owner if row else "",
                "target_date": row.target_date.isoformat() if row and row.target_date else None,
                "status": (row.status if row else ActionStatus.todo).value,
                "risk_reason": row.risk_reason if row else "",
                "risk_accepted_by": row.risk_accepted_by if row else "",
            }
        )
    snapshot = session.get(ActionPlanSnapshot, submission.id)
    if snapshot is None:
        snapshot = ActionPlanSnapshot(
            submission_id=submission.id, assessment_id=assessment_id, taken_at=at
        )
    snapshot.taken_at = at
    snapshot.items = items
    session.add(snapshot)
    return snapshot


def snapshot_of(
    *, session: Session, submission_id: uuid.UUID
) -> tuple[tuple[PlanEntry, ...], datetime | None]:
    """The plan as it stood at the decision on a submission (nothing before a decision)."""
    snapshot = session.get(ActionPlanSnapshot, submission_id)
    if snapshot is None:
        return (), None
    entries = tuple(
        PlanEntry(
            criterion_id=str(item["criterion_id"]),
            owner=str(item.get("owner") or ""),
            target_date=date.fromisoformat(item["target_date"])
            if item.get("target_date")
            else None,
            status=str(item.get("status") or ActionStatus.todo.value),
            risk_reason=str(item.get("risk_reason") or ""),
            risk_accepted_by=str(item.get("risk_accepted_by") or ""),
        )
        for item in snapshot.items
    )
    return entries, snapshot.taken_at


def tracked(*, session: Session, assessment_id: uuid.UUID) -> tuple[PlanEntry, ...]:
    """Every saved action of ``assessment_id`` as it stands now, with its note and when it last
    changed, in criterion order (the OSCAL plan of action and milestones reads them; a gap with
    no row is an action to do). The caller has checked that the reader may see the plan."""
    return tuple(
        PlanEntry(
            criterion_id=cid,
            owner=row.owner,
            target_date=row.target_date,
            status=row.status.value,
            risk_reason=row.risk_reason,
            risk_accepted_by=row.risk_accepted_by,
            note=row.note,
            updated_at=row.updated_at,
        )
        for cid, row in sorted(_rows(session, assessment_id).items())
    )


def carry_over(
    session: Session, *, previous_id: uuid.UUID, assessment_id: uuid.UUID, actor_id: uuid.UUID
) -> list[str]:
    """Start the plan of a reassessment from the open actions of the assessment it continues
    (every gap of its latest submission not done nor accepted as a risk), inside the caller's
    transaction. Returns the criteria carried over."""
    rows = _rows(session, previous_id)
    latest = assessment_service.get_submission(
        session=session, assessment_id=previous_id, viewer=None
    )
    gaps = _gap_ids(latest)
    carried: list[str] = []
    now = utcnow()
    for cid in gaps:
        row = rows.get(cid)
        if row is None:
            # an untouched gap is an open action too: give it a row to point back to
            row = RemediationAction(assessment_id=previous_id, criterion_id=cid, created_at=now)
            session.add(row)
            session.flush()
        elif row.status not in OPEN:
            continue
        session.add(
            RemediationAction(
                assessment_id=assessment_id,
                criterion_id=cid,
                owner=row.owner,
                target_date=row.target_date,
                status=row.status,
                note=row.note,
                carried_from_id=row.id,
                updated_by_id=actor_id,
                created_at=now,
                updated_at=now,
            )
        )
        carried.append(cid)
    if carried:
        auth_service.audit(
            session,
            action="action_carry",
            actor_id=actor_id,
            assessment_id=assessment_id,
            actions=carried,
        )
    return carried


# --- target dates: overdue marks and reminders ----------------------------------------------------


def overdue_counts(
    session: Session, assessment_ids: Collection[uuid.UUID], *, today: date
) -> dict[uuid.UUID, int]:
    """assessment id -> how many of its open actions are past their target date."""
    if not assessment_ids:
        return {}
    query = select(RemediationAction.assessment_id).where(
        col(RemediationAction.assessment_id).in_(list(assessment_ids)),
        col(RemediationAction.status).in_([s.value for s in OPEN]),
        col(RemediationAction.target_date) < today,
    )
    return dict(Counter(session.exec(query).all()))


@notice_service.due_source("actions")
def actions_due(session: Session, today: date, until: date) -> list[notice_service.DueItem]:
    """Open actions whose target date is on or before ``until``: the actions of an
    assessment's current plan (a gap of its latest submission, or carried over before its
    first), not those of an assessment reassessed since (its open actions were carried over).
    The agency's officers hear of them."""
    reassessed = select(Reassessment.previous_assessment_id)
    query = (
        select(RemediationAction, Assessment)
        .join(Assessment, col(Assessment.id) == col(RemediationAction.assessment_id))
        .where(
            col(RemediationAction.status).in_([s.value for s in OPEN]),
            col(RemediationAction.target_date).is_not(None),
            col(RemediationAction.target_date) <= until,
            col(Assessment.id).not_in(reassessed),
        )
    )
    items: list[notice_service.DueItem] = []
    gaps: dict[uuid.UUID, set[str] | None] = {}
    officers: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row, assessment in session.exec(query).all():
        if assessment.id not in gaps:
            latest = assessment_service.get_submission(
                session=session, assessment_id=assessment.id, viewer=None
            )
            gaps[assessment.id] = set(_gap_ids(latest)) if latest is not None else None
        current = gaps[assessment.id]
        if current is not None and row.criterion_id not in current:
            continue  # no longer a gap: its action is closed
        if assessment.organisation_id not in officers:
            officers[assessment.organisation_id] = notice_service.agency_officers(
                session, assessment.organisation_id
            )
        assert row.target_date is not None  # noqa: S101 - filtered above
        items.append(
            notice_service.DueItem(
                key=f"action:{row.id}",
                due_on=row.target_date,
                recipients=tuple(officers[assessment.organisation_id]),
                params={
                    "program": assessment.program,
                    "criterion": row.criterion_id,
                    "link": f"/assessments/{assessment.id}/actions/{row.criterion_id}",
                    "subject": "action",
                },
            )
        )
    return items
