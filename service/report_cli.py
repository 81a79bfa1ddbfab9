"""`policygap report` and `policygap verify` (registered by service/cli.py)."""

from __future__ import annotations

import os
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.i18n import rating_label
from service.report.verify import Instance, ServerRecord

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
    sign_with: Annotated[
        Path | None,
        typer.Option("--sign-with", help="Sign the PDF with this private key (PEM; needs --cert)"),
    ] = None,
    cert: Annotated[
        Path | None, typer.Option("--cert", help="The certificate of the --sign-with key (PEM)")
    ] = None,
) -> None:
    """Write the gap report of an answers file as a tagged PDF (and optionally HTML).

    Without --sign-with the PDF is unsigned: `verify` calls it a draft, not an issued report."""
    import secrets
    from datetime import UTC, datetime

    from service.cli_support import fail, load_answers_or_exit, load_questionnaire_or_exit
    from service.questionnaire.submission import SALT_BYTES, seal
    from service.report import render
    from service.report.inputs import Issued
    from service.report.sign import SigningError, SigningIdentity, check_identity

    questionnaire = load_questionnaire_or_exit(questionnaire_file)
    if lang.value not in questionnaire.languages:
        typer.echo(
            f"note: {questionnaire.id} is not written in {lang.value}; its text falls back "
            "to another language",
            err=True,
        )
    data = load_answers_or_exit(answers_file, questionnaire)
    as_of = data.as_of or date.today()  # noqa: DTZ011 - a local calendar date is meant
    signer: SigningIdentity | None = None
    if (sign_with is None) != (cert is None):
        fail("give both --sign-with KEY and --cert CERT, or neither")
    if sign_with is not None and cert is not None:
        try:
            signer = SigningIdentity(key_pem=sign_with.read_bytes(), cert_pem=cert.read_bytes())
            check_identity(signer)
        except OSError as error:
            fail(f"cannot read the signing key or certificate: {error.strerror}")
        except SigningError as error:
            fail(str(error))
    record = render.build_report_input(questionnaire, data, as_of=as_of).record
    sealed = seal(record, salt=lambda _path: secrets.token_bytes(SALT_BYTES))
    issued = (
        Issued(instance=signer.name, at=datetime.now(UTC).replace(microsecond=0))
        if signer is not None
        else None
    )
    report_input = render.build_report_input(
        questionnaire, sealed, status=status.value, issued=issued
    )
    try:
        pdf = render.render_pdf(
            report_input, lang=lang.value, paper=paper.value, marking=marking, signer=signer
        )
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
        f"{output}: {rating_label(result.rating, 'en').upper()}, "
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
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="A certificate (PEM) whose signature counts; repeatable"),
    ] = None,
    allow_unsigned: Annotated[
        bool,
        typer.Option("--allow-unsigned", help="Accept an unsigned (draft) report"),
    ] = False,
    use_database: Annotated[
        bool,
        typer.Option(
            "--database/--no-database",
            help="Beside an instance's database: trust its certificate and compare the review "
            "state with its record (default: when the configured database answers)",
        ),
    ] = True,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            metavar="FULL.pdf",
            help="For a public edition: the full report it must come from (same signed "
            "submission, same hash); both are checked",
        ),
    ] = None,
) -> None:
    """Check a report or a public edition: its signature and signer, the printed hash, the
    questionnaire, the recomputed result and the review state, and for a public edition which
    fields were withheld and why; exit 0 if all hold, 1 otherwise."""
    from service.cli_support import fail, load_questionnaire_or_exit
    from service.report.verify import (
        NotAReport,
        Note,
        compare_editions,
        questionnaire_finder,
        verify_pdf,
    )

    try:
        data = report_file.read_bytes()
        trusted = [path.read_bytes() for path in trust or []]
    except OSError as error:
        fail(f"{error.filename}: cannot read the file: {error.strerror}")
    override = load_questionnaire_or_exit(questionnaire_file) if questionnaire_file else None
    beside = _instance_beside() if use_database else None
    if beside is not None:
        typer.echo(f"note: beside the instance whose database is {beside[0]}", err=True)
    try:
        outcome = verify_pdf(
            data,
            questionnaire_finder(questionnaires_dir, override),
            trusted=trusted,
            allow_unsigned=allow_unsigned,
            instance=beside[1] if beside is not None else None,
        )
    except NotAReport as error:
        fail(f"{report_file}: {error}")
    if outcome.record is not None and outcome.record.documents:
        from service.documents.verify import check_documents, count

        if documents is not None:
            found = check_documents(outcome.record, documents)
            outcome.checks.extend(Note(line) for line in found.checks)
            outcome.differences.extend(Note(line) for line in found.differences)
        else:
            typer.echo(
                f"note: the submission froze {count(outcome.record)} document(s); "
                "give --documents to check them",
                err=True,
            )
    if against is not None:
        try:
            full = verify_pdf(
                against.read_bytes(),
                questionnaire_finder(questionnaires_dir, override),
                trusted=trusted,
                allow_unsigned=allow_unsigned,
                instance=beside[1] if beside is not None else None,
            )
        except OSError as error:
            fail(f"{error.filename}: cannot read the file: {error.strerror}")
        except NotAReport as error:
            fail(f"{against}: {error}")
        problems = compare_editions(outcome, full)
        outcome.differences.extend(problems)
        if not problems:
            outcome.checks.append(
                Note(
                    f"same submission as {against.name}: both prove hash {full.sha256}; "
                    f"{len(outcome.withheld)} field(s) withheld of the full record's "
                    f"{len(full.sealed.fields) if full.sealed else 0}"
                )
            )
    typer.echo(f"read: canonical record version {outcome.version or '?'}")
    if outcome.public_edition:
        typer.echo("read: a public edition (fields withheld, each with its commitment)")
    for check in outcome.checks:
        typer.echo(f"ok: {check}")
    if outcome.ok:
        typer.echo(f"{report_file}: verified")
        raise typer.Exit(0)
    for difference in outcome.differences:
        typer.echo(f"DIFFERENT: {difference}", err=True)
    typer.echo(f"{report_file}: {len(outcome.differences)} difference(s)", err=True)
    raise typer.Exit(1)


def _instance_beside() -> tuple[str, Instance] | None:
    """The instance whose database is configured, if it answers and is migrated (where it is,
    its certificate and its records); else None: verify as on any other machine."""
    from sqlalchemy.engine import make_url

    from service import db
    from service.config import get_settings
    from service.report_delivery import service as delivery

    try:
        settings = get_settings()
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
            return None
        engine = db.make_engine(settings.database_url)
        from alembic.migration import MigrationContext

        with engine.connect() as conn:
            if not MigrationContext.configure(conn).get_current_heads():
                return None
        with db.new_session(engine) as session:
            certificate = delivery.instance_certificate(session, settings)
    except Exception:
        return None

    def lookup(sha256: str) -> ServerRecord | None:
        with db.new_session(engine) as session:
            return delivery.server_record(session, sha256)

    return url.render_as_string(hide_password=True), Instance(certificate, lookup)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("verify")(verify)
