"""The format registry, the render job that crosses to the render process, and its cache key."""

from __future__ import annotations

import dataclasses
import pickle
import re
from datetime import UTC, datetime

import pytest

from service.report import formats, render
from service.report.formats import FORMATS, RenderJob, get_format
from service.report.inputs import ReviewInfo
from tests.report.conftest import DATA, report_input


@pytest.fixture(scope="module")
def job() -> RenderJob:
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    return RenderJob(
        questionnaire_id=report.questionnaire.id,
        questionnaire_version=report.questionnaire.version,
        canonical=report.canonical,
    )


def test_registry_names_media_type_and_extension() -> None:
    assert set(FORMATS) >= {"pdf", "html", "html-fragment"}
    pdf = get_format("pdf")
    assert (pdf.media_type, pdf.extension) == ("application/pdf", "pdf")
    assert get_format("html").media_type.startswith("text/html")
    with pytest.raises(ValueError, match="format"):
        get_format("docx")


def test_same_job_same_key(job: RenderJob) -> None:
    key = job.cache_key()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    again = pickle.loads(pickle.dumps(job))  # noqa: S301 - our own bytes, as a process pool does
    assert again.cache_key() == key
    assert dataclasses.replace(job).cache_key() == key
    # whitespace around a marking is not printed, so it is not part of the key
    assert (
        dataclasses.replace(job, marking="Protected A").cache_key()
        == dataclasses.replace(job, marking=" Protected A ").cache_key()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"format": "html"},
        {"lang": "fr"},
        {"status": "accepted"},
        {"review": ReviewInfo(decided_by="someone")},
        {"review": ReviewInfo(comments={"GOV-01": ["Please add the PIA."]})},
        {"review": ReviewInfo(decided_at=datetime(2026, 12, 1, tzinfo=UTC))},
        {"paper": "a4"},
        {"marking": "Protected B"},
        {"canonical": b"{}"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_key_differs_by_each_input(job: RenderJob, change: dict[str, object]) -> None:
    assert dataclasses.replace(job, **change).cache_key() != job.cache_key()  # type: ignore[arg-type]


def test_key_differs_by_previous_result(job: RenderJob) -> None:
    previous = report_input(DATA / "medium.yaml", DATA / "border.yaml").result
    assert dataclasses.replace(job, previous=previous).cache_key() != job.cache_key()


def test_job_key_is_the_report_key(job: RenderJob) -> None:
    """One key function: the in-process PDF cache and a job agree."""
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    assert render.cache_key(report, lang="en") == job.cache_key()
    fr = dataclasses.replace(job, lang="fr", paper="a4", marking="Protected A")
    assert render.cache_key(report, lang="fr", paper="a4", marking="Protected A") == fr.cache_key()


def test_render_html_formats(job: RenderJob) -> None:
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    q = report.questionnaire
    page = formats.render(dataclasses.replace(job, format="html", lang="fr"), q)
    assert page == render.render_html(report, lang="fr").encode("utf-8")
    body = formats.render(dataclasses.replace(job, format="html-fragment"), q).decode("utf-8")
    assert body == render.render_html(report, fragment=True)
    assert "<html" not in body


def test_render_refuses_another_questionnaire_and_unknown_settings(job: RenderJob) -> None:
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    q = report.questionnaire
    with pytest.raises(ValueError, match="questionnaire"):
        formats.render(dataclasses.replace(job, questionnaire_version="0.0"), q)
    with pytest.raises(ValueError, match="format"):
        formats.render(dataclasses.replace(job, format="docx"), q)
    with pytest.raises(ValueError, match="paper"):
        formats.render(dataclasses.replace(job, paper="legal"), q)


def test_pdf_is_rendered_once_and_served_from_the_cache(job: RenderJob) -> None:
    render.clear_cache()
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    pdf = formats.render(job, report.questionnaire)
    assert pdf.startswith(b"%PDF")
    assert formats.render(job, report.questionnaire) is pdf
