"""Reason codes as prose, in the reader's language.

Scoring says why with a `Reason` (a code and its values, `service/questionnaire/reasons.py`);
this module writes it out in English or French. The rule column of the report names question
ids and conditions as the questionnaire's author wrote them, so a reader can find the rule in
the file; the generated "not applicable" reasons and the evidence notes (evidence noted or
missing), written for every reader, name the question by its text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from service.i18n.catalogue import LANGUAGES, N_, gettext
from service.questionnaire.reasons import Reason, ReasonCode
from service.questionnaire.schema import AS_OF, LocalizedText, Questionnaire, localize
from service.report import i18n

C = ReasonCode

# The reasons' words, in the catalogue (French in messages.po); ``{...}`` are the reason's values.
REASON_MESSAGES: Mapping[ReasonCode, str] = {
    C.question_unanswered: N_("question {question} is not answered"),
    C.answer: N_("answer: {question} = {value}"),
    C.answer_not_asked: N_("answer: {question} (not asked)"),
    C.case: N_("case {number}: {when}"),
    C.no_case_dont_know: N_("no case held; {question} = {value}"),
    C.otherwise: N_("otherwise"),
    C.applies_if_false: N_("applies_if does not hold: {condition}"),
    C.escalated: N_("{base} -> {to} because {when}"),
    C.evidence_noted: N_("evidence noted on {questions}"),
    C.evidence_missing: N_("no evidence noted on {questions}"),
    C.evidence_missing_capped: N_("no evidence noted on {questions}; met counts as partial"),
    C.na_question_not_asked: N_("The question “{question}” does not apply to this program."),
    C.na_applies_only_when: N_("Applies only when {condition}."),
    C.not_yet_due_if_true: N_("not yet due: {condition}"),
    C.not_yet_due_while: N_("Not yet due while {condition}."),
    C.not_in_force: N_("not in force on {date} ({judged}): {window}"),
    C.na_not_in_force: N_("Not in force on {date} ({judged}): {window}."),
    C.text: "{text}",  # an author's text, as it is
}


class _ReasonTexts(Mapping[str, Mapping[ReasonCode, str]]):
    """``REASON_TEXT[lang][code]``: the reasons' templates in one language, from the catalogue."""

    def __init__(self) -> None:
        self._read: dict[str, Mapping[ReasonCode, str]] = {}

    def __getitem__(self, lang: str) -> Mapping[ReasonCode, str]:
        found = self._read.get(lang)
        if found is None:
            if lang not in LANGUAGES:
                raise KeyError(lang)
            found = self._read[lang] = {
                code: message if code is C.text else gettext(lang, message)
                for code, message in REASON_MESSAGES.items()
            }
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


REASON_TEXT: Mapping[str, Mapping[ReasonCode, str]] = _ReasonTexts()
ANY_QUESTION = N_("any question")
# A dated case or escalation: what it adds to the rule's words.
DATED_RULE = N_("{window}, judged on {date} ({judged})")
JUDGED_ON_AS_OF = N_("the assessment date")
UNKNOWN_DATE = N_("an unknown date")
_DATED = (C.case, C.escalated, C.not_in_force, C.na_not_in_force)

_EVIDENCE = (C.evidence_noted, C.evidence_missing, C.evidence_missing_capped)


def _question_text(question_id: str, lang: str, questionnaire: Questionnaire | None) -> str:
    index = (
        questionnaire.derived("report.questions", Questionnaire.question_index)
        if questionnaire
        else {}
    )
    question = index.get(question_id)
    return localize(question.text, lang) if question else question_id


def _values(reason: Reason, lang: str, questionnaire: Questionnaire | None) -> dict[str, str]:
    values = dict(reason.values)
    code = reason.code
    if code in _EVIDENCE:
        # the questions by their text, as every reader knows them (not the author's ids)
        ids = values.get("questions", "").split()
        quote = ("«\u00a0", "\u00a0»") if lang == "fr" else ("“", "”")
        texts = [f"{quote[0]}{_question_text(i, lang, questionnaire)}{quote[1]}" for i in ids]
        values["questions"] = ", ".join(texts) or gettext(lang, ANY_QUESTION)
    elif code is C.escalated:
        words = i18n.SEVERITY[lang]
        for key in ("base", "to"):
            values[key] = words.get(values.get(key, ""), values.get(key, "")).lower()
    elif code is C.na_question_not_asked:
        values["question"] = _question_text(values.get("question", ""), lang, questionnaire)
    if code in _DATED and values.get("judged_by"):
        values.update(_dated_words(values, lang, questionnaire, readers=code is C.na_not_in_force))
    return values


def _dated_words(
    values: Mapping[str, str], lang: str, questionnaire: Questionnaire | None, *, readers: bool
) -> dict[str, str]:
    """The window of a dated rule ("in force 2025-07-01") and the date it was judged on: the
    assessment date, or a date question (its id in the trace, its text for every reader)."""
    t = i18n.TEXT[lang]
    start, end = values.get("in_force", ""), values.get("until", "")
    if start and end:
        window = t["in_force_between"].format(start=start, end=end)
    elif start:
        window = t["in_force_from"].format(date=start)
    else:
        window = t["in_force_until"].format(date=end)
    judged_by = values.get("judged_by", "")
    if judged_by == AS_OF:
        judged = gettext(lang, JUDGED_ON_AS_OF)
    elif readers:
        judged = _question_text(judged_by, lang, questionnaire)
    else:
        judged = judged_by
    return {
        "window": window,
        "judged": judged,
        "date": values.get("date") or gettext(lang, UNKNOWN_DATE),
    }


def reason_text(
    reason: Reason | LocalizedText, lang: str, questionnaire: Questionnaire | None = None
) -> str:
    """The reason as a reader in `lang` reads it. An author's text (LocalizedText) is localised;
    `questionnaire` gives question texts where a reason names a question to every reader."""
    if not isinstance(reason, Reason):
        return localize(reason, lang)
    template = REASON_TEXT[lang][reason.code]
    values = _values(reason, lang, questionnaire)
    # a value missing from a stored reason shows as "?": a report never fails on it
    text = template.format_map(_Values(values))
    if reason.code in (C.case, C.escalated) and reason.value("judged_by"):
        text += " (" + gettext(lang, DATED_RULE).format_map(_Values(values)) + ")"
    return text


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
