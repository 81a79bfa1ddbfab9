"""JSON API routes: questionnaires, assessments (create, read, patch answers, sections, submit)
and results (the report PDF: ``service.report_delivery.endpoints``).
Authentication: ``Authorization: Bearer <personal API token>``.

Optimistic locking: every change needs ``If-Match: "<version>"`` (428 without it). A change made
on an earlier version is judged field by field: accepted when none of the answers or notes it
sets (of the section it marks) changed since, else 412 naming them in ``fields``; a submit needs
the current version (412 otherwise); 409 when another writer won the race or the assessment is
submitted. A contributor reads and changes only the questions assigned to them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from service.api.deps import IfMatch, LangDep, ViewerDep, required_version
from service.api.responses import ERRORS, AssessmentPublic
from service.assessments import access, events
from service.assessments import service as assessment_service
from service.assessments.models import Assessment, Submission
from service.assessments.schemas import (
    AnswersPatch,
    AssessmentCreate,
    QuestionnaireSummary,
    ResultPublic,
    SectionStatusIn,
    SubmissionPublic,
    SubmitIn,
)
from service.assessments.service import Viewer
from service.auth import policy
from service.auth.deps import ApiUser
from service.auth.policy import Permission
from service.deps import RegistryDep, SessionDep
from service.errors import (
    AlreadySubmitted,
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unprocessable,
)
from service.i18n.catalogue import N_
from service.i18n.labels import rating_label
from service.models import Organisation
from service.questionnaire.answers import validate_answer
from service.questionnaire.loader import Registry
from service.questionnaire.schema import Questionnaire, localize

router = APIRouter(prefix="/api/v1", responses=ERRORS)


class UnansweredNotConfirmed(assessment_service.UnansweredQuestions):
    """A submit through the API with questions shown but not answered, not confirmed."""

    message = N_(
        "These questions are shown but not answered: {names}. To submit without them, send "
        '{{"confirm_unanswered": true}} or the list of their ids in "confirm_unanswered"'
    )
    format_detail = True


def today() -> date:
    return datetime.now(UTC).date()


def etag(assessment: Assessment) -> str:
    return f'"{assessment.version}"'


def questionnaire_of(registry: Registry, assessment: Assessment) -> Questionnaire:
    questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if questionnaire is None:
        raise NotFound("The questionnaire version of this assessment is not loaded")
    return questionnaire


def public(
    assessment: Assessment,
    agency: Organisation,
    lang: str,
    *,
    only: frozenset[str] | None = None,
) -> AssessmentPublic:
    """The assessment as the API shows it; with ``only``, the answers and notes of those
    questions alone (a contributor's part)."""
    shown = AssessmentPublic.of(assessment, agency.name_en, lang)
    if only is None:
        return shown
    answers, notes = assessment_service.visible_part(assessment, only)
    return shown.model_copy(update={"answers": answers, "evidence": notes})


def part_of(
    session: SessionDep, registry: Registry, viewer: Viewer, assessment: Assessment
) -> frozenset[str] | None:
    """The questions ``viewer`` may read of ``assessment`` (None: all of them)."""
    if not policy.assigned_only(viewer.user.role):
        return None
    questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if questionnaire is None:
        return frozenset()
    return assessment_service.assigned_questions(session, viewer, assessment, questionnaire)


def read_version(if_match: str | None, assessment: Assessment) -> int:
    """The version named by ``If-Match`` (428 without one or when it is not a version, 412 when
    it is later than the assessment's): the version the change was made on."""
    if not if_match:
        raise PreconditionRequired()
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise PreconditionRequired()
    version = int(text)
    if version > assessment.version:
        raise PreconditionFailed(current_version=assessment.version)
    return version


def _field_conflict(error: assessment_service.FieldConflict) -> PreconditionFailed:
    return PreconditionFailed(
        N_("Someone else changed these answers after the version you name"),
        current_version=error.detail.get("current_version"),
        fields=list(error.detail.get("fields", [])),
    )


def submission_public(submission: Submission, lang: str) -> SubmissionPublic:
    rating = str(submission.result.get("rating", ""))
    return SubmissionPublic(
        id=submission.id,
        assessment_id=submission.assessment_id,
        number=submission.number,
        sha256=submission.sha256,
        as_of=submission.as_of,
        submitted_at=submission.submitted_at,
        rating=rating,
        rating_label=rating_label(rating, lang),
        score=submission.result.get("score"),
    )


def load(
    session: SessionDep, viewer: Viewer, assessment_id: uuid.UUID
) -> tuple[Assessment, Organisation]:
    return assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )


# --- questionnaires --------------------------------------------------------------------------


@router.get("/questionnaires", tags=["questionnaires"], response_model=list[QuestionnaireSummary])
def list_questionnaires(
    registry: RegistryDep, _user: ApiUser, lang: str = "en"
) -> list[QuestionnaireSummary]:
    """The questionnaires loaded by this instance."""
    return [
        QuestionnaireSummary(
            id=q.id,
            version=q.version,
            title=localize(q.title, lang),
            languages=list(q.languages),
            sha256=q.sha256,
            sections=[s.id for s in q.sections],
        )
        for q in sorted(registry.all(), key=lambda q: (q.id, q.version))
    ]


@router.get(
    "/questionnaires/{questionnaire_id}/{version}",
    tags=["questionnaires"],
    response_model=Questionnaire,
)
def get_questionnaire(
    questionnaire_id: str, version: str, registry: RegistryDep, _user: ApiUser
) -> Questionnaire:
    """One questionnaire version, in full."""
    questionnaire = registry.get(questionnaire_id, version)
    if questionnaire is None:
        raise NotFound()
    return questionnaire


# --- assessments -----------------------------------------------------------------------------


@router.get("/assessments", tags=["assessments"], response_model=list[AssessmentPublic])
def list_assessments(
    session: SessionDep, registry: RegistryDep, viewer: ViewerDep, lang: LangDep
) -> list[AssessmentPublic]:
    """The assessments you may see."""
    return [
        public(a, org, lang, only=part_of(session, registry, viewer, a))
        for a, org in assessment_service.list_visible(session=session, viewer=viewer)
    ]


@router.post("/assessments", tags=["assessments"], status_code=201, response_model=AssessmentPublic)
def create_assessment(
    body: AssessmentCreate,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
) -> AssessmentPublic:
    """Start an assessment for your agency (officers)."""
    # Only published versions start new assessments: admin/service.py publishes versions.
    offered = assessment_service.offered_for_new(session, registry)
    questionnaire = next(
        (
            q
            for q in offered
            if q.id == body.questionnaire and (not body.version or q.version == body.version)
        ),
        None,
    )
    if questionnaire is None:
        raise Unprocessable("There is no such questionnaire (or version)")
    if not access.can_start(viewer.user, viewer.organisation):
        raise Forbidden()
    assessment = assessment_service.start(
        session=session,
        viewer=viewer,
        questionnaire=questionnaire,
        program=body.program.strip() or body.program,
    )
    agency = session.get_one(Organisation, assessment.organisation_id)
    response.headers["ETag"] = etag(assessment)
    response.headers["Location"] = f"/api/v1/assessments/{assessment.id}"
    return public(assessment, agency, lang)


@router.get("/assessments/{assessment_id}", tags=["assessments"], response_model=AssessmentPublic)
def get_assessment(
    assessment_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
) -> AssessmentPublic:
    """One assessment; its ETag is the version to send back in If-Match."""
    assessment, agency = load(session, viewer, assessment_id)
    response.headers["ETag"] = etag(assessment)
    return public(assessment, agency, lang, only=part_of(session, registry, viewer, assessment))


@router.patch(
    "/assessments/{assessment_id}/answers", tags=["assessments"], response_model=AssessmentPublic
)
def patch_answers(
    assessment_id: uuid.UUID,
    body: AnswersPatch,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
    if_match: IfMatch = None,
) -> AssessmentPublic:
    """Set or clear answers and evidence notes (If-Match required: the version they were made
    on; accepted unless someone else changed one of these fields since, 412 ``fields``)."""
    assessment, agency = load(session, viewer, assessment_id)
    questionnaire = questionnaire_of(registry, assessment)
    _check_changeable(viewer, assessment)
    version = read_version(if_match, assessment)
    index = questionnaire.question_index()
    problems: list[dict[str, Any]] = []
    for qid, value in body.answers.items():
        question = index.get(qid)
        if question is None:
            problems.append({"loc": ["answers", qid], "msg": "there is no such question"})
        elif value is not None and (message := validate_answer(question, value)):
            problems.append({"loc": ["answers", qid], "msg": message})
    for qid, note in body.evidence.items():
        if qid not in index:
            problems.append({"loc": ["evidence", qid], "msg": "there is no such question"})
        elif note and len(note) > 10_000:
            problems.append(
                {"loc": ["evidence", qid], "msg": "the note is longer than 10000 characters"}
            )
    if problems:
        raise Unprocessable("Some answers are not acceptable", errors=problems)
    try:
        saved = assessment_service.save_answers(
            session=session,
            viewer=viewer,
            assessment_id=assessment.id,
            expected_version=version,
            questionnaire=questionnaire,
            values=dict(body.answers),
            evidence=dict(body.evidence),
            as_of=today(),
            source="api",
        ).assessment
    except assessment_service.FieldConflict as error:
        raise _field_conflict(error) from error
    response.headers["ETag"] = etag(saved)
    return public(saved, agency, lang, only=part_of(session, registry, viewer, saved))


def _check_changeable(viewer: Viewer, assessment: Assessment) -> None:
    if not access.can_edit(user=viewer.user, assessment=assessment):
        raise Forbidden()
    if assessment.status not in access.EDITABLE:
        raise AlreadySubmitted()


@router.put(
    "/assessments/{assessment_id}/sections/{section_id}",
    tags=["assessments"],
    response_model=AssessmentPublic,
)
def set_section_status(
    assessment_id: uuid.UUID,
    section_id: str,
    body: SectionStatusIn,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
    if_match: IfMatch = None,
) -> AssessmentPublic:
    """Mark a section completed (every required question answered) or in progress."""
    assessment, agency = load(session, viewer, assessment_id)
    questionnaire = questionnaire_of(registry, assessment)
    if section_id not in {s.id for s in questionnaire.sections}:
        raise NotFound()
    _check_changeable(viewer, assessment)
    version = read_version(if_match, assessment)
    try:
        saved = assessment_service.mark_section(
            session=session,
            viewer=viewer,
            assessment_id=assessment.id,
            expected_version=version,
            questionnaire=questionnaire,
            section_id=section_id,
            completed=body.status == "completed",
            as_of=today(),
        )
    except InvalidTransition as error:
        raise Unprocessable(error.message) from error
    except assessment_service.FieldConflict as error:
        raise _field_conflict(error) from error
    response.headers["ETag"] = etag(saved)
    return public(saved, agency, lang, only=part_of(session, registry, viewer, saved))


@router.post(
    "/assessments/{assessment_id}/submit",
    tags=["assessments"],
    status_code=201,
    response_model=SubmissionPublic,
)
def submit_assessment(
    assessment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    registry: RegistryDep,
    viewer: ViewerDep,
    lang: LangDep,
    if_match: IfMatch = None,
    body: SubmitIn | None = None,
) -> SubmissionPublic:
    """Freeze the answers into a new numbered submission (every section completed).

    As on the check-your-answers page, questions shown but not answered must be confirmed:
    `{"confirm_unanswered": true}` or the list of their ids; otherwise 409
    `unanswered_questions` with their ids in `questions`."""
    assessment, _agency = load(session, viewer, assessment_id)
    questionnaire = questionnaire_of(registry, assessment)
    _check_changeable(viewer, assessment)
    policy.check(viewer.user, Permission.assessment_submit)
    version = required_version(if_match, assessment)
    confirm = body.confirm_unanswered if body is not None else False
    if confirm is True:
        # everything shown but unanswered now; the version check keeps "now" the submitted state
        confirmed: list[str] = assessment_service.unanswered_visible(
            questionnaire, assessment_service.answers_of(assessment), as_of=today()
        )
    else:
        confirmed = list(confirm) if confirm else []
    try:
        submission = assessment_service.submit(
            session=session,
            viewer=viewer,
            assessment_id=assessment.id,
            expected_version=version,
            questionnaire=questionnaire,
            confirmed_unanswered=confirmed,
        )
    except assessment_service.UnansweredQuestions as error:
        missing = list(error.detail.get("questions", []))
        raise UnansweredNotConfirmed(questions=missing, names=", ".join(missing)) from error
    events.submission_changed(request.app, submission.assessment_id)
    return submission_public(submission, lang)


@router.get(
    "/assessments/{assessment_id}/submissions",
    tags=["results"],
    response_model=list[SubmissionPublic],
)
def list_submissions(
    assessment_id: uuid.UUID, session: SessionDep, viewer: ViewerDep, lang: LangDep
) -> list[SubmissionPublic]:
    """Every submission of an assessment, oldest first."""
    assessment, _agency = load(session, viewer, assessment_id)
    policy.check(viewer.user, Permission.assessment_read_all)
    return [
        submission_public(s, lang)
        for s in assessment_service.submissions(
            session=session, assessment_id=assessment.id, viewer=viewer
        )
    ]


@router.get("/assessments/{assessment_id}/result", tags=["results"], response_model=ResultPublic)
def get_result(
    assessment_id: uuid.UUID, session: SessionDep, registry: RegistryDep, viewer: ViewerDep
) -> ResultPublic:
    """The result of the latest submission; for a draft, a preview computed now."""
    assessment, _agency = load(session, viewer, assessment_id)
    policy.check(viewer.user, Permission.assessment_read_all)
    if assessment.status in access.EDITABLE and access.can_edit(
        user=viewer.user, assessment=assessment
    ):
        questionnaire = questionnaire_of(registry, assessment)
        result = assessment_service.preview(questionnaire, assessment, as_of=today())
        return ResultPublic(
            assessment_id=assessment.id,
            preview=True,
            submission_number=None,
            sha256=None,
            result=result.model_dump(mode="json"),
        )
    submission = assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer
    )
    if submission is None:
        raise NotFound()
    return ResultPublic(
        assessment_id=assessment.id,
        preview=False,
        submission_number=submission.number,
        sha256=submission.sha256,
        result=submission.result,
    )
