"""The HTML report: accessible structure, one set of templates, escaping, caching, pickling."""

from __future__ import annotations

import pickle
import re
import time
from html.parser import HTMLParser

import pytest

from service.report import i18n, render
from service.report.render import ReportInput, ReviewInfo
from tests.report.conftest import DATA, REPORTS, Rendered, report_input

TEMPLATES = REPORTS / "templates"


class Outline(HTMLParser):
    """Headings, tables and SVG charts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.svgs: list[dict[str, str | None]] = []
        self.th_without_scope = 0
        self.tables = 0
        self.captions = 0
        self.svg_titles = 0
        self.title = False
        self.html_lang: str | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "svg":
            self.svgs.append(a)
        elif tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "title":
            if self.svgs:
                self.svg_titles += 1
            else:
                self.title = True
        elif tag == "html":
            self.html_lang = a.get("lang")


def parse(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_html_is_accessible(rendered: Rendered) -> None:
    page = parse(rendered.html)
    assert page.html_lang == rendered.case.lang
    assert page.title
    assert page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, "a heading level is skipped"
    assert page.th_without_scope == 0
    assert page.tables == page.captions
    assert page.svgs
    assert all(s.get("role") == "img" for s in page.svgs)
    assert page.svg_titles == len(page.svgs)
    # the numbers beside the chart, in a table, and the rating as a word
    for row in rendered.report.result.sections:
        if row.score is not None:
            shown = f"{row.score:.1f}".replace(".", "," if rendered.case.lang == "fr" else ".")
            assert shown in rendered.html
    assert i18n.RATING[rendered.case.lang][rendered.report.result.rating.value] in rendered.html


def test_fragment_has_no_page_wrapper() -> None:
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    fragment = render.render_html(report, fragment=True)
    assert "<html" not in fragment
    assert "<body" not in fragment
    assert "<style" not in fragment
    assert fragment.lstrip().startswith('<div class="pg-report"')
    page = parse(fragment)
    assert page.headings[0] == 1


def test_templates_are_one_set_without_unsafe_markup() -> None:
    names = sorted(p.name for p in TEMPLATES.iterdir())
    assert all(name.endswith(".html") for name in names)
    for path in TEMPLATES.iterdir():
        source = path.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", ""), path.name
        assert "autoescape false" not in source, path.name
        assert "href=" not in source, f"{path.name}: links built from data are a review point"
    env = render._environment()
    assert env.autoescape is True


def test_review_comments_and_previous_result() -> None:
    base = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    review = ReviewInfo(
        decided_by="A. Analyst <analyst@example.org>",
        general_comment="Close COL-02 first & report back.",
        comments={"GOV-01": ["The PIA <draft> was not attached."]},
    )
    previous = report_input(DATA / "medium.yaml", DATA / "border.yaml").result
    report = ReportInput(base.questionnaire, base.record, base.result, "accepted", review, previous)
    html = render.render_html(report)
    assert "The PIA &lt;draft&gt; was not attached." in html
    assert "Close COL-02 first &amp; report back." in html
    assert "A. Analyst &lt;analyst@example.org&gt;" in html
    assert "Accepted" in html
    assert i18n.TEXT["en"]["change"] in html
    assert i18n.TEXT["en"]["gaps_new"] in html


def test_unknown_language_and_status_are_refused() -> None:
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    with pytest.raises(ValueError, match="language"):
        render.render_html(report, lang="de")
    bad = ReportInput(report.questionnaire, report.record, report.result, "approved")
    with pytest.raises(ValueError, match="status"):
        render.render_html(bad)


def test_report_input_is_picklable_for_a_render_process() -> None:
    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    copy = pickle.loads(pickle.dumps(report))  # noqa: S301 - our own bytes, as a process pool does
    assert copy.sha256 == report.sha256
    assert render.render_html(copy) == render.render_html(report)


def test_cached_second_request_is_fast() -> None:
    render.clear_cache()
    report = report_input(DATA / "medium.yaml", DATA / "border.yaml")
    first = render.render_pdf_cached(report, lang="fr")
    start = time.perf_counter()
    second = render.render_pdf_cached(report, lang="fr")
    elapsed = time.perf_counter() - start
    assert second == first
    assert elapsed < 0.05
    # another review state is another entry: an accepted report is not its submitted state
    accepted = ReportInput(
        report.questionnaire, report.record, report.result, "accepted", ReviewInfo("someone")
    )
    assert render.cache_key(accepted, lang="fr") != render.cache_key(report, lang="fr")
    assert render.cache_key(report, lang="en") != render.cache_key(report, lang="fr")


def test_render_job_for_the_web_app() -> None:
    from service.report import formats

    report = report_input(DATA / "medium.yaml", DATA / "lakeshore.yaml")
    job = formats.RenderJob(
        questionnaire_id=report.questionnaire.id,
        questionnaire_version=report.questionnaire.version,
        canonical=report.canonical,
        format="html-fragment",
        lang="fr",
    )
    html = formats.render(job, report.questionnaire).decode("utf-8")
    assert report.sha256 in html
    assert "<html" not in html
    with pytest.raises(ValueError, match="unknown format"):
        formats.get_format("docx")


def test_small_incomplete_assessment_renders() -> None:
    """A questionnaire without inherent risk, with unanswered questions: still a full report."""
    from datetime import date

    from service.questionnaire.answers import AnswersFile
    from tests.report.conftest import ROOT, load_questionnaire

    q = load_questionnaire(ROOT / "tests" / "data" / "mini.yaml")
    data = AnswersFile(
        questionnaire=q.id,
        version=q.version,
        agency="Tiny PD",
        program="",
        answers={"body_type": "police"},
    )
    report = render.build_report_input(q, data, as_of=date(2026, 11, 26), status="draft")
    assert not report.result.complete
    html = render.render_html(report, lang="fr")
    assert i18n.TEXT["fr"]["incomplete"].replace("'", "&#39;") in html
    assert "Ébauche" in html
    pdf = render.render_pdf(report, lang="fr")
    assert pdf.startswith(b"%PDF-")
    with pytest.raises(ValueError, match="as_of"):
        render.build_report_input(q, data)
