"""The regulator's portfolio as open data (`PORTFOLIO_FORMAT`, docs/open-data.md): one row per
program (the latest submission of each assessment on one questionnaire version), as CSV (with
its labels file) and JSON, read from `service.portfolio` (the digests: nothing is scored again).

Column names are stable English identifiers; after the fixed columns comes one column per
criterion of the questionnaire, named by its id (`COL-01`), holding the verdict code. The
labels file gives each column's label in English and French (a criterion's: its title).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.i18n import N_, gettext, punctuate
from service.questionnaire.schema import Questionnaire, localize
from service.report.opendata import dumps, write_csv
from service.review.service import Portfolio

PORTFOLIO_FORMAT = "policygap-portfolio/1"

PORTFOLIO_COLUMNS: Mapping[str, str] = {
    "agency": N_("Agency"),
    "program": N_("Program assessed"),
    "rating": N_("Rating"),
    "score": N_("Overall score"),
    "submitted_at": N_("Date submitted"),
    "assessment_id": N_("Assessment identifier"),
    "submission_number": N_("Submission number"),
    "critical_gaps": N_("Critical gaps"),
}


def columns(portfolio: Portfolio) -> list[str]:
    return [*PORTFOLIO_COLUMNS, *portfolio.criteria]


def rows(portfolio: Portfolio, lang: str) -> list[dict[str, Any]]:
    """One row per program; the agency's name in ``lang``; codes elsewhere."""
    out = []
    for org, cell in portfolio.programs:
        verdicts = portfolio.cells[cell.assessment_id]
        out.append(
            {
                "agency": org.name(lang),
                "program": cell.program,
                "rating": cell.rating,
                "score": cell.score,
                "submitted_at": cell.submitted_at.isoformat(),
                "assessment_id": str(cell.assessment_id),
                "submission_number": cell.number,
                "critical_gaps": " ".join(cell.critical_gaps),
                **{cid: verdicts.get(cid, "") for cid in portfolio.criteria},
            }
        )
    return out


def portfolio_csv(portfolio: Portfolio, lang: str) -> bytes:
    return write_csv(columns(portfolio), rows(portfolio, lang))


def portfolio_json(portfolio: Portfolio, lang: str) -> bytes:
    programs = []
    for row in rows(portfolio, lang):
        fixed = {k: row[k] for k in PORTFOLIO_COLUMNS}
        fixed["critical_gaps"] = row["critical_gaps"].split()
        fixed["verdicts"] = {cid: row[cid] for cid in portfolio.criteria if row[cid]}
        programs.append(fixed)
    return dumps(
        {
            "format": PORTFOLIO_FORMAT,
            "lang": lang,
            "questionnaire": {
                "id": portfolio.questionnaire_id,
                "version": portfolio.questionnaire_version,
            },
            "criteria": portfolio.criteria,
            "programs": programs,
            "ratings": portfolio.ratings,
            "met_share": portfolio.met_share,
        }
    )


def labels_csv(questionnaire: Questionnaire, languages: tuple[str, ...] = ("en", "fr")) -> bytes:
    """The companion of the CSV's header row: each column's label in English and French."""
    table = [
        {"column": name, **{lang: gettext(lang, label) for lang in languages}}
        for name, label in PORTFOLIO_COLUMNS.items()
    ] + [
        {
            "column": c.id,
            **{lang: punctuate(f"{c.id}: {localize(c.title, lang)}", lang) for lang in languages},
        }
        for c in questionnaire.criteria
    ]
    return write_csv(["column", *languages], table)
