"""The board's reads: the accepted assessments of the agency the board oversees."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.assessments import access
from service.assessments.models import Assessment, SubmissionDigest
from service.auth import policy
from service.auth.policy import Permission
from service.auth.principal import Viewer
from service.models import AssessmentStatus


def board_list(*, session: Session, viewer: Viewer) -> list[tuple[Assessment, SubmissionDigest]]:
    """The accepted assessments of the board's agency, newest first."""
    policy.check(viewer.user, Permission.board_read)
    agency = access.board_agency_id(viewer.organisation)
    if agency is None:
        return []
    query = (
        select(Assessment, SubmissionDigest)
        .join(SubmissionDigest, col(SubmissionDigest.assessment_id) == col(Assessment.id))
        .where(
            Assessment.organisation_id == agency,
            Assessment.status == AssessmentStatus.accepted.value,
            col(SubmissionDigest.latest),
        )
        .order_by(col(SubmissionDigest.submitted_at).desc())
    )
    return [(a, d) for a, d in session.exec(query).all()]
