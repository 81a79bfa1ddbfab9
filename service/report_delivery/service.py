"""Gap reports for the web: HTML for the screen, PDF rendered in a separate process, signed and
cached.

A submission never changes, so each rendering of it is made once per `RenderJob.cache_key()` (the
submission hash, format, language, template version, the review state of THAT submission, paper,
marking, signer) and kept in ``report_cache``; every instance shares that cache. Rendering runs in a
one-process pool (in a thread of the web worker it starves requests), with a memory and CPU-time
limit. Every PDF the instance issues is signed with its key (`instance_identity`). Right after a
submit or a decision the PDFs are rendered in the background (``prerender_latest``, a listener of
``assessments.events``), so the first download is already cached.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import logging
import multiprocessing
import resource
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, delete, func, select

from service import db
from service.assessments import service as assessment_service
from service.assessments.models import Assessment, Submission
from service.config import Settings
from service.errors import AppError
from service.i18n.catalogue import N_
from service.models import AuditEvent, Organisation, User, utcnow
from service.questionnaire.loader import Registry, load_directory
from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import Result
from service.questionnaire.submission import SubmissionRecord
from service.report import formats
from service.report.formats import RenderJob
from service.report.sign import SigningError, SigningIdentity, check_identity, make_identity
from service.report.verify import (
    MAX_PDF_BYTES,
    Instance,
    Note,
    ServerRecord,
    Verification,
    note,
    verify_pdf,
)
from service.report_delivery.models import InstanceKey, ReportCache, VerifyUse
from service.review import service as review_service

log = logging.getLogger(__name__)
LANGUAGES = ("en", "fr")


class ReportUnavailable(AppError):
    status_code = 503
    code = "report_unavailable"
    message = N_("The report could not be produced. Try again in a few minutes")


# --- the instance's signing key --------------------------------------------------------------


def instance_identity(session: Session, settings: Settings) -> SigningIdentity:
    """The key and certificate this instance signs with: the deployment's files when set, else
    the row made at first use (a new P-256 key and a self-signed certificate naming the
    instance; when two processes race, the first row written wins and both use it)."""
    if settings.signing_key is not None or settings.signing_cert is not None:
        if settings.signing_key is None or settings.signing_cert is None:
            raise SigningError("set both POLICYGAP_SIGNING_KEY and POLICYGAP_SIGNING_CERT")
        identity = SigningIdentity(
            key_pem=settings.signing_key.read_bytes(), cert_pem=settings.signing_cert.read_bytes()
        )
        check_identity(identity)
        return identity
    row = session.get(InstanceKey, 1)
    if row is None:
        made = make_identity(settings.instance_name, now=datetime.now(UTC))
        try:
            with db.writing(session):
                session.add(
                    InstanceKey(
                        id=1, key_pem=made.key_pem.decode(), cert_pem=made.cert_pem.decode()
                    )
                )
        except IntegrityError:
            session.rollback()
        row = session.get_one(InstanceKey, 1)
    return SigningIdentity(key_pem=row.key_pem.encode(), cert_pem=row.cert_pem.encode())


def instance_certificate(session: Session, settings: Settings) -> bytes:
    """The certificate (PEM) anyone may use to check this instance's reports."""
    return instance_identity(session, settings).cert_pem


def server_record(session: Session, sha256: str) -> ServerRecord | None:
    """What this instance holds about the submission with hash ``sha256``: its review state,
    and the assessment's latest submission number (a later one supersedes it)."""
    submission = session.exec(select(Submission).where(Submission.sha256 == sha256)).first()
    if submission is None:
        return None
    decided = review_service.decision(session=session, submission=submission)
    latest = session.exec(
        select(func.max(Submission.number)).where(
            Submission.assessment_id == submission.assessment_id
        )
    ).one()
    at = decided.review.decided_at if decided.review else None
    return ServerRecord(
        status=decided.status,
        number=submission.number,
        latest_number=int(latest or submission.number),
        decided_at=at.date().isoformat() if at else "",
    )


# --- the public verify page ------------------------------------------------------------------


def verify_limit(settings: Settings) -> int:
    """The largest PDF the public verify page accepts: the verifier's own limit, or the upload
    limit of the deployment when that is smaller."""
    return min(MAX_PDF_BYTES, settings.max_upload_bytes)


def check_report(
    session: Session, settings: Settings, registry: Registry, data: bytes
) -> Verification:
    """Every check of ``policygap verify`` on an uploaded PDF, beside this instance: its own
    certificate is the one trusted, and its record gives the review state of a report it issued.
    Nothing is stored (raises NotAReport for what is not a readable PDF)."""
    instance = Instance(
        instance_certificate(session, settings), lambda sha256: server_record(session, sha256)
    )

    def find(record: SubmissionRecord) -> Questionnaire | Note:
        found = registry.get(record.questionnaire_id, record.questionnaire_version)
        if found is None:
            return note(
                N_("questionnaire {id} version {version} is not loaded here"),
                id=record.questionnaire_id,
                version=record.questionnaire_version,
            )
        return found

    return verify_pdf(data, find, instance=instance)


VERIFY_WINDOW = timedelta(minutes=1)


def allow_verify(session: Session, settings: Settings, address: str) -> bool:
    """Whether the client at ``address`` may check one more report now: at most
    ``verify_per_minute`` checks a minute, counted in the database so that every worker and
    instance agrees. Only a keyed hash of the address is written, and rows older than the
    window are deleted at each check. Two workers counting at the same moment may each let one
    more through (the limit is a brake, not a quota)."""
    client = hmac.new(settings.secret_key.encode(), address.encode(), hashlib.sha256).hexdigest()
    now = utcnow()
    since = now - VERIFY_WINDOW
    with db.writing(session):
        session.exec(delete(VerifyUse).where(col(VerifyUse.at) <= since))
        used = session.exec(
            select(func.count())
            .select_from(VerifyUse)
            .where(VerifyUse.client == client, col(VerifyUse.at) > since)
        ).one()
        if used >= settings.verify_per_minute:
            return False
        session.add(VerifyUse(client=client, at=now))
    return True


# --- what the renderer is given --------------------------------------------------------------


def render_job(
    session: Session,
    *,
    questionnaire: Questionnaire,
    assessment: Assessment,
    submission: Submission,
    lang: str,
    format: str = "pdf",
    settings: Settings | None = None,
) -> RenderJob:
    """The job for one rendering of ``submission``: its own review state (never that of a later
    submission), the result a reassessment started from, and, for a PDF, the deployment's paper,
    marking and signing key."""
    decided = review_service.decision(session=session, submission=submission)
    previous = review_service.previous_result(session=session, assessment_id=assessment.id)
    pdf = format == "pdf" and settings is not None
    return RenderJob(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        canonical=submission.canonical.encode("utf-8"),
        format=format,
        lang=lang,
        status=decided.status,
        review=decided.review,
        previous=Result.model_validate(previous) if previous else None,
        paper=settings.report_paper if pdf and settings else "letter",
        marking=settings.report_marking if pdf and settings else None,
        signer=instance_identity(session, settings) if pdf and settings else None,
    )


def _render(registry: Registry, job: RenderJob) -> bytes:
    questionnaire = registry.get(job.questionnaire_id, job.questionnaire_version)
    if questionnaire is None:
        raise LookupError("questionnaire not loaded")
    return formats.render(job, questionnaire)


# --- the render process ----------------------------------------------------------------------


def _limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server stops the pool itself
    # (``shutdown``), rather than its worker dying mid-queue and leaving its semaphores behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


@lru_cache(maxsize=4)
def _registry(directory: str) -> Registry:
    return load_directory(Path(directory))


def render_in_child(questionnaires_dir: str, job: RenderJob) -> bytes:
    """Runs in the render process: load the questionnaires once, render one document."""
    return _render(_registry(questionnaires_dir), job)


def render_and_store(settings: Settings, submission_id: str, lang: str) -> None:
    """Runs in the render process after a submit or a decision: render the PDF, cache it."""
    engine = db.make_engine(settings.database_url)
    try:
        with db.new_session(engine) as session:
            submission = session.get(Submission, uuid.UUID(submission_id))
            if submission is None:
                return
            assessment = session.get_one(Assessment, submission.assessment_id)
            registry = _registry(str(settings.questionnaires_dir))
            questionnaire = registry.get(
                assessment.questionnaire_id, assessment.questionnaire_version
            )
            if questionnaire is None:
                return
            job = render_job(
                session,
                questionnaire=questionnaire,
                assessment=assessment,
                submission=submission,
                lang=lang,
                settings=settings,
            )
            if cached(session=session, key=job.cache_key()) is None:
                store(session=session, job=job, pdf=_render(registry, job))
    finally:
        engine.dispose()


def pool(app: FastAPI) -> concurrent.futures.ProcessPoolExecutor:
    executor: concurrent.futures.ProcessPoolExecutor | None = getattr(
        app.state, "report_pool", None
    )
    if executor is None:
        settings: Settings = app.state.settings
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_resources,
            initargs=(settings.report_memory_limit_mb, int(settings.report_timeout_seconds)),
        )
        app.state.report_pool = executor
    return executor


def shutdown(app: FastAPI, *, grace_seconds: float = 10.0) -> None:
    """Stop the render pool cleanly: queued renders are cancelled, a render in progress gets
    ``grace_seconds`` to finish, then its process is terminated; the worker processes are
    joined, so their queues' semaphores are released (stopping the server used to report
    "leaked semaphore objects")."""
    executor: concurrent.futures.ProcessPoolExecutor | None = getattr(
        app.state, "report_pool", None
    )
    if executor is None:
        return
    app.state.report_pool = None
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.warning("a report render did not stop in %s s; terminating it", grace_seconds)
            process.terminate()
            process.join(5)
            if process.is_alive():  # SIGTERM not honoured in time (a busy host): no survivor
                process.kill()
                process.join(5)
    executor.shutdown(wait=True)


# --- cache -----------------------------------------------------------------------------------


def cached(*, session: Session, key: str) -> bytes | None:
    row = session.exec(select(ReportCache).where(ReportCache.cache_key == key)).first()
    return row.pdf if row else None


def store(*, session: Session, job: RenderJob, pdf: bytes) -> None:
    try:
        with db.writing(session):
            session.add(
                ReportCache(
                    cache_key=job.cache_key(),
                    sha256=job.sha256,
                    language=job.lang,
                    review_state=job.status,
                    pdf=pdf,
                )
            )
    except IntegrityError:
        pass  # another process stored the same document first


# --- for the routes --------------------------------------------------------------------------


def prerender(app: FastAPI, *, submission_id: uuid.UUID) -> None:
    """Render the submission's PDFs in the background (both languages), after a submit or a
    decision (the review state is printed, so each state has its own PDF)."""
    settings: Settings = app.state.settings
    if not settings.report_prerender:
        return
    for lang in LANGUAGES:
        future = pool(app).submit(render_and_store, settings, str(submission_id), lang)
        future.add_done_callback(_log_failure)


def prerender_latest(app: FastAPI, *, assessment_id: uuid.UUID) -> None:
    """The listener of ``assessments.events``: render the assessment's latest submission ahead
    (after a submit, and after a decision, which changes the report's review state)."""
    if not app.state.settings.report_prerender:
        return
    with db.new_session(app.state.engine) as session:
        submission = assessment_service.get_submission(
            session=session, assessment_id=assessment_id, viewer=None
        )
    if submission is not None:
        prerender(app, submission_id=submission.id)


def _log_failure(future: concurrent.futures.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("background report rendering failed: %s", future.exception())


def report_pdf(
    app: FastAPI,
    *,
    session: Session,
    questionnaire: Questionnaire,
    assessment: Assessment,
    agency: Organisation,
    submission: Submission,
    lang: str,
) -> bytes:
    """The signed PDF from the cache, or rendered now in the render process and cached."""
    settings: Settings = app.state.settings
    job = render_job(
        session,
        questionnaire=questionnaire,
        assessment=assessment,
        submission=submission,
        lang=lang,
        settings=settings,
    )
    hit = cached(session=session, key=job.cache_key())
    if hit is not None:
        return hit
    try:
        pdf = (
            pool(app)
            .submit(render_in_child, str(settings.questionnaires_dir), job)
            .result(timeout=settings.report_timeout_seconds)
        )
    except Exception as error:
        log.exception("report rendering failed")
        raise ReportUnavailable() from error
    store(session=session, job=job, pdf=pdf)
    return pdf


def screen_css() -> str:
    from service.report import render as report_render

    return report_render.screen_css()


def report_html(
    *,
    fragment: bool = False,
    registry: Registry,
    questionnaire: Questionnaire,
    assessment: Assessment,
    agency: Organisation,
    submission: Submission,
    lang: str,
) -> str:
    """The report as HTML (cheap; rendered in the request)."""
    session = object_session(assessment)
    if not isinstance(session, Session):
        raise ReportUnavailable()
    job = render_job(
        session,
        questionnaire=questionnaire,
        assessment=assessment,
        submission=submission,
        lang=lang,
        format="html-fragment" if fragment else "html",
    )
    try:
        return _render(registry, job).decode("utf-8")
    except Exception as error:
        log.exception("report HTML failed")
        raise ReportUnavailable() from error


# --- open data (docs/open-data.md) ---------------------------------------------------------------

EXPORT_FORMATS = ("oscal", "oscal-plan", "json", "csv")


def _submitted_by(session: Session, submission: Submission) -> str:
    """The name of who submitted ``submission`` (from the audit log; "" when not recorded)."""
    rows = session.exec(
        select(AuditEvent, User)
        .join(User, col(User.id) == col(AuditEvent.actor_id))
        .where(AuditEvent.assessment_id == submission.assessment_id, AuditEvent.action == "submit")
        .order_by(col(AuditEvent.at).desc())
    ).all()
    for event, user in rows:
        if (event.detail or {}).get("number") == submission.number:
            return user.full_name
    return ""


def export(
    session: Session,
    *,
    questionnaire: Questionnaire,
    assessment: Assessment,
    agency: Organisation,
    submission: Submission,
    format: str,
    lang: str,
) -> tuple[bytes, formats.Format]:
    """One submission as open data (OSCAL assessment results or plan, findings as JSON or CSV),
    in the review state of THAT submission; OSCAL also names who submitted it and the
    regulator that receives it. Deterministic: the same state gives the same bytes."""
    from service.report import oscal

    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(EXPORT_FORMATS)}")
    fmt = formats.get_format(format)
    job = render_job(
        session,
        questionnaire=questionnaire,
        assessment=assessment,
        submission=submission,
        lang=lang,
        format=format,
    )
    report = formats.report_input(job, questionnaire)
    if format != "oscal":
        return fmt.render(report, job), fmt
    regulators = assessment_service.regulators_for(session=session, agency=agency)
    parties = oscal.Parties(
        submitted_by=_submitted_by(session, submission),
        regulator=regulators[0].name(lang) if len(regulators) == 1 else "",
    )
    return oscal.dumps(oscal.assessment_results(report, lang, parties=parties)), fmt
