"""The `policygap` command line.

Exit codes: 0 success; 1 invalid questionnaire (validate) or differences found (verify);
2 bad input such as an answers file that does not fit its questionnaire. No command prints a
traceback for bad input: problems are printed as `FILE:LINE:COL: PATH: message` on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.cli_support import load_answers_or_exit, load_questionnaire_or_exit
from service.i18n import Translator, format_percent, rating_label, severity_label, verdict_label
from service.questionnaire import loader, scoring
from service.questionnaire.answers import AnswersFile
from service.questionnaire.schema import Questionnaire, json_schema, localize

app = typer.Typer(
    name="policygap",
    help="Questionnaires in YAML, scored against their criteria, with gap reports (PDF, HTML) "
    "that can be verified.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Lang(StrEnum):
    en = "en"
    fr = "fr"


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Questionnaire YAML files")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text or json")
    ] = OutputFormat.text,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too")] = False,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            metavar="FILE",
            help="The previous version's file: check the answers_from mapping against it",
        ),
    ] = None,
) -> None:
    """Check questionnaire files; exit 0 when all are valid, 1 otherwise."""
    earlier = load_questionnaire_or_exit(previous) if previous is not None else None
    results = [loader.load_file(f, previous=earlier) for f in files]
    failed = any(r.errors or (strict and r.warnings) for r in results)
    if output is OutputFormat.json:
        payload = [
            {
                "file": r.file,
                "valid": not r.errors and not (strict and r.warnings),
                "id": r.questionnaire.id if r.questionnaire else None,
                "version": r.questionnaire.version if r.questionnaire else None,
                "sha256": r.sha256,
                "problems": [p.as_dict() for p in r.problems],
            }
            for r in results
        ]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for r in results:
            for problem in r.problems:
                typer.echo(problem.format(), err=True)
            if r.questionnaire is not None and not r.errors and strict and r.warnings:
                typer.echo(
                    f"{r.file}: invalid under --strict: {_count(len(r.warnings), 'warning')}",
                    err=True,
                )
            elif r.questionnaire is not None and not r.errors:
                q = r.questionnaire
                note = f", {_count(len(r.warnings), 'warning')}" if r.warnings else ""
                typer.echo(
                    f"{r.file}: ok: {q.id} {q.version}, {len(q.sections)} sections, "
                    f"{len(q.questions())} questions, {len(q.criteria)} criteria{note}"
                )
            else:
                typer.echo(f"{r.file}: invalid: {_count(len(r.errors), 'error')}", err=True)
    raise typer.Exit(1 if failed else 0)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@app.command()
def schema() -> None:
    """Print the JSON Schema of the questionnaire format."""
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command()
def score(
    questionnaire_file: Annotated[Path, typer.Argument(metavar="QUESTIONNAIRE")],
    answers_file: Annotated[Path, typer.Argument(metavar="ANSWERS")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text or json")
    ] = OutputFormat.text,
    lang: Annotated[Lang, typer.Option(help="Language of the text output")] = Lang.en,
) -> None:
    """Score an answers file against a questionnaire and print the result."""
    questionnaire = load_questionnaire_or_exit(questionnaire_file)
    data = load_answers_or_exit(answers_file, questionnaire)
    as_of = data.as_of or date.today()  # noqa: DTZ011 - a local calendar date is meant
    result = scoring.score(questionnaire, data.to_answers(), as_of=as_of)
    if output is OutputFormat.json:
        payload = result.model_dump(mode="json")
        payload["agency"] = data.agency
        payload["program"] = data.program
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    typer.echo(render_text(questionnaire, data, result, lang.value))


def render_text(
    questionnaire: Questionnaire, data: AnswersFile, result: scoring.Result, lang: str
) -> str:
    """The result as plain text; every word from the catalogue (``service/i18n``), the labels
    of verdicts, ratings and severities the same as in the report and on the pages. The lines
    are "Label: value" in both languages, for terminals and scripts that read them."""
    _ = Translator(lang)
    titles = {s.id: localize(s.title, lang) for s in questionnaire.sections}
    criteria = {c.id: c for c in questionnaire.criteria}
    score = "-" if result.score is None else format_percent(result.score, lang)
    lines = [
        f"{localize(questionnaire.title, lang)} ({questionnaire.id} {questionnaire.version})",
        f"{_('Agency')}: {data.agency}",
        f"{_('Program')}: {data.program}",
        f"{_('As of')}: {result.as_of.isoformat()}",
        "",
        f"{_('Rating')}: {rating_label(result.rating, lang).upper()}"
        + (f" ({_('advisory')})" if result.advisory else ""),
        f"{_('Overall score')}: {score}",
    ]
    if not result.complete:
        lines.append(_("Assessment incomplete"))
    for gate in result.gates_fired:
        named = ", ".join(gate.criteria)
        lines.append(f"  - {localize(gate.label, lang)}" + (f": {named}" if named else ""))
    if result.unanswered_questions:
        questions = questionnaire.question_index()
        lines.append(f"{_('Unanswered questions')}:")
        for qid in result.unanswered_questions:
            lines.append(f"    {qid}: {localize(questions[qid].text, lang)}")
    lines.append("")
    lines.append(f"{_('Derived facts')}:")
    fact_defs = {f.id: f for f in questionnaire.facts}
    for fid, value in result.facts.items():
        fact = fact_defs[fid]
        label = (
            localize(fact.values.get(str(value)), lang) if str(value) in fact.values else str(value)
        )
        lines.append(f"  {localize(fact.label, lang)}: {label}")
    lines.append("")
    lines.append(f"{_('Sections')}:")
    for section in result.sections:
        shown = _("n/a") if section.score is None else format_percent(section.score, lang)
        lines.append(f"  {titles.get(section.id, section.id)}: {shown}")
    for sid in result.context_sections:
        lines.append(f"  {titles.get(sid, sid)}: {_('context only')}")
    lines.append("")
    lines.append(f"{_('Criteria')}:")
    for c in result.criteria:
        mark = " *" if c.escalated else ""
        lines.append(
            f"  {c.id}  {verdict_label(c.verdict, lang):<15} {severity_label(c.severity, lang)}"
            f"{mark}  {localize(criteria[c.id].title, lang)}"
        )
    if result.gaps:
        lines.append("")
        lines.append(f"{_('Gaps')}:")
        lines.append("  " + ", ".join(result.gaps))
    return "\n".join(lines)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


# The report (`report`, `verify`), open data (`export`) and the web app (`serve`, `migrate`, `createuser`, `demo`,
# `backup`, `restore`) add their commands.
from service import (  # noqa: E402
    admin_cli,
    export_cli,
    impact_cli,
    ops_cli,
    report_cli,
)
from service.assessments import service as assessment_service  # noqa: E402
from service.documents import store as document_store  # noqa: E402

assessment_service.use_documents(document_store)

report_cli.register(app)
export_cli.register(app)
impact_cli.register(app)
admin_cli.register(app)
ops_cli.register(app)


if __name__ == "__main__":
    main()
