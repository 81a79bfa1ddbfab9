"""The reviewer's and the board's use cases: inbox, decisions, diffs, portfolio, reassessment.

Every change runs in one ``db.writing`` transaction, checks the workflow table
(``service.assessments.workflow``) and writes an audit event. Reading never re-scores: the inbox and
the portfolio read ``SubmissionDigest`` rows written at submit time.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, delete, func, select

from service import db
from service.actions import service as action_service
from service.assessments import access, workflow
from service.assessments import service as assessment_service
from service.assessments.digest import parse_verdicts
from service.assessments.models import (
    Assessment,
    Reassessment,
    ReviewComment,
    Submission,
    SubmissionDigest,
    SubmissionDue,
)
from service.assessments.service import (
    Viewer,
)
from service.assessments.workflow import Action
from service.auth import policy, scope
from service.auth.policy import Permission
from service.errors import Forbidden, InvalidTransition, NotFound, StaleVersion, Unprocessable
from service.i18n.catalogue import N_
from service.models import (
    AssessmentStatus,
    AuditEvent,
    Organisation,
    OrgKind,
    SectionStatus,
    User,
    utcnow,
)
from service.notices import service as notice_service
from service.notices.models import NoticeKind
from service.questionnaire import engine, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.carry import Carried, carry
from service.questionnaire.impact import Impact, impact
from service.questionnaire.schema import Questionnaire, Severity, Verdict
from service.questionnaire.submission import DocumentRef, SubmissionRecord, parse_submission
from service.questionnaire.versions import version_key
from service.report.inputs import ReviewInfo
from service.review.models import ReviewDraft

STATUSES = (
    AssessmentStatus.submitted,
    AssessmentStatus.returned,
    AssessmentStatus.accepted,
)
RATINGS = ("red", "amber", "green")
SORTS = {
    "submitted": col(SubmissionDigest.submitted_at),
    "agency": col(Organisation.name_en),
    "rating": col(SubmissionDigest.rating),
    "score": col(SubmissionDigest.score),
    "status": col(SubmissionDigest.status),
}
MAX_COMMENT = 5000


# --- scope -----------------------------------------------------------------------------------


# The verdicts as reviewers and boards read them (English message ids, translated by the page).


def visible_agency_ids(session: Session, user: User) -> set[uuid.UUID] | None:
    """The agencies whose submissions ``user`` may see (None: every agency)."""
    return scope.visible_agency_ids(session, user)


def _require_reviewer(viewer: Viewer) -> None:
    policy.check(viewer.user, Permission.review_read)


# --- inbox -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilters:
    agency: uuid.UUID | None = None
    status: str | None = None
    rating: str | None = None
    questionnaire: str | None = None  # "id" or "id@version"
    submitted_from: date | None = None
    submitted_to: date | None = None
    sort: str = "submitted"
    descending: bool = True


@dataclass(frozen=True)
class InboxRow:
    assessment_id: uuid.UUID
    program: str
    agency_id: uuid.UUID
    agency_en: str
    agency_fr: str
    status: str
    questionnaire_id: str
    questionnaire_version: str
    number: int
    rating: str
    score: float | None
    submitted_at: datetime

    def agency(self, lang: str) -> str:
        return self.agency_fr if lang == "fr" else self.agency_en


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _inbox_where(
    session: Session, viewer: Viewer, filters: InboxFilters
) -> list[ColumnElement[bool]]:
    """Conditions on the digest table alone (so counting needs no join)."""
    D = SubmissionDigest
    agencies = visible_agency_ids(session, viewer.user)
    where: list[ColumnElement[bool]] = [col(D.latest).is_(True)]
    if agencies is not None:
        where.append(col(D.organisation_id).in_(agencies))
    if filters.agency is not None:
        where.append(col(D.organisation_id) == filters.agency)
    if filters.rating:
        where.append(col(D.rating) == filters.rating)
    if filters.questionnaire:
        qid, _, qver = filters.questionnaire.partition("@")
        where.append(col(D.questionnaire_id) == qid)
        if qver:
            where.append(col(D.questionnaire_version) == qver)
    if filters.submitted_from:
        start = datetime.combine(filters.submitted_from, time.min, tzinfo=UTC)
        where.append(col(D.submitted_at) >= start)
    if filters.submitted_to:
        end = datetime.combine(filters.submitted_to, time.max, tzinfo=UTC)
        where.append(col(D.submitted_at) <= end)
    return where


def _inbox_rows(where: list[ColumnElement[bool]]) -> Any:
    return (
        select(SubmissionDigest, Assessment, Organisation)
        .join(Assessment, col(Assessment.id) == col(SubmissionDigest.assessment_id))
        .join(Organisation, col(Organisation.id) == col(SubmissionDigest.organisation_id))
        .where(*where)
    )


def _row(digest: SubmissionDigest, assessment: Assessment, agency: Organisation) -> InboxRow:
    return InboxRow(
        assessment_id=assessment.id,
        program=assessment.program,
        agency_id=agency.id,
        agency_en=agency.name_en,
        agency_fr=agency.name_fr,
        status=digest.status,
        questionnaire_id=digest.questionnaire_id,
        questionnaire_version=digest.questionnaire_version,
        number=digest.number,
        rating=digest.rating,
        score=digest.score,
        submitted_at=digest.submitted_at,
    )


def inbox(
    *,
    session: Session,
    viewer: Viewer,
    filters: InboxFilters,
    page: int = 1,
    per_page: int = 25,
) -> InboxPage:
    """One page of the latest submission of each assessment the viewer may review."""
    _require_reviewer(viewer)
    where = _inbox_where(session, viewer, filters)
    status_col = col(SubmissionDigest.status)
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for status, number in session.exec(
        select(status_col, func.count()).where(*where).group_by(status_col)
    ).all():
        counts[str(status)] = int(number)
    if filters.status:
        where.append(status_col == filters.status)
        total = counts.get(filters.status, 0)
    else:
        total = sum(counts.values())
    key = SORTS.get(filters.sort, SORTS["submitted"])
    ordered = _inbox_rows(where).order_by(
        key.desc() if filters.descending else key.asc(),
        col(SubmissionDigest.submission_id),
    )
    page = max(1, page)
    rows = session.exec(ordered.offset((page - 1) * per_page).limit(per_page)).all()
    return InboxPage(
        rows=[_row(d, a, o) for d, a, o in rows],
        total=total,
        page=page,
        per_page=per_page,
        counts=counts,
    )


@dataclass(frozen=True)
class DueMarks:
    """What the inbox marks on a row: the resubmission's due date, overdue actions."""

    due: assessment_service.DueMark | None
    overdue_actions: int


def due_marks(session: Session, rows: list[InboxRow], *, today: date) -> dict[uuid.UUID, DueMarks]:
    ids = [r.assessment_id for r in rows]
    dues = assessment_service.due_dates(session, ids, today=today)
    late = action_service.overdue_counts(session, ids, today=today)
    return {i: DueMarks(due=dues.get(i), overdue_actions=late.get(i, 0)) for i in ids}


def inbox_all(*, session: Session, viewer: Viewer, filters: InboxFilters) -> list[InboxRow]:
    """Every row matching the filters (for CSV export)."""
    _require_reviewer(viewer)
    where = _inbox_where(session, viewer, filters)
    if filters.status:
        where.append(col(SubmissionDigest.status) == filters.status)
    query = _inbox_rows(where)
    key = SORTS.get(filters.sort, SORTS["submitted"])
    query = query.order_by(key.desc() if filters.descending else key.asc())
    return [_row(d, a, o) for d, a, o in session.exec(query).all()]


def agencies_for_filter(session: Session, viewer: Viewer) -> list[Organisation]:
    ids = visible_agency_ids(session, viewer.user)
    query = select(Organisation).where(Organisation.kind == OrgKind.agency)
    if ids is not None:
        query = query.where(col(Organisation.id).in_(ids))
    return list(session.exec(query.order_by(col(Organisation.name_en))))


# --- comments and decisions ------------------------------------------------------------------


def sections_to_reopen(
    questionnaire: Questionnaire, result: scoring.Result, criterion_ids: set[str]
) -> list[str]:
    """The sections holding a question read by one of the commented criteria (and the
    criteria's own sections)."""
    section_of = questionnaire.section_of()
    sections: set[str] = set()
    for criterion in result.criteria:
        if criterion.id not in criterion_ids:
            continue
        sections.add(criterion.section)
        sections.update(section_of[q] for q in criterion.trace.reads if q in section_of)
    order = [s.id for s in questionnaire.sections]
    return [s for s in order if s in sections]


def decide(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    action: str,
    expected_version: int | None,
    questionnaire: Questionnaire,
    criterion_comments: Mapping[str, str],
    general_comment: str,
    due_on: date | None = None,
) -> Assessment:
    """Return for changes (needs a comment) or accept the latest submission. The comments given
    here are published; the drafts of comments on the submission (any reviewer's) are deleted.
    A return may say when the resubmission is due (``due_on``); the agency's officers are
    told of the decision (a notice: the program's name and a link, nothing of the comments)."""
    texts, general = _clean_comments(questionnaire, criterion_comments, general_comment)
    _check_due(due_on)
    try:
        with db.writing(session):
            assessment = _under_review(session, viewer, assessment_id)
            target = workflow.next_state(assessment.status, action, viewer.user.role)
            if target is None:
                policy.check(viewer.user, Permission.review_decide)
                raise InvalidTransition("This assessment is not waiting for review")
            if expected_version is not None and expected_version != assessment.version:
                raise StaleVersion(current_version=assessment.version)
            if action == Action.return_.value and not texts and not general:
                raise InvalidTransition(
                    "Enter at least one comment before you return the assessment"
                )
            submission = _latest_submission(session, assessment)
            now = utcnow()
            # Every reviewer's draft on this submission ends with the decision: once decided,
            # unsent comments can no longer be sent, and private notes are not kept for ever.
            session.exec(delete(ReviewDraft).where(col(ReviewDraft.submission_id) == submission.id))
            for cid, text in [*texts.items(), *([(None, general)] if general else [])]:
                session.add(
                    ReviewComment(
                        assessment_id=assessment.id,
                        submission_id=submission.id,
                        criterion_id=cid,
                        author_id=viewer.user.id,
                        body=text,
                        created_at=now,
                    )
                )
            reopened: list[str] = []
            if target is AssessmentStatus.returned:
                result = scoring.Result.model_validate(submission.result)
                reopened = sections_to_reopen(questionnaire, result, set(texts))
                statuses = dict(assessment.section_status)
                for section_id in reopened:
                    statuses[section_id] = SectionStatus.in_progress
                assessment.section_status = statuses
            previous = assessment.status
            assessment.status = target
            assessment.updated_at = now
            digest = session.get(SubmissionDigest, submission.id)
            if digest is not None:
                digest.status = target
                session.add(digest)
            # the action plan as it stands at the decision: this submission's report prints it
            action_service.take_snapshot(
                session, assessment_id=assessment.id, submission=submission, at=now
            )
            # the due date of the submission just decided is spent; a return may set the next
            returning = target is AssessmentStatus.returned
            spent = session.get(SubmissionDue, assessment.id) is not None
            if (returning and due_on is not None) or spent:
                assessment_service.set_due(
                    session,
                    assessment=assessment,
                    due_on=due_on if returning else None,
                    resubmission=True,
                    actor_id=viewer.user.id,
                )
            notice_service.notify_many(
                session,
                notice_service.agency_officers(session, assessment.organisation_id),
                NoticeKind.returned if returning else NoticeKind.accepted,
                {"program": assessment.program, "link": f"/assessments/{assessment.id}/"},
            )
            session.add(
                AuditEvent(
                    actor_id=viewer.user.id,
                    assessment_id=assessment.id,
                    action=action,
                    at=now,
                    detail={
                        "previous_status": previous,
                        "status": target.value,
                        "submission": submission.number,
                        "comments": sorted(texts),
                        "general_comment": bool(general),
                        "reopened": reopened,
                    },
                )
            )
    except StaleDataError as error:
        raise StaleVersion() from error
    return assessment


def _check_due(due_on: date | None) -> None:
    if due_on is not None and due_on < utcnow().date():
        raise Unprocessable(
            N_("The due date must be today or later"),
            errors=[{"loc": ["due_date"], "msg": "in the past"}],
        )


def set_due_date(
    *, session: Session, viewer: Viewer, assessment_id: uuid.UUID, due_on: date | None
) -> Assessment:
    """Set (or clear, with None) when the agency's next submission is due: the resubmission
    of a returned assessment, or the next assessment (a reassessment) of an accepted one."""
    _check_due(due_on)
    with db.writing(session):
        assessment = _under_review(session, viewer, assessment_id)
        policy.check(viewer.user, Permission.review_decide)
        if assessment.status not in (AssessmentStatus.returned, AssessmentStatus.accepted):
            raise InvalidTransition(
                "A due date can be set only on a returned or an accepted assessment"
            )
        assessment_service.set_due(
            session,
            assessment=assessment,
            due_on=due_on,
            resubmission=assessment.status == AssessmentStatus.returned,
            actor_id=viewer.user.id,
        )
    return assessment


def _under_review(session: Session, viewer: Viewer, assessment_id: uuid.UUID) -> Assessment:
    """The assessment, re-read inside the write transaction; 404 unless ``viewer`` sees it."""
    assessment = session.get(Assessment, assessment_id, populate_existing=True)
    if assessment is None:
        raise NotFound()
    agency = session.get_one(Organisation, assessment.organisation_id)
    if not access.can_view(
        user=viewer.user, organisation=viewer.organisation, assessment=assessment, agency=agency
    ):
        raise NotFound()
    return assessment


def _latest_submission(session: Session, assessment: Assessment) -> Submission:
    submission = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=None
    )
    if submission is None:  # pragma: no cover - a submitted assessment has one
        raise InvalidTransition("This assessment has no submission")
    return submission


def _clean_comments(
    questionnaire: Questionnaire, criterion_comments: Mapping[str, str], general_comment: str
) -> tuple[dict[str, str], str]:
    """The non-blank comments, trimmed; NotFound for an unknown criterion, InvalidTransition
    for a comment over ``MAX_COMMENT`` characters."""
    criterion_ids = {c.id for c in questionnaire.criteria}
    texts = {k: v.strip() for k, v in criterion_comments.items() if v and v.strip()}
    general = general_comment.strip()
    unknown = [k for k in texts if k not in criterion_ids]
    if unknown:
        raise NotFound(f"There is no criterion {unknown[0]!r} in this questionnaire")
    if any(len(t) > MAX_COMMENT for t in [*texts.values(), general]):
        raise InvalidTransition("Comments must be 5000 characters or fewer")
    return texts, general


def save_draft(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    questionnaire: Questionnaire,
    criterion_comments: Mapping[str, str],
    general_comment: str,
) -> None:
    """Keep a reviewer's comments on the latest submission without deciding yet (blank
    comments delete the draft). Nobody else sees them until the decision publishes them."""
    texts, general = _clean_comments(questionnaire, criterion_comments, general_comment)
    with db.writing(session):
        assessment = _under_review(session, viewer, assessment_id)
        policy.check(viewer.user, Permission.review_decide)
        if assessment.status != AssessmentStatus.submitted:
            raise InvalidTransition("This assessment is not waiting for review")
        # Comments written on one submission never become a draft on a later one.
        if expected_version is not None and expected_version != assessment.version:
            raise StaleVersion(current_version=assessment.version)
        submission = _latest_submission(session, assessment)
        draft = session.get(ReviewDraft, (submission.id, viewer.user.id))
        if not texts and not general:
            if draft is not None:
                session.delete(draft)
        else:
            draft = draft or ReviewDraft(
                submission_id=submission.id, author_id=viewer.user.id, updated_at=utcnow()
            )
            draft.comments = texts
            draft.general = general
            draft.updated_at = utcnow()
            session.add(draft)
        session.add(
            AuditEvent(
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                action="review_draft",
                # which criteria are commented stays with the draft until the decision
                detail={"submission": submission.number, "kept": bool(texts or general)},
            )
        )


def draft_of(*, session: Session, viewer: Viewer, assessment: Assessment) -> ReviewDraft | None:
    """The viewer's own draft of comments on the assessment's latest submission, if any."""
    submission = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer
    )
    if submission is None:
        return None
    return session.get(ReviewDraft, (submission.id, viewer.user.id))


@dataclass(frozen=True)
class Acceptance:
    by: str
    at: datetime


def acceptance(*, session: Session, assessment_id: uuid.UUID) -> Acceptance | None:
    """Who accepted the assessment and when (from the audit log)."""
    found = session.exec(
        select(AuditEvent, User)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .where(AuditEvent.assessment_id == assessment_id, AuditEvent.action == "accept")
        .order_by(col(AuditEvent.at).desc())
    ).first()
    if found is None:
        return None
    event, user = found
    return Acceptance(by=user.full_name if user else "", at=event.at)


@dataclass(frozen=True)
class Decision:
    """Where ONE submission stands in review: submitted (waiting), returned or accepted, who
    decided and when, and the comments published with that decision."""

    status: str
    review: ReviewInfo | None = None  # None while the submission waits for a decision


def decision(*, session: Session, submission: Submission) -> Decision:
    """The review state of ``submission`` itself (never that of a later one): its digest keeps
    its status; the audit log names who decided; its comments are those published on it."""
    digest = session.get(SubmissionDigest, submission.id)
    status = digest.status if digest is not None else AssessmentStatus.submitted.value
    action = {
        AssessmentStatus.accepted.value: Action.accept.value,
        AssessmentStatus.returned.value: Action.return_.value,
    }.get(status)
    if action is None:
        return Decision(status=AssessmentStatus.submitted.value)
    events = session.exec(
        select(AuditEvent, User)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .where(AuditEvent.assessment_id == submission.assessment_id, AuditEvent.action == action)
        .order_by(col(AuditEvent.at).desc())
    ).all()
    decided = next(
        ((e, u) for e, u in events if (e.detail or {}).get("submission") == submission.number),
        None,
    )
    texts: dict[str | None, list[str]] = {}
    for row in session.exec(
        select(ReviewComment)
        .where(ReviewComment.submission_id == submission.id)
        .order_by(col(ReviewComment.created_at))
    ):
        texts.setdefault(row.criterion_id, []).append(row.body)
    general = texts.pop(None, [])
    plan, plan_as_at = action_service.snapshot_of(session=session, submission_id=submission.id)
    return Decision(
        status=status,
        review=ReviewInfo(
            decided_by=(decided[1].full_name if decided and decided[1] else None),
            decided_at=decided[0].at if decided else None,
            general_comment="\n\n".join(general) or None,
            comments={k: v for k, v in texts.items() if k is not None},
            plan=plan,
            plan_as_at=plan_as_at,
        ),
    )


# --- what changed between submissions --------------------------------------------------------


@dataclass(frozen=True)
class AnswerChange:
    question_id: str
    section_id: str
    before: Any
    after: Any
    note_before: str | None
    note_after: str | None


@dataclass(frozen=True)
class DocumentChange:
    """The documents of one question that differ between two submissions: added, removed, and
    replaced (the same name with other content)."""

    question_id: str
    section_id: str
    added: tuple[DocumentRef, ...]
    removed: tuple[DocumentRef, ...]
    replaced: tuple[tuple[DocumentRef, DocumentRef], ...]  # (before, now)


def document_changes(
    before: list[DocumentRef], after: list[DocumentRef]
) -> tuple[
    tuple[DocumentRef, ...], tuple[DocumentRef, ...], tuple[tuple[DocumentRef, DocumentRef], ...]
]:
    """(added, removed, replaced): a document kept as it was is none of them; one whose name
    stayed and whose content (SHA-256) changed is replaced."""
    same = {(r.name, r.sha256) for r in before} & {(r.name, r.sha256) for r in after}
    old = [r for r in before if (r.name, r.sha256) not in same]
    new = [r for r in after if (r.name, r.sha256) not in same]
    replaced = []
    for r in list(new):
        match = next((o for o in old if o.name == r.name), None)
        if match is not None:
            replaced.append((match, r))
            old.remove(match)
            new.remove(r)
    return tuple(new), tuple(old), tuple(replaced)


@dataclass(frozen=True)
class VerdictChange:
    criterion_id: str
    before: str | None
    after: str


@dataclass(frozen=True)
class Diff:
    previous_number: int
    answers: list[AnswerChange]
    verdicts: list[VerdictChange]
    score_before: float | None
    score_after: float | None
    rating_before: str
    rating_after: str
    documents: list[DocumentChange] = field(default_factory=list)

    @property
    def score_change(self) -> float | None:
        if self.score_before is None or self.score_after is None:
            return None
        return round(self.score_after - self.score_before, 1)


def diff(questionnaire: Questionnaire, before: Submission, after: Submission) -> Diff:
    """Answer by answer (in questionnaire order), the documents of each question, verdict by
    verdict, score and rating."""
    old = parse_submission(before.canonical.encode("utf-8"))
    new = parse_submission(after.canonical.encode("utf-8"))
    changes: list[AnswerChange] = []
    documents: list[DocumentChange] = []
    for section in questionnaire.sections:
        for question in section.questions:
            qid = question.id
            a, b = old.answers.get(qid), new.answers.get(qid)
            na, nb = old.evidence.get(qid), new.evidence.get(qid)
            if a != b or na != nb:
                changes.append(AnswerChange(qid, section.id, a, b, na, nb))
            added, removed, replaced = document_changes(
                old.documents.get(qid, []), new.documents.get(qid, [])
            )
            if added or removed or replaced:
                documents.append(DocumentChange(qid, section.id, added, removed, replaced))
    r_old = scoring.Result.model_validate(before.result)
    r_new = scoring.Result.model_validate(after.result)
    old_verdicts = {c.id: c.verdict.value for c in r_old.criteria}
    verdicts = [
        VerdictChange(c.id, old_verdicts.get(c.id), c.verdict.value)
        for c in r_new.criteria
        if old_verdicts.get(c.id) != c.verdict.value
    ]
    return Diff(
        previous_number=before.number,
        answers=changes,
        verdicts=verdicts,
        score_before=r_old.score,
        score_after=r_new.score,
        rating_before=r_old.rating.value,
        rating_after=r_new.rating.value,
        documents=documents,
    )


# --- portfolio -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioCell:
    """What the portfolio reads of one program's latest submission (from its digest)."""

    rating: str
    score: float | None
    verdicts: str
    critical_gaps: list[str]
    submitted_at: datetime
    number: int
    assessment_id: uuid.UUID
    submission_id: uuid.UUID
    program: str = ""


@dataclass
class Portfolio:
    questionnaire_id: str
    questionnaire_version: str
    criteria: list[str]
    # one row per program (assessment), not per agency: an agency's second program counts too
    programs: list[tuple[Organisation, PortfolioCell]]
    cells: dict[uuid.UUID, dict[str, str]]  # by assessment id: criterion -> verdict
    ratings: dict[str, int] = field(default_factory=dict)
    critical_gaps: list[tuple[str, int]] = field(default_factory=list)
    met_share: dict[str, float | None] = field(default_factory=dict)


def critical_gaps_of(questionnaire: Questionnaire, verdicts: dict[str, str]) -> list[str]:
    """The critical gaps as the report names them: criteria of critical severity whose verdict
    is a gap (``Verdict.is_gap``), in questionnaire order."""
    out = []
    for criterion in questionnaire.criteria:
        value = verdicts.get(criterion.id)
        if value is None or criterion.severity is not Severity.critical:
            continue
        try:
            gap = Verdict(value).is_gap
        except ValueError:
            continue
        if gap:
            out.append(criterion.id)
    return out


def portfolio(
    *, session: Session, viewer: Viewer, questionnaire: Questionnaire, top: int = 10
) -> Portfolio:
    """Criteria x programs: the latest submission of every assessment (program) on one
    questionnaire version, read from the digests (no re-scoring); the critical gaps counted as
    the report counts them."""
    policy.check(viewer.user, Permission.review_portfolio)
    agencies = visible_agency_ids(session, viewer.user)
    return portfolio_of(session=session, agencies=agencies, questionnaire=questionnaire, top=top)


def agencies_overseen_by(session: Session, regulator: Organisation) -> set[uuid.UUID]:
    """The agencies a regulator oversees (as its reviewers see them)."""
    found = session.exec(select(Organisation).where(Organisation.kind == OrgKind.agency))
    return {a.id for a in found if scope.regulator_oversees(regulator, a)}


def portfolio_of(
    *,
    session: Session,
    agencies: set[uuid.UUID] | None,
    questionnaire: Questionnaire,
    top: int = 10,
) -> Portfolio:
    """The portfolio over ``agencies`` (None: every agency), for the system's own use (the
    command line beside the database); pages and the API go through `portfolio`."""
    D = SubmissionDigest
    scope_filter: list[ColumnElement[bool]] = [
        col(D.latest).is_(True),
        col(D.questionnaire_id) == questionnaire.id,
        col(D.questionnaire_version) == questionnaire.version,
    ]
    if agencies is not None:
        scope_filter.append(col(D.organisation_id).in_(agencies))
    query = (
        sa_select(
            col(D.organisation_id),
            col(D.rating),
            col(D.score),
            col(D.verdicts),
            col(D.submitted_at),
            col(D.number),
            col(D.assessment_id),
            col(D.submission_id),
            col(Assessment.program),
        )
        .join(Assessment, col(Assessment.id) == col(D.assessment_id))
        .where(*scope_filter)
    )
    rows = session.execute(query).all()
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({r[0] for r in rows}))
        )
    }
    cells: dict[uuid.UUID, dict[str, str]] = {}
    programs: list[tuple[Organisation, PortfolioCell]] = []
    for org_id, rating, score, verdicts, at, number, aid, sid, program in rows:
        cells[aid] = parse_verdicts(verdicts)
        gaps = critical_gaps_of(questionnaire, cells[aid])
        programs.append(
            (
                orgs[org_id],
                PortfolioCell(rating, score, verdicts, gaps, at, number, aid, sid, program),
            )
        )
    programs.sort(key=lambda pair: (pair[0].name_en, pair[1].program, str(pair[1].assessment_id)))
    criteria = [c.id for c in questionnaire.criteria]
    ratings = Counter(d.rating for _, d in programs)
    gap_count = Counter(g for _, d in programs for g in d.critical_gaps)
    met_share: dict[str, float | None] = {}
    for cid in criteria:
        # the share of met among the scored verdicts (not applicable and not yet due are not)
        applicable = [
            v[cid]
            for v in cells.values()
            if v.get(cid, "not_applicable") not in ("not_applicable", "not_yet_due")
        ]
        met_share[cid] = (
            round(100 * sum(v == "met" for v in applicable) / len(applicable), 1)
            if applicable
            else None
        )
    return Portfolio(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        criteria=criteria,
        programs=programs,
        cells=cells,
        ratings={r: ratings.get(r, 0) for r in RATINGS},
        critical_gaps=gap_count.most_common(top),
        met_share=met_share,
    )


# --- reassessment ----------------------------------------------------------------------------


def reassess(
    *,
    session: Session,
    viewer: Viewer,
    previous_id: uuid.UUID,
    questionnaire: Questionnaire,
    previous_questionnaire: Questionnaire | None,
    program: str | None = None,
    as_of: date | None = None,
) -> tuple[Assessment, Reassessment]:
    """A new draft pre-filled from an accepted assessment of the viewer's agency: the answers
    that still mean the same thing under `questionnaire` (`carry_answers`), the sections with
    new or changed questions to do."""
    previous, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=previous_id
    )
    if not access.can_start(viewer.user, viewer.organisation):
        raise Forbidden()
    if previous.status != AssessmentStatus.accepted:
        raise InvalidTransition("Only an accepted assessment can be reassessed")
    if questionnaire.id != previous.questionnaire_id or version_key(
        questionnaire.version
    ) < version_key(previous.questionnaire_version):
        raise InvalidTransition("Choose the same questionnaire, in the same or a newer version")
    submission = assessment_service.get_submission(
        session=session, assessment_id=previous.id, viewer=None
    )
    if submission is None:  # pragma: no cover
        raise InvalidTransition("This assessment has no submission")
    record: SubmissionRecord = parse_submission(submission.canonical.encode("utf-8"))
    carried = carry_answers(
        questionnaire,
        record,
        previous.questionnaire_version,
        previous_questionnaire,
        as_of=as_of,
    )
    draft = Assessment(
        organisation_id=agency.id,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        program=program or previous.program,
        answers=dict(carried.carried.answers.values),
        evidence=dict(carried.carried.answers.evidence),
        section_status=carried.section_status,
        created_by_id=viewer.user.id,
    )
    link = Reassessment(
        assessment_id=draft.id,
        previous_assessment_id=previous.id,
        previous_submission_id=submission.id,
        new_questions=carried.new_questions,
        detail=carried.detail(previous.questionnaire_version),
    )
    answers = draft.answers
    new_questions = carried.new_questions
    with db.writing(session):
        session.add(draft)
        session.flush()
        session.add(link)
        # the new plan starts from the open actions of the accepted one
        action_service.carry_over(
            session, previous_id=previous.id, assessment_id=draft.id, actor_id=viewer.user.id
        )
        session.add(
            AuditEvent(
                actor_id=viewer.user.id,
                assessment_id=draft.id,
                action="reassess",
                detail={
                    "previous": str(previous.id),
                    "previous_submission": submission.number,
                    "questionnaire": f"{questionnaire.id} {questionnaire.version}",
                    "carried": len(answers),
                    "new_questions": new_questions,
                    "sections_to_do": carried.sections_to_do,
                },
            )
        )
    return draft, link


@dataclass(frozen=True)
class CarriedDraft:
    """What a reassessment starts with: the carried answers, and the section statuses."""

    carried: Carried
    sections_to_do: list[str]
    section_status: dict[str, str]

    @property
    def new_questions(self) -> list[str]:
        """The questions to answer because of the new version (new, or not carried)."""
        return [q for q, c in self.carried.questions.items() if c.status.needs_answer]

    def detail(self, from_version: str) -> dict[str, Any]:
        """The reassessment link's detail: what happened to each changed question."""
        return {
            "dropped": sorted(self.carried.dropped),
            "from_version": from_version,
            "sections_to_do": self.sections_to_do,
            "carry": {
                qid: {
                    "status": c.status.value,
                    "source": c.source,
                    "old": c.old_value,
                }
                for qid, c in self.carried.questions.items()
                if c.status.is_change
            },
        }


def carry_answers(
    questionnaire: Questionnaire,
    record: SubmissionRecord,
    from_version: str,
    previous_questionnaire: Questionnaire | None,
    *,
    as_of: date | None = None,
) -> CarriedDraft:
    """The accepted answers carried to `questionnaire` (its `answers_from` declaration for
    `from_version`). A section with a new, changed or not carried question that these answers
    show is to do (In progress, or Not started when it has no answer); any other section is
    Completed when every question it shows that is required has an answer."""
    old = (
        previous_questionnaire
        if previous_questionnaire is not None and previous_questionnaire.version == from_version
        else None
    )
    carried = carry(
        questionnaire,
        Answers(values=dict(record.answers), evidence=dict(record.evidence)),
        from_version,
        old=old,
    )
    when = as_of or datetime.now(UTC).date()
    visible = engine.resolve(questionnaire, carried.answers, when).visible
    to_do = carried.sections_to_do(questionnaire, visible)
    values = carried.answers.values
    statuses: dict[str, str] = {}
    for section in questionnaire.sections:
        shown = [q for q in section.questions if q.id in visible]
        answered = any(values.get(q.id) not in (None, "", []) for q in shown)
        missing = any(q.required and values.get(q.id) in (None, "", []) for q in shown)
        if section.id not in to_do and not missing and answered:
            statuses[section.id] = SectionStatus.completed.value
        elif answered:
            statuses[section.id] = SectionStatus.in_progress.value
    return CarriedDraft(carried, to_do, statuses)


def carried_into(
    *,
    session: Session,
    assessment: Assessment,
    questionnaire: Questionnaire,
    previous_questionnaire: Questionnaire | None,
    as_of: date | None = None,
) -> tuple[str, CarriedDraft] | None:
    """For a reassessment: the version it started from and what carried over, question by
    question (the accepted answers carried again: a pure, repeatable mapping). None for an
    assessment that is no reassessment."""
    link = assessment_service.reassessment_of(session=session, assessment_id=assessment.id)
    if link is None:
        return None
    submission = session.get(Submission, link.previous_submission_id)
    if submission is None:  # pragma: no cover - a link always names a submission
        return None
    record = parse_submission(submission.canonical.encode("utf-8"))
    from_version = str(link.detail.get("from_version", record.questionnaire_version))
    draft = carry_answers(questionnaire, record, from_version, previous_questionnaire, as_of=as_of)
    return from_version, draft


def previous_result(*, session: Session, assessment_id: uuid.UUID) -> dict[str, Any] | None:
    """The result JSON of the accepted submission a reassessment started from."""
    link = assessment_service.reassessment_of(session=session, assessment_id=assessment_id)
    if link is None:
        return None
    submission = session.get(Submission, link.previous_submission_id)
    return dict(submission.result) if submission else None


# --- what the officer sees after a return ----------------------------------------------------


def reassessment_versions(
    registry_versions: list[Questionnaire], previous: Assessment
) -> list[Questionnaire]:
    """The questionnaire versions a reassessment of ``previous`` may use (same id, same or newer)."""
    floor = version_key(previous.questionnaire_version)
    return sorted(
        (
            q
            for q in registry_versions
            if q.id == previous.questionnaire_id and version_key(q.version) >= floor
        ),
        key=lambda q: version_key(q.version),
        reverse=True,
    )


# --- the change report over the portfolio ------------------------------------------------------


@dataclass(frozen=True)
class PortfolioImpact:
    """The change report over the accepted assessments a reviewer or admin sees."""

    impact: Impact
    details: dict[str, tuple[str, str]]  # answer-set name (assessment id) -> (agency, program)


def portfolio_impact(
    *,
    session: Session,
    viewer: Viewer,
    old: Questionnaire,
    new: Questionnaire,
    lang: str,
    as_of: date,
) -> PortfolioImpact:
    """What `new` does to every accepted assessment answered under `old` that the viewer sees:
    the latest (accepted) submission's answers, carried over and scored under both versions."""
    policy.check(viewer.user, Permission.review_portfolio)
    agencies = visible_agency_ids(session, viewer.user)
    D = SubmissionDigest
    where: list[ColumnElement[bool]] = [
        col(D.latest).is_(True),
        col(D.status) == AssessmentStatus.accepted,
        col(D.questionnaire_id) == old.id,
        col(D.questionnaire_version) == old.version,
    ]
    if agencies is not None:
        where.append(col(D.organisation_id).in_(agencies))
    query = (
        sa_select(col(D.assessment_id), col(D.organisation_id), col(Submission.canonical))
        .join(Submission, col(Submission.id) == col(D.submission_id))
        .where(*where)
        .order_by(col(D.submitted_at))
    )
    rows = session.execute(query).all()
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({r[1] for r in rows}))
        )
    }
    sets: list[tuple[str, Answers]] = []
    details: dict[str, tuple[str, str]] = {}
    for assessment_id, org_id, canonical in rows:
        record = parse_submission(canonical.encode("utf-8"))
        name = str(assessment_id)
        sets.append((name, Answers(values=dict(record.answers), evidence=dict(record.evidence))))
        org = orgs.get(org_id)
        details[name] = (org.name(lang) if org else "", record.program)
    return PortfolioImpact(impact(old, new, sets, as_of=as_of), details)
