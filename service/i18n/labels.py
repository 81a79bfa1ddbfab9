"""One label per concept, in English or French: the only place a stored value becomes words.

Pages (as Jinja filters, ``service/web/templating.py``), the report view, the CLI, the API and
the audit log all call these. A value with no label is shown as it is (a new value shows up in
the vocabulary tests rather than breaking a page).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from service.i18n.catalogue import N_, NP_, Translator, gettext, pgettext
from service.i18n.formats import format_size

VERDICTS: Mapping[str, str] = {
    "met": N_("Met"),
    "partial": N_("Partial"),
    "not_met": N_("Not met"),
    "dont_know": N_("Don't know"),
    "unanswered": N_("Unanswered"),
    "not_applicable": N_("Not applicable"),
    "not_yet_due": N_("Not yet due"),
}
# Amber is "Jaune" in French: the word of Canadian French for the middle light (Quebec's
# Highway Safety Code says "feu jaune") and of federal traffic-light ratings; "orange" is France's.
RATINGS: Mapping[str, str] = {"red": N_("Red"), "amber": N_("Amber"), "green": N_("Green")}
RATING_MEANINGS: Mapping[str, str] = {
    "red": N_("Serious gaps: action needed before further use"),
    "amber": N_("Gaps to close: action needed within the year"),
    "green": N_("Controls in place: keep them under review"),
}
SEVERITIES: Mapping[str, str] = {
    "critical": N_("Critical"),
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
}
STATUSES: Mapping[str, str] = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "returned": N_("Returned for changes"),
    "accepted": N_("Accepted"),
}
ACTION_STATUSES: Mapping[str, str] = {
    "todo": N_("To do"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "risk_accepted": N_("Accepted as risk"),
}
SECTION_STATUSES: Mapping[str, str] = {
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
}
ROLES: Mapping[str, str] = {
    "officer": N_("Privacy officer"),
    "reviewer": N_("Reviewer"),
    "board": N_("Board member"),
    "admin": N_("Administrator"),
    "contributor": N_("Contributor"),
}
ORG_KINDS: Mapping[str, str] = {
    "agency": N_("Agency"),
    "regulator": N_("Regulator"),
    "board": N_("Board"),
}
BODY_TYPES: Mapping[str, str] = {
    "federal": N_("Federal"),
    "provincial": N_("Provincial"),
    "municipal": N_("Municipal"),
    "first_nations": N_("First Nations or Indigenous police service"),
}
PROVINCES: Mapping[str, str] = {
    "federal": N_("Federal bodies"),
    "AB": N_("Alberta"),
    "BC": N_("British Columbia"),
    "MB": N_("Manitoba"),
    "NB": N_("New Brunswick"),
    "NL": N_("Newfoundland and Labrador"),
    "NS": N_("Nova Scotia"),
    "NT": N_("Northwest Territories"),
    "NU": N_("Nunavut"),
    "ON": N_("Ontario"),
    "PE": N_("Prince Edward Island"),
    "QC": N_("Quebec"),
    "SK": N_("Saskatchewan"),
    "YT": N_("Yukon"),
}
VERIFICATIONS: Mapping[str, str] = {
    "verified": N_("verified"),
    "secondary": N_("secondary source"),
    "unverified": N_("unverified"),
}
# the inherent risk qualifies "risk" (masculine in French): a context keeps it apart from the
# severity words, which qualify "gravité"
INHERENT_RISKS: Mapping[str, tuple[str, str]] = {
    "extreme": NP_("risk", "extreme"),
    "high": NP_("risk", "high"),
    "moderate": NP_("risk", "moderate"),
    "low": NP_("risk", "low"),
    "minimal": NP_("risk", "minimal"),
}
ACTIONS: Mapping[str, str] = {
    "start": N_("Assessment started"),
    "save": N_("Answers saved"),
    "section_status": N_("Section status changed"),
    "submit": N_("Submitted"),
    "return": N_("Returned"),
    "accept": N_("Accepted"),
    "review_draft": N_("Reviewer's comments saved, not yet sent"),
    "reassess": N_("Reassessment started"),
    "report_viewed": N_("Report viewed"),
    "report_downloaded": N_("Report downloaded"),
    "open_data_downloaded": N_("Open data downloaded"),
    "document_attach": N_("Document attached"),
    "document_remove": N_("Document removed"),
    "document_download": N_("Document downloaded"),
    "export_archive": N_("Archive exported"),
    "organisation_saved": N_("Organisation saved"),
    "user_invited": N_("Account created"),
    "user_changed": N_("Account changed"),
    "user_reset": N_("Password reset sent"),
    "password_set": N_("Password set"),
    "totp_requirement": N_("Second-factor requirement changed"),
    "totp_enrolled": N_("Second factor set up"),
    "totp_removed": N_("Second factor removed"),
    "totp_replaced": N_("Second factor replaced"),
    "recovery_codes_created": N_("New recovery codes made"),
    "recovery_code_used": N_("Recovery code used to sign in"),
    "reauthentication_failed": N_("Password or code wrong when confirming a change"),
    "api_token_created": N_("API token created"),
    "api_token_revoked": N_("API token revoked"),
    "sign_in": N_("Signed in"),
    "sign_in_failed": N_("Sign-in failed"),
    "sign_in_throttled": N_("Sign-in blocked after too many attempts"),
    "sign_out_everywhere": N_("Signed out everywhere"),
    "questionnaire_published": N_("Questionnaire version published"),
    "questionnaire_retired": N_("Questionnaire version retired"),
    "action_update": N_("Action plan changed"),
    "public_edition_saved": N_("Public edition saved"),
    "public_edition_proposed": N_("Public edition proposed to the regulator"),
    "public_edition_returned": N_("Public edition sent back to the agency"),
    "public_edition_released": N_("Public edition released"),
    "public_edition_changed": N_("Public edition changed"),
    "public_edition_withdrawn": N_("Public edition withdrawn"),
    "action_comment": N_("Comment on an action"),
    "action_carry": N_("Open actions carried over"),
    "questionnaire_upload": N_("Questionnaire version uploaded as a draft"),
    "questionnaire_approve": N_("Questionnaire version approved and published"),
    "assign": N_("Part assigned"),
    "unassign": N_("Assignment removed"),
    "due_date_set": N_("Due date set"),
    "notice_settings": N_("Notice settings changed"),
}
# what an audit event's detail keys mean, for the audit log and the history
DETAIL_KEYS: Mapping[str, str] = {
    "action_status": N_("Action status"),
    "actions": N_("Actions"),
    "active": N_("Active"),
    "assignee": N_("Assigned to"),
    "carried": N_("Answers carried over"),
    "changed": N_("Questions changed"),
    "comments": N_("Comments on"),
    "criterion": N_("Criterion"),
    "documents": N_("Documents"),
    "dropped": N_("Questions dropped"),
    "due_on": N_("Due"),
    "due_date": N_("Due date"),
    "email": N_("Email address"),
    "email_kinds": N_("Notices by e-mail"),
    "expires": N_("Expires"),
    "factor": N_("Factor"),
    "fields": N_("Fields changed"),
    "from_version": N_("From version"),
    "full_name": N_("Name"),
    "general_comment": N_("General comment"),
    "kept": N_("Comments kept"),
    "language": N_("Language"),
    "left": N_("Left"),
    "name": N_("File"),
    "new_questions": N_("New questions"),
    "number": N_("Number"),
    "organisation_id": N_("Organisation"),
    "owner": N_("Owner"),
    "previous": N_("Previous assessment"),
    "previous_status": N_("Previous status"),
    "previous_submission": N_("Previous submission"),
    "program": N_("Program"),
    "purpose": N_("Purpose"),
    "questionnaire_id": N_("Questionnaire"),
    "question": N_("Question"),
    "questionnaire": N_("Questionnaire"),
    "read_version": N_("Saved on the version read"),
    "reopened": N_("Sections reopened"),
    "resubmission": N_("Resubmission"),
    "role": N_("Role"),
    "roles": N_("Roles"),
    "scope": N_("Scope"),
    "section": N_("Section"),
    "sections": N_("Sections"),
    "sections_to_do": N_("Sections to do"),
    "sha256": N_("SHA-256"),
    "size": N_("Size"),
    "slug": N_("Short name"),
    "source": N_("Source"),
    "uploaded_by": N_("Uploaded by"),
    "status": N_("Status"),
    "submission": N_("Submission"),
    "target_date": N_("Target date"),
    "user_id": N_("Account"),
    "version": N_("Version"),
}
# the fields of an action of the action plan (the detail "fields" of an action change)
ACTION_FIELDS: Mapping[str, str] = {
    "owner": N_("Owner"),
    "target_date": N_("Target date"),
    "status": N_("Status"),
    "risk_reason": N_("Why the risk is accepted"),
    "risk_accepted_by": N_("Risk accepted by"),
    "note": N_("Note"),
}
LANGUAGE_NAMES: Mapping[str, str] = {"en": N_("English"), "fr": N_("French")}
# What happened to a question when answers were carried to a new version (questionnaire.carry).
CARRY_STATUSES: Mapping[str, str] = {
    "carried": N_("Carried over"),
    "changed": N_("Carried over, changed"),
    "not_carried": N_("Needs an answer: the old answer does not carry over"),
    "new": N_("Needs an answer: new question"),
    "unanswered": N_("Not answered before"),
}
# Why a criterion's verdict differs between two versions (questionnaire.impact).
CHANGE_WHYS: Mapping[str, str] = {
    "new_criterion": N_("New criterion"),
    "removed_criterion": N_("Criterion removed"),
    "answers_changed": N_("It reads answers the new version changed"),
    "rule_changed": N_("Its rule or the law it applies changed"),
}


def _key(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _label(table: Mapping[str, str], value: object, lang: str) -> str:
    key = _key(value)
    return gettext(lang, table[key]) if key in table else key


def verdict_label(value: object, lang: str) -> str:
    """met -> "Met" / "Respecté"."""
    return _label(VERDICTS, value, lang)


def rating_label(value: object, lang: str) -> str:
    """amber -> "Amber" / "Jaune"."""
    return _label(RATINGS, value, lang)


def rating_meaning(value: object, lang: str) -> str:
    return _label(RATING_MEANINGS, value, lang)


def severity_label(value: object, lang: str) -> str:
    """high -> "High" / "Élevée"."""
    return _label(SEVERITIES, value, lang)


def status_label(value: object, lang: str) -> str:
    """An assessment's status: returned -> "Returned for changes" / "Renvoyée pour modifications"."""
    return _label(STATUSES, value, lang)


def action_status_label(value: object, lang: str) -> str:
    """An action of the plan: risk_accepted -> "Accepted as risk" / "Risque accepté"."""
    return _label(ACTION_STATUSES, value, lang)


def section_status_label(value: object, lang: str) -> str:
    return _label(SECTION_STATUSES, value, lang)


def carry_status_label(value: object, lang: str) -> str:
    """changed -> "Carried over, changed" / "Reprise, modifiée"."""
    return _label(CARRY_STATUSES, value, lang)


def change_why_label(value: object, lang: str) -> str:
    """new_criterion -> "New criterion" / "Nouveau critère"."""
    return _label(CHANGE_WHYS, value, lang)


def role_label(value: object, lang: str) -> str:
    return _label(ROLES, value, lang)


def org_kind_label(value: object, lang: str) -> str:
    return _label(ORG_KINDS, value, lang)


def body_type_label(value: object, lang: str) -> str:
    return _label(BODY_TYPES, value, lang) if value else ""


def province_label(value: object, lang: str) -> str:
    """A province or territory code: QC -> "Quebec" / "Québec"."""
    return _label(PROVINCES, value, lang) if value else ""


def verification_label(value: object, lang: str) -> str:
    return _label(VERIFICATIONS, value, lang)


def inherent_risk_label(value: object, lang: str) -> str:
    key = _key(value)
    return pgettext(lang, *INHERENT_RISKS[key]) if key in INHERENT_RISKS else key


def action_label(value: object, lang: str) -> str:
    """An audit action: document_attach -> "Document attached" / "Document joint"."""
    return _label(ACTIONS, value, lang)


def language_label(value: object, lang: str) -> str:
    return _label(LANGUAGE_NAMES, value, lang)


# where an answer was saved from (the detail "source" of a save)
SOURCES: Mapping[str, str] = {
    "web": N_("Web form"),
    "api": N_("API"),
    "demo": N_("Demonstration data"),
    "import": N_("Import"),
    "archive": N_("Documents archive"),
}
# detail keys whose values are question or section ids: shown by their titles where known
NAMED_KEYS = frozenset(
    {
        "changed",
        "carried",
        "dropped",
        "new_questions",
        "question",
        "reopened",
        "section",
        "sections",
    }
)


def source_label(value: object, lang: str) -> str:
    return _label(SOURCES, value, lang)


_VALUE_LABELS = {
    "source": source_label,
    "status": status_label,
    "action_status": action_status_label,
    "previous_status": status_label,
    "role": role_label,
    "language": language_label,
}


def _names_of(value: object, names: Mapping[str, str], lang: str, limit: int | None) -> str:
    items = [str(v) for v in value] if isinstance(value, list | tuple | set) else [str(value)]
    shown = [names.get(v, v) for v in items]
    if limit is not None and len(shown) > limit:
        more = len(shown) - limit
        rest = Translator(lang).ngettext(
            "and {count} other", "and {count} others", more, count=more
        )
        return "; ".join(shown[:limit]) + "; " + rest
    return "; ".join(shown) or "—"


def _detail_value(key: str, value: object, lang: str) -> str:
    if key in _VALUE_LABELS:
        return _VALUE_LABELS[key](value, lang)
    if key == "roles" and isinstance(value, list | tuple):
        return ", ".join(role_label(v, lang) for v in value)
    if key == "fields" and isinstance(value, list | tuple):
        return ", ".join(_label(ACTION_FIELDS, v, lang) for v in value) or "—"
    if key == "size" and isinstance(value, int):
        return format_size(value, lang)
    if isinstance(value, bool):
        return gettext(lang, "yes") if value else gettext(lang, "no")
    if value is None:
        return "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "—"
    if key == "section" and isinstance(value, str):
        return value
    return str(value)


def detail_items(
    detail: object,
    lang: str,
    *,
    names: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> list[tuple[str, str]]:
    """An audit event's detail as (label, readable value) pairs, never a repr. ``names`` gives
    the titles of the questions and sections of the event's questionnaire (ids where absent);
    ``limit`` shortens a long list of them to its first names and "and N more"."""
    if not isinstance(detail, Mapping):
        return []
    # beside a section, the status is the section's (not started, in progress, completed)
    of_section = "section" in detail
    out: list[tuple[str, str]] = []
    for key, value in sorted(detail.items()):
        if of_section and key == "status":
            text = section_status_label(value, lang)
        elif names is not None and key in NAMED_KEYS and value:
            text = _names_of(value, names, lang, limit)
        else:
            text = _detail_value(key, value, lang)
        out.append((_label(DETAIL_KEYS, key, lang), text))
    return out


def detail_text(
    detail: object,
    lang: str,
    *,
    separator: str = "; ",
    names: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> str:
    """The detail as one line: "Comments on: GOV-01; General comment: no"."""
    colon = "\u00a0: " if lang == "fr" else ": "
    items = detail_items(detail, lang, names=names, limit=limit)
    return separator.join(f"{k}{colon}{v}" for k, v in items)


# one or two letters per verdict, for the cells of the portfolio's heat map
VERDICT_ABBREVIATIONS: Mapping[str, str] = {
    "met": N_("M"),
    "partial": N_("P"),
    "not_met": N_("N"),
    "dont_know": N_("?"),
    "unanswered": N_("U"),
    "not_applicable": N_("NA"),
    "not_yet_due": N_("ND"),
}


def verdict_abbreviation(value: object, lang: str) -> str:
    key = _key(value)
    if key not in VERDICT_ABBREVIATIONS:
        return key
    return gettext(lang, VERDICT_ABBREVIATIONS[key])
