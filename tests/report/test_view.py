"""The typed report view: what pages, the API and every report format read."""

from __future__ import annotations

import dataclasses

import pytest

from service.questionnaire.schema import Severity, Verdict
from service.report.inputs import ReportInput, ReviewInfo
from service.report.view import ReportView, build_view
from tests.report.conftest import DATA, report_input


@pytest.fixture(scope="module")
def report() -> ReportInput:
    accepted = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    review = ReviewInfo(decided_by="A. Reviewer", comments={"COL-02": ["Stop now."]})
    return dataclasses.replace(accepted, status="accepted", review=review)


def test_gap_rows_follow_the_result(report: ReportInput) -> None:
    view = build_view(report, "en")
    result = report.result
    assert [g.id for g in view.gap_rows] == result.gaps
    first = view.gap_rows[0]
    assert first.severity is result.criterion(first.id).severity
    assert first.verdict is result.criterion(first.id).verdict
    assert first.section == result.criterion(first.id).section
    assert first.section_title
    assert first.recommendation
    assert first.refs
    assert view.gap_rows[0].severity is Severity.critical


def test_criterion_detail_names_the_answers_read(report: ReportInput) -> None:
    view = build_view(report, "fr")
    detail = view.criterion_detail("COL-02")
    assert detail.verdict is Verdict.not_met
    assert detail.verdict_label == "Non respecté"
    assert [r.question_id for r in detail.reads] == list(
        report.result.criterion("COL-02").trace.reads
    )
    assert detail.comments == ("Stop now.",)
    with pytest.raises(KeyError):
        view.criterion_detail("NOPE-99")


def test_section_scores_review_state_and_language(report: ReportInput) -> None:
    en = build_view(report, "en")
    fr = build_view(report, "fr")
    # every scored section, and the sections without criteria shown as context only, in order
    scored = [s for s in en.section_scores if s.id not in report.result.context_sections]
    assert [s.id for s in scored] == [s.id for s in report.result.sections]
    assert [s.value for s in scored] == [s.score for s in report.result.sections]
    order = [s.id for s in report.questionnaire.sections]
    assert [s.id for s in en.section_scores] == [
        s
        for s in order
        if s in {*report.result.context_sections, *(r.id for r in report.result.sections)}
    ]
    assert sum(s.gaps for s in en.section_scores) == len(report.result.gaps)
    assert (en.review.status, en.review.decided_by) == ("accepted", "A. Reviewer")
    assert (en.review.status_label, fr.review.status_label) == ("Accepted", "Acceptée")
    assert scored[0].score.replace(".", ",") == next(
        s.score for s in fr.section_scores if s.id == scored[0].id
    )


def test_view_is_frozen_and_the_same_for_the_same_input(report: ReportInput) -> None:
    view = build_view(report, "en", tool_version="9.9")
    assert isinstance(view, ReportView)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.lang = "fr"  # type: ignore[misc]
    assert build_view(report, "en", tool_version="9.9") == view
    assert view.integrity.tool_version == "9.9"
