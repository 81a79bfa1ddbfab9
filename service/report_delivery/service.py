"""Gap reports for the web: HTML for the screen, PDF rendered in a separate process, signed and
cached.

A submission never changes, so each rendering of it is made once per `RenderJob.cache_key()` (the
submission hash, format, language, template version, the review state of THAT submission, paper,
marking, signer) and kept in ``report_cache``; every instance shares that cache. Rendering runs in a
child process (in a thread of the web worker it starves requests), with a memory limit, killed at
``report_timeout_seconds`` and replaced when it died (``jobs.child``). Every PDF the instance issues
is signed with its key (`instance_identity`). Right after a submit or a decision both languages'
PDFs are queued as jobs (``prerender_latest``, a listener of ``assessments.events``; the job
``render_report``), so the first download is already cached; a download that comes while its job
runs waits for that job.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import cast

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, delete, func, select

from service import db, jobs
from service.actions import service as action_service
from service.assessments import service as assessment_service
from service.assessments.models import Assessment, Submission
from service.config import Settings
from service.errors import AppError
from service.i18n.catalogue import N_
from service.jobs.child import ChildProcess, ChildTimeout
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


def withheld_words(
    registry: Registry, record: SubmissionRecord, withheld: dict[str, str], lang: str
) -> list[dict[str, str]]:
    """A public edition's withheld fields, each with its reason in ``lang`` (the reason's key
    when the questionnaire is not loaded here or does not list it)."""
    from service.questionnaire.publication import reason_index
    from service.questionnaire.schema import localize

    found = registry.get(record.questionnaire_id, record.questionnaire_version)
    index = reason_index(found) if found is not None else {}
    return [
        {
            "field": path,
            "reason": localize(index[key].label, lang) if key in index else key,
        }
        for path, key in sorted(withheld.items())
    ]


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


@lru_cache(maxsize=4)
def _registry(directory: str) -> Registry:
    return load_directory(Path(directory))


def render_in_child(questionnaires_dir: str, job: RenderJob) -> bytes:
    """Runs in the render process: load the questionnaires once, render one document."""
    return _render(_registry(questionnaires_dir), job)


def warm_child(questionnaires_dir: str) -> None:
    """Runs in the render process when it starts: the questionnaires, WeasyPrint, the fonts and
    the templates are loaded before the first report is asked for."""
    from service.report import render as report_render

    _registry(questionnaires_dir)
    report_render.warm_up()


# The render process runs at a lower CPU priority than the server: on a busy host a page someone
# is waiting for goes first, and the PDF (queued at submit, mostly ready before anyone asks) takes
# the CPU the pages leave (bench/journey.py: page p99 while rendering).
RENDER_NICE = 10


def renderer(resources: jobs.Resources, settings: Settings) -> ChildProcess:
    """The render process of this process (the app's requests and its embedded worker share it;
    a ``policygap worker`` has its own): killed at ``report_timeout_seconds``, replaced when it
    died."""
    return cast(
        ChildProcess,
        resources.get(
            "renderer",
            lambda: ChildProcess(
                memory_mb=settings.report_memory_limit_mb,
                cpu_seconds=int(settings.report_timeout_seconds),
                name="report render",
                nice=RENDER_NICE,
            ),
        ),
    )


def app_renderer(app: FastAPI) -> ChildProcess:
    return renderer(app.state.job_resources, app.state.settings)


def start_renderer(resources: jobs.Resources, settings: Settings) -> None:
    """Start the render process and warm it up now, in the background (the app's start-up and
    ``policygap worker`` call this), so the first PDF costs one render, not a start as well."""
    renderer(resources, settings).start(warm_child, str(settings.questionnaires_dir))


def _render_pdf(child: ChildProcess, settings: Settings, job: RenderJob) -> bytes:
    try:
        return child.call(
            render_in_child,
            str(settings.questionnaires_dir),
            job,
            timeout=settings.report_timeout_seconds,
        )
    except ChildTimeout as error:
        raise jobs.NoRetry(str(error)) from error  # a render that hung would hang again


RENDER_TASK = "render_report"


@jobs.task(RENDER_TASK)
def render_report(ctx: jobs.JobContext, *, submission_id: str, lang: str) -> None:
    """The job after a submit or a decision: render the submission's PDF in ``lang`` (in the
    review state it has when the job runs) and cache it; nothing to do when it is cached."""
    with db.new_session(ctx.engine) as session:
        submission = session.get(Submission, uuid.UUID(submission_id))
        if submission is None:
            return
        assessment = session.get_one(Assessment, submission.assessment_id)
        registry = _registry(str(ctx.settings.questionnaires_dir))
        questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
        if questionnaire is None:
            return
        job = render_job(
            session,
            questionnaire=questionnaire,
            assessment=assessment,
            submission=submission,
            lang=lang,
            settings=ctx.settings,
        )
        if cached(session=session, key=job.cache_key()) is not None:
            return
        session.rollback()  # no read transaction held open during the render
        pdf = _render_pdf(renderer(ctx.resources, ctx.settings), ctx.settings, job)
        store(session=session, job=job, pdf=pdf)
        log.info("report %s (%s, %s) rendered", submission.sha256[:12], lang, job.status)


def shutdown(app: FastAPI, *, grace_seconds: float = 10.0) -> None:
    """Stop the render process cleanly: a render in progress gets ``grace_seconds`` to finish,
    then its process is terminated; it is joined, so its queues' semaphores are released."""
    child = app.state.job_resources.peek("renderer")
    if child is not None:
        child.shutdown(grace_seconds=grace_seconds)


# --- cache -----------------------------------------------------------------------------------


def cached(*, session: Session, key: str) -> bytes | None:
    row = session.exec(select(ReportCache).where(ReportCache.cache_key == key)).first()
    return row.pdf if row else None


def cached_exists(*, session: Session, key: str) -> bool:
    """Whether the rendering with ``key`` is cached (without reading the PDF)."""
    found = session.exec(select(ReportCache.id).where(ReportCache.cache_key == key)).first()
    return found is not None


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


def queue(app: FastAPI) -> jobs.Queue:
    return cast(jobs.Queue, app.state.jobs)


def prerender(app: FastAPI, session: Session, *, submission: Submission) -> None:
    """Queue the submission's PDFs (both languages) after a submit or a decision (the review
    state is printed, so each state has its own PDF). A job's key is its PDF's cache key: the
    same PDF is queued once, and a download finds the job that will make it."""
    settings: Settings = app.state.settings
    assessment = session.get_one(Assessment, submission.assessment_id)
    questionnaire = app.state.registry.get(
        assessment.questionnaire_id, assessment.questionnaire_version
    )
    if questionnaire is None:
        return
    for lang in LANGUAGES:
        job = render_job(
            session,
            questionnaire=questionnaire,
            assessment=assessment,
            submission=submission,
            lang=lang,
            settings=settings,
        )
        queue(app).defer(
            RENDER_TASK, key=job.cache_key(), submission_id=str(submission.id), lang=lang
        )


def prerender_latest(app: FastAPI, *, assessment_id: uuid.UUID) -> None:
    """The listener of ``assessments.events``: queue the renders of the assessment's latest
    submission (after a submit, and after a decision, which changes the report's review state).
    A failure here is logged: the decision is made, and a download renders the PDF itself."""
    if not app.state.settings.report_prerender:
        return
    try:
        with db.new_session(app.state.engine) as session:
            submission = assessment_service.get_submission(
                session=session, assessment_id=assessment_id, viewer=None
            )
            if submission is not None:
                prerender(app, session, submission=submission)
    except Exception:
        log.exception("queueing the report renders failed")


def preparing(app: FastAPI, session: Session, job: RenderJob) -> bool:
    """Whether the PDF of ``job`` is not cached yet and a job is making it."""
    key = job.cache_key()
    return not cached_exists(session=session, key=key) and _pending(app, key)


def preparing_languages(app: FastAPI, *, assessment_id: uuid.UUID) -> list[str]:
    """The languages whose PDF of the assessment's latest submission a job is making (the
    provider of ``events.report_preparing``). A failure to tell is not an error of the page."""
    try:
        with db.new_session(app.state.engine) as session:
            submission = assessment_service.get_submission(
                session=session, assessment_id=assessment_id, viewer=None
            )
            if submission is None:
                return []
            assessment = session.get_one(Assessment, submission.assessment_id)
            questionnaire = app.state.registry.get(
                assessment.questionnaire_id, assessment.questionnaire_version
            )
            if questionnaire is None:
                return []
            return [
                lang
                for lang in LANGUAGES
                if preparing(
                    app,
                    session,
                    render_job(
                        session,
                        questionnaire=questionnaire,
                        assessment=assessment,
                        submission=submission,
                        lang=lang,
                        settings=app.state.settings,
                    ),
                )
            ]
    except Exception:
        log.exception("could not tell whether the report is being prepared")
        return []


def _pending(app: FastAPI, key: str) -> bool:
    try:
        return queue(app).pending(key)
    except Exception:  # the queue cannot tell: render rather than wait
        log.exception("could not read the job queue")
        return False


WAIT_STEP_SECONDS = 0.05


def _wait_for_job(app: FastAPI, session: Session, key: str, deadline: float) -> bytes | None:
    """The PDF the job with ``key`` makes, once cached; None when no job is queued or running
    for it (any more), or at the deadline."""
    step = WAIT_STEP_SECONDS
    while time.monotonic() < deadline:
        hit = cached(session=session, key=key)
        if hit is not None:
            return hit
        session.rollback()  # the next read sees what the worker committed
        if not _pending(app, key):
            return cached(session=session, key=key)
        time.sleep(step)
        step = min(0.25, step * 1.5)
    return None


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
    """The signed PDF from the cache; while its job runs, the PDF that job makes (waiting for
    it rather than rendering again); else rendered now in the render process and cached."""
    settings: Settings = app.state.settings
    job = render_job(
        session,
        questionnaire=questionnaire,
        assessment=assessment,
        submission=submission,
        lang=lang,
        settings=settings,
    )
    key = job.cache_key()
    hit = cached(session=session, key=key)
    if hit is not None:
        return hit
    deadline = time.monotonic() + settings.report_timeout_seconds
    waited = _wait_for_job(app, session, key, deadline)
    if waited is not None:
        return waited
    try:
        pdf = _render_pdf(app_renderer(app), settings, job)
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

EXPORT_FORMATS = ("oscal", "oscal-plan", "oscal-poam", "json", "csv")


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
    """One submission as open data (OSCAL assessment results, plan or plan of action and
    milestones, findings as JSON or CSV), in the review state of THAT submission; OSCAL also
    names who submitted it and the regulator that receives it. The plan of action and
    milestones holds the action plan as it stands now (`oscal.NothingToPlan` for a submission
    without gaps). Deterministic: the same state gives the same bytes."""
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
    if format not in ("oscal", "oscal-poam"):
        return fmt.render(report, job), fmt
    regulators = assessment_service.regulators_for(session=session, agency=agency)
    parties = oscal.Parties(
        submitted_by=_submitted_by(session, submission),
        regulator=regulators[0].name(lang) if len(regulators) == 1 else "",
    )
    if format == "oscal-poam":
        plan = action_service.tracked(session=session, assessment_id=assessment.id)
        document = oscal.plan_of_action(report, lang, plan=plan, parties=parties)
        return oscal.dumps(document), fmt
    return oscal.dumps(oscal.assessment_results(report, lang, parties=parties)), fmt
