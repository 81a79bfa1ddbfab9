"""French puts a no-break space before ":" ("Régime : LAIMPVP"). The report's summary page wrote
its "Applicable law" lines and its critical gaps as "label: value" in both languages."""

from __future__ import annotations

import re

from service.report import render
from tests.report.conftest import EXAMPLES, QUESTIONNAIRES, report_input

NBSP = "\u00a0"


def _lines(html: str, css_class: str) -> list[str]:
    found = re.search(rf'<ul class="{css_class}">(.*?)</ul>', html, re.S)
    assert found is not None, css_class
    return [
        re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]


def test_summary_law_and_critical_gaps_put_a_no_break_space_before_colons_in_french() -> None:
    report = report_input(
        QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml", EXAMPLES / "ta3-ville-est.yaml"
    )
    html = render.render_html(report, lang="fr")
    law = _lines(html, "law small")
    critical = _lines(html, "critical small")
    assert len(law) >= 3
    assert critical
    for line in law + critical:
        assert f"{NBSP}:" in line, line
        assert re.search(f"[^{NBSP}]:", line) is None, line  # every colon after a no-break space
    english = render.render_html(report, lang="en")
    for line in _lines(english, "law small") + _lines(english, "critical small"):
        assert re.search(r"\S: ", line), line  # English: no space before the colon
        assert f"{NBSP}:" not in line, line
