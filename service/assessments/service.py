"""The officer's use cases: start, save answers, mark sections, submit, import; and reading.

Every use case that changes something runs in one ``db.writing`` transaction, checks the
version the caller saw (optimistic locking; the ORM's version column covers the race between
the check and the commit), and writes an audit event.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import bindparam
from sqlalchemy.orm import object_session
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from service import db
from service.assessments import access, workflow
from service.assessments import digest as review_digest
from service.assessments.models import (
    Assessment,
    Assignment,
    Reassessment,
    ReviewComment,
    Submission,
    SubmissionDigest,
    SubmissionDue,
)
from service.auth import policy
from service.auth.policy import Permission, Reach
from service.auth.principal import Viewer as Viewer
from service.errors import (
    AlreadySubmitted,
    Forbidden,
    InvalidTransition,
    NotFound,
    StaleVersion,
)
from service.i18n.catalogue import N_
from service.models import (
    AssessmentStatus,
    AssignmentKind,
    AuditEvent,
    Organisation,
    OrgKind,
    QuestionnaireState,
    SectionStatus,
    User,
    VersionState,
    utcnow,
)
from service.notices import service as notice_service
from service.questionnaire import engine, scoring
from service.questionnaire.answers import Answers, AnswerValue
from service.questionnaire.loader import Registry
from service.questionnaire.schema import Questionnaire, localize
from service.questionnaire.submission import (
    SALT_BYTES,
    DocumentRef,
    answers_with_documents,
    build_submission,
    parse_submission,
    seal,
)
from service.questionnaire.versions import version_key
from service.report.inputs import build_report_input
from service.report.view import ReportView, build_view


def answers_of(assessment: Assessment) -> Answers:
    return Answers(values=dict(assessment.answers), evidence=dict(assessment.evidence))


def section_statuses(questionnaire: Questionnaire, assessment: Assessment) -> dict[str, str]:
    stored = assessment.section_status
    return {s.id: stored.get(s.id, SectionStatus.not_started) for s in questionnaire.sections}


def unanswered_required(
    questionnaire: Questionnaire, assessment: Assessment, section_id: str, *, as_of: date
) -> list[str]:
    """Required questions of a section that are shown but not answered."""
    visible = engine.resolve(questionnaire, answers_of(assessment), as_of).visible
    return _unanswered(questionnaire, assessment.answers, section_id, visible)


def _unanswered(
    questionnaire: Questionnaire,
    answers: Mapping[str, AnswerValue],
    section_id: str,
    visible: frozenset[str],
) -> list[str]:
    section = next(s for s in questionnaire.sections if s.id == section_id)
    return [
        q.id
        for q in section.questions
        if q.required and q.id in visible and answers.get(q.id) in (None, "", [])
    ]


def unanswered_visible(questionnaire: Questionnaire, answers: Answers, *, as_of: date) -> list[str]:
    """Every question shown for ``answers`` that has no answer, required or not, in
    questionnaire order (what check-your-answers lists, and what a reviewer is told the count
    of)."""
    visible = engine.resolve(questionnaire, answers, as_of).visible
    return [
        q.id
        for section in questionnaire.sections
        for q in section.questions
        if q.id in visible and answers.values.get(q.id) in (None, "", [])
    ]


class UnansweredQuestions(InvalidTransition):
    """A submit with questions left unanswered that the officer did not confirm."""

    code = "unanswered_questions"
    message = "Confirm that you submit without answering these questions"


def visible_with(
    questionnaire: Questionnaire,
    assessment: Assessment,
    values: Mapping[str, AnswerValue | None],
    *,
    as_of: date,
) -> frozenset[str]:
    """The questions shown if ``values`` (None clears one) were merged into the saved answers."""
    merged = dict(assessment.answers)
    for qid, value in values.items():
        if value in (None, "", []):
            merged.pop(qid, None)
        else:
            merged[qid] = value
    return engine.resolve(questionnaire, Answers(values=merged, evidence={}), as_of).visible


def preview(questionnaire: Questionnaire, assessment: Assessment, *, as_of: date) -> scoring.Result:
    """The live result of the answers so far (never stored for a draft); documents attached
    to a question count as its evidence, as they will at submit."""
    answers = answers_of(assessment)
    session = object_session(assessment)
    if session is not None:
        refs = _documents.refs_of(session, assessment.id)  # type: ignore[arg-type]
        answers = answers_with_documents(answers, refs)
    return scoring.score(questionnaire, answers, as_of=as_of)


# --- reading ---------------------------------------------------------------------------------


def list_visible(*, session: Session, viewer: Viewer) -> list[tuple[Assessment, Organisation]]:
    """The assessments ``viewer`` may see, newest first."""
    query = (
        select(Assessment, Organisation)
        .join(Organisation, col(Organisation.id) == col(Assessment.organisation_id))
        .order_by(col(Assessment.updated_at).desc())
    )
    if policy.reach_of(viewer.user.role) is Reach.own_agency:
        query = query.where(Assessment.organisation_id == viewer.user.organisation_id)
    if policy.assigned_only(viewer.user.role):
        assigned = select(Assignment.assessment_id).where(Assignment.assignee_id == viewer.user.id)
        query = query.where(col(Assessment.id).in_(assigned))
    rows = session.exec(query).all()
    return [
        (a, org)
        for a, org in rows
        if access.can_view(
            user=viewer.user, organisation=viewer.organisation, assessment=a, agency=org
        )
    ]


def _check_visible(viewer: Viewer, assessment: Assessment, agency: Organisation) -> None:
    if not access.can_view(
        user=viewer.user, organisation=viewer.organisation, assessment=assessment, agency=agency
    ):
        raise NotFound()
    if policy.assigned_only(viewer.user.role):
        # a contributor knows only the assessments they have a part of (fails closed: a record
        # read outside a session cannot tell)
        session = object_session(assessment)
        if not isinstance(session, Session) or not assignments_of(
            session, assessment_id=assessment.id, user_id=viewer.user.id
        ):
            raise NotFound()


# --- the parts assigned to a contributor --------------------------------------------------------

_ASSIGNED = "assigned"


def assignments_of(
    session: Session, *, assessment_id: uuid.UUID, user_id: uuid.UUID
) -> list[Assignment]:
    """The parts of an assessment assigned to one user (read once per session)."""
    key = (_ASSIGNED, assessment_id, user_id)
    if key not in session.info:
        session.info[key] = list(
            session.exec(
                select(Assignment).where(
                    Assignment.assessment_id == assessment_id, Assignment.assignee_id == user_id
                )
            )
        )
    found: list[Assignment] = session.info[key]
    return found


def forget_assignments(session: Session) -> None:
    """Drop what ``assignments_of`` read (after assignments changed in this session)."""
    for key in [k for k in session.info if isinstance(k, tuple) and k[:1] == (_ASSIGNED,)]:
        del session.info[key]


def questions_of_parts(
    questionnaire: Questionnaire, parts: Collection[Assignment]
) -> frozenset[str]:
    """The question ids a set of assignments covers (a section: every question of it)."""
    sections = {p.target for p in parts if p.kind == AssignmentKind.section}
    singles = {p.target for p in parts if p.kind == AssignmentKind.question}
    return frozenset(
        q.id
        for section in questionnaire.sections
        for q in section.questions
        if section.id in sections or q.id in singles
    )


def assigned_questions(
    session: Session, viewer: Viewer, assessment: Assessment, questionnaire: Questionnaire
) -> frozenset[str] | None:
    """The questions ``viewer`` may read and answer, None when not limited to assignments."""
    if not policy.assigned_only(viewer.user.role):
        return None
    return questions_of_parts(
        questionnaire,
        assignments_of(session, assessment_id=assessment.id, user_id=viewer.user.id),
    )


def assigned_sections(
    session: Session, viewer: Viewer, assessment: Assessment
) -> frozenset[str] | None:
    """The sections given whole to ``viewer`` (who may mark them completed), None when not
    limited to assignments."""
    if not policy.assigned_only(viewer.user.role):
        return None
    return frozenset(
        p.target
        for p in assignments_of(session, assessment_id=assessment.id, user_id=viewer.user.id)
        if p.kind == AssignmentKind.section
    )


def check_assigned(
    session: Session,
    viewer: Viewer,
    assessment: Assessment,
    questionnaire: Questionnaire,
    question_ids: Collection[str],
) -> None:
    """Forbidden unless every question of ``question_ids`` is assigned to ``viewer`` (always
    passes for a role not limited to assignments)."""
    allowed = assigned_questions(session, viewer, assessment, questionnaire)
    if allowed is not None and not set(question_ids) <= allowed:
        raise Forbidden("This question is not assigned to you")


def check_whole(viewer: Viewer) -> None:
    """Forbidden for a role that reads only the parts assigned to it."""
    policy.check(viewer.user, Permission.assessment_read_all)


def visible_part(
    assessment: Assessment, questions: frozenset[str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers and notes of ``questions`` (all of them for None)."""
    if questions is None:
        return dict(assessment.answers), dict(assessment.evidence)
    return (
        {k: v for k, v in assessment.answers.items() if k in questions},
        {k: v for k, v in assessment.evidence.items() if k in questions},
    )


# --- conflicts only where there is one -----------------------------------------------------------

EVIDENCE_KEY = "evidence-"  # a note's field: "evidence-<question id>", as the section form names it
SECTION_KEY = "section-"  # a section status: "section-<section id>"


def _normal(value: object) -> object:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    return value


def fingerprint(value: object) -> str:
    """A short digest of an answer or note as read, compared with what a form sends back."""
    normal = _normal(value)
    if normal is None:
        return "-"
    text = json.dumps(normal, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _current(assessment: Assessment, key: str) -> object:
    if key.startswith(EVIDENCE_KEY):
        return assessment.evidence.get(key.removeprefix(EVIDENCE_KEY))
    return assessment.answers.get(key)


def read_marks(assessment: Assessment, question_ids: Collection[str]) -> str:
    """What a form was read at, field by field: ``"<field>=<fingerprint> ..."`` for the answer
    and the note of each of ``question_ids`` (a hidden field of the section form)."""
    keys = [k for q in question_ids for k in (q, EVIDENCE_KEY + q)]
    return " ".join(f"{k}={fingerprint(_current(assessment, k))}" for k in keys)


def parse_read_marks(text: object) -> dict[str, str] | None:
    """The marks of ``read_marks`` (None when absent or not of that form)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 200_000:
        return None
    out: dict[str, str] = {}
    for item in text.split():
        key, sep, mark = item.partition("=")
        if not sep or not key or not mark:
            return None
        out[key] = mark
    return out


class FieldConflict(StaleVersion):
    """A field this change sets was also changed by someone else since it was read."""

    code = "field_conflict"
    message = N_("Someone else changed the same answers after you opened the page")


def field_conflicts(
    assessment: Assessment,
    *,
    read_version: int,
    values: Mapping[str, object],
    evidence: Mapping[str, object],
    read: Mapping[str, str] | None = None,
    unparsed: Collection[str] = (),
) -> frozenset[str]:
    """Judge a change made on ``read_version`` of ``assessment`` field by field.

    A field (an answer, or a note ``evidence-<id>``) someone else changed since the read is a
    conflict when this change sets it too: FieldConflict naming them. Which fields changed
    since: with ``read`` (a section form's fingerprints of its fields as read), those whose
    value now differs from what the form read, and the form sets a field when what it sends
    differs from what it read (it sends back every field of the section); without (the API, an
    answers file), those whose version in ``assessment.changed_in`` is later than the read,
    and the change sets every field it names. Returns the fields to keep as saved now: changed
    since, but only sent back as read. ``unparsed``: fields the form holds that could not be
    read (typed, so set)."""
    if read_version == assessment.version:
        return frozenset()
    posted: dict[str, object] = dict(values)
    posted.update({EVIDENCE_KEY + k: v for k, v in evidence.items()})
    for key in unparsed:
        posted.setdefault(key, None)
    if read_version > assessment.version:  # a version that never was: nothing can be judged
        raise FieldConflict(fields=sorted(posted), current_version=assessment.version)
    stamps = assessment.changed_in or {}
    conflicts: list[str] = []
    kept: set[str] = set()
    for key, value in posted.items():
        now = fingerprint(_current(assessment, key))
        mark = read.get(key) if read is not None else None
        if mark is not None:
            changed_since = now != mark
            edited = key in unparsed or fingerprint(value) != mark
        else:
            changed_since = int(stamps.get(key, 0)) > read_version
            edited = True
        if not changed_since:
            continue
        if edited:
            conflicts.append(key)
        else:
            kept.add(key)
    if conflicts:
        raise FieldConflict(fields=sorted(conflicts), current_version=assessment.version)
    return frozenset(kept)


def section_changed_since(
    questionnaire: Questionnaire, assessment: Assessment, section_id: str, read_version: int
) -> list[str]:
    """The fields of a section (answers, notes, its status) changed since ``read_version``."""
    if read_version == assessment.version:
        return []
    section = next(s for s in questionnaire.sections if s.id == section_id)
    keys = [k for q in section.questions for k in (q.id, EVIDENCE_KEY + q.id)]
    keys.append(SECTION_KEY + section_id)
    if read_version > assessment.version:
        return keys
    stamps = assessment.changed_in or {}
    return [k for k in keys if int(stamps.get(k, 0)) > read_version]


def _stamp(assessment: Assessment, keys: Collection[str]) -> None:
    """Record that ``keys`` change in the version this transaction writes."""
    if not keys:
        return
    version = (assessment.version or 0) + 1
    assessment.changed_in = {**(assessment.changed_in or {}), **dict.fromkeys(keys, version)}


def _changed_keys(
    before: Mapping[str, object], after: Mapping[str, object], prefix: str
) -> set[str]:
    return {
        prefix + k
        for k in set(before) | set(after)
        if fingerprint(before.get(k)) != fingerprint(after.get(k))
    }


# Built once: building the statement cost more than running it (every page of an assessment).
_GET_VISIBLE = (
    select(Assessment, Organisation, Reassessment)
    .join(Organisation, col(Organisation.id) == col(Assessment.organisation_id))
    .join(Reassessment, col(Reassessment.assessment_id) == col(Assessment.id), isouter=True)
    .where(col(Assessment.id) == bindparam("assessment_id"))
)


def get_visible(
    *, session: Session, viewer: Viewer, assessment_id: uuid.UUID
) -> tuple[Assessment, Organisation]:
    """The assessment and its agency; 404 when ``viewer`` may not know it exists.

    The same query reads the reassessment link, if any, which every page of a draft asks for
    (``reassessment_of``)."""
    found = session.exec(_GET_VISIBLE, params={"assessment_id": assessment_id}).first()
    if found is None:
        raise NotFound()
    assessment, agency, link = found
    _check_visible(viewer, assessment, agency)
    session.info[(_REASSESSMENT, assessment.id)] = link
    return as_seen_by(session=session, viewer=viewer, assessment=assessment), agency


def as_seen_by(*, session: Session, viewer: Viewer, assessment: Assessment) -> Assessment:
    """The assessment as ``viewer`` may read it. The agency's own people read the working copy;
    everyone else (reviewers, the board, admins) reads the latest submission they may open:
    while the agency edits a returned draft, a detached copy carrying that submission's answers,
    notes, program and questionnaire version (never added to a session, so never written back;
    a use case that changes the assessment re-reads it). Before any submission, nothing."""
    if assessment.status not in access.EDITABLE or access.reads_draft(
        user=viewer.user, assessment=assessment
    ):
        return assessment
    latest = get_submission(session=session, assessment_id=assessment.id, viewer=viewer)
    if latest is None:
        record_answers: dict[str, Any] = {}
        record_notes: dict[str, str] = {}
        program, version = assessment.program, assessment.questionnaire_version
    else:
        record = parse_submission(latest.canonical.encode("utf-8"))
        record_answers, record_notes = dict(record.answers), dict(record.evidence)
        program, version = record.program, record.questionnaire_version
    return Assessment(
        id=assessment.id,
        organisation_id=assessment.organisation_id,
        questionnaire_id=assessment.questionnaire_id,
        questionnaire_version=version,
        program=program,
        answers=record_answers,
        evidence=record_notes,
        section_status=(
            dict.fromkeys(assessment.section_status, SectionStatus.completed.value)
            if latest is not None
            else {}
        ),
        status=assessment.status,
        version=assessment.version,
        created_by_id=assessment.created_by_id,
        created_at=assessment.created_at,
        updated_at=latest.submitted_at if latest is not None else assessment.created_at,
    )


_REASSESSMENT = "reassessment"


def reassessment_of(*, session: Session, assessment_id: uuid.UUID) -> Reassessment | None:
    """The link from a reassessment to the assessment it continues (None for a first one)."""
    key = (_REASSESSMENT, assessment_id)
    if key not in session.info:
        session.info[key] = session.get(Reassessment, assessment_id)
    link: Reassessment | None = session.info[key]
    return link


def regulators_for(*, session: Session, agency: Organisation) -> list[Organisation]:
    """The regulators that receive this agency's submissions."""
    query = select(Organisation).where(Organisation.kind == OrgKind.regulator)
    return [r for r in session.exec(query) if access.oversees(r, agency)]


def _seen_by(query: Any, viewer: Viewer | None) -> Any:
    """``query`` of submissions narrowed to those ``viewer`` may open (None: the system). A
    role that reads only its assigned parts opens no submission (403): a submission holds the
    whole assessment, its result and its report."""
    if viewer is not None:
        check_whole(viewer)
    statuses = access.submission_statuses(viewer.user) if viewer is not None else None
    if statuses is None:
        return query
    return query.join(
        SubmissionDigest, col(SubmissionDigest.submission_id) == col(Submission.id)
    ).where(col(SubmissionDigest.status).in_(sorted(statuses)))


def submissions(
    *, session: Session, assessment_id: uuid.UUID, viewer: Viewer | None
) -> list[Submission]:
    """The submissions ``viewer`` may open, oldest first (``viewer=None``: every one, for the
    system's own use: listeners, use cases that checked access already)."""
    query = select(Submission).where(Submission.assessment_id == assessment_id)
    query = _seen_by(query, viewer).order_by(col(Submission.number))
    return list(session.exec(query))


MAX_NUMBER = 2**31 - 1  # the largest submission number (an INTEGER column)


def get_submission(
    *,
    session: Session,
    assessment_id: uuid.UUID,
    viewer: Viewer | None,
    number: int | None = None,
) -> Submission | None:
    """The submission with ``number``, or the latest one, as far as ``viewer`` may open it
    (None when it may not: a 404 to the caller)."""
    query = select(Submission).where(Submission.assessment_id == assessment_id)
    if number is not None:
        if not 1 <= number <= MAX_NUMBER:  # no such submission; no database holds the number
            return None
        query = query.where(Submission.number == number)
    query = _seen_by(query, viewer)
    found: Submission | None = session.exec(query.order_by(col(Submission.number).desc())).first()
    return found


def report_view(
    questionnaire: Questionnaire,
    assessment: Assessment,
    lang: str,
    *,
    submission: Submission | None = None,
    as_of: date | None = None,
) -> ReportView:
    """The report view every page and the API read verdicts, gaps and section scores from.

    Of ``submission``: its frozen record and the Result stored at submit (nothing is scored
    again). Without one, of the draft's answers so far, scored ``as_of`` (documents count as
    evidence, as they will at submit)."""
    status = str(assessment.status)
    if submission is not None:
        record = parse_submission(submission.canonical.encode("utf-8"))
        result = scoring.Result.model_validate(submission.result)
        return build_view(
            build_report_input(questionnaire, record, status=status, result=result), lang
        )
    if as_of is None:
        raise ValueError("a draft's report view needs the date it speaks for (as_of)")
    session = object_session(assessment)
    refs = _documents.refs_of(session, assessment.id) if session is not None else {}  # type: ignore[arg-type]
    record = build_submission(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        questionnaire_sha256=questionnaire.sha256,
        as_of=as_of,
        agency="",
        program=assessment.program,
        answers=answers_of(assessment),
        documents={qid: list(found) for qid, found in refs.items()},
    )
    return build_view(build_report_input(questionnaire, record, status=status), lang)


# Events of a review in progress, which the agency and the board do not see.
REVIEWER_ONLY_EVENTS = frozenset({"review_draft"})


def history(
    *, session: Session, assessment_id: uuid.UUID, viewer: Viewer
) -> list[tuple[AuditEvent, User | None]]:
    """The assessment's audit events, oldest first, as far as ``viewer`` may see them."""
    query = (
        select(AuditEvent, User)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .where(AuditEvent.assessment_id == assessment_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    if not policy.allowed(viewer.user.role, Permission.review_read):
        query = query.where(col(AuditEvent.action).not_in(REVIEWER_ONLY_EVENTS))
    return [(event, user) for event, user in session.exec(query).all()]


# --- changing --------------------------------------------------------------------------------


def _random_salt(_path: str) -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def _audit(
    session: Session, *, user: User | None, assessment: Assessment, action: str, **detail: object
) -> None:
    session.add(
        AuditEvent(
            actor_id=user.id if user else None,
            assessment_id=assessment.id,
            action=action,
            detail=dict(detail),
        )
    )


def load_for_change(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    fresh: bool = False,
) -> Assessment:
    """The assessment, checked for role, status and version.

    With ``expected_version`` the copy this request already read is used as it is: if the row
    has changed since, the ORM's version check fails the UPDATE (StaleVersion), so re-reading
    would only cost a query. Without it the row is re-read inside the write transaction, so
    the change is merged into the latest answers. (So every change made with an expected
    version must UPDATE the assessment row, as setting ``updated_at`` does, for the check to
    run.) With ``fresh`` the row is re-read and locked (PostgreSQL: ``FOR UPDATE``; SQLite's
    write lock is held already) and the version is left to the caller to judge field by field
    (``field_conflicts``)."""
    reread = expected_version is None or fresh
    if fresh:
        # Lock the row first (a column, not the entity: refreshing an entity the session
        # already holds at an older version with FOR UPDATE is refused by the ORM's version
        # check), then read the entity as it is now.
        session.exec(
            select(Assessment.id).where(col(Assessment.id) == assessment_id).with_for_update()
        ).first()
    assessment = session.get(Assessment, assessment_id, populate_existing=reread)
    if assessment is None:
        raise NotFound()
    _check_visible(viewer, assessment, session.get_one(Organisation, assessment.organisation_id))
    if not access.can_edit(user=viewer.user, assessment=assessment):
        raise Forbidden()
    if assessment.status not in access.EDITABLE:
        raise AlreadySubmitted()
    if not fresh and expected_version is not None and expected_version != assessment.version:
        raise StaleVersion(current_version=assessment.version)
    return assessment


def start(
    *, session: Session, viewer: Viewer, questionnaire: Questionnaire, program: str
) -> Assessment:
    """A new draft for the viewer's agency."""
    if viewer.organisation is None or not access.can_start(viewer.user, viewer.organisation):
        raise Forbidden()
    assessment = Assessment(
        organisation_id=viewer.organisation.id,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        program=program,
        created_by_id=viewer.user.id,
    )
    with db.writing(session):
        session.add(assessment)
        session.flush()
        _audit(
            session,
            user=viewer.user,
            assessment=assessment,
            action="start",
            questionnaire=f"{questionnaire.id} {questionnaire.version}",
            program=program,
        )
    return assessment


@dataclass(frozen=True)
class SavedAnswers:
    """What a save changed: the assessment as saved, the questions shown now, and those shown
    now that were not before and have no answer yet (the page goes back to ask them)."""

    assessment: Assessment
    visible: frozenset[str]
    newly_visible: frozenset[str]
    # other sections that were Completed and now show a required question with no answer: they
    # are In progress again (the page says so)
    reopened: frozenset[str] = frozenset()


def save_answers(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    questionnaire: Questionnaire,
    values: Mapping[str, AnswerValue | None],
    evidence: Mapping[str, str | None],
    as_of: date,
    source: str = "web",
    read: Mapping[str, str] | None = None,
) -> SavedAnswers:
    """Merge answers (None clears one) into the draft, in one transaction (``apply_answers``).

    ``expected_version`` is the version the change was made on (None: merge into the latest,
    for the system's own use). When others saved since, the change is judged field by field
    (``field_conflicts``, with the form's ``read`` fingerprints if it has them): FieldConflict
    when a field it sets was changed by someone else too; otherwise it is saved, keeping what
    the others saved in the fields it did not change. A contributor may change only the
    questions assigned to them (Forbidden, nothing stored).

    When the change was made on the version this request read already, it is first tried on
    that copy (no query): the UPDATE's version check then stands for the field-by-field one, as
    nobody saved since. Should someone have saved in between, it is judged again on the row as
    it is now."""

    held = session.identity_map.get(session.identity_key(Assessment, assessment_id))
    on_copy = expected_version is not None and held is not None and held.version == expected_version
    for fresh in (False, True) if on_copy else (True,):
        try:
            with db.writing(session):
                assessment = load_for_change(
                    session=session,
                    viewer=viewer,
                    assessment_id=assessment_id,
                    expected_version=expected_version,
                    fresh=fresh,
                )
                check_assigned(session, viewer, assessment, questionnaire, [*values, *evidence])
                kept: frozenset[str] = frozenset()
                if expected_version is not None:
                    kept = field_conflicts(
                        assessment,
                        read_version=expected_version,
                        values=values,
                        evidence=evidence,
                        read=read,
                    )
                return apply_answers(
                    session=session,
                    viewer=viewer,
                    assessment=assessment,
                    questionnaire=questionnaire,
                    values={k: v for k, v in values.items() if k not in kept},
                    evidence={k: v for k, v in evidence.items() if EVIDENCE_KEY + k not in kept},
                    as_of=as_of,
                    source=source,
                    read_version=expected_version,
                )
        except StaleVersion:
            if fresh:  # judged on the row as it is now: the conflict stands
                raise
        except StaleDataError as error:
            if fresh:
                raise StaleVersion() from error
        # not fresh: saved by someone else since this request read it; judge it on the row as it is now
    raise AssertionError("unreachable: the last attempt returns or raises")


def apply_answers(
    *,
    session: Session,
    viewer: Viewer,
    assessment: Assessment,
    questionnaire: Questionnaire,
    values: Mapping[str, AnswerValue | None],
    evidence: Mapping[str, str | None],
    as_of: date,
    source: str,
    read_version: int | None = None,
) -> SavedAnswers:
    """Merge answers (None clears one) into ``assessment``, dropping those of questions no
    longer shown; sections touched become In progress unless they were Completed and still have
    every required question answered. Works out which questions are shown twice: before the
    save and after (an answer of a hidden question never changes what is shown).

    Runs inside the caller's ``db.writing`` transaction, on an assessment ``load_for_change``
    gave it (so that a use case can change more than the answers in one transaction: the
    archive import)."""
    index = questionnaire.question_index()
    unknown = [k for k in [*values, *evidence] if k not in index]
    if unknown:
        raise NotFound(f"There is no question {unknown[0]!r} in this questionnaire")
    before = engine.resolve(questionnaire, answers_of(assessment), as_of).visible
    old_values, old_notes = dict(assessment.answers), dict(assessment.evidence)
    old_statuses = dict(assessment.section_status)
    new_values = dict(assessment.answers)
    new_notes = dict(assessment.evidence)
    changed: list[str] = []
    for qid, value in values.items():
        if value in (None, "", []):
            if new_values.pop(qid, None) is not None:
                changed.append(qid)
        elif new_values.get(qid) != value:
            new_values[qid] = value
            changed.append(qid)
    for qid, note in evidence.items():
        if not note:
            new_notes.pop(qid, None)
        else:
            new_notes[qid] = note
    visible = engine.resolve(
        questionnaire, Answers(values=new_values, evidence=new_notes), as_of
    ).visible
    new_values = {k: v for k, v in new_values.items() if k in visible}
    new_notes = {k: v for k, v in new_notes.items() if k in visible}
    assessment.answers = new_values
    assessment.evidence = new_notes
    sections = questionnaire.section_of()
    touched = sorted({sections[q] for q in [*values, *evidence]})
    statuses = dict(assessment.section_status)
    for section_id in touched:
        if statuses.get(section_id) == SectionStatus.completed.value and not _unanswered(
            questionnaire, new_values, section_id, visible
        ):
            continue
        statuses[section_id] = SectionStatus.in_progress.value
    # a question revealed in another section reopens it when it must be answered
    reopened = frozenset(
        section_id
        for section_id in {sections[q] for q in visible - before} - set(touched)
        if statuses.get(section_id) == SectionStatus.completed.value
        and _unanswered(questionnaire, new_values, section_id, visible)
    )
    for section_id in reopened:
        statuses[section_id] = SectionStatus.in_progress.value
    assessment.section_status = statuses
    _stamp(
        assessment,
        _changed_keys(old_values, new_values, "")
        | _changed_keys(old_notes, new_notes, EVIDENCE_KEY)
        | _changed_keys(old_statuses, statuses, SECTION_KEY),
    )
    assessment.updated_at = utcnow()
    merged = read_version is not None and read_version != assessment.version
    _audit(
        session,
        user=viewer.user,
        assessment=assessment,
        action="save",
        sections=touched,
        changed=sorted(changed),
        source=source,
        **({"reopened": sorted(reopened)} if reopened else {}),
        # saved on an earlier version, beside others' changes to other fields
        **({"read_version": read_version} if merged else {}),
    )
    newly = frozenset(q for q in visible - before if q not in new_values)
    return SavedAnswers(
        assessment=assessment, visible=visible, newly_visible=newly, reopened=reopened
    )


def mark_section(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    questionnaire: Questionnaire,
    section_id: str,
    completed: bool,
    as_of: date,
) -> Assessment:
    """Record the officer's answer to "Have you completed this section?".

    Made on an earlier version, it is refused (FieldConflict) only when something of the section
    changed since (an answer, a note or its status): others' work elsewhere does not stop it. A
    contributor marks only a section given to them whole."""
    try:
        with db.writing(session):
            assessment = load_for_change(
                session=session,
                viewer=viewer,
                assessment_id=assessment_id,
                expected_version=expected_version,
                fresh=True,
            )
            whole = assigned_sections(session, viewer, assessment)
            if whole is not None and section_id not in whole:
                raise Forbidden("This section is not assigned to you")
            if expected_version is not None and (
                changed := section_changed_since(
                    questionnaire, assessment, section_id, expected_version
                )
            ):
                raise FieldConflict(fields=changed, current_version=assessment.version)
            if completed and unanswered_required(
                questionnaire, assessment, section_id, as_of=as_of
            ):
                raise InvalidTransition(
                    "Answer every required question before you mark this section as completed"
                )
            status = SectionStatus.completed if completed else SectionStatus.in_progress
            if assessment.section_status.get(section_id) != status.value:
                _stamp(assessment, [SECTION_KEY + section_id])
            assessment.section_status = {**assessment.section_status, section_id: status.value}
            assessment.updated_at = utcnow()
            _audit(
                session,
                user=viewer.user,
                assessment=assessment,
                action="section_status",
                section=section_id,
                status=status.value,
            )
    except StaleDataError as error:
        raise StaleVersion() from error
    return assessment


def submit(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    questionnaire: Questionnaire,
    confirmed_unanswered: Collection[str] | None = None,
) -> Submission:
    """Freeze the answers into a numbered, hashed, immutable submission.

    With ``confirmed_unanswered`` (the pages), every question shown but not answered must be
    among them: the officer confirmed submitting without them (UnansweredQuestions otherwise,
    naming them). None leaves that to the caller (the API reports the count in the result)."""
    policy.check(viewer.user, Permission.assessment_submit)
    try:
        with db.writing(session):
            assessment = load_for_change(
                session=session,
                viewer=viewer,
                assessment_id=assessment_id,
                expected_version=expected_version,
            )
            if workflow.next_state(assessment.status, "submit", viewer.user.role) is None:
                raise AlreadySubmitted()
            if any(
                s != SectionStatus.completed
                for s in section_statuses(questionnaire, assessment).values()
            ):
                raise InvalidTransition("Complete every section before you submit the assessment")
            if confirmed_unanswered is not None:
                missing = unanswered_visible(
                    questionnaire, answers_of(assessment), as_of=utcnow().date()
                )
                if not set(missing) <= set(confirmed_unanswered):
                    raise UnansweredQuestions(questions=missing)
            agency = session.get_one(Organisation, assessment.organisation_id)
            now = utcnow()
            as_of = now.date()
            count = session.exec(
                select(func.count()).where(Submission.assessment_id == assessment.id)
            ).one()
            record = build_submission(
                questionnaire_id=questionnaire.id,
                questionnaire_version=questionnaire.version,
                questionnaire_sha256=questionnaire.sha256,
                as_of=as_of,
                agency=agency.name_en,
                program=assessment.program,
                answers=answers_of(assessment),
                number=int(count) + 1,
                submitted_at=now,
                documents=_documents.refs_of(
                    session,
                    assessment.id,
                    questions=engine.resolve(questionnaire, answers_of(assessment), as_of).visible,
                ),
            )
            # version 2: each field committed with its own random salt, so a redacted copy (the
            # public edition) can later be proven against the same hash
            sealed = seal(record, salt=_random_salt)
            result = scoring.score(questionnaire, record.to_answers(), as_of=as_of)
            submission = Submission(
                assessment_id=assessment.id,
                number=record.number,
                canonical=sealed.canonical().decode("utf-8"),
                sha256=sealed.root(),
                result=result.model_dump(mode="json"),
                as_of=as_of,
                submitted_by_id=viewer.user.id,
                submitted_at=now,
            )
            session.add(submission)
            review_digest.record_submission(
                session, assessment=assessment, submission=submission, result=result
            )
            previous = assessment.status
            assessment.status = AssessmentStatus.submitted
            assessment.updated_at = now
            _audit(
                session,
                user=viewer.user,
                assessment=assessment,
                action="submit",
                number=record.number,
                sha256=submission.sha256,
                previous_status=previous,
            )
    except StaleDataError as error:
        raise StaleVersion() from error
    return submission


# --- which questionnaire versions new assessments start with ------------------------------


def questionnaire_states(session: Session) -> dict[tuple[str, str], VersionState]:
    return {
        (r.questionnaire_id, r.version): r.state for r in session.exec(select(QuestionnaireState))
    }


def version_state(
    states: dict[tuple[str, str], VersionState], registry: Registry, q: Questionnaire
) -> VersionState:
    """``published`` or ``retired``: an admin's choice, else the latest version of an id is
    published and earlier ones are retired."""
    chosen = states.get((q.id, q.version))
    if chosen is not None:
        return chosen
    latest = registry.latest(q.id)
    if latest is not None and latest.version == q.version:
        return VersionState.published
    return VersionState.retired


def offered_for_new(session: Session, registry: Registry) -> list[Questionnaire]:
    """The questionnaire versions new assessments may start with (newest first per id)."""
    states = questionnaire_states(session)
    out = [
        q for q in registry.all() if version_state(states, registry, q) == VersionState.published
    ]
    return sorted(out, key=lambda q: (q.id, version_key(q.version)), reverse=True)


def version_for_new(
    session: Session, registry: Registry, questionnaire_id: str
) -> Questionnaire | None:
    """The version a new assessment of ``questionnaire_id`` starts with (None: not offered)."""
    for q in offered_for_new(session, registry):
        if q.id == questionnaire_id:
            return q
    return None


# --- the reviewer's comments, as the officer sees them after a return ------------------------


def comments(
    *, session: Session, assessment_id: uuid.UUID
) -> list[tuple[ReviewComment, Submission | None, User | None]]:
    query = (
        select(ReviewComment, Submission, User)
        .join(Submission, col(Submission.id) == col(ReviewComment.submission_id), isouter=True)
        .join(User, col(User.id) == col(ReviewComment.author_id), isouter=True)
        .where(ReviewComment.assessment_id == assessment_id)
        .order_by(col(ReviewComment.created_at), col(ReviewComment.id))
    )
    return [(c, s, u) for c, s, u in session.exec(query).all()]


def latest_comments(
    *, session: Session, assessment_id: uuid.UUID, number: int | None = None
) -> dict[str | None, list[str]]:
    """The comments made on submission ``number`` (default: the latest reviewed submission):
    criterion id (None: general) -> texts. What the officer sees after a return, and what the
    board reads beside the accepted submission (never those of an earlier, returned one)."""
    rows = comments(session=session, assessment_id=assessment_id)
    if not rows:
        return {}
    last = (
        number
        if number is not None
        else max((s.number for _, s, _ in rows if s is not None), default=0)
    )
    out: dict[str | None, list[str]] = {}
    for comment, submission, _ in rows:
        if submission is None or submission.number == last:
            out.setdefault(comment.criterion_id, []).append(comment.body)
    return out


def officer_comments(
    *,
    session: Session,
    assessment: Assessment,
    questionnaire: Questionnaire,
    lang: str,
    section_id: str | None = None,
) -> list[dict[str, str]]:
    """The reviewer's comments on the latest reviewed submission, while the assessment is
    back with the officer: every comment on the task list (``section_id`` None), else those of
    criteria in the section or reading its questions. General comments come first."""
    if assessment.status != AssessmentStatus.returned:
        return []
    latest = latest_comments(session=session, assessment_id=assessment.id)
    if not latest:
        return []
    titles = {c.id: localize(c.title, lang) for c in questionnaire.criteria}
    keep: set[str] | None = None
    if section_id is not None:
        submission = get_submission(session=session, assessment_id=assessment.id, viewer=None)
        keep = set()
        if submission is not None:
            section_of = questionnaire.section_of()
            for c in scoring.Result.model_validate(submission.result).criteria:
                if c.section == section_id or any(
                    section_of.get(q) == section_id for q in c.trace.reads
                ):
                    keep.add(c.id)
    out: list[dict[str, str]] = []
    for text in latest.get(None, []):
        if section_id is None:
            out.append({"criterion": "", "title": "", "body": text})
    for cid, texts in latest.items():
        if cid is None or (keep is not None and cid not in keep):
            continue
        out.extend({"criterion": cid, "title": titles.get(cid, ""), "body": t} for t in texts)
    return out


def new_questions_in(
    *,
    session: Session,
    assessment: Assessment,
    questionnaire: Questionnaire,
    lang: str,
    section_id: str,
) -> list[dict[str, str]]:
    """Questions of a section that are new in this version since the accepted assessment a
    reassessment started from (shown while it is being edited)."""
    if assessment.status not in access.EDITABLE:
        return []
    link = reassessment_of(session=session, assessment_id=assessment.id)
    if link is None or not link.new_questions:
        return []
    section = next((s for s in questionnaire.sections if s.id == section_id), None)
    if section is None:
        return []
    new = set(link.new_questions)
    carried = link.detail.get("carry", {}) if isinstance(link.detail, dict) else {}
    # a reassessment started before answers were carried by declaration lists only new ones
    return [
        {
            "id": q.id,
            "text": localize(q.text, lang),
            "status": str(carried.get(q.id, {}).get("status", "new")),
        }
        for q in section.questions
        if q.id in new or q.id in carried
    ]


# --- documents as evidence (the documents feature supplies them: see use_documents) ---------


class DocumentSource(Protocol):
    """Where the documents attached to an assessment's questions come from."""

    def refs_of(
        self,
        session: Session,
        assessment_id: uuid.UUID,
        *,
        questions: Collection[str] | None = None,
    ) -> dict[str, list[DocumentRef]]: ...


class _NoDocuments:
    def refs_of(
        self,
        session: Session,
        assessment_id: uuid.UUID,
        *,
        questions: Collection[str] | None = None,
    ) -> dict[str, list[DocumentRef]]:
        return {}


_documents: DocumentSource = _NoDocuments()


def attached_documents(session: Session, assessment_id: uuid.UUID) -> dict[str, list[DocumentRef]]:
    """The documents attached to the draft's answers, by question id."""
    return _documents.refs_of(session, assessment_id)


def met_without_evidence(
    questionnaire: Questionnaire, assessment: Assessment, *, as_of: date
) -> dict[str, list[str]]:
    """The questions whose "met" counts as partly met for want of evidence (no note and no
    document on any question the criterion reads), with those criteria's ids, by question id."""
    out: dict[str, list[str]] = {}
    for criterion in preview(questionnaire, assessment, as_of=as_of).criteria:
        if not criterion.evidence_capped or criterion.trace.evidence is None:
            continue
        for qid in criterion.trace.evidence.value("questions").split():
            out.setdefault(qid, []).append(criterion.id)
    return out


def use_documents(source: DocumentSource) -> None:
    """Count the documents of ``source`` as evidence in previews and submissions. The documents
    feature sits above this one (it uses these use cases), so the app wires it in:
    ``service.documents.store`` is passed by ``main.create_app`` and by the command line."""
    global _documents
    _documents = source


# --- due dates of submissions (set by the regulator; reminded by the notices feature) ----------


@dataclass(frozen=True)
class DueMark:
    """A due date as a page shows it: ``state`` is "overdue", "due_soon" or None (later)."""

    due_on: date
    resubmission: bool
    state: str | None


def _reassessment_submitted(session: Session, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the accepted assessments ``ids`` have a reassessment submitted since."""
    if not ids:
        return set()
    query = (
        select(Reassessment.previous_assessment_id)
        .join(Assessment, col(Assessment.id) == col(Reassessment.assessment_id))
        .where(
            col(Reassessment.previous_assessment_id).in_(list(ids)),
            col(Assessment.status) != AssessmentStatus.draft,
        )
    )
    return set(session.exec(query).all())


def _live_dues(
    session: Session, rows: Sequence[tuple[SubmissionDue, Assessment]]
) -> list[tuple[SubmissionDue, Assessment]]:
    """The due dates still to meet: a (re)submission of a draft or returned assessment, or the
    next assessment of an accepted one until a reassessment of it is submitted."""
    accepted = [a.id for d, a in rows if a.status == AssessmentStatus.accepted]
    met = _reassessment_submitted(session, accepted)
    return [
        (d, a)
        for d, a in rows
        if a.status in access.EDITABLE
        or (a.status == AssessmentStatus.accepted and not d.resubmission and a.id not in met)
    ]


def due_dates(
    session: Session, assessment_ids: Collection[uuid.UUID], *, today: date
) -> dict[uuid.UUID, DueMark]:
    """The due date of each of the assessments still to meet (``_live_dues``), with whether it
    is overdue or due within 7 days."""
    if not assessment_ids:
        return {}
    rows = session.exec(
        select(SubmissionDue, Assessment)
        .join(Assessment, col(Assessment.id) == col(SubmissionDue.assessment_id))
        .where(col(SubmissionDue.assessment_id).in_(list(assessment_ids)))
    ).all()
    return {
        due.assessment_id: DueMark(
            due_on=due.due_on,
            resubmission=due.resubmission,
            state=notice_service.overdue_words(due.due_on, today),
        )
        for due, _assessment in _live_dues(session, rows)
    }


def set_due(
    session: Session,
    *,
    assessment: Assessment,
    due_on: date | None,
    resubmission: bool,
    actor_id: uuid.UUID,
) -> None:
    """Set (or, with None, clear) when the assessment's next submission is due, with an audit
    event, inside the caller's transaction (the regulator's use cases in ``review``)."""
    row = session.get(SubmissionDue, assessment.id)
    if due_on is None:
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = SubmissionDue(assessment_id=assessment.id, due_on=due_on, set_at=utcnow())
        row.due_on, row.resubmission = due_on, resubmission
        row.set_by_id, row.set_at = actor_id, utcnow()
        session.add(row)
    session.add(
        AuditEvent(
            actor_id=actor_id,
            assessment_id=assessment.id,
            action="due_date_set",
            detail={
                "due_date": due_on.isoformat() if due_on else "",
                "resubmission": resubmission,
            },
        )
    )


@notice_service.due_source("submissions")
def submissions_due(session: Session, today: date, until: date) -> list[notice_service.DueItem]:
    """Submissions due on or before ``until`` that the agency has not made yet (``_live_dues``):
    its officers hear of them."""
    query = (
        select(SubmissionDue, Assessment)
        .join(Assessment, col(Assessment.id) == col(SubmissionDue.assessment_id))
        .where(col(SubmissionDue.due_on) <= until)
    )
    items: list[notice_service.DueItem] = []
    for due, assessment in _live_dues(session, session.exec(query).all()):
        officers = notice_service.agency_officers(session, assessment.organisation_id)
        items.append(
            notice_service.DueItem(
                key=f"submission:{assessment.id}",
                due_on=due.due_on,
                recipients=tuple(officers),
                params={
                    "program": assessment.program,
                    "link": f"/assessments/{assessment.id}/",
                    "subject": "resubmission" if due.resubmission else "submission",
                },
            )
        )
    return items
