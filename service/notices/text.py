"""The words of a notice in one language, made from its kind and params (titles, dates, a
link), never from assessment content: the same words in the app's list and in the e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.i18n.catalogue import N_, Translator
from service.notices.models import NoticeKind

# (kind, subject) -> the title; subject tells what is due ("" for the events)
TITLES: dict[tuple[str, str], str] = {
    (NoticeKind.returned, ""): N_("{program} was returned for changes"),
    (NoticeKind.accepted, ""): N_("{program} was accepted"),
    (NoticeKind.assigned_to_you, ""): N_("You were assigned {part} of {program}"),
    (NoticeKind.comment_on_target_date, ""): N_(
        "The regulator commented on action {criterion} of {program}"
    ),
    (NoticeKind.due_soon, "submission"): N_("The submission of {program} is due on {date}"),
    (NoticeKind.due_soon, "resubmission"): N_("The resubmission of {program} is due on {date}"),
    (NoticeKind.due_soon, "action"): N_("Action {criterion} of {program} is due on {date}"),
    (NoticeKind.due_soon, "assignment"): N_("Your part of {program} is due on {date}"),
    (NoticeKind.overdue, "submission"): N_(
        "Overdue: the submission of {program} was due on {date}"
    ),
    (NoticeKind.overdue, "resubmission"): N_(
        "Overdue: the resubmission of {program} was due on {date}"
    ),
    (NoticeKind.overdue, "action"): N_(
        "Overdue: action {criterion} of {program} was due on {date}"
    ),
    (NoticeKind.overdue, "assignment"): N_("Overdue: your part of {program} was due on {date}"),
    (NoticeKind.public_edition_proposed, ""): N_(
        "The public edition of {program} awaits your release"
    ),
    (NoticeKind.public_edition_sent_back, ""): N_(
        "The regulator sent back the public edition of {program}"
    ),
    (NoticeKind.public_edition_released, ""): N_("The public edition of {program} was released"),
}

# kind -> what to do next (the second paragraph of the message)
NEXT: dict[str, str] = {
    NoticeKind.returned: N_("Sign in to read the regulator's comments and change the answers."),
    NoticeKind.accepted: N_("Sign in to read the decision and download the report."),
    NoticeKind.assigned_to_you: N_("Sign in to answer your part."),
    NoticeKind.comment_on_target_date: N_("Sign in to read the comment on the action plan."),
    NoticeKind.due_soon: N_("Sign in to finish it before its due date."),
    NoticeKind.overdue: N_("Sign in to finish it, or to tell the regulator when it will be done."),
    NoticeKind.public_edition_proposed: N_(
        "Sign in to review what the agency proposes to publish and withhold, and release it."
    ),
    NoticeKind.public_edition_sent_back: N_("Sign in to read why and change the proposal."),
    NoticeKind.public_edition_released: N_("Sign in to see the public record and its address."),
}

# kind -> its name on the preferences form
KIND_NAMES: dict[str, str] = {
    NoticeKind.returned: N_("An assessment was returned for changes"),
    NoticeKind.accepted: N_("An assessment was accepted"),
    NoticeKind.assigned_to_you: N_("A part of an assessment was assigned to you"),
    NoticeKind.comment_on_target_date: N_("The regulator commented on an action"),
    NoticeKind.due_soon: N_("Something is due within 7 days"),
    NoticeKind.overdue: N_("Something is overdue"),
    NoticeKind.public_edition_proposed: N_("A public edition awaits your release"),
    NoticeKind.public_edition_sent_back: N_("A public edition was sent back"),
    NoticeKind.public_edition_released: N_("A public edition was released"),
}


@dataclass(frozen=True)
class Words:
    title: str
    next_step: str


def _localized(value: Any, lang: str) -> str:
    """A title given in both languages ({"en": ..., "fr": ...}) or as one string."""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("en") or "")
    return "" if value is None else str(value)


def words(kind: str, params: dict[str, Any], lang: str) -> Words:
    """The title and the next step of a notice of ``kind`` in ``lang``."""
    _ = Translator(lang)
    subject = str(params.get("subject") or "")
    title = TITLES.get((kind, subject)) or TITLES.get((kind, ""))
    values = {
        "program": _localized(params.get("program"), lang),
        "criterion": _localized(params.get("criterion"), lang),
        "part": _localized(params.get("part"), lang),
        "date": str(params.get("date") or ""),
    }
    if title is None:  # a subject this version does not know: the most general words
        title = N_("{program}: something changed")
    return Words(title=_(title, **values), next_step=_(NEXT[kind]) if kind in NEXT else "")


def kind_name(kind: str, lang: str) -> str:
    return Translator(lang)(KIND_NAMES[kind]) if kind in KIND_NAMES else kind
