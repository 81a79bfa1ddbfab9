"""What happened to an assessment, told to whoever listens, so that the features acting on it
need not be imported here: report delivery renders the new report ahead of the first download.

The app registers the listeners (``main.create_app``); the routes that submit, return or accept
call ``submission_changed`` once the use case has committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any, Protocol


class SubmissionListener(Protocol):
    def __call__(self, app: Any, *, assessment_id: uuid.UUID) -> None: ...


def on_submission_changed(app: Any, listener: SubmissionListener) -> None:
    """Call ``listener`` whenever an assessment's latest submission is made or decided."""
    listeners: list[SubmissionListener] = getattr(app.state, "submission_listeners", [])
    app.state.submission_listeners = [*listeners, listener]


def submission_changed(app: Any, assessment_id: uuid.UUID) -> None:
    """The assessment was submitted, returned or accepted: its report reads differently."""
    for listener in getattr(app.state, "submission_listeners", ()):
        listener(app, assessment_id=assessment_id)


class PreparingReports(Protocol):
    def __call__(self, app: Any, *, assessment_id: uuid.UUID) -> list[str]: ...


def on_report_preparing(app: Any, provider: PreparingReports) -> None:
    """``provider`` tells which languages' PDFs of an assessment's latest submission are being
    prepared (report delivery registers it; the pages that link the PDFs show it)."""
    app.state.report_preparing = provider


def report_preparing(app: Any, *, assessment_id: uuid.UUID) -> list[str]:
    """The languages whose PDF of the latest submission is not ready yet but queued or being
    rendered (none when nothing tells)."""
    provider: PreparingReports | None = getattr(app.state, "report_preparing", None)
    return provider(app, assessment_id=assessment_id) if provider is not None else []


class OverdueActions(Protocol):
    def __call__(
        self, session: Any, assessment_ids: Collection[uuid.UUID], *, today: date
    ) -> dict[uuid.UUID, int]: ...


def on_overdue_actions(app: Any, provider: OverdueActions) -> None:
    """``provider`` counts the open actions past their target date of each assessment (the
    action plan registers it; the officer's dashboard shows it)."""
    app.state.overdue_actions = provider


def overdue_actions(
    app: Any, session: Any, assessment_ids: Collection[uuid.UUID], *, today: date
) -> dict[uuid.UUID, int]:
    """assessment id -> how many of its open actions are past their target date."""
    provider: OverdueActions | None = getattr(app.state, "overdue_actions", None)
    return provider(session, assessment_ids, today=today) if provider is not None else {}
