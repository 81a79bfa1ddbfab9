"""Shared work: an officer gives sections or single questions of an assessment to colleagues of
the same agency (another officer, or a contributor), each with an optional internal due date.

The use cases of assignments (a public module of the assessments feature beside ``service``:
what a contributor may read and change is decided there, from the same table). Every change
runs in ``db.writing`` with an audit event. ``assign`` tells the assignee ("assigned to you": a
notice in the app, and an e-mail when they want it) in the same transaction, and returns what it
said (``AssignedNotice``). ``assignments_due`` is the query the reminders read
(``assignment_reminders``, a due source of the notices).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from service import db
from service.assessments import access
from service.assessments import service as assessment_service
from service.assessments.frame import section_url
from service.assessments.models import Assessment, Assignment
from service.assessments.service import Viewer
from service.auth import policy
from service.auth.policy import Permission
from service.errors import AlreadySubmitted, Forbidden, NotFound, Unprocessable
from service.models import AssessmentStatus, AssignmentKind, AuditEvent, Role, User
from service.notices import service as notice_service
from service.notices.models import NoticeKind
from service.notices.service import DueItem
from service.questionnaire import engine
from service.questionnaire.loader import Registry
from service.questionnaire.schema import Questionnaire, localize

# The roles a part may be given to (colleagues of the same agency who answer questions).
ASSIGNABLE_ROLES = frozenset({Role.officer, Role.contributor})


@dataclass(frozen=True)
class AssignedNotice:
    """What the assignee is told ("assigned to you"); the notices feature sends it. Titles and
    ids only: no answer leaves the app in a notice."""

    assignment_id: uuid.UUID
    assessment_id: uuid.UUID
    assignee_id: uuid.UUID
    assigned_by_id: uuid.UUID
    title: str  # the assessment's program
    kind: AssignmentKind
    target: str  # section or question id
    due_on: date | None


@dataclass(frozen=True)
class Assigned:
    """An assignment as saved, and the notice to send (None when only the due date changed)."""

    assignment: Assignment
    notice: AssignedNotice | None


@dataclass(frozen=True)
class DueAssignment:
    """One row of ``assignments_due``: enough for a reminder, nothing of the answers."""

    assignment_id: uuid.UUID
    assignee_id: uuid.UUID
    assessment_id: uuid.UUID
    title: str
    due_on: date


@dataclass(frozen=True)
class Progress:
    """One person's part of an assessment: how many of the questions given to them (those
    shown now) are answered, and the earliest due date of their parts."""

    user: User
    answered: int
    assigned: int
    due_on: date | None
    overdue: bool
    done: bool  # every required question of their parts answered


def _audit(
    session: Session, *, user: User, assessment: Assessment, action: str, **detail: object
) -> None:
    session.add(
        AuditEvent(
            actor_id=user.id, assessment_id=assessment.id, action=action, detail=dict(detail)
        )
    )


def part_exists(questionnaire: Questionnaire, kind: AssignmentKind, target: str) -> bool:
    if kind == AssignmentKind.section:
        return any(s.id == target for s in questionnaire.sections)
    return target in questionnaire.question_index()


def part_title(
    questionnaire: Questionnaire, kind: AssignmentKind | str, target: str, lang: str
) -> str:
    """The section's title or the question's text (the id when it is no longer there)."""
    if kind == AssignmentKind.section:
        for section in questionnaire.sections:
            if section.id == target:
                return localize(section.title, lang)
        return target
    question = questionnaire.question_index().get(target)
    return localize(question.text, lang) if question is not None else target


def part_link(
    questionnaire: Questionnaire, assessment_id: uuid.UUID, kind: AssignmentKind, target: str
) -> str:
    """The page where the part is answered: its section (a question's own section)."""
    section = target if kind == AssignmentKind.section else questionnaire.section_of().get(target)
    return section_url(assessment_id, section) if section else f"/assessments/{assessment_id}/"


def colleagues(session: Session, viewer: Viewer) -> list[User]:
    """The people of the viewer's agency a part may be given to (active officers and
    contributors), by name."""
    if viewer.user.organisation_id is None:
        return []
    query = (
        select(User)
        .where(
            User.organisation_id == viewer.user.organisation_id,
            col(User.active).is_(True),
            col(User.role).in_([r.value for r in ASSIGNABLE_ROLES]),
        )
        .order_by(col(User.full_name), col(User.email))
    )
    return list(session.exec(query))


def _load(session: Session, viewer: Viewer, assessment_id: uuid.UUID) -> Assessment:
    """The assessment the viewer assigns parts of: theirs to see, a draft, their role allowed."""
    policy.check(viewer.user, Permission.assessment_assign)
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    if not access.can_edit(user=viewer.user, assessment=assessment):
        raise Forbidden()
    if assessment.status not in access.EDITABLE:
        raise AlreadySubmitted()
    return assessment


def assign(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    questionnaire: Questionnaire,
    kind: AssignmentKind,
    target: str,
    assignee_id: uuid.UUID,
    due_on: date | None,
) -> Assigned:
    """Give a section or a question to a colleague (or hand it over to another, or change its
    due date). The colleague must belong to the assessment's agency and answer questions."""
    if not part_exists(questionnaire, kind, target):
        raise NotFound("There is no such section or question in this questionnaire")
    with db.writing(session):
        assessment = _load(session, viewer, assessment_id)
        assignee = session.get(User, assignee_id)
        if (
            assignee is None
            or not assignee.active
            or assignee.organisation_id != assessment.organisation_id
            or assignee.role not in ASSIGNABLE_ROLES
        ):
            raise Unprocessable("Choose a colleague of this agency who answers questions")
        found = session.exec(
            select(Assignment).where(
                Assignment.assessment_id == assessment.id,
                Assignment.kind == kind,
                Assignment.target == target,
            )
        ).first()
        new_person = found is None or found.assignee_id != assignee.id
        if found is None:
            found = Assignment(
                assessment_id=assessment.id,
                kind=kind,
                target=target,
                assignee_id=assignee.id,
                due_on=due_on,
                assigned_by_id=viewer.user.id,
            )
        else:
            found.assignee_id = assignee.id
            found.due_on = due_on
            found.assigned_by_id = viewer.user.id
        session.add(found)
        session.flush()
        _audit(
            session,
            user=viewer.user,
            assessment=assessment,
            action="assign",
            **{kind.value: target},
            assignee=assignee.full_name,
            due_on=due_on.isoformat() if due_on else None,
        )
        if new_person:  # "assigned to you": in the app, and by e-mail if they want it
            notice_service.notify(
                session,
                assignee.id,
                NoticeKind.assigned_to_you,
                {
                    "program": assessment.program,
                    "part": {
                        lang: part_title(questionnaire, kind, target, lang) for lang in ("en", "fr")
                    },
                    "link": part_link(questionnaire, assessment.id, kind, target),
                    **({"date": due_on.isoformat()} if due_on else {}),
                },
            )
        notice = (
            AssignedNotice(
                assignment_id=found.id,
                assessment_id=assessment.id,
                assignee_id=assignee.id,
                assigned_by_id=viewer.user.id,
                title=assessment.program,
                kind=kind,
                target=target,
                due_on=due_on,
            )
            if new_person
            else None
        )
    assessment_service.forget_assignments(session)
    return Assigned(assignment=found, notice=notice)


def unassign(
    *, session: Session, viewer: Viewer, assessment_id: uuid.UUID, assignment_id: uuid.UUID
) -> None:
    """Take a part back: nobody but the officers answers it any more."""
    with db.writing(session):
        assessment = _load(session, viewer, assessment_id)
        found = session.get(Assignment, assignment_id)
        if found is None or found.assessment_id != assessment.id:
            raise NotFound()
        assignee = session.get(User, found.assignee_id)
        session.delete(found)
        _audit(
            session,
            user=viewer.user,
            assessment=assessment,
            action="unassign",
            **{found.kind.value: found.target},
            assignee=assignee.full_name if assignee else "",
        )
    assessment_service.forget_assignments(session)


def of_assessment(session: Session, assessment_id: uuid.UUID) -> list[tuple[Assignment, User]]:
    """Every part given of an assessment, with who has it (sections first, then questions)."""
    query = (
        select(Assignment, User)
        .join(User, col(User.id) == col(Assignment.assignee_id))
        .where(Assignment.assessment_id == assessment_id)
        .order_by(col(Assignment.kind).desc(), col(Assignment.target))
    )
    return [(a, u) for a, u in session.exec(query).all()]


def _counts(
    questionnaire: Questionnaire, assessment: Assessment, parts: Iterable[Assignment], as_of: date
) -> tuple[int, int, bool]:
    """(answered, assigned, done) over the questions of ``parts`` shown now; done: something
    answered and no required question left (an optional one may stay blank)."""
    questions = assessment_service.questions_of_parts(questionnaire, list(parts))
    visible = engine.resolve(
        questionnaire, assessment_service.answers_of(assessment), as_of
    ).visible
    index = questionnaire.question_index()
    shown = [q for q in questions if q in visible]
    answered = [q for q in shown if assessment.answers.get(q) not in (None, "", [])]
    missing = [q for q in shown if q not in answered and index[q].required]
    return len(answered), len(shown), bool(answered) and not missing


def overdue(due_on: date | None, today: date, status: AssessmentStatus | str) -> bool:
    """A due date passed while the assessment is still being answered."""
    return due_on is not None and due_on < today and status in access.EDITABLE


def progress(
    questionnaire: Questionnaire,
    assessment: Assessment,
    rows: list[tuple[Assignment, User]],
    *,
    today: date,
) -> list[Progress]:
    """Per person: answered / assigned, earliest due date, overdue (by name)."""
    people: dict[uuid.UUID, tuple[User, list[Assignment]]] = {}
    for assignment, user in rows:
        people.setdefault(user.id, (user, []))[1].append(assignment)
    out = []
    for user, parts in people.values():
        answered, assigned, done = _counts(questionnaire, assessment, parts, today)
        dates = [p.due_on for p in parts if p.due_on is not None]
        due = min(dates) if dates else None
        out.append(
            Progress(
                user=user,
                answered=answered,
                assigned=assigned,
                due_on=due,
                overdue=overdue(due, today, assessment.status) and not done,
                done=done,
            )
        )
    return sorted(out, key=lambda p: (p.user.full_name, p.user.email))


@dataclass(frozen=True)
class MyPart:
    """A part given to the viewer, as their dashboard lists it."""

    assignment: Assignment
    assessment: Assessment
    title: str  # the section's title or the question's text
    answered: int
    assigned: int
    overdue: bool
    done: bool
    url: str


def assigned_to(
    *, session: Session, viewer: Viewer, registry: Registry, lang: str, today: date
) -> list[MyPart]:
    """The parts given to the viewer in assessments still being answered, soonest due first."""
    query = (
        select(Assignment, Assessment)
        .join(Assessment, col(Assessment.id) == col(Assignment.assessment_id))
        .where(
            Assignment.assignee_id == viewer.user.id,
            col(Assessment.status).in_([s.value for s in access.EDITABLE]),
            Assessment.organisation_id == viewer.user.organisation_id,
        )
    )
    out = []
    for assignment, assessment in session.exec(query).all():
        questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
        if questionnaire is None:
            continue
        answered, assigned, done = _counts(questionnaire, assessment, [assignment], today)
        if assignment.kind == AssignmentKind.section:
            section = assignment.target
        else:
            section = questionnaire.section_of().get(assignment.target, "")
        url = f"/assessments/{assessment.id}/sections/{section.replace('_', '-')}"
        if assignment.kind == AssignmentKind.question:
            url += f"#{assignment.target}"
        out.append(
            MyPart(
                assignment=assignment,
                assessment=assessment,
                title=part_title(questionnaire, assignment.kind, assignment.target, lang),
                answered=answered,
                assigned=assigned,
                overdue=overdue(assignment.due_on, today, assessment.status) and not done,
                done=done,
                url=url,
            )
        )
    return sorted(
        out,
        key=lambda p: (
            p.assignment.due_on is None,
            p.assignment.due_on or today,
            p.assessment.program,
            p.title,
        ),
    )


def assignments_due(session: Session, on_or_before: date) -> list[DueAssignment]:
    """Assignments with a due date on or before ``on_or_before`` in assessments still being
    answered (draft or returned), soonest first: what the reminders job reads ("due in 7 days":
    today + 7; "overdue": yesterday). Reads only; knows nothing of who was told already."""
    query = (
        select(Assignment, Assessment)
        .join(Assessment, col(Assessment.id) == col(Assignment.assessment_id))
        .where(
            col(Assignment.due_on).is_not(None),
            col(Assignment.due_on) <= on_or_before,
            col(Assessment.status).in_([s.value for s in access.EDITABLE]),
        )
        .order_by(col(Assignment.due_on), col(Assignment.id))
    )
    return [
        DueAssignment(
            assignment_id=a.id,
            assignee_id=a.assignee_id,
            assessment_id=s.id,
            title=s.program,
            due_on=a.due_on,
        )
        for a, s in session.exec(query).all()
        if a.due_on is not None
    ]


@notice_service.due_source("assignments")
def assignment_reminders(session: Session, today: date, until: date) -> list[DueItem]:
    """The reminders' source: each open assignment due on or before ``until`` tells its
    assignee ("Your part of {program} is due on {date}", then "Overdue")."""
    return [
        DueItem(
            key=f"assignment:{due.assignment_id}",
            due_on=due.due_on,
            recipients=(due.assignee_id,),
            params={
                "program": due.title,
                "link": f"/assessments/{due.assessment_id}/",
                "subject": "assignment",
            },
        )
        for due in assignments_due(session, until)
    ]
