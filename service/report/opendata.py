"""Open data: one record's findings as JSON and CSV, and the CSV rules every table shares.

The schemas are versioned (`FINDINGS_FORMAT`) and documented in `docs/open-data.md`: column
names are stable English identifiers; their labels in English and French are in a companion
file (`labels_csv`), not in the header row, so a program reading the data never depends on
the language. Codes (verdict, severity, rating) are the questionnaire format's values; text
(titles, reasons, citations) is in the language asked for.

CSV: RFC 4180 (comma, double quotes, CRLF), UTF-8; a text cell that a spreadsheet would read
as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
with a leading apostrophe (`safe_cell`).

Pure: reads a `ReportInput` through the typed report view; no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from service.i18n import N_, gettext
from service.report.inputs import ReportInput
from service.report.view import build_view

FINDINGS_FORMAT = "policygap-findings/1"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The findings table: column -> label (a catalogue message; English and French in labels_csv)
FINDINGS_COLUMNS: Mapping[str, str] = {
    "criterion_id": N_("Criterion"),
    "title": N_("Title"),
    "section": N_("Section identifier"),
    "section_title": N_("Section"),
    "severity": N_("Severity"),
    "verdict": N_("Verdict"),
    "gap": N_("Gap"),
    "reason": N_("Reason for the verdict"),
    "citation": N_("Sources cited"),
}


def safe_cell(value: object) -> str:
    """A cell's text, never read as a formula by a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> bytes:
    """A CSV table with ``columns`` as its header row; every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(name)) for name in columns])
    return out.getvalue().encode("utf-8")


def labels_csv(columns: Mapping[str, str], languages: Sequence[str] = ("en", "fr")) -> bytes:
    """The companion of a table's header row: one row per column, with its label in each
    language (``column,en,fr``)."""
    return write_csv(
        ["column", *languages],
        (
            {"column": name, **{lang: gettext(lang, label) for lang in languages}}
            for name, label in columns.items()
        ),
    )


def dumps(data: Mapping[str, Any]) -> bytes:
    """JSON as the open data is written: sorted keys, two-space indent, UTF-8, final newline."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def findings_rows(report: ReportInput, lang: str = "en") -> list[dict[str, Any]]:
    """One row per criterion, in questionnaire order: codes, and text in ``lang``."""
    view = build_view(report, lang)
    results = {c.id: c for c in report.result.criteria}
    rows = []
    for section in view.details:
        for d in section.criteria:
            rows.append(
                {
                    "criterion_id": d.id,
                    "title": d.title,
                    "section": d.section,
                    "section_title": section.title,
                    "severity": d.severity.value,
                    "verdict": d.verdict.value,
                    "gap": results[d.id].is_gap,
                    "reason": d.na_reason or d.rule,
                    "citation": d.refs,
                }
            )
    return rows


def findings(report: ReportInput, lang: str = "en") -> dict[str, Any]:
    """One record's findings as the JSON document `FINDINGS_FORMAT` describes."""
    rec, res = report.record, report.result
    return {
        "format": FINDINGS_FORMAT,
        "lang": lang,
        "questionnaire": {
            "id": rec.questionnaire_id,
            "version": rec.questionnaire_version,
            "sha256": rec.questionnaire_sha256,
        },
        "submission": {
            "sha256": report.sha256,
            "number": rec.number,
            "agency": rec.agency,
            "program": rec.program,
            "as_of": rec.as_of.isoformat(),
            "submitted_at": rec.submitted_at.isoformat() if rec.submitted_at else None,
            "status": report.status,
        },
        "result": {
            "rating": res.rating.value,
            "score": res.score,
            "complete": res.complete,
            "advisory": res.advisory,
            "gaps": list(res.gaps),
        },
        "findings": findings_rows(report, lang),
    }


def findings_json(report: ReportInput, lang: str = "en") -> bytes:
    return dumps(findings(report, lang))


def findings_csv(report: ReportInput, lang: str = "en") -> bytes:
    return write_csv(list(FINDINGS_COLUMNS), findings_rows(report, lang))
