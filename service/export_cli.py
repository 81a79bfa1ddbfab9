"""`policygap export`: open data (docs/open-data.md) of an answers file or of a submission in the
configured database, or a questionnaire's criteria as an OSCAL catalog (registered by
service/cli.py)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.cli_support import fail, load_answers_or_exit, load_questionnaire_or_exit
from service.questionnaire.schema import Questionnaire
from service.report import oscal
from service.report.inputs import build_report_input
from service.report_cli import ReportLang, Status

NO_GAPS = "the submission has no gaps, so no action plan: a plan of action needs one action"


class ExportFormat(StrEnum):
    oscal = "oscal"  # assessment results (with the plan stub embedded)
    oscal_plan = "oscal-plan"  # the assessment-plan stub on its own
    oscal_poam = "oscal-poam"  # plan of action and milestones: the gaps and the action plan
    oscal_catalog = "oscal-catalog"  # the questionnaire's criteria
    json = "json"  # the findings (policygap-findings/1)
    csv = "csv"  # the findings as CSV


def export(
    questionnaire_file: Annotated[
        Path | None, typer.Argument(metavar="[QUESTIONNAIRE]", show_default=False)
    ] = None,
    answers_file: Annotated[
        Path | None, typer.Argument(metavar="[ANSWERS]", show_default=False)
    ] = None,
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="oscal (assessment results), oscal-plan, oscal-poam (plan of action and "
            "milestones), oscal-catalog (the criteria), json or csv (the findings)",
        ),
    ] = ExportFormat.oscal,
    assessment: Annotated[
        str | None,
        typer.Option(
            "--assessment",
            help="An assessment's id: export its submission from the configured database "
            "(POLICYGAP_DATABASE_URL) instead of an answers file",
        ),
    ] = None,
    number: Annotated[
        int | None,
        typer.Option("--number", min=1, help="The submission's number (default: the latest)"),
    ] = None,
    portfolio: Annotated[
        str | None,
        typer.Option(
            "--portfolio",
            metavar="ID@VERSION",
            help="Export the portfolio of a questionnaire version from the configured database "
            "(json or csv): every agency, or --regulator's",
        ),
    ] = None,
    regulator: Annotated[
        str | None,
        typer.Option(
            "--regulator", metavar="SLUG", help="With --portfolio: this regulator's agencies"
        ),
    ] = None,
    lang: Annotated[ReportLang, typer.Option(help="Language of the text")] = ReportLang.en,
    status: Annotated[
        Status, typer.Option(help="Status an answers file is exported with")
    ] = Status.draft,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="The file to write (default: standard output)"),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="Also write the CSV's companion file: each column's label in English and French",
        ),
    ] = None,
) -> None:
    """Export open data: a submission (--assessment ID, beside the database) or an answers file
    (QUESTIONNAIRE ANSWERS) as OSCAL assessment results, or its findings as JSON or CSV, or its
    gaps and action plan as an OSCAL plan of action and milestones (oscal-poam: the plan as it
    stands in the database; an answers file has none, so each gap is an action to do); a
    questionnaire's criteria (QUESTIONNAIRE --format oscal-catalog) as an OSCAL catalog; the
    portfolio of a questionnaire version (--portfolio ID@VERSION, beside the database).

    The same input gives the same bytes (docs/open-data.md)."""
    from service.report import opendata

    if assessment is not None and (answers_file is not None or questionnaire_file is not None):
        fail("give --assessment ID, or QUESTIONNAIRE [ANSWERS], not both")
    if portfolio is not None and (
        assessment is not None or answers_file is not None or questionnaire_file is not None
    ):
        fail("--portfolio takes no QUESTIONNAIRE, ANSWERS or --assessment")
    if regulator is not None and portfolio is None:
        fail("--regulator goes with --portfolio")
    if labels is not None and format is not ExportFormat.csv:
        fail("--labels goes with --format csv")
    label_bytes: bytes | None = None
    if portfolio is not None:
        if format not in (ExportFormat.csv, ExportFormat.json):
            fail("--portfolio exports json or csv")
        data, label_bytes = _portfolio(portfolio, regulator, format, lang.value)
    elif assessment is not None:
        data = _from_database(assessment, number, format, lang.value)
    elif questionnaire_file is None:
        fail(
            "give QUESTIONNAIRE ANSWERS, QUESTIONNAIRE --format oscal-catalog, --assessment ID "
            "or --portfolio ID@VERSION"
        )
    else:
        questionnaire = load_questionnaire_or_exit(questionnaire_file)
        if format is ExportFormat.oscal_catalog:
            if answers_file is not None:
                fail("--format oscal-catalog takes the questionnaire only")
            data = oscal.dumps(oscal.catalog(questionnaire, lang.value))
        elif answers_file is None:
            fail(f"--format {format.value} needs an answers file (QUESTIONNAIRE ANSWERS)")
        else:
            data = _from_answers(questionnaire, answers_file, format, lang.value, status.value)
    try:
        if output is None:
            typer.echo(data, nl=False)
        else:
            output.write_bytes(data)
        if labels is not None:
            labels.write_bytes(label_bytes or opendata.labels_csv(opendata.FINDINGS_COLUMNS))
    except OSError as error:
        fail(f"{error.filename}: cannot write the file: {error.strerror}")
    if output is not None:
        typer.echo(f"{output}: {format.value}, {len(data)} bytes", err=True)


def _from_answers(
    questionnaire: Questionnaire, path: Path, format: ExportFormat, lang: str, status: str
) -> bytes:
    """An answers file as a version-1 record (no random salts: the same file gives the same
    bytes), scored as of its date (today when it states none)."""
    from service.report import opendata

    answers = load_answers_or_exit(path, questionnaire)
    as_of = answers.as_of or date.today()  # noqa: DTZ011 - a local calendar date is meant
    report = build_report_input(questionnaire, answers, as_of=as_of, status=status)
    if format is ExportFormat.oscal:
        return oscal.dumps(oscal.assessment_results(report, lang))
    if format is ExportFormat.oscal_plan:
        return oscal.dumps(oscal.assessment_plan(report, lang))
    if format is ExportFormat.oscal_poam:
        try:
            return oscal.dumps(oscal.plan_of_action(report, lang))
        except oscal.NothingToPlan:
            fail(f"{path}: {NO_GAPS}")
    if format is ExportFormat.json:
        return opendata.findings_json(report, lang)
    return opendata.findings_csv(report, lang)


def _from_database(
    assessment_id: str, number: int | None, format: ExportFormat, lang: str
) -> bytes:
    """A submission of the configured database, in its own review state, as the web app's
    download gives it (the system's view: every agency)."""
    from service import db
    from service.assessments import service as assessment_service
    from service.assessments.models import Assessment
    from service.config import get_settings
    from service.models import Organisation
    from service.questionnaire.loader import load_directory
    from service.report_delivery import service as delivery

    try:
        key = uuid.UUID(assessment_id)
    except ValueError:
        fail(f"{assessment_id}: not an assessment id (a UUID)")
    settings = get_settings()
    engine = db.make_engine(settings.database_url)
    try:
        with db.new_session(engine) as session:
            found = session.get(Assessment, key)
            if found is None:
                fail(f"{assessment_id}: no such assessment in the configured database")
            agency = session.get(Organisation, found.organisation_id)
            submission = assessment_service.get_submission(
                session=session, assessment_id=key, viewer=None, number=number
            )
            if submission is None or agency is None:
                which = f"submission {number}" if number else "a submission"
                fail(f"{assessment_id}: the assessment has no {which}")
            registry = load_directory(settings.questionnaires_dir)
            questionnaire = registry.get(found.questionnaire_id, found.questionnaire_version)
            if questionnaire is None:
                fail(
                    f"questionnaire {found.questionnaire_id} {found.questionnaire_version} is not "
                    f"in {settings.questionnaires_dir}"
                )
            if format is ExportFormat.oscal_catalog:
                return oscal.dumps(oscal.catalog(questionnaire, lang))
            if format is ExportFormat.oscal_poam and not submission.result.get("gaps"):
                fail(f"{assessment_id}: {NO_GAPS}")
            data, _ = delivery.export(
                session,
                questionnaire=questionnaire,
                assessment=found,
                agency=agency,
                submission=submission,
                format=format.value,
                lang=lang,
            )
            return data
    except typer.Exit:
        raise
    except Exception as error:  # an unreachable or unmigrated database: a message, no traceback
        fail(f"cannot read the configured database: {type(error).__name__}: {error}")
    finally:
        engine.dispose()


def _portfolio(
    wanted: str, regulator: str | None, format: ExportFormat, lang: str
) -> tuple[bytes, bytes]:
    """The portfolio (policygap-portfolio/1) of the configured database, and its labels file."""
    from sqlmodel import select

    from service import db
    from service.config import get_settings
    from service.models import Organisation, OrgKind
    from service.questionnaire.loader import load_directory
    from service.review import opendata as portfolio_data
    from service.review import service as review_service

    qid, _, version = wanted.partition("@")
    settings = get_settings()
    questionnaire = load_directory(settings.questionnaires_dir).get(qid, version)
    if questionnaire is None:
        fail(
            f"{wanted}: no such questionnaire version in {settings.questionnaires_dir} (ID@VERSION)"
        )
    engine = db.make_engine(settings.database_url)
    try:
        with db.new_session(engine) as session:
            agencies = None
            if regulator is not None:
                found = session.exec(
                    select(Organisation).where(
                        Organisation.slug == regulator, Organisation.kind == OrgKind.regulator
                    )
                ).first()
                if found is None:
                    fail(f"{regulator}: no regulator with this slug")
                agencies = review_service.agencies_overseen_by(session, found)
            data = review_service.portfolio_of(
                session=session, agencies=agencies, questionnaire=questionnaire
            )
    except typer.Exit:
        raise
    except Exception as error:  # an unreachable or unmigrated database: a message, no traceback
        fail(f"cannot read the configured database: {type(error).__name__}: {error}")
    finally:
        engine.dispose()
    body = (
        portfolio_data.portfolio_csv(data, lang)
        if format is ExportFormat.csv
        else portfolio_data.portfolio_json(data, lang)
    )
    return body, portfolio_data.labels_csv(questionnaire)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
