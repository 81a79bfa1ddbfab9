"""French puts a no-break space before ":" ("Régime : LAIMPVP"). The report's summary page wrote
its "Applicable law" lines and its critical gaps as "label: value" in both languages."""

from __future__ import annotations

import html as markup
import re

from service.report import render
from service.report.view import build_view
from tests.report.conftest import EXAMPLES, QUESTIONNAIRES, report_input

NBSP = "\u00a0"


def _lines(page: str, css_class: str) -> list[str]:
    found = re.search(rf'<ul class="{css_class}">(.*?)</ul>', page, re.S)
    assert found is not None, css_class
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    return [" ".join(markup.unescape(re.sub(r"<[^>]+>", "", li)).split(" ")) for li in items]


def test_summary_law_and_critical_gaps_put_a_no_break_space_before_colons_in_french() -> None:
    report = report_input(
        QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml", EXAMPLES / "ta3-ville-est.yaml"
    )
    for lang, colon in (("fr", f"{NBSP}:"), ("en", ":")):
        summary = build_view(report, lang).summary
        page = render.render_html(report, lang=lang)
        law = _lines(page, "law small")
        critical = _lines(page, "critical small")
        assert len(summary.facts) >= 3
        assert law == [f"{f.label}{colon} {f.value}" for f in summary.facts], lang
        assert summary.critical
        assert critical == [
            f"{g.id} {g.title}{colon} {g.verdict_label.lower()}" for g in summary.critical
        ], lang
