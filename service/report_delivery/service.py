"""Gap reports for the web: HTML for the screen, PDF rendered in a separate process and cached.

A submission never changes, so its PDF is rendered once per (submission hash, language, template
version, review state) and kept in ``report_cache``; every instance shares that cache. Rendering
runs in a one-process pool (``pitfalls.md``: in a thread of the web worker it starves requests),
with a memory and CPU-time limit. Right after a submit the PDFs are rendered in the background,
so the first download is already cached.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import multiprocessing
import resource
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from service import db
from service.assessments.models import Assessment, Submission
from service.config import Settings
from service.errors import AppError
from service.models import Organisation
from service.questionnaire.loader import Registry, load_directory
from service.questionnaire.schema import Questionnaire
from service.report_delivery.models import ReportCache

log = logging.getLogger(__name__)
LANGUAGES = ("en", "fr")


class ReportUnavailable(AppError):
    status_code = 503
    code = "report_unavailable"
    message = "The report could not be produced. Try again in a few minutes"


def review_state(assessment: Assessment) -> str:
    return "accepted" if assessment.status == "accepted" else "submitted"


# --- what the renderer is given --------------------------------------------------------------


def report_inputs(
    *,
    questionnaire: Questionnaire,
    assessment: Assessment,
    agency: Organisation,
    submission: Submission,
    lang: str,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Plain, picklable inputs for the report renderer (with the review of an accepted
    assessment and the result a reassessment started from, read through the record's session)."""
    from service.review import service as review_service

    session = object_session(assessment)
    review = previous = None
    if isinstance(session, Session):
        review = review_service.review_info(session=session, assessment=assessment)
        previous = review_service.previous_result(session=session, assessment_id=assessment.id)
    return {
        "questionnaire_id": questionnaire.id,
        "questionnaire_version": questionnaire.version,
        "canonical": submission.canonical,
        "sha256": submission.sha256,
        "status": review_state(assessment),
        "agency": agency.name(lang),
        "lang": lang,
        "review": review,
        "previous": previous,
        # the PDF's paper size and security marking (the HTML has neither)
        "paper": settings.report_paper if settings else "letter",
        "marking": settings.report_marking if settings else None,
    }


def _render(registry: Registry, inputs: dict[str, Any], kind: str) -> bytes:
    """Render with the report package: "pdf", "html" (a whole page) or "fragment" (its body,
    for a page of ours that links ``screen_css``)."""
    from service.questionnaire.scoring import Result
    from service.questionnaire.submission import parse_submission
    from service.report import render as report_render

    questionnaire = registry.get(inputs["questionnaire_id"], inputs["questionnaire_version"])
    if questionnaire is None:
        raise LookupError("questionnaire not loaded")
    canonical = inputs["canonical"].encode("utf-8")
    review = report_render.ReviewInfo(**inputs["review"]) if inputs.get("review") else None
    previous = Result.model_validate(inputs["previous"]) if inputs.get("previous") else None
    if kind == "pdf":
        return report_render.render_submission(
            questionnaire=questionnaire,
            canonical=canonical,
            status=inputs["status"],
            lang=inputs["lang"],
            kind="pdf",
            review=review,
            previous=previous,
            paper=inputs.get("paper", "letter"),
            marking=inputs.get("marking"),
        )
    report = report_render.build_report_input(
        questionnaire,
        parse_submission(canonical),
        status=inputs["status"],
        review=review,
        previous=previous,
    )
    html = report_render.render_html(report, lang=inputs["lang"], fragment=kind == "fragment")
    return html.encode("utf-8")


def template_version(settings: Settings) -> str:
    """The report's template version with the deployment's paper size and marking, so a change
    of either is never served from the cache of the other."""
    from service.report import render as report_render

    marking = hashlib.sha256((settings.report_marking or "").encode()).hexdigest()[:8]
    return f"{report_render.TEMPLATE_VERSION}-{settings.report_paper}-{marking}"


# --- the render process ----------------------------------------------------------------------


def _limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


@lru_cache(maxsize=4)
def _registry(directory: str) -> Registry:
    return load_directory(Path(directory))


def render_in_child(questionnaires_dir: str, inputs: dict[str, Any], kind: str) -> bytes:
    """Runs in the render process: load the questionnaires once, render one document."""
    return _render(_registry(questionnaires_dir), inputs, kind)


def render_and_store(settings: Settings, submission_id: str, lang: str, version: str) -> None:
    """Runs in the render process after a submit: render the PDF and put it in the cache."""
    engine = db.make_engine(settings.database_url)
    try:
        with db.new_session(engine) as session:
            submission = session.get(Submission, uuid.UUID(submission_id))
            if submission is None:
                return
            assessment = session.get_one(Assessment, submission.assessment_id)
            agency = session.get_one(Organisation, assessment.organisation_id)
            registry = _registry(str(settings.questionnaires_dir))
            questionnaire = registry.get(
                assessment.questionnaire_id, assessment.questionnaire_version
            )
            if questionnaire is None:
                return
            inputs = report_inputs(
                questionnaire=questionnaire,
                assessment=assessment,
                agency=agency,
                submission=submission,
                lang=lang,
                settings=settings,
            )
            pdf = _render(registry, inputs, "pdf")
            store(
                session=session,
                submission=submission,
                lang=lang,
                state=inputs["status"],
                version=version,
                pdf=pdf,
            )
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


def shutdown(app: FastAPI) -> None:
    executor = getattr(app.state, "report_pool", None)
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)
        app.state.report_pool = None


# --- cache -----------------------------------------------------------------------------------


def cached(*, session: Session, sha256: str, lang: str, state: str, version: str) -> bytes | None:
    row = session.exec(
        select(ReportCache).where(
            ReportCache.sha256 == sha256,
            ReportCache.language == lang,
            ReportCache.template_version == version,
            ReportCache.review_state == state,
        )
    ).first()
    return row.pdf if row else None


def store(
    *, session: Session, submission: Submission, lang: str, state: str, version: str, pdf: bytes
) -> None:
    try:
        with db.writing(session):
            session.add(
                ReportCache(
                    sha256=submission.sha256,
                    language=lang,
                    template_version=version,
                    review_state=state,
                    pdf=pdf,
                )
            )
    except IntegrityError:
        pass  # another process stored the same document first


# --- for the routes --------------------------------------------------------------------------


def prerender(app: FastAPI, *, submission_id: uuid.UUID) -> None:
    """Render the new submission's PDFs in the background (both languages)."""
    settings: Settings = app.state.settings
    if not settings.report_prerender:
        return
    version = template_version(settings)
    for lang in LANGUAGES:
        future = pool(app).submit(
            render_and_store,
            settings,
            str(submission_id),
            lang,
            version,
        )
        future.add_done_callback(_log_failure)


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
    """The PDF from the cache, or rendered now in the render process and cached."""
    settings: Settings = app.state.settings
    version = template_version(settings)
    state = review_state(assessment)
    hit = cached(session=session, sha256=submission.sha256, lang=lang, state=state, version=version)
    if hit is not None:
        return hit
    inputs = report_inputs(
        questionnaire=questionnaire,
        assessment=assessment,
        agency=agency,
        submission=submission,
        lang=lang,
        settings=settings,
    )
    try:
        pdf = (
            pool(app)
            .submit(render_in_child, str(settings.questionnaires_dir), inputs, "pdf")
            .result(timeout=settings.report_timeout_seconds)
        )
    except Exception as error:
        log.exception("report rendering failed")
        raise ReportUnavailable() from error
    store(session=session, submission=submission, lang=lang, state=state, version=version, pdf=pdf)
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
    inputs = report_inputs(
        questionnaire=questionnaire,
        assessment=assessment,
        agency=agency,
        submission=submission,
        lang=lang,
    )
    try:
        return _render(registry, inputs, "fragment" if fragment else "html").decode("utf-8")
    except Exception as error:
        log.exception("report HTML failed")
        raise ReportUnavailable() from error
