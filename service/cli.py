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
from service.questionnaire import loader, scoring
from service.questionnaire.answers import AnswersFile
from service.questionnaire.schema import Questionnaire, json_schema, localize

app = typer.Typer(
    name="policygap",
    help="Assess police use of facial recognition and biometrics against privacy guidance.",
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
) -> None:
    """Check questionnaire files; exit 0 when all are valid, 1 otherwise."""
    results = [loader.load_file(f) for f in files]
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
            if r.questionnaire is not None and not r.errors:
                q = r.questionnaire
                note = f", {len(r.warnings)} warning(s)" if r.warnings else ""
                typer.echo(
                    f"{r.file}: ok: {q.id} {q.version}, {len(q.sections)} sections, "
                    f"{len(q.questions())} questions, {len(q.criteria)} criteria{note}"
                )
            else:
                typer.echo(f"{r.file}: {len(r.errors)} error(s)", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the questionnaire format."""
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


VERDICT_WORDS = {
    "en": {
        "met": "met",
        "partial": "partial",
        "not_met": "not met",
        "dont_know": "don't know",
        "unanswered": "unanswered",
        "not_applicable": "not applicable",
    },
    "fr": {
        "met": "respecté",
        "partial": "partiel",
        "not_met": "non respecté",
        "dont_know": "inconnu",
        "unanswered": "sans réponse",
        "not_applicable": "sans objet",
    },
}
RATING_WORDS = {
    "en": {"red": "RED", "amber": "AMBER", "green": "GREEN"},
    "fr": {"red": "ROUGE", "amber": "JAUNE", "green": "VERT"},
}


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
    words = VERDICT_WORDS[lang]
    fr = lang == "fr"
    titles = {s.id: localize(s.title, lang) for s in questionnaire.sections}
    criteria = {c.id: c for c in questionnaire.criteria}
    lines = [
        f"{localize(questionnaire.title, lang)} ({questionnaire.id} {questionnaire.version})",
        f"{'Organisme' if fr else 'Agency'}: {data.agency}",
        f"{'Programme' if fr else 'Program'}: {data.program}",
        f"{'En date du' if fr else 'As of'}: {result.as_of.isoformat()}",
        "",
        f"{'Cote' if fr else 'Rating'}: {RATING_WORDS[lang][result.rating.value]}"
        + (f" ({'avis consultatif' if fr else 'advisory'})" if result.advisory else ""),
        f"{'Note globale' if fr else 'Overall score'}: "
        + ("-" if result.score is None else f"{result.score:.1f} %"),
    ]
    if not result.complete:
        lines.append("Évaluation incomplète" if fr else "Assessment incomplete")
    for gate in result.gates_fired:
        lines.append(f"  - {localize(gate.label, lang)}: {', '.join(gate.criteria) or '-'}")
    lines.append("")
    lines.append("Faits dérivés :" if fr else "Derived facts:")
    fact_defs = {f.id: f for f in questionnaire.facts}
    for fid, value in result.facts.items():
        fact = fact_defs[fid]
        label = (
            localize(fact.values.get(str(value)), lang) if str(value) in fact.values else str(value)
        )
        lines.append(f"  {localize(fact.label, lang)}: {label}")
    lines.append("")
    lines.append("Sections :" if fr else "Sections:")
    for section in result.sections:
        shown = "n/a" if section.score is None else f"{section.score:.1f} %"
        lines.append(f"  {titles.get(section.id, section.id)}: {shown}")
    lines.append("")
    lines.append("Critères :" if fr else "Criteria:")
    for c in result.criteria:
        mark = " *" if c.escalated else ""
        lines.append(
            f"  {c.id}  {words[c.verdict.value]:<15} {c.severity.value}{mark}  "
            f"{localize(criteria[c.id].title, lang)}"
        )
    if result.gaps:
        lines.append("")
        lines.append("Écarts :" if fr else "Gaps:")
        lines.append("  " + ", ".join(result.gaps))
    return "\n".join(lines)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


# The report (`report`, `verify`) and the web app (`serve`, `migrate`, `createuser`, `demo`,
# `backup`, `restore`) add their commands.
from service import (  # noqa: E402
    admin_cli,
    ops_cli,
    report_cli,
)
from service.assessments import service as assessment_service  # noqa: E402
from service.documents import store as document_store  # noqa: E402

assessment_service.use_documents(document_store)

report_cli.register(app)
admin_cli.register(app)
ops_cli.register(app)


if __name__ == "__main__":
    main()
