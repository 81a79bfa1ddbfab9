"""`policygap impact`: what a new version of a questionnaire does to answers given under an
older one (`questionnaire.impact`), in words (`report.impact`) and as CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from service.cli_support import fail, load_answers_or_exit, load_questionnaire_or_exit
from service.questionnaire.impact import impact as impact_of
from service.report.impact import impact_csv, render_text


def impact(
    old_file: Annotated[Path, typer.Argument(metavar="OLD.yaml", help="The version answered")],
    new_file: Annotated[Path, typer.Argument(metavar="NEW.yaml", help="The new version")],
    answers_files: Annotated[
        list[Path], typer.Argument(metavar="ANSWERS...", help="Answers files of the old version")
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATE", help="Score both versions at YYYY-MM-DD (today)"),
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Also write the report as CSV")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the output: en or fr")] = "en",
) -> None:
    """The change report: each answers file's rating and score under the old and the new version
    (with the answers carried over), the criteria whose verdict changes and why, the questions
    to answer now; then a summary across the files."""
    if lang not in ("en", "fr"):
        fail("--lang: use en or fr")
    try:
        when = date.fromisoformat(as_of) if as_of else date.today()  # noqa: DTZ011 - a calendar date
    except ValueError:
        fail(f"--as-of: {as_of!r} is not a date; write YYYY-MM-DD")
    old = load_questionnaire_or_exit(old_file)
    new = load_questionnaire_or_exit(new_file)
    if old.id != new.id:
        fail(f"{new_file}: questionnaire {new.id!r} is not a version of {old.id!r}")
    sets = []
    details: dict[str, tuple[str, str]] = {}
    for path in answers_files:
        data = load_answers_or_exit(path, old)
        sets.append((path.name, data.to_answers()))
        details[path.name] = (data.agency, data.program)
    report = impact_of(old, new, sets, as_of=when)
    typer.echo(render_text(report, old, new, lang, details))
    if csv_file is not None:
        try:
            csv_file.write_text(impact_csv(report, new, lang, details), encoding="utf-8")
        except OSError as error:
            fail(f"{csv_file}: cannot write the file: {error.strerror}")


def register(app: typer.Typer) -> None:
    app.command()(impact)
