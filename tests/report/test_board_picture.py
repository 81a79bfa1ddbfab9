"""What a board member sees at a glance: the cover (agency, program, rating, status, the
regulator's decision, the first three actions), the chart's bars named by section, and the gaps
by section and severity in a table whose shading is never the only carrier of meaning."""

from __future__ import annotations

import re

import pytest

from service.questionnaire.schema import localize
from service.report import i18n, render
from tests.report.conftest import EXAMPLES, QUESTIONNAIRES, Case, RenderCache, report_input

SHIPPED = QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml"
TA1 = {
    lang: Case(f"sample-1.1.0-ta1-lakeshore-{lang}", SHIPPED, EXAMPLES / "ta1-lakeshore.yaml", lang)
    for lang in ("en", "fr")
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_chart_names_each_bar_by_its_section(lang: str) -> None:
    report = report_input(SHIPPED, EXAMPLES / "ta1-lakeshore.yaml")
    view = render.report_view(report, lang)
    titles = [localize(s.title, lang) for s in report.questionnaire.sections]
    assert [bar.label for bar in view.chart.bars] == titles
    svg = render.render_html(report, lang=lang).split("<svg", 1)[1].split("</svg>", 1)[0]
    for title in titles:
        escaped = title.replace("'", "&#39;")
        assert f">{escaped}</text>" in svg


def test_the_gap_matrix_counts_every_gap_once() -> None:
    report = report_input(SHIPPED, EXAMPLES / "ta1-lakeshore.yaml")
    view = render.report_view(report, "en")
    matrix = view.gap_matrix
    assert matrix.total == len(view.gap_rows) == sum(r.total for r in matrix.rows)
    assert [s.value for s in matrix.severities] == ["critical", "high", "medium", "low"]
    html = render.render_html(report, lang="en")
    table = html.split('<table class="data matrix">', 1)[1].split("</table>", 1)[0]
    assert "<caption>Gaps by section and severity</caption>" in table
    # each coloured cell also says its number, under a heading that names the severity
    assert re.search(r'<td class="num cell-critical">\d+</td>', table)
    assert '<th scope="col" class="num w-num">Critical</th>' in table
    assert "the shading repeats the severity named at the head of the column" in html


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_cover_carries_what_a_board_reads_first(lang: str, rendered_cache: RenderCache) -> None:
    rendered = rendered_cache.get(TA1[lang])
    cover = rendered.pages_text()[0]
    view = render.report_view(rendered.report, lang)
    for words in (view.cover.agency, view.cover.program, view.cover.rating_label):
        assert words in cover
    assert view.review.status_label in cover
    decision = (
        "Regulator's decision" if lang == "en" else "Décision de l'organisme de réglementation"
    )
    assert decision in cover
    first = [g.id for g in view.gap_rows[:3]]
    assert len(first) == 3
    for gap_id in first:
        assert gap_id in cover
    assert view.gap_rows[3].id not in cover


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_summary_still_fits_one_page(lang: str, rendered_cache: RenderCache) -> None:
    """The named chart is taller than the numbered one was: TA-1's summary, the longest (its
    French most of all), still fits one page, and the cover stays one page."""
    t = i18n.TEXT[lang]
    pages = rendered_cache.get(TA1[lang]).pages_text()
    assert pages[1].startswith(t["summary"])
    assert pages[2].startswith(t["action_plan"])
