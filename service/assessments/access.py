"""Who may see and change an assessment: pure rules, one place, tested by the access matrix.

- officer: their own agency's assessments; edits drafts and returned ones.
- reviewer: assessments submitted at least once by agencies their regulator oversees (the
  federal commissioner federal bodies, a provincial one the other bodies of its province).
- board: their agency's accepted assessments.
- admin: every assessment, read-only.
"""

from __future__ import annotations

import uuid

from service.assessments.models import Assessment
from service.auth import scope
from service.models import AssessmentStatus, Organisation, OrgKind, Role, User

EDITABLE = frozenset({AssessmentStatus.draft.value, AssessmentStatus.returned.value})


def oversees(regulator: Organisation | None, agency: Organisation) -> bool:
    """The jurisdiction rule lives in ``service.auth.scope`` (one place for every area)."""
    return scope.regulator_oversees(regulator, agency)


def board_agency_id(organisation: Organisation | None) -> uuid.UUID | None:
    if organisation is None:
        return None
    if organisation.kind == OrgKind.board.value:
        return organisation.agency_id
    return organisation.id


def can_view(
    *, user: User, organisation: Organisation | None, assessment: Assessment, agency: Organisation
) -> bool:
    """Whether ``user`` may know that ``assessment`` exists."""
    role = Role(user.role)
    if role is Role.admin:
        return True
    if role is Role.officer:
        return user.organisation_id == assessment.organisation_id
    if role is Role.board:
        return (
            board_agency_id(organisation) == assessment.organisation_id
            and assessment.status == AssessmentStatus.accepted.value
        )
    return assessment.status != AssessmentStatus.draft.value and oversees(organisation, agency)


def can_edit(*, user: User, assessment: Assessment) -> bool:
    """Whether ``user``'s role may change the answers (the status is checked separately)."""
    return Role(user.role) is Role.officer and user.organisation_id == assessment.organisation_id


def can_start(user: User, organisation: Organisation | None) -> bool:
    return (
        Role(user.role) is Role.officer
        and organisation is not None
        and organisation.kind == OrgKind.agency.value
    )
