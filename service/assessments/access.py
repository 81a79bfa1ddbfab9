"""Who may see and change an assessment: pure rules, one place, tested by the access matrix.

Which records a role reaches is ``policy.REACH``; what it may do, ``policy.TABLE``.

- officer (and contributor): their own agency's assessments; edits drafts and returned ones.
- reviewer: assessments submitted at least once by agencies their regulator oversees (the
  federal commissioner federal bodies, a provincial one the other bodies of its province).
- board: their agency's accepted assessments.
- admin: every assessment, read-only.

Only the agency's own people read a draft (``reads_draft``); everyone else reads the latest
submission, and the board only submissions that were accepted (``submission_statuses``).
"""

from __future__ import annotations

import uuid

from service.assessments.models import Assessment
from service.auth import policy, scope
from service.auth.policy import Permission, Reach
from service.models import AssessmentStatus, Organisation, OrgKind, User

EDITABLE = frozenset({AssessmentStatus.draft, AssessmentStatus.returned})


def oversees(regulator: Organisation | None, agency: Organisation) -> bool:
    """The jurisdiction rule lives in ``service.auth.scope`` (one place for every area)."""
    return scope.regulator_oversees(regulator, agency)


def board_agency_id(organisation: Organisation | None) -> uuid.UUID | None:
    if organisation is None:
        return None
    if organisation.kind == OrgKind.board:
        return organisation.agency_id
    return organisation.id


def can_view(
    *, user: User, organisation: Organisation | None, assessment: Assessment, agency: Organisation
) -> bool:
    """Whether ``user`` may know that ``assessment`` exists."""
    reach = policy.reach_of(user.role)
    if reach is Reach.every_agency:
        return True
    if reach is Reach.own_agency:
        return user.organisation_id == assessment.organisation_id
    if reach is Reach.board_agency:
        return (
            board_agency_id(organisation) == assessment.organisation_id
            and assessment.status == AssessmentStatus.accepted
        )
    if reach is not Reach.overseen_agencies:
        return False
    return assessment.status != AssessmentStatus.draft and oversees(organisation, agency)


def reads_draft(*, user: User, assessment: Assessment) -> bool:
    """Whether ``user`` reads the working copy (the draft) of ``assessment``: only the agency's
    own people do. Everyone else (reviewers, the board, admins) reads its latest submission."""
    return (
        policy.reach_of(user.role) is Reach.own_agency
        and user.organisation_id == assessment.organisation_id
    )


def submission_statuses(user: User) -> frozenset[str] | None:
    """The review states of the submissions ``user`` may open (None: all of them): the board
    reads accepted submissions only; a returned or pending one does not exist for it (404)."""
    if policy.reach_of(user.role) is Reach.board_agency:
        return frozenset({AssessmentStatus.accepted.value})
    return None


def can_edit(*, user: User, assessment: Assessment) -> bool:
    """Whether ``user``'s role may change the answers (the status is checked separately)."""
    return (
        policy.allowed(user.role, Permission.assessment_edit)
        and user.organisation_id == assessment.organisation_id
    )


def can_start(user: User, organisation: Organisation | None) -> bool:
    return (
        policy.allowed(user.role, Permission.assessment_start)
        and organisation is not None
        and organisation.kind == OrgKind.agency
    )
