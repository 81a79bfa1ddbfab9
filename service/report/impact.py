"""The change report in words: plain text (the CLI) and CSV (the CLI's --csv and the page's
export), from `questionnaire.impact.Impact`. Every word from the catalogue."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from service.i18n import (
    Translator,
    carry_status_label,
    change_why_label,
    format_percent,
    rating_label,
    verdict_label,
)
from service.questionnaire.impact import AssessmentImpact, Impact, VerdictChange
from service.questionnaire.schema import Questionnaire, localize
from service.report.reasons import reason_text

Details = Mapping[str, tuple[str, str]]  # answer-set name -> (agency, program)


def _score(value: float | None, lang: str) -> str:
    return "-" if value is None else format_percent(value, lang)


def _verdict(value: object, lang: str) -> str:
    return "-" if value is None else verdict_label(value, lang)


def change_reason(
    change: VerdictChange, row: AssessmentImpact, new: Questionnaire, lang: str
) -> str:
    """Why the verdict changed: the kind of change, then the rule that decided it now."""
    why = change_why_label(change.why, lang)
    if change.questions:
        why += ": " + ", ".join(change.questions)
    decided = next((c for c in row.new.criteria if c.id == change.criterion), None)
    if decided is not None:
        why += "; " + reason_text(decided.trace.rule, lang, new)
    return why


def render_text(
    impact: Impact,
    old: Questionnaire,
    new: Questionnaire,
    lang: str,
    details: Details | None = None,
) -> str:
    _ = Translator(lang)
    w_change_report = _("Change report")
    w_as_of = _("As of")
    w_rating = _("Rating")
    w_overall_score = _("Overall score")
    w_verdicts_that_change = _("Verdicts that change")
    w_questions_to_answer_now = _("Questions to answer now")
    w_answers_not_carried_over = _("Answers not carried over")
    w_summary = _("Summary")
    w_ratings = _("Ratings")
    w_lower_rating = _("Lower rating")
    w_higher_rating = _("Higher rating")
    w_mean_change_of_score = _("Mean change of score")
    w_new_criteria_failing_most_often = _("New criteria failing most often")
    w_verdicts_that_change_most_often = _("Verdicts that change most often")
    w_questions_to_answer_most_often = _("Questions to answer most often")
    details = details or {}
    questions = new.question_index()
    titles = {c.id: localize(c.title, lang) for c in [*old.criteria, *new.criteria]}
    lines = [
        f"{w_change_report}: {impact.old_id} {impact.old_version} -> {impact.new_version}, "
        f"{w_as_of}: {impact.as_of.isoformat()}",
        "",
    ]
    for row in impact.assessments:
        agency, program = details.get(row.name, ("", ""))
        heading = row.name + (f" ({agency}: {program})" if agency or program else "")
        lines.append(heading)
        lines.append(
            f"  {w_rating}: {rating_label(row.old.rating, lang)} -> "
            f"{rating_label(row.new.rating, lang)}; {w_overall_score}: "
            f"{_score(row.old.score, lang)} -> {_score(row.new.score, lang)}"
        )
        if row.changes:
            lines.append(f"  {w_verdicts_that_change}:")
            for ch in row.changes:
                lines.append(
                    f"    {ch.criterion}  {_verdict(ch.old, lang)} -> {_verdict(ch.new, lang)}  "
                    f"{titles.get(ch.criterion, '')}"
                )
                lines.append(f"        {change_reason(ch, row, new, lang)}")
        asked = row.new_questions_to_answer
        if asked:
            lines.append(f"  {w_questions_to_answer_now}:")
            for qid in asked:
                status = carry_status_label(row.carried.questions[qid].status, lang)
                lines.append(f"    {qid}: {localize(questions[qid].text, lang)} [{status}]")
        if row.carried.dropped:
            lines.append(f"  {w_answers_not_carried_over}: {', '.join(row.carried.dropped)}")
        lines.append("")
    s = impact.summary
    lines.append(f"{w_summary} ({s.assessments}):")
    moves = [
        f"{rating_label(a, lang)} -> {rating_label(b, lang)}: {n}"
        for (a, b), n in s.moves.items()
        if n
    ]
    lines.append(f"  {w_ratings}: " + "; ".join(moves))
    worse = sum(n for (a, b), n in s.moves.items() if b.rank < a.rank)
    better = sum(n for (a, b), n in s.moves.items() if b.rank > a.rank)
    lines.append(f"  {w_lower_rating}: {worse}; {w_higher_rating}: {better}")
    if s.score_delta_mean is not None:
        lines.append(f"  {w_mean_change_of_score}: {s.score_delta_mean:+.1f}")
    if s.new_criteria_failing:
        lines.append(f"  {w_new_criteria_failing_most_often}:")
        for cid, n in s.new_criteria_failing:
            lines.append(f"    {cid} ({n}): {titles.get(cid, '')}")
    if s.most_changed:
        lines.append(f"  {w_verdicts_that_change_most_often}:")
        for cid, n in s.most_changed:
            lines.append(f"    {cid} ({n}): {titles.get(cid, '')}")
    if s.questions_to_answer:
        lines.append(f"  {w_questions_to_answer_most_often}:")
        for qid, n in s.questions_to_answer:
            lines.append(f"    {qid} ({n}): {localize(questions[qid].text, lang)}")
    return "\n".join(lines)


def _safe(value: object) -> object:
    """Keep spreadsheet programs from running a cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_header(lang: str) -> list[str]:
    """The columns of the change report's CSV (a file with no answer set has only these)."""
    _ = Translator(lang)
    return [
        _("Answers"),
        _("Agency"),
        _("Program"),
        _("Rating before"),
        _("Score before"),
        _("Rating after"),
        _("Score after"),
        _("Criterion"),
        _("Verdict before"),
        _("Verdict after"),
        _("Why"),
        _("Questions to answer now"),
    ]


def impact_csv(
    impact: Impact, new: Questionnaire, lang: str, details: Details | None = None
) -> str:
    """One row per answer set and changed criterion (a row with an empty criterion when no
    verdict changes), so a spreadsheet can filter and count either way."""
    details = details or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(lang))
    for row in impact.assessments:
        agency, program = details.get(row.name, ("", ""))
        head = [
            row.name,
            agency,
            program,
            rating_label(row.old.rating, lang),
            "" if row.old.score is None else row.old.score,
            rating_label(row.new.rating, lang),
            "" if row.new.score is None else row.new.score,
        ]
        asked = " ".join(row.new_questions_to_answer)
        changes: list[VerdictChange | None] = list(row.changes) or [None]
        for ch in changes:
            tail = (
                ["", "", "", ""]
                if ch is None
                else [
                    ch.criterion,
                    "" if ch.old is None else verdict_label(ch.old, lang),
                    "" if ch.new is None else verdict_label(ch.new, lang),
                    change_reason(ch, row, new, lang),
                ]
            )
            writer.writerow([_safe(v) for v in [*head, *tail, asked]])
    return out.getvalue()
