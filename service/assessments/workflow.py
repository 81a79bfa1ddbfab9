"""The assessment workflow as one pure table: (state, action, role) -> next state.

Statuses move ``draft -> submitted -> returned | accepted`` and ``returned -> submitted``. Only
an officer submits; only a reviewer returns or accepts. Anything not in the table is refused.
Callers check visibility (which agency, which regulator) separately; this table says only what a
role may do to a record in a state.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from service.models import AssessmentStatus, Role


class Action(StrEnum):
    submit = "submit"
    return_ = "return"
    accept = "accept"


S = AssessmentStatus

TRANSITIONS: MappingProxyType[tuple[AssessmentStatus, Action, Role], AssessmentStatus] = (
    MappingProxyType(
        {
            (S.draft, Action.submit, Role.officer): S.submitted,
            (S.returned, Action.submit, Role.officer): S.submitted,
            (S.submitted, Action.return_, Role.reviewer): S.returned,
            (S.submitted, Action.accept, Role.reviewer): S.accepted,
        }
    )
)


def next_state(state: str, action: str, role: str) -> AssessmentStatus | None:
    """The state after ``action`` by ``role`` on a record in ``state``; None when refused."""
    try:
        key = (AssessmentStatus(state), Action(action), Role(role))
    except ValueError:
        return None
    return TRANSITIONS.get(key)


def allowed_actions(state: str, role: str) -> list[Action]:
    """The actions ``role`` may take in ``state``, in table order."""
    return [a for a in Action if next_state(state, a.value, role) is not None]
