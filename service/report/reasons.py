"""Reason codes as prose, in the reader's language.

Scoring says why with a `Reason` (a code and its values, `service/questionnaire/reasons.py`);
this module writes it out in English or French. The rule column of the report names question
ids and conditions as the questionnaire's author wrote them, so a reader can find the rule in
the file; the generated "not applicable" reasons, written for every reader, name the question
by its text.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.questionnaire.reasons import Reason, ReasonCode
from service.questionnaire.schema import LocalizedText, Questionnaire, localize
from service.report import i18n

C = ReasonCode

REASON_TEXT: Mapping[str, Mapping[ReasonCode, str]] = {
    "en": {
        C.question_unanswered: "question {question} is not answered",
        C.answer: "answer: {question} = {value}",
        C.answer_not_asked: "answer: {question} (not asked)",
        C.case: "case {number}: {when}",
        C.no_case_dont_know: "no case held; {question} = {value}",
        C.otherwise: "otherwise",
        C.applies_if_false: "applies_if does not hold: {condition}",
        C.escalated: "{base} -> {to} because {when}",
        C.evidence_noted: "evidence noted on {questions}",
        C.evidence_missing: "no evidence noted on {questions}",
        C.evidence_missing_capped: "no evidence noted on {questions}; met counts as partial",
        C.na_question_not_asked: "The question “{question}” does not apply to this program.",
        C.na_applies_only_when: "Applies only when {condition}.",
        C.text: "{text}",
    },
    "fr": {
        C.question_unanswered: "la question {question} est sans réponse",
        C.answer: "réponse\u00a0: {question} = {value}",
        C.answer_not_asked: "réponse\u00a0: {question} (question non posée)",
        C.case: "cas {number}\u00a0: {when}",
        C.no_case_dont_know: "aucun cas vérifié; {question} = {value}",
        C.otherwise: "sinon",
        C.applies_if_false: "applies_if non remplie\u00a0: {condition}",
        C.escalated: "{base} -> {to} parce que {when}",
        C.evidence_noted: "preuve notée pour {questions}",
        C.evidence_missing: "aucune preuve notée pour {questions}",
        C.evidence_missing_capped: (
            "aucune preuve notée pour {questions}; respecté compte comme partiel"
        ),
        C.na_question_not_asked: "La question «\u00a0{question}\u00a0» ne s'applique pas à ce programme.",
        C.na_applies_only_when: "S'applique seulement si {condition}.",
        C.text: "{text}",
    },
}
ANY_QUESTION = {"en": "any question", "fr": "aucune question"}

_EVIDENCE = (C.evidence_noted, C.evidence_missing, C.evidence_missing_capped)


def _question_text(question_id: str, lang: str, questionnaire: Questionnaire | None) -> str:
    question = questionnaire.question_index().get(question_id) if questionnaire else None
    return localize(question.text, lang) if question else question_id


def _values(reason: Reason, lang: str, questionnaire: Questionnaire | None) -> dict[str, str]:
    values = dict(reason.values)
    code = reason.code
    if code in _EVIDENCE:
        ids = values.get("questions", "").split()
        values["questions"] = ", ".join(ids) or ANY_QUESTION[lang]
    elif code is C.escalated:
        words = i18n.SEVERITY[lang]
        for key in ("base", "to"):
            values[key] = words.get(values.get(key, ""), values.get(key, "")).lower()
    elif code is C.na_question_not_asked:
        values["question"] = _question_text(values.get("question", ""), lang, questionnaire)
    return values


def reason_text(
    reason: Reason | LocalizedText, lang: str, questionnaire: Questionnaire | None = None
) -> str:
    """The reason as a reader in `lang` reads it. An author's text (LocalizedText) is localised;
    `questionnaire` gives question texts where a reason names a question to every reader."""
    if not isinstance(reason, Reason):
        return localize(reason, lang)
    template = REASON_TEXT[lang][reason.code]
    # a value missing from a stored reason shows as "?": a report never fails on it
    return template.format_map(_Values(_values(reason, lang, questionnaire)))


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
