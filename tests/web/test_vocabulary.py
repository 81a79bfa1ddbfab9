"""One label per concept: the French words of verdicts, ratings, severities and statuses are the
same in the report, on the reviewer's and the officer's pages, in the audit history and in the CLI."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.i18n import labels, rating_label, severity_label, status_label, verdict_label
from tests.builders import World, csrf_from, login
from tests.review.helpers import GOOD, submitted
from tests.unit.test_cli import GOOD_ANSWERS

# words that named one of these concepts before the catalogues were merged (issue 13)
RETIRED = ("Satisfait", "Partiellement satisfait", "Non satisfait", "Orange", "Lacune", "lacune")
DATA = Path(__file__).parent.parent / "data"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _in_french_html(client: TestClient, url: str) -> str:
    page = client.get(url)
    client.post(
        "/language",
        data={"csrf_token": csrf_from(page.text), "lang": "fr", "next": url},
        follow_redirects=False,
    )
    french = client.get(url)
    assert french.status_code == 200
    assert '<html lang="fr">' in french.text
    return french.text


def _assert_one_vocabulary(text: str, where: str) -> None:
    for word in RETIRED:
        assert not re.search(rf"\b{word}\b", text), f"{where}: {word!r}"


def test_the_same_french_labels_on_every_page_and_in_the_report(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "pia_done": "no"})
    login(client, world.reviewer_on.email)
    review_html = _in_french_html(client, f"/review/{aid}")
    review = _text(review_html)
    report = _text(client.get(f"/assessments/{aid}/report.html?lang=fr").text)
    login(client, world.officer_a.email)
    result = _text(_in_french_html(client, f"/assessments/{aid}/result"))
    history = _text(client.get(f"/assessments/{aid}/history").text)
    for where, text in (("review", review), ("report", report), ("result", result)):
        _assert_one_vocabulary(text, where)
    _assert_one_vocabulary(history, "history")
    # the verdicts and severities the reviewer reads are the report's words
    shown = set(re.findall(r'<span class="tag tag--verdict-[a-z_]+">([^<]+)</span>', review_html))
    assert shown
    assert shown <= {verdict_label(v, "fr") for v in labels.VERDICTS}
    assert [word for word in shown if html.unescape(word) not in report] == []
    for value in ("critical", "high", "medium", "low"):
        if severity_label(value, "en") in review:
            raise AssertionError(f"English severity on a French page: {value}")
    rating = next(r for r in labels.RATINGS if rating_label(r, "fr") in report)
    assert rating_label(rating, "fr") in review
    assert rating_label(rating, "fr") in result
    assert status_label("submitted", "fr") in review
    assert status_label("submitted", "fr") in history


def test_the_cli_speaks_the_report_s_words(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(GOOD_ANSWERS)
    out = CliRunner().invoke(
        cli_app, ["score", str(DATA / "scoring.yaml"), str(answers), "--lang", "fr"]
    )
    assert out.exit_code == 0, out.output
    _assert_one_vocabulary(out.stdout, "cli")
    assert f"Cote: {rating_label('amber', 'fr').upper()}" in out.stdout
    for value in ("met", "not_met"):
        assert f"  {verdict_label(value, 'fr')} " in out.stdout
    assert severity_label("high", "fr") in out.stdout


def test_audit_detail_labels_the_program_and_a_section_status() -> None:
    """The history and the audit log showed "program : ..." and "Statut : completed"."""
    assert labels.detail_text({"program": "P"}, "fr") == "Programme\u00a0: P"
    completed = labels.section_status_label("completed", "fr")
    assert completed != "completed"
    assert labels.detail_text({"section": "scope", "status": "completed"}, "fr") == (
        f"Section\u00a0: scope; Statut\u00a0: {completed}"
    )
    assert labels.detail_text({"status": "submitted"}, "fr") == "Statut\u00a0: Soumise"
