"""`policygap report` and `policygap verify` (registered by service/cli.py)."""

from __future__ import annotations

import os
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.report.i18n import RATING

# As the web app finds them (POLICYGAP_QUESTIONNAIRES_DIR), else ./questionnaires.
DEFAULT_QUESTIONNAIRES = Path(os.environ.get("POLICYGAP_QUESTIONNAIRES_DIR") or "questionnaires")


class Paper(StrEnum):
    letter = "letter"
    a4 = "a4"


class Status(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"


class ReportLang(StrEnum):
    en = "en"
    fr = "fr"


def report(
    questionnaire_file: Annotated[Path, typer.Argument(metavar="QUESTIONNAIRE")],
    answers_file: Annotated[Path, typer.Argument(metavar="ANSWERS")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF to write")],
    lang: Annotated[ReportLang, typer.Option(help="Language of the report")] = ReportLang.en,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as HTML")
    ] = None,
    paper: Annotated[Paper, typer.Option(help="Paper size")] = Paper.letter,
    marking: Annotated[
        str | None, typer.Option(help='Security marking in the header, e.g. "Protected A"')
    ] = None,
    status: Annotated[Status, typer.Option(help="Status printed on the cover")] = Status.draft,
) -> None:
    """Write the gap report of an answers file as a tagged PDF (and optionally HTML)."""
    from service.cli_support import fail, load_answers_or_exit, load_questionnaire_or_exit
    from service.report import render

    questionnaire = load_questionnaire_or_exit(questionnaire_file)
    if lang.value not in questionnaire.languages:
        typer.echo(
            f"note: {questionnaire.id} is not written in {lang.value}; its text falls back "
            "to another language",
            err=True,
        )
    data = load_answers_or_exit(answers_file, questionnaire)
    as_of = data.as_of or date.today()  # noqa: DTZ011 - a local calendar date is meant
    report_input = render.build_report_input(questionnaire, data, status=status.value, as_of=as_of)
    try:
        pdf = render.render_pdf(report_input, lang=lang.value, paper=paper.value, marking=marking)
        page = render.render_html(report_input, lang=lang.value) if html else None
    except ValueError as error:
        fail(f"cannot render the report: {error}")
    try:
        output.write_bytes(pdf)
        if html is not None and page is not None:
            html.write_text(page, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write the report: {error.strerror}")
    result = report_input.result
    typer.echo(
        f"{output}: {RATING['en'][result.rating.value].upper()}, "
        f"{'-' if result.score is None else f'{result.score:.1f} %'}, "
        f"{len(result.gaps)} gap(s); submission SHA-256 {report_input.sha256}"
    )


def verify(
    report_file: Annotated[Path, typer.Argument(metavar="REPORT.pdf")],
    questionnaire_file: Annotated[
        Path | None,
        typer.Option("--questionnaire", help="The questionnaire file (default: by id and version)"),
    ] = None,
    questionnaires_dir: Annotated[
        Path, typer.Option("--questionnaires-dir", help="Where to look for questionnaires")
    ] = DEFAULT_QUESTIONNAIRES,
    documents: Annotated[
        Path | None,
        typer.Option(
            "--documents",
            help="A folder (files named by SHA-256 or by name) or an exported assessment "
            "archive holding the documents the submission froze; each must match its hash",
        ),
    ] = None,
) -> None:
    """Check a report against its attached submission; exit 0 if all matches, 1 otherwise."""
    from service.cli_support import fail, load_questionnaire_or_exit
    from service.report.verify import NotAReport, questionnaire_finder, verify_pdf

    try:
        data = report_file.read_bytes()
    except OSError as error:
        fail(f"{report_file}: cannot read the file: {error.strerror}")
    override = load_questionnaire_or_exit(questionnaire_file) if questionnaire_file else None
    try:
        outcome = verify_pdf(data, questionnaire_finder(questionnaires_dir, override))
    except NotAReport as error:
        fail(f"{report_file}: {error}")
    if outcome.record is not None and outcome.record.documents:
        from service.documents.verify import check_documents, count

        if documents is not None:
            found = check_documents(outcome.record, documents)
            outcome.checks.extend(found.checks)
            outcome.differences.extend(found.differences)
        else:
            typer.echo(
                f"note: the submission froze {count(outcome.record)} document(s); "
                "give --documents to check them",
                err=True,
            )
    for check in outcome.checks:
        typer.echo(f"ok: {check}")
    if outcome.ok:
        typer.echo(f"{report_file}: verified")
        raise typer.Exit(0)
    for difference in outcome.differences:
        typer.echo(f"DIFFERENT: {difference}", err=True)
    typer.echo(f"{report_file}: {len(outcome.differences)} difference(s)", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("verify")(verify)
