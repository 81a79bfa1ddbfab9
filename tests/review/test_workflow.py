"""The workflow table, checked for every (state, action, role)."""

from __future__ import annotations

import itertools

import pytest

from service.assessments import workflow
from service.assessments.workflow import Action
from service.models import AssessmentStatus, Role

S = AssessmentStatus
EXPECTED = {
    (S.draft, Action.submit, Role.officer): S.submitted,
    (S.returned, Action.submit, Role.officer): S.submitted,
    (S.submitted, Action.return_, Role.reviewer): S.returned,
    (S.submitted, Action.accept, Role.reviewer): S.accepted,
}
ALL = list(itertools.product(AssessmentStatus, Action, Role))


@pytest.mark.parametrize(("state", "action", "role"), ALL)
def test_next_state_every_combination(state: S, action: Action, role: Role) -> None:
    assert workflow.next_state(state.value, action.value, role.value) == EXPECTED.get(
        (state, action, role)
    )


def test_table_has_exactly_the_designed_transitions() -> None:
    assert dict(workflow.TRANSITIONS) == EXPECTED
    assert len(ALL) == 4 * 3 * 5  # five roles since the contributor (issue 13)


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [("draft", "approve", "officer"), ("lost", "submit", "officer"), ("draft", "submit", "x")],
)
def test_next_state_unknown_values_refused(state: str, action: str, role: str) -> None:
    assert workflow.next_state(state, action, role) is None


def test_allowed_actions() -> None:
    assert workflow.allowed_actions("submitted", "reviewer") == [Action.return_, Action.accept]
    assert workflow.allowed_actions("returned", "officer") == [Action.submit]
    assert workflow.allowed_actions("accepted", "reviewer") == []
    assert workflow.allowed_actions("submitted", "board") == []


def test_accepted_is_terminal() -> None:
    assert all(
        workflow.next_state("accepted", a.value, r.value) is None
        for a, r in itertools.product(Action, Role)
    )
