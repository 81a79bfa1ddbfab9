"""The digest of a submission, written in the submit transaction (no import of the use cases,
so ``service.assessments.service`` can call it)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.assessments.models import Assessment, Submission, SubmissionDigest
from service.questionnaire import scoring


def verdicts_string(result: scoring.Result) -> str:
    return ";".join(f"{c.id}={c.verdict.value}" for c in result.criteria)


def parse_verdicts(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        if part:
            key, _, value = part.partition("=")
            out[key] = value
    return out


def record_submission(
    session: Session, *, assessment: Assessment, submission: Submission, result: scoring.Result
) -> None:
    """Write the digest of a new submission (inside the submit transaction)."""
    for old in session.exec(
        select(SubmissionDigest).where(
            SubmissionDigest.assessment_id == assessment.id, col(SubmissionDigest.latest)
        )
    ):
        old.latest = False
        session.add(old)
    session.add(
        SubmissionDigest(
            submission_id=submission.id,
            assessment_id=assessment.id,
            organisation_id=assessment.organisation_id,
            questionnaire_id=assessment.questionnaire_id,
            questionnaire_version=assessment.questionnaire_version,
            number=submission.number,
            latest=True,
            status="submitted",
            rating=result.rating.value,
            score=result.score,
            verdicts=verdicts_string(result),
            critical_gaps=[
                c.id for c in result.criteria if c.severity.value == "critical" and c.verdict.is_gap
            ],
            submitted_at=submission.submitted_at,
        )
    )


def set_status(session: Session, *, assessment_id: object, status: str) -> None:
    """Keep the latest digest's copy of the assessment's status in step (inside the caller's
    write transaction)."""
    for digest in session.exec(
        select(SubmissionDigest).where(
            SubmissionDigest.assessment_id == assessment_id, col(SubmissionDigest.latest)
        )
    ):
        digest.status = status
        session.add(digest)
