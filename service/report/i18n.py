"""The report's own words: template keys to catalogue messages (``service/i18n``).

The report templates read ``t.<key>``; the words, in English and French, are in the one
catalogue. Labels of verdicts, ratings, severities and statuses come from the label functions
of ``service.i18n``, as on every page, in the CLI and in the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache

from service.i18n import LANGUAGES, N_, NP_, gettext, pgettext
from service.i18n import labels as _labels

__all__ = [
    "ACTION_STATUS",
    "INHERENT",
    "LANGUAGES",
    "RATING",
    "RATING_MEANING",
    "SEVERITY",
    "STATUS",
    "TEXT",
    "VERDICT",
    "VERIFICATION",
    "words",
]

# key -> msgid, or (context, msgid) where the English word has another sense elsewhere
KEYS: Mapping[str, str | tuple[str, str]] = {
    "doc_title": N_("Privacy gap report"),
    "agency": N_("Agency"),
    "program": N_("Program assessed"),
    "questionnaire": N_("Questionnaire"),
    "version": N_("version"),
    "as_of": N_("Answers as of"),
    "submitted_at": NP_("date", "Submitted"),
    "submission": N_("Submission"),
    "accepted_by": N_("Accepted by"),
    "accepted_at": N_("Accepted on"),
    "returned_by": N_("Returned by"),
    "issued": N_("Issued and signed by {instance}, {at} ({status})"),
    "unsigned": N_("Not signed: a draft, not a report issued by a PolicyGap instance"),
    "status": N_("Status"),
    "rating": N_("Rating"),
    "score": N_("Overall score"),
    "doc_id": N_("Document identifier"),
    "advisory": N_("Advisory"),
    "advisory_banner": N_("ADVISORY: the result is advisory; the summary says why."),
    "incomplete": N_("The assessment is incomplete: unanswered questions count as not met."),
    "summary": N_("Summary for the board"),
    "summary_intro": N_(
        "This page says, in plain language, how well the program's privacy controls meet the guidance, and what must be fixed first."
    ),
    "rating_why": N_("Why this rating"),
    "band_is": N_("The overall score of {score} falls in the {band} band."),
    "gate_capped": N_("{label} ({ids}): the rating is capped at {cap}."),
    "no_gate": N_("No gate lowered the rating."),
    "inherent_beside": N_("{risk} inherent risk, {rating} controls"),
    "inherent_risk": N_("Inherent risk of the deployment"),
    "control_rating": N_("Control rating"),
    "by_section": N_("Score by section"),
    "chart_title": N_("Bar chart of the score by section, in percent"),
    "section": N_("Section"),
    "section_score": N_("Score"),
    "gaps_count": N_("Gaps"),
    "critical_gaps": N_("Critical gaps"),
    "no_critical_gaps": N_("No critical gap."),
    "law": N_("Applicable law and derived facts"),
    "context_only": N_("context only"),
    "fact": N_("Fact"),
    "value": N_("Value"),
    "change": N_("Change since the previous assessment"),
    "previous": N_("Previous"),
    "current": N_("Current"),
    "gaps_closed": N_("Gaps closed"),
    "gaps_new": N_("New gaps"),
    "none": N_("none"),
    "reviewer_comment": N_("Reviewer's comment"),
    "action_plan": N_("Action plan"),
    "action_intro": N_(
        "Every gap, most severe first. Each says what to do and which source requires it."
    ),
    "no_gaps": N_("No gap was found."),
    "plan_as_at": N_(
        "Owner, target date and status as at {date}, the date of the regulator's decision. The agency's live progress is on its action plan page."
    ),
    "plan_owner": N_("Owner"),
    "plan_target": N_("Target date"),
    "plan_status": N_("Status"),
    "plan_not_assigned": N_("not assigned"),
    "plan_none_set": N_("none set"),
    "plan_risk_reason": N_("Why the risk is accepted"),
    "plan_risk_by": N_("Risk accepted by"),
    "before_launch": N_("Before launch"),
    "before_launch_intro": N_(
        "What is not yet due because the program has not been launched: each must be in place before launch. These criteria are not scored."
    ),
    "nyd_reason": N_("Why not yet due"),
    "in_force_from": N_("in force {date}"),
    "in_force_until": N_("in force until {date}"),
    "in_force_between": N_("in force {start} to {end}"),
    "rests_on": N_("rests on"),
    "judged_on": N_("the law in force on {date} ({judged})"),
    "verdict": N_("Verdict"),
    "severity": N_("Severity"),
    "escalated_from": N_("escalated from {base}"),
    "recommendation": N_("Recommendation"),
    "sources": N_("Sources"),
    "requirement": N_("Requirement"),
    "detail": N_("Section by section"),
    "detail_intro": N_(
        "For each section: its score, each criterion's verdict, and the answers and evidence notes behind it. A criterion that does not apply shows why; its answers are in the appendix."
    ),
    "not_applicable_section": N_("not applicable"),
    "answers_read": N_("Answers read"),
    "evidence_note": N_("Evidence"),
    "evidence_documents": N_("Documents"),
    "no_evidence": N_("no evidence noted"),
    "not_asked": N_("not asked"),
    "not_answered": N_("not answered"),
    "na_reason": N_("Why not applicable"),
    "comments": N_("Reviewer comments"),
    "method": N_("Method and trace"),
    "method_intro": N_(
        "How the rating was reached, so that nobody has to trust a number they cannot follow."
    ),
    "method_credit": N_(
        "Each applicable criterion gets a verdict from the rule written in the questionnaire. Met earns full credit, partial half, and not met, don't know and unanswered none. Criteria that are not applicable or not yet due leave the score. Where a criterion needs evidence and none is noted, met counts as partial."
    ),
    "method_weights": N_(
        "Scores are weighted means over applicable criteria. The weight follows the severity, after any escalation:"
    ),
    "weight": N_("Weight"),
    "bands": N_("Rating bands"),
    "min_score": N_("Minimum score"),
    "gates": N_("Gates"),
    "gates_intro": N_("A gate caps the rating whatever the score. Gates that fired:"),
    "gate": N_("Gate"),
    "cap": N_("Caps at"),
    "criteria": N_("Criteria"),
    "fired": N_("Fired"),
    "yes": N_("yes"),
    "no": N_("no"),
    "citations": N_(
        "Citations: {total} references to sources, of which {secondary} rest on secondary sources and {unverified} are unverified."
    ),
    "rules": N_("The rule that decided each verdict"),
    "criterion": N_("Criterion"),
    "rule": N_("Rule"),
    "credit": N_("Credit"),
    "appendix": N_("Appendix"),
    "all_answers": N_("All questions and answers"),
    "question": N_("Question"),
    "answer": N_("Answer"),
    "sources_cited": N_("Sources cited"),
    "integrity": N_("Integrity"),
    "integrity_intro": N_(
        "The canonical submission (questionnaire id, version and hash, agency, program, answers, evidence notes, dates) is attached to this PDF as submission.json. Its SHA-256 is:"
    ),
    "integrity_intro_sealed": N_(
        "The sealed submission (questionnaire id, version and hash, agency, program, each answer, evidence note and document committed with its own random salt) is attached to this PDF as submission.json, and the state of its review as review.json. Its hash, the SHA-256 of its field commitments, is:"
    ),
    "questionnaire_hash": N_("Questionnaire SHA-256 (of the YAML file)"),
    "tool_version": N_("Tool version"),
    "template_version": N_("Template version"),
    "verify_how": N_("Check this report with: policygap verify REPORT.pdf"),
    "stated": N_("Result stated by this report"),
    "page": N_("Page"),
    "of": N_("of"),
    "contents": N_("Contents"),
    "percent": N_("{value} %"),
    "na": N_("n/a"),
    "unverified_mark": N_("unverified"),
    "secondary_mark": N_("secondary"),
    "na_count": N_("{count} criteria not applicable"),
    "keywords": N_("privacy, gap report"),
    "and_more": N_("and {count} more"),
    "decision": N_("Regulator's decision"),
    "decision_pending": N_("Awaiting the regulator's review"),
    "decision_not_submitted": N_("Not submitted yet"),
    "top_actions": N_("The first three actions"),
    "top_actions_more": N_("The action plan lists all {count} gaps, the most severe first."),
    "gap_matrix": N_("Gaps by section and severity"),
    "gap_matrix_legend": N_(
        "Each cell counts the gaps of a section at a severity (– for none); the shading repeats the severity named at the head of the column."
    ),
    "total": N_("Total"),
}


@lru_cache
def words(lang: str) -> Mapping[str, str]:
    """Every report word in ``lang``, by template key."""
    out = {
        key: pgettext(lang, *msgid) if isinstance(msgid, tuple) else gettext(lang, msgid)
        for key, msgid in KEYS.items()
    }
    out["colon"] = "\u00a0:" if lang == "fr" else ":"
    return out


class _ByLanguage(Mapping[str, Mapping[str, str]]):
    """``TABLE[lang][value]``: a concept's labels in one language, read from the catalogue."""

    def __init__(self, values: Mapping[str, object], label: Callable[[str, str], str]) -> None:
        self._values = values
        self._label = label
        self._read: dict[str, Mapping[str, str]] = {}  # the catalogue is read once per language

    def __getitem__(self, lang: str) -> Mapping[str, str]:
        found = self._read.get(lang)
        if found is None:
            if lang not in LANGUAGES:
                raise KeyError(lang)
            found = self._read[lang] = {value: self._label(value, lang) for value in self._values}
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


class _Words(Mapping[str, Mapping[str, str]]):
    def __getitem__(self, lang: str) -> Mapping[str, str]:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        return words(lang)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


TEXT: Mapping[str, Mapping[str, str]] = _Words()
RATING = _ByLanguage(_labels.RATINGS, _labels.rating_label)
RATING_MEANING = _ByLanguage(_labels.RATING_MEANINGS, _labels.rating_meaning)
VERDICT = _ByLanguage(_labels.VERDICTS, _labels.verdict_label)
SEVERITY = _ByLanguage(_labels.SEVERITIES, _labels.severity_label)
STATUS = _ByLanguage(_labels.STATUSES, _labels.status_label)
ACTION_STATUS = _ByLanguage(_labels.ACTION_STATUSES, _labels.action_status_label)
VERIFICATION = _ByLanguage(_labels.VERIFICATIONS, _labels.verification_label)
INHERENT = _ByLanguage(_labels.INHERENT_RISKS, _labels.inherent_risk_label)
