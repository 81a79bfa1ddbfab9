"""Helpers every command of ``policygap`` shares: exit with a message, load a questionnaire or
an answers file and print its problems as ``FILE:LINE:COL`` lines."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from service.questionnaire import loader
from service.questionnaire.answers import AnswersFile, check_answers_file
from service.questionnaire.schema import Questionnaire


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_questionnaire_or_exit(path: Path) -> Questionnaire:
    result = loader.load_file(path)
    for problem in result.problems:
        typer.echo(problem.format(), err=True)
    if result.questionnaire is None:
        fail(f"{path}: the questionnaire has {len(result.errors)} error(s)", 1)
    return result.questionnaire


def load_answers_or_exit(path: Path, questionnaire: Questionnaire) -> AnswersFile:
    try:
        raw = path.read_bytes()
    except OSError as error:
        fail(f"{path}: cannot read the file: {error.strerror}")
    data, problems = loader.load_answers(raw, str(path))
    for problem in problems:
        typer.echo(problem.format(), err=True)
    if data is None:
        fail(f"{path}: not a valid answers file (see questionnaires/README.md)")
    messages = check_answers_file(questionnaire, data)
    if messages:
        for problem in loader.locate_answer_problems(str(path), raw, messages):
            typer.echo(problem.format(), err=True)
        fail(f"{path}: {len(messages)} problem(s) with the answers")
    return data
