"""The PDF: text, structure, tags, outline, attachment, printed hash, goldens, no warnings."""

from __future__ import annotations

import io
import json
import os
import re

import pytest
from pypdf import PdfReader

from service.questionnaire.schema import Severity, localize
from service.questionnaire.submission import canonical_json
from service.report import i18n, render
from service.report.inputs import REVIEW_ATTACHMENT
from tests.report.conftest import FIXTURE_CASES, GOLDEN, RenderCache, Rendered

HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def outline_titles(reader: PdfReader) -> list[object]:
    def walk(items: list[object]) -> list[object]:
        out: list[object] = []
        for item in items:
            if isinstance(item, list):
                out.append(walk(item))
            else:
                out.append(item.title)  # type: ignore[attr-defined]
        return out

    return walk(reader.outline)


def test_no_weasyprint_warnings(rendered: Rendered) -> None:
    assert rendered.warnings == []


def test_tagged_pdf_language_and_metadata(rendered: Rendered) -> None:
    reader = rendered.reader
    root = reader.trailer["/Root"]
    assert root["/Lang"] == rendered.case.lang
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    meta = reader.metadata
    assert meta is not None
    assert meta.title
    assert rendered.report.record.agency in meta.title
    assert meta.author == rendered.report.record.agency
    # the questionnaire's keywords when it gives them (its report: block), else the general ones
    given = rendered.report.questionnaire.report.keywords
    lang = rendered.case.lang
    expected = localize(given, lang) if given else i18n.TEXT[lang]["keywords"]
    assert meta["/Keywords"] == expected
    assert meta["/CreationDate"].startswith("D:2026")


def test_fonts_are_embedded(rendered: Rendered) -> None:
    reader = rendered.reader
    fonts = 0
    for page in reader.pages:
        resources = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                # only the fonts shipped in reports/fonts (@font-face "PG Sans", "PG Mono")
                assert str(descriptor["/FontName"]).split("+")[-1].startswith("PG-")
                fonts += 1
    assert fonts > 0


def test_attachment_is_the_canonical_submission(rendered: Rendered) -> None:
    attachments = rendered.reader.attachments
    assert sorted(attachments) == sorted([render.ATTACHMENT_NAME, REVIEW_ATTACHMENT])
    assert attachments[render.ATTACHMENT_NAME] == [canonical_json(rendered.report.record)]
    # the review state of this submission, beside it (not part of its hash)
    review = json.loads(attachments[REVIEW_ATTACHMENT][0])
    assert review["format"] == "policygap-review/1"
    assert review["submission_sha256"] == rendered.report.sha256
    assert review["number"] == rendered.report.record.number
    assert review["status"] == rendered.report.status
    # document level: the catalogue's /Names /EmbeddedFiles
    names = rendered.reader.trailer["/Root"]["/Names"]
    assert "/EmbeddedFiles" in names


def test_hash_printed_once_on_one_line(rendered: Rendered) -> None:
    sha = rendered.report.sha256
    text = rendered.text()
    assert text.count(sha) == 1
    hashes = set(HEX64.findall(text))
    assert hashes == {sha, rendered.report.record.questionnaire_sha256}
    # on one line: pdfplumber's lines hold it whole
    assert any(sha in [line.strip() for line in page.splitlines()] for page in rendered.raw_pages())
    # the document id on the cover is its first 12 characters
    assert sha[:12] in rendered.pages_text()[0]


def test_rating_gaps_and_regime(rendered: Rendered) -> None:
    lang = rendered.case.lang
    result = rendered.report.result
    text = rendered.text()
    cover = rendered.pages_text()[0]
    rating_word = i18n.RATING[lang][result.rating.value]
    t = i18n.TEXT[lang]
    assert " ".join(f"{t['rating']}{t['colon']} {rating_word}".split()) in cover
    for gap in result.gaps:
        assert gap in text
    q = rendered.questionnaire
    regime = next((f for f in q.facts if f.id == "regime"), None)
    if regime is not None:
        label = localize(regime.values[str(result.facts["regime"])], lang)
        assert " ".join(label.split()) in text
    assert render.stated_line(result) in text


def test_action_plan_orders_gaps_by_severity(rendered: Rendered) -> None:
    text = rendered.text()
    plan_title = i18n.TEXT[rendered.case.lang]["action_plan"]
    detail_title = i18n.TEXT[rendered.case.lang]["detail"]
    plan = text[text.index(plan_title) : text.rindex(detail_title)]
    positions = [plan.index(gap) for gap in rendered.report.result.gaps]
    assert positions == sorted(positions)
    for gap in rendered.report.result.gaps:
        c = rendered.report.result.criterion(gap)
        if c.escalated:
            base = i18n.SEVERITY[rendered.case.lang][c.base_severity.value].lower()
            word = "escalated from" if rendered.case.lang == "en" else "rehaussée depuis"
            assert f"{word} {base}" in plan


def test_outline(rendered: Rendered) -> None:
    t = i18n.TEXT[rendered.case.lang]
    titles = outline_titles(rendered.reader)
    top = [x for x in titles if isinstance(x, str)]
    assert top == [t["summary"], t["action_plan"], t["detail"], t["method"], t["appendix"]]
    detail_children = titles[titles.index(t["detail"]) + 1]
    assert isinstance(detail_children, list)
    expected = [
        localize(s.title, rendered.case.lang)
        for s in rendered.questionnaire.sections
        if any(c.section == s.id for c in rendered.questionnaire.criteria)
    ]
    assert detail_children == expected


def test_page_numbers_header_and_advisory(rendered: Rendered) -> None:
    pages = rendered.pages_text()
    total = len(pages)
    word = "of" if rendered.case.lang == "en" else "de"
    advisory = rendered.report.result.advisory
    banner = " ".join(i18n.TEXT[rendered.case.lang]["advisory_banner"].split())
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} {word} {total}" in page
        assert rendered.report.record.agency in page
        if rendered.case.marking:
            assert rendered.case.marking.upper() in page
        assert (banner in page) is advisory


def test_summary_fits_one_page(rendered: Rendered) -> None:
    t = i18n.TEXT[rendered.case.lang]
    pages = rendered.pages_text()
    summary_pages = [i for i, p in enumerate(pages) if p.startswith(t["summary"])]
    assert len(summary_pages) == 1
    start = summary_pages[0]
    assert pages[start + 1].startswith(t["action_plan"])


def test_letter_by_default_a4_on_request(rendered_cache: RenderCache) -> None:
    letter_case = next(c for c in FIXTURE_CASES if c.name == "fixture-border-en")
    letter = rendered_cache.get(letter_case)
    box = letter.reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    a4 = PdfReader(io.BytesIO(render.render_pdf(letter.report, paper="a4"))).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    with pytest.raises(ValueError, match="paper"):
        render.render_pdf(letter.report, paper="legal")


def _normalise(rendered: Rendered) -> str:
    out = []
    version = render.tool_version()
    for number, page in enumerate(rendered.pages_text(), start=1):
        out.append(f"--- page {number}")
        out.append(page.replace(f"PolicyGap {version}", "PolicyGap <version>"))
    return "\n".join(out) + "\n"


def test_golden_text(rendered: Rendered) -> None:
    path = GOLDEN / f"{rendered.case.name}.txt"
    text = _normalise(rendered)
    if os.environ.get("POLICYGAP_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}; run with POLICYGAP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is meant, run with POLICYGAP_UPDATE_GOLDEN=1"
    )


def test_critical_gaps_on_the_summary(rendered: Rendered) -> None:
    t = i18n.TEXT[rendered.case.lang]
    summary = next(p for p in rendered.pages_text() if p.startswith(t["summary"]))
    result = rendered.report.result
    critical = [g for g in result.gaps if result.criterion(g).severity is Severity.critical]
    for gap in critical:
        assert gap in summary
    if not critical:
        assert t["no_critical_gaps"] in summary
