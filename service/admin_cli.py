"""Web-app commands for the ``policygap`` command line: serve, migrate, createuser, demo.

``service/cli.py`` calls ``register(app)``.
"""

from __future__ import annotations

import getpass
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from sqlmodel import Session, select

from service import db
from service.assessments import digest as review_digest
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.assessments.service import Viewer
from service.auth import scope
from service.auth import service as auth_service
from service.config import PLACEHOLDER_WARNING, get_settings
from service.models import AssessmentStatus, AuditEvent, Organisation, Role, SectionStatus, User
from service.publication import service as publication
from service.questionnaire import publication as redaction
from service.questionnaire.answers import AnswersFile, check_answers_file
from service.questionnaire.loader import Registry, load_directory
from service.questionnaire.schema import Questionnaire


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    kind: str
    name_en: str
    name_fr: str
    body_type: str | None = None
    province: str | None = None
    board_of: str | None = None


DEMO_ORGS = (
    DemoOrg(
        "opc",
        "regulator",
        "Office of the Privacy Commissioner of Canada",
        "Commissariat à la protection de la vie privée du Canada",
    ),
    DemoOrg(
        "ipc-on",
        "regulator",
        "Information and Privacy Commissioner of Ontario",
        "Commissaire à l'information et à la protection de la vie privée de l'Ontario",
        province="ON",
    ),
    DemoOrg(
        "cai-qc",
        "regulator",
        "Commission d'accès à l'information du Québec",
        "Commission d'accès à l'information du Québec",
        province="QC",
    ),
    DemoOrg(
        "lakeshore",
        "agency",
        "Lakeshore Regional Police Service",
        "Service de police régional de Lakeshore",
        "municipal",
        "ON",
    ),
    DemoOrg(
        "northvale",
        "agency",
        "Northvale Police Service",
        "Service de police de Northvale",
        "municipal",
        "ON",
    ),
    DemoOrg("federal-force", "agency", "Federal force", "Force fédérale", "federal"),
    DemoOrg(
        "ville-est",
        "agency",
        "Service de police de Ville-Est",
        "Service de police de Ville-Est",
        "municipal",
        "QC",
    ),
    DemoOrg(
        "border-body",
        "agency",
        "Border enforcement body",
        "Organisme d'application à la frontière",
        "federal",
    ),
    DemoOrg(
        "lakeshore-board",
        "board",
        "Lakeshore Police Services Board",
        "Commission de services policiers de Lakeshore",
        province="ON",
        board_of="lakeshore",
    ),
)

# email, password, name, role, organisation slug
DEMO_USERS = (
    ("officer@demo.policygap.ca", "demo-officer-pass", "Olivia Officer", Role.officer, "lakeshore"),
    (
        "contributor@demo.policygap.ca",
        "demo-contributor-pass",
        "Casey Contributor",
        Role.contributor,
        "lakeshore",
    ),
    (
        "officer.northvale@demo.policygap.ca",
        "demo-officer-pass",
        "Noah Officer",
        Role.officer,
        "northvale",
    ),
    (
        "officer.federal@demo.policygap.ca",
        "demo-officer-pass",
        "Farah Officer",
        Role.officer,
        "federal-force",
    ),
    (
        "officer.villeest@demo.policygap.ca",
        "demo-officer-pass",
        "Vincent Agent",
        Role.officer,
        "ville-est",
    ),
    (
        "officer.border@demo.policygap.ca",
        "demo-officer-pass",
        "Bea Officer",
        Role.officer,
        "border-body",
    ),
    ("reviewer@demo.policygap.ca", "demo-reviewer-pass", "Riley Reviewer", Role.reviewer, "ipc-on"),
    (
        "reviewer.federal@demo.policygap.ca",
        "demo-reviewer-pass",
        "Fred Reviewer",
        Role.reviewer,
        "opc",
    ),
    ("board@demo.policygap.ca", "demo-board-pass", "Blake Board", Role.board, "lakeshore-board"),
    ("admin@demo.policygap.ca", "demo-admin-pass", "Ada Admin", Role.admin, None),
)

DEMO_OFFICER_PASSWORD = "demo-officer-pass"  # noqa: S105 - documented demo password

# How long uvicorn waits for a worker to answer its start-up check (its default, 5 s, is less
# than a worker's imports take on a loaded 2-core host).
WORKER_START_TIMEOUT = 60

# What the demo does with each sample agency's answers file.
DEMO_STATUS = {"lakeshore": "submitted", "federal-force": "submitted", "northvale": "accepted"}


def ensure_demo(*, session: Session, registry: Registry, examples_dir: Path) -> list[str]:
    """Create (once) the demo organisations, accounts and sample assessments; report what was done."""
    done: list[str] = []
    orgs: dict[str, Organisation] = {}
    for spec in DEMO_ORGS:
        agency_id = orgs[spec.board_of].id if spec.board_of else None
        orgs[spec.slug] = auth_service.get_or_create_organisation(
            session=session,
            slug=spec.slug,
            kind=spec.kind,
            name_en=spec.name_en,
            name_fr=spec.name_fr,
            body_type=spec.body_type,
            province=spec.province,
            agency_id=agency_id,
        )
    users: dict[str, User] = {}
    for email, password, name, role, slug in DEMO_USERS:
        user = auth_service.get_user_by_email(session=session, email=email)
        if user is None:
            user = auth_service.create_user(
                session=session,
                email=email,
                password=password,
                full_name=name,
                role=role,
                organisation_id=orgs[slug].id if slug else None,
            )
            done.append(f"account {email}")
        users[email] = user
    by_name = {o.name_en: o for o in orgs.values() if o.kind == "agency"}
    for path in sorted(examples_dir.glob("*.yaml")) + sorted(examples_dir.glob("*.json")):
        done.extend(
            _load_example(
                session=session,
                registry=registry,
                path=path,
                by_name=by_name,
                orgs=orgs,
                users=users,
            )
        )
    return done


def _load_example(
    *,
    session: Session,
    registry: Registry,
    path: Path,
    by_name: dict[str, Organisation],
    orgs: dict[str, Organisation],
    users: dict[str, User],
) -> list[str]:
    try:
        data = AnswersFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError, OSError) as error:
        return [f"skipped {path.name}: {error}"]
    questionnaire = registry.get(data.questionnaire, data.version)
    if questionnaire is None or check_answers_file(questionnaire, data):
        return [f"skipped {path.name}: it does not fit a loaded questionnaire"]
    agency = by_name.get(data.agency)
    if agency is None:
        slug = (
            "".join(c if c.isalnum() else "-" for c in data.agency.lower()).strip("-")[:60]
            or path.stem
        )
        agency = auth_service.get_or_create_organisation(
            session=session,
            slug=slug,
            kind="agency",
            name_en=data.agency,
            name_fr=data.agency,
            body_type="municipal",
            province="ON",
        )
    program = data.program or path.stem
    exists = session.exec(
        select(Assessment).where(
            Assessment.organisation_id == agency.id, Assessment.program == program
        )
    ).first()
    if exists is not None:
        return []
    officer = session.exec(
        select(User).where(User.organisation_id == agency.id, User.role == Role.officer)
    ).first()
    created: list[str] = []
    if officer is None:
        email = f"officer.{agency.slug}@demo.policygap.ca"
        created.append(f"account {email} (password {DEMO_OFFICER_PASSWORD}, officer)")
        officer = auth_service.create_user(
            session=session,
            email=email,
            password=DEMO_OFFICER_PASSWORD,
            full_name=f"Officer, {agency.name_en}",
            role=Role.officer,
            organisation_id=agency.id,
        )
    viewer = Viewer(user=officer, organisation=agency)
    assessment = assessment_service.start(
        session=session, viewer=viewer, questionnaire=questionnaire, program=program
    )
    answers = data.to_answers()
    assessment = assessment_service.save_answers(
        session=session,
        viewer=viewer,
        assessment_id=assessment.id,
        expected_version=None,
        questionnaire=questionnaire,
        values=dict(answers.values),
        evidence=dict(answers.evidence),
        as_of=data.as_of or assessment.created_at.date(),
        source="demo",
    ).assessment
    status = DEMO_STATUS.get(agency.slug, "draft")
    if status == "draft":
        return [*created, f"draft: {agency.name_en} - {program}"]
    with db.writing(session):
        fresh = session.get_one(Assessment, assessment.id)
        fresh.section_status = {s.id: SectionStatus.completed for s in questionnaire.sections}
    assessment_service.submit(
        session=session,
        viewer=viewer,
        assessment_id=assessment.id,
        expected_version=None,
        questionnaire=questionnaire,
    )
    if status == "accepted":
        reviewer = session.exec(select(User).where(User.role == Role.reviewer)).first()
        with db.writing(session):
            fresh = session.get_one(Assessment, assessment.id)
            fresh.status = AssessmentStatus.accepted
            review_digest.set_status(
                session, assessment_id=fresh.id, status=AssessmentStatus.accepted
            )
            session.add(
                AuditEvent(
                    actor_id=reviewer.id if reviewer else None,
                    assessment_id=fresh.id,
                    action="accept",
                    detail={"source": "demo", "submission": 1},
                )
            )
        if agency.slug in DEMO_PUBLIC_EDITION:
            created.extend(
                _release_demo_edition(
                    session=session,
                    questionnaire=questionnaire,
                    assessment_id=assessment.id,
                    officer=viewer,
                    withheld=DEMO_PUBLIC_EDITION[agency.slug],
                )
            )
    return [*created, f"{status}: {agency.name_en} - {program}"]


# The sample agencies whose accepted assessment the demo releases a public edition of: the
# fields it withholds (evidence notes on investigative techniques and security, under the
# regime's law-enforcement exemptions); everything else of free text is published.
DEMO_PUBLIC_EDITION: dict[str, dict[str, str]] = {
    "northvale": {
        "evidence/probe_rules": "mfippa-8-1-c",
        "evidence/minimisation": "mfippa-8-1-c",
        "evidence/gallery_inventory": "mfippa-8-1-c",
        "evidence/security_controls": "mfippa-8-1-i",
        "evidence/access_review": "mfippa-8-1-i",
    }
}


def _release_demo_edition(
    *,
    session: Session,
    questionnaire: Questionnaire,
    assessment_id: uuid.UUID,
    officer: Viewer,
    withheld: dict[str, str],
) -> list[str]:
    """Prepare (as the agency's officer) and release (as a reviewer of a regulator that oversees
    the agency) the public edition of an accepted demo assessment."""
    assessment = session.get_one(Assessment, assessment_id)
    agency = session.get_one(Organisation, assessment.organisation_id)
    submission = publication.accepted_submission(session, officer, assessment)
    if submission is None:
        return []
    items = redaction.items(questionnaire, publication.sealed_of(submission))
    decisions = {i.path: (i.path not in withheld, withheld.get(i.path, "")) for i in items}
    proposal = publication.Proposal(
        decisions, next_review=submission.as_of.replace(year=submission.as_of.year + 1)
    )
    edition = publication.save(
        session=session,
        viewer=officer,
        questionnaire=questionnaire,
        assessment_id=assessment.id,
        expected_version=0,
        proposal=proposal,
        propose=True,
    )
    reviewers = session.exec(select(User).where(User.role == Role.reviewer)).all()
    for reviewer in reviewers:
        regulator = (
            session.get(Organisation, reviewer.organisation_id)
            if reviewer.organisation_id
            else None
        )
        if regulator is not None and scope.regulator_oversees(regulator, agency):
            publication.release(
                session=session,
                viewer=Viewer(user=reviewer, organisation=regulator),
                questionnaire=questionnaire,
                assessment_id=assessment.id,
                expected_version=edition.version,
            )
            return [f"public edition released: /public/{edition.id}"]
    return [f"public edition proposed (no reviewer oversees {agency.name_en})"]


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``worker``, ``migrate``, ``createuser`` and ``demo`` to the command line."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
        workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
        no_migrate: Annotated[
            bool, typer.Option("--no-migrate", help="Do not upgrade the database first")
        ] = False,
        worker_start_timeout: Annotated[
            int,
            typer.Option(help="Seconds a worker may take to start before it is replaced"),
        ] = WORKER_START_TIMEOUT,
    ) -> None:
        """Upgrade the database to the latest migration, then serve the web app."""
        settings = get_settings()
        if settings.placeholder_secret and settings.env == "development":
            typer.echo(PLACEHOLDER_WARNING, err=True)
        if not no_migrate:
            db.upgrade_to_head(settings.database_url)
        typer.echo(f"PolicyGap: open http://{host}:{port} in your browser (Ctrl+C stops it)")
        # uvicorn runs in place of this process, as `python -m uvicorn`: multiprocessing's spawn
        # starts each worker by running the main module again, which for the `policygap` script
        # is this whole command line; uvicorn's own `__main__` is skipped, so a worker imports
        # the app only. Its start-up check (5 s by default) killed workers on a loaded host.
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:create_app",
            "--factory",
            f"--host={host}",
            f"--port={port}",
            f"--workers={workers}",
            f"--timeout-worker-healthcheck={worker_start_timeout}",
            # The app reads X-Forwarded-* itself, from POLICYGAP_TRUSTED_PROXIES only
            # (service.main); uvicorn's own reading would trust 127.0.0.1 by default.
            "--no-proxy-headers",
            "--log-level=info",
        ]
        if settings.serves_tls:
            argv += [
                f"--ssl-certfile={settings.tls_certfile}",
                f"--ssl-keyfile={settings.tls_keyfile}",
            ]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - this interpreter, fixed arguments

    @app.command()
    def worker() -> None:
        """Run a job worker (it renders the reports after a submit or a decision) until Ctrl+C
        or SIGTERM. On PostgreSQL run as many as you like, on any machine; on SQLite one runs
        at a time (each app instance also runs one unless POLICYGAP_EMBEDDED_WORKER=0)."""
        import signal
        import threading

        from service import jobs, logs
        from service.actions import service as _actions  # noqa: F401 - its reminders' source
        from service.notices import service as notice_service
        from service.report_delivery import service as web_reports

        settings = get_settings()
        logs.configure(settings.log_format, settings.log_level)
        notice_service.tell_mail_setting(settings)
        engine = db.make_engine(settings.database_url)
        resources = jobs.Resources()
        web_reports.start_renderer(resources, settings)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        typer.echo(f"PolicyGap job worker {os.getpid()}: running (Ctrl+C stops it)")
        try:
            jobs.make_worker(settings, engine, resources, name="worker").run(stop)
        finally:
            resources.close()
            engine.dispose()
        typer.echo("PolicyGap job worker: stopped")

    @app.command()
    def migrate() -> None:
        """Upgrade the database to the latest migration."""
        db.upgrade_to_head(get_settings().database_url)
        typer.echo("database is at the latest migration")

    @app.command()
    def createuser(
        email: Annotated[str, typer.Option(help="Sign-in email address")],
        role: Annotated[Role, typer.Option(help="officer, reviewer, board or admin")],
        name: Annotated[str, typer.Option(help="Full name")] = "",
        organisation: Annotated[
            str, typer.Option("--org", help="Organisation slug (not for admin)")
        ] = "",
        language: Annotated[str, typer.Option(help="en or fr")] = "en",
        password: Annotated[str, typer.Option(help="Password (asked for when left out)")] = "",
    ) -> None:
        """Create an account."""
        settings = get_settings()
        engine = db.make_engine(settings.database_url)
        with db.new_session(engine) as session:
            org = None
            if organisation:
                org = session.exec(
                    select(Organisation).where(Organisation.slug == organisation)
                ).first()
                if org is None:
                    typer.echo(f"error: no organisation {organisation!r}", err=True)
                    raise typer.Exit(2)
            elif role is not Role.admin:
                typer.echo("error: --org is required for this role", err=True)
                raise typer.Exit(2)
            if auth_service.get_user_by_email(session=session, email=email) is not None:
                typer.echo(f"error: {email} already has an account", err=True)
                raise typer.Exit(2)
            secret = password or getpass.getpass("Password: ")
            try:
                auth_service.create_user(
                    session=session,
                    email=email,
                    password=secret,
                    full_name=name or email,
                    role=role,
                    organisation_id=org.id if org else None,
                    language=language if language in ("en", "fr") else "en",
                )
            except ValueError as error:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(2) from error
        engine.dispose()
        typer.echo(f"created {role.value} {email}")

    @app.command()
    def demo() -> None:
        """Create the demo organisations, one account per role and the sample assessments (idempotent)."""
        settings = get_settings()
        db.upgrade_to_head(settings.database_url)
        registry = load_directory(settings.questionnaires_dir)
        engine = db.make_engine(settings.database_url)
        with db.new_session(engine) as session:
            done = ensure_demo(
                session=session,
                registry=registry,
                examples_dir=Path(settings.questionnaires_dir) / "examples",
            )
        engine.dispose()
        for line in done:
            typer.echo(f"  {line}")
        typer.echo("Demo accounts (email / password / role):")
        for email, password, _name, role, slug in DEMO_USERS:
            typer.echo(f"  {email:40} {password:20} {role.value:9} {slug or ''}")
        sys.stdout.flush()
