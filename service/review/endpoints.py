"""JSON API for review and oversight: the inbox, a review (verdicts, answers read, comments,
changes since the previous submission), decisions, the portfolio, the board's list, and
reassessment. Same rules as the pages; decisions need ``If-Match: "<version>"``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from service.api.deps import IfMatch, LangDep, ViewerDep, require, required_version
from service.api.responses import ERRORS, AssessmentPublic
from service.assessments import events, workflow
from service.assessments import service as assessment_service
from service.auth import policy
from service.auth.policy import Permission
from service.deps import RegistryDep, SessionDep
from service.errors import NotFound
from service.i18n.labels import rating_label, status_label, verdict_label
from service.models import AssessmentStatus
from service.review import service as review_service
from service.review.service import InboxFilters

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["review"])


class InboxItem(BaseModel):
    assessment_id: uuid.UUID
    agency_id: uuid.UUID
    agency: str
    program: str
    questionnaire_id: str
    questionnaire_version: str
    submission: int
    status: str
    status_label: str = Field(description="The status in the request's language")
    rating: str
    rating_label: str = Field(description="The rating in the request's language")
    score: float | None
    submitted_at: datetime


class InboxOut(BaseModel):
    items: list[InboxItem]
    total: int
    page: int
    per_page: int
    pages: int
    counts: dict[str, int]


class AnswerRead(BaseModel):
    question_id: str
    value: Any
    evidence: str | None


class CriterionReview(BaseModel):
    id: str
    section: str
    severity: str
    severity_label: str
    verdict: str
    verdict_label: str
    answers: list[AnswerRead]


class CommentOut(BaseModel):
    criterion_id: str | None
    body: str
    submission: int | None
    author: str
    created_at: datetime


class AnswerChangeOut(BaseModel):
    question_id: str
    before: Any
    after: Any
    evidence_before: str | None
    evidence_after: str | None


class DocumentOut(BaseModel):
    name: str
    size: int
    sha256: str
    media_type: str


class DocumentReplacedOut(BaseModel):
    before: DocumentOut
    now: DocumentOut


class DocumentChangeOut(BaseModel):
    """The documents of one question that differ from the previous submission."""

    question_id: str
    added: list[DocumentOut]
    removed: list[DocumentOut]
    replaced: list[DocumentReplacedOut] = Field(
        description="The same name with other content (SHA-256)"
    )


class ChangesOut(BaseModel):
    previous_submission: int
    answers: list[AnswerChangeOut]
    documents: list[DocumentChangeOut]
    verdicts: dict[str, list[str | None]]
    score_before: float | None
    score_after: float | None
    score_change: float | None
    rating_before: str
    rating_after: str


class ReviewOut(BaseModel):
    assessment: AssessmentPublic
    submission: int
    rating: str
    rating_label: str
    score: float | None
    allowed_actions: list[str]
    criteria: list[CriterionReview]
    comments: list[CommentOut]
    changes: ChangesOut | None
    unanswered_count: int = Field(
        description="Questions shown to the agency but left unanswered in this submission"
    )
    unanswered: list[str] = Field(description="Their ids, in questionnaire order")
    accepted_by: str | None
    accepted_at: datetime | None


class DecisionIn(BaseModel):
    action: Literal["return", "accept"]
    comments: dict[str, Annotated[str, Field(max_length=5000)]] = Field(
        default_factory=dict, description="Criterion id -> comment"
    )
    general_comment: Annotated[str, Field(max_length=5000)] = ""
    due_date: date | None = Field(
        default=None, description="On a return: when the resubmission is due (ISO date)"
    )


class PortfolioRow(BaseModel):
    """One program (assessment): its latest submission on the questionnaire version."""

    agency_id: uuid.UUID
    agency: str
    assessment_id: uuid.UUID
    program: str
    rating: str
    rating_label: str = Field(description="The rating in the request's language")
    score: float | None
    submitted_at: datetime
    verdicts: dict[str, str]
    verdict_labels: dict[str, str] = Field(
        description="Criterion id -> the verdict in the request's language"
    )


class PortfolioOut(BaseModel):
    questionnaire_id: str
    questionnaire_version: str
    criteria: list[str]
    agencies: list[PortfolioRow]  # one row per program (an agency with two programs: two rows)
    ratings: dict[str, int]
    critical_gaps: list[tuple[str, int]]
    met_share: dict[str, float | None]


class ReassessIn(BaseModel):
    questionnaire_version: Annotated[str, Field(min_length=1, max_length=50)]
    program: Annotated[str | None, Field(max_length=200)] = None


class ReassessOut(BaseModel):
    assessment: AssessmentPublic
    previous_assessment_id: uuid.UUID
    new_questions: list[str]


@router.get(
    "/review/inbox",
    response_model=InboxOut,
    summary="The reviewer's inbox",
    dependencies=[require(Permission.review_read)],
)
def api_inbox(
    session: SessionDep,
    viewer: ViewerDep,
    agency: uuid.UUID | None = None,
    status: Literal["submitted", "returned", "accepted"] | None = None,
    rating: Literal["red", "amber", "green"] | None = None,
    questionnaire: Annotated[
        str | None, Query(max_length=160, description="id or id@version")
    ] = None,
    submitted_from: date | None = None,
    submitted_to: date | None = None,
    sort: Literal["submitted", "agency", "rating", "score", "status"] = "submitted",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 25,
    lang: LangDep = "en",
) -> InboxOut:
    result = review_service.inbox(
        session=session,
        viewer=viewer,
        filters=InboxFilters(
            agency=agency,
            status=status,
            rating=rating,
            questionnaire=questionnaire,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            sort=sort,
            descending=order == "desc",
        ),
        page=page,
        per_page=per_page,
    )
    return InboxOut(
        items=[
            InboxItem(
                assessment_id=r.assessment_id,
                agency_id=r.agency_id,
                agency=r.agency_en,
                program=r.program,
                questionnaire_id=r.questionnaire_id,
                questionnaire_version=r.questionnaire_version,
                submission=r.number,
                status=r.status,
                status_label=status_label(r.status, lang),
                rating=r.rating,
                rating_label=rating_label(r.rating, lang),
                score=r.score,
                submitted_at=r.submitted_at,
            )
            for r in result.rows
        ],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
        counts=result.counts,
    )


def _review_out(
    session: Any, viewer: Any, registry: Any, assessment_id: uuid.UUID, lang: str = "en"
) -> ReviewOut:
    assessment, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    subs = assessment_service.submissions(
        session=session, assessment_id=assessment.id, viewer=viewer
    )
    if not subs:
        raise NotFound()
    latest = subs[-1]
    changes = None
    questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if questionnaire is None:
        raise NotFound()
    view = assessment_service.report_view(questionnaire, assessment, lang, submission=latest)
    record, result = view.report.record, view.report.result
    if len(subs) > 1:
        d = review_service.diff(questionnaire, subs[-2], latest)
        changes = ChangesOut(
            previous_submission=d.previous_number,
            answers=[
                AnswerChangeOut(
                    question_id=c.question_id,
                    before=c.before,
                    after=c.after,
                    evidence_before=c.note_before,
                    evidence_after=c.note_after,
                )
                for c in d.answers
            ],
            documents=[
                DocumentChangeOut(
                    question_id=c.question_id,
                    added=[DocumentOut(**r.model_dump()) for r in c.added],
                    removed=[DocumentOut(**r.model_dump()) for r in c.removed],
                    replaced=[
                        DocumentReplacedOut(
                            before=DocumentOut(**old.model_dump()),
                            now=DocumentOut(**new.model_dump()),
                        )
                        for old, new in c.replaced
                    ],
                )
                for c in d.documents
            ],
            verdicts={v.criterion_id: [v.before, v.after] for v in d.verdicts},
            score_before=d.score_before,
            score_after=d.score_after,
            score_change=d.score_change,
            rating_before=d.rating_before,
            rating_after=d.rating_after,
        )
    accepted = review_service.acceptance(session=session, assessment_id=assessment.id)
    unanswered = assessment_service.unanswered_visible(
        questionnaire, record.to_answers(), as_of=record.as_of
    )
    return ReviewOut(
        assessment=AssessmentPublic.of(assessment, agency.name_en, lang),
        submission=latest.number,
        rating=result.rating.value,
        rating_label=view.cover.rating_label,
        score=result.score,
        allowed_actions=[
            a.value for a in workflow.allowed_actions(assessment.status, viewer.user.role)
        ],
        criteria=[
            CriterionReview(
                id=c.id,
                section=c.section,
                severity=c.severity.value,
                severity_label=c.severity_label,
                verdict=c.verdict.value,
                verdict_label=c.verdict_label,
                answers=[
                    AnswerRead(
                        question_id=read.question_id,
                        value=record.answers.get(read.question_id),
                        evidence=record.evidence.get(read.question_id),
                    )
                    for read in c.reads
                ],
            )
            for section in view.details
            for c in section.criteria
        ],
        comments=[
            CommentOut(
                criterion_id=c.criterion_id,
                body=c.body,
                submission=s.number if s else None,
                author=u.full_name if u else "",
                created_at=c.created_at,
            )
            for c, s, u in assessment_service.comments(session=session, assessment_id=assessment.id)
        ],
        changes=changes,
        unanswered_count=len(unanswered),
        unanswered=unanswered,
        accepted_by=accepted.by
        if accepted and assessment.status == AssessmentStatus.accepted
        else None,
        accepted_at=accepted.at
        if accepted and assessment.status == AssessmentStatus.accepted
        else None,
    )


@router.get(
    "/review/assessments/{assessment_id}",
    response_model=ReviewOut,
    summary="A submitted assessment for review",
    dependencies=[require(Permission.review_read)],
)
def api_review(
    assessment_id: uuid.UUID,
    session: SessionDep,
    viewer: ViewerDep,
    registry: RegistryDep,
    lang: LangDep,
) -> ReviewOut:
    return _review_out(session, viewer, registry, assessment_id, lang)


@router.post(
    "/review/assessments/{assessment_id}/decision",
    response_model=ReviewOut,
    summary="Return for changes (needs a comment) or accept",
    dependencies=[require(Permission.review_decide)],
)
def api_decide(
    assessment_id: uuid.UUID,
    request: Request,
    body: DecisionIn,
    session: SessionDep,
    viewer: ViewerDep,
    registry: RegistryDep,
    lang: LangDep,
    if_match: IfMatch = None,
) -> ReviewOut:
    assessment, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    version = required_version(if_match, assessment)
    questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if questionnaire is None:
        raise NotFound("The questionnaire version of this assessment is not loaded")
    review_service.decide(
        session=session,
        viewer=viewer,
        assessment_id=assessment_id,
        action=body.action,
        expected_version=version,
        questionnaire=questionnaire,
        criterion_comments=body.comments,
        general_comment=body.general_comment,
        due_on=body.due_date if body.action == "return" else None,
    )
    events.submission_changed(request.app, assessment_id)
    return _review_out(session, viewer, registry, assessment_id, lang)


@router.get(
    "/review/portfolio",
    response_model=PortfolioOut,
    summary="Criteria x agencies",
    dependencies=[require(Permission.review_portfolio)],
)
def api_portfolio(
    session: SessionDep,
    viewer: ViewerDep,
    registry: RegistryDep,
    questionnaire_id: Annotated[str, Query(max_length=100)],
    version: Annotated[str, Query(max_length=50)],
    lang: LangDep,
) -> PortfolioOut:
    questionnaire = registry.get(questionnaire_id, version)
    if questionnaire is None:
        raise NotFound("There is no such questionnaire version")
    data = review_service.portfolio(session=session, viewer=viewer, questionnaire=questionnaire)
    return PortfolioOut(
        questionnaire_id=data.questionnaire_id,
        questionnaire_version=data.questionnaire_version,
        criteria=data.criteria,
        agencies=[
            PortfolioRow(
                agency_id=org.id,
                agency=org.name_en,
                assessment_id=d.assessment_id,
                program=d.program,
                rating=d.rating,
                rating_label=rating_label(d.rating, lang),
                score=d.score,
                submitted_at=d.submitted_at,
                verdicts=data.cells[d.assessment_id],
                verdict_labels={
                    criterion: verdict_label(verdict, lang)
                    for criterion, verdict in data.cells[d.assessment_id].items()
                },
            )
            for org, d in data.programs
        ],
        ratings=data.ratings,
        critical_gaps=data.critical_gaps,
        met_share=data.met_share,
    )


@router.post(
    "/assessments/{assessment_id}/reassess",
    response_model=ReassessOut,
    status_code=201,
    summary="Start a new assessment pre-filled from this accepted one",
)
def api_reassess(
    assessment_id: uuid.UUID,
    body: ReassessIn,
    session: SessionDep,
    viewer: ViewerDep,
    registry: RegistryDep,
) -> ReassessOut:
    previous, _agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    policy.check(viewer.user, Permission.assessment_start)
    target = registry.get(previous.questionnaire_id, body.questionnaire_version)
    if target is None:
        raise NotFound("There is no such questionnaire version")
    draft, link = review_service.reassess(
        session=session,
        viewer=viewer,
        previous_id=previous.id,
        questionnaire=target,
        previous_questionnaire=registry.get(
            previous.questionnaire_id, previous.questionnaire_version
        ),
        program=body.program,
    )
    draft, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=draft.id
    )
    return ReassessOut(
        assessment=AssessmentPublic.of(draft, agency.name_en),
        previous_assessment_id=link.previous_assessment_id,
        new_questions=list(link.new_questions),
    )
