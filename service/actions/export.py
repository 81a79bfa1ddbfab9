"""The action plan as a spreadsheet: CSV and ``.xlsx`` (openpyxl), headers in the reader's
language, live progress (not the plan as at a decision: that is the report's).

A cell a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) is written with a leading apostrophe, so a typed owner or note such as
``=HYPERLINK(...)`` stays text in both files.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font

from service.actions.service import Plan
from service.i18n.catalogue import N_, gettext

HEADERS = (
    N_("Criterion"),
    N_("Gap"),
    N_("Section"),
    N_("Severity"),
    N_("Status"),
    N_("Owner"),
    N_("Target date"),
    N_("Why the risk is accepted"),
    N_("Risk accepted by"),
    N_("Note"),
    N_("Last changed"),
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | date | None


def safe(value: str) -> str:
    """``value`` as text no spreadsheet runs: a leading apostrophe before a formula start."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def rows(plan: Plan, lang: str) -> list[list[Cell]]:
    """The header row in ``lang``, then one row per action (dates as dates)."""
    table: list[list[Cell]] = [[gettext(lang, h) for h in HEADERS]]
    for item in plan.items:
        table.append(
            [
                item.criterion_id,
                item.title,
                item.section_title,
                item.severity_label,
                item.status_label,
                item.owner,
                item.target_date,
                item.risk_reason,
                item.risk_accepted_by,
                item.note,
                item.updated_at.date() if item.updated_at else None,
            ]
        )
    return table


def to_csv(plan: Plan, lang: str) -> str:
    """CSV (RFC 4180, CRLF line ends), dates as year-month-day, formula starts neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows(plan, lang):
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else safe(v) for v in row]
        )
    return out.getvalue()


def to_xlsx(plan: Plan, lang: str, *, title: str) -> bytes:
    """An ``.xlsx`` workbook of one sheet: a bold header row, dates as date cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31] or "Plan"
    for r, row in enumerate(rows(plan, lang), start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            elif value is not None:
                cell.value = safe(value)
                cell.data_type = "s"  # never a formula, whatever the text
            if r == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for letter, width in zip(
        "ABCDEFGHIJK", (10, 40, 24, 10, 16, 24, 12, 30, 20, 40, 12), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
