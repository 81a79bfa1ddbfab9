"""A second questionnaire of another domain (licence plate readers, tests/data/lpr.yaml):
it loads clean under --strict and scores as computed by hand, so nothing in the engine is
specific to facial recognition."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.questionnaire import loader, scoring
from service.questionnaire.schema import QuestionType, Rating, Verdict

DATA = Path(__file__).parent.parent / "data"
QUESTIONNAIRE = DATA / "lpr.yaml"
ANSWERS = DATA / "lpr-answers.yaml"
runner = CliRunner()


def _score(replace: tuple[str, str] | None = None) -> scoring.Result:
    result = loader.load_file(QUESTIONNAIRE)
    assert result.questionnaire is not None
    raw = ANSWERS.read_bytes()
    if replace:
        raw = raw.replace(replace[0].encode(), replace[1].encode())
    data, problems = loader.load_answers(raw, str(ANSWERS))
    assert data is not None
    assert problems == []
    assert data.as_of is not None
    return scoring.score(result.questionnaire, data.to_answers(), as_of=data.as_of)


def test_it_loads_clean_under_strict_with_every_question_type() -> None:
    result = runner.invoke(app, ["validate", "--strict", str(QUESTIONNAIRE)])
    assert result.exit_code == 0, result.output
    loaded = loader.load_file(QUESTIONNAIRE)
    assert loaded.problems == []
    assert loaded.questionnaire is not None
    assert {q.type for q in loaded.questionnaire.questions()} == set(QuestionType)


def test_scores_as_computed_by_hand() -> None:
    res = _score()
    verdicts = {c.id: c.verdict for c in res.criteria}
    assert verdicts == {
        "COL-01": Verdict.met,  # hotlist_only yes
        "COL-02": Verdict.partial,  # notice_posted partial (map)
        "RET-01": Verdict.partial,  # 20 days: <= 30
        "RET-02": Verdict.met,  # yes, with evidence
        "RET-03": Verdict.not_met,  # last purge 2025-01-15: 13 months before 2026-03-01
        "GOV-01": Verdict.partial,  # partly
        "GOV-02": Verdict.not_met,  # no
    }
    weights = {c.id: c.weight for c in res.criteria}
    # COL-01 sets weight 3; COL-02 escalated medium -> high (150,000 reads a day): 4;
    # GOV-01 escalated high -> critical (mobile readers: inherent risk high): 8.
    assert weights == {
        "COL-01": 3,
        "COL-02": 4,
        "RET-01": 4,
        "RET-02": 2,
        "RET-03": 1,
        "GOV-01": 8,
        "GOV-02": 2,
    }
    sections = {s.id: s.score for s in res.sections}
    # collection (3*1 + 4*0.5) / 7 = 71.4; retention (4*0.5 + 2*1 + 1*0) / 7 = 57.1;
    # governance (8*0.5 + 2*0) / 10 = 40.0; overall 13 / 24 = 54.2
    assert sections == {"collection": 71.4, "retention": 57.1, "governance": 40.0}
    assert res.context_sections == ["scope"]
    assert res.score == 54.2
    assert res.band_rating is Rating.amber
    assert [(g.id, g.criteria) for g in res.gates_fired] == [("medium_gap", ["GOV-02"])]
    assert res.rating is Rating.amber
    assert res.gaps == ["GOV-01", "COL-02", "RET-01", "GOV-02", "RET-03"]
    assert res.facts == {"in_scope": "in_scope", "risk": "high"}
    assert res.inherent_risk == "high"
    assert res.advisory is False
    assert res.complete is True


def test_a_private_operator_is_advisory_and_sharing_not_applicable() -> None:
    res = _score(("operator: police", "operator: private"))
    assert res.advisory is True
    gov02 = res.criterion("GOV-02")
    assert gov02.verdict is Verdict.not_applicable
    # governance: GOV-01 alone, 8 * 0.5 / 8 = 50.0; overall 13 / 22 = 59.1
    assert {s.id: s.score for s in res.sections}["governance"] == 50.0
    assert res.score == 59.1
    assert res.gates_fired == []


def test_the_score_command_prints_it_in_french() -> None:
    result = runner.invoke(app, ["score", str(QUESTIONNAIRE), str(ANSWERS), "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert "Lecteurs de plaques d'immatriculation (lpr-police 1.0)" in result.output
    assert "  Risque inhérent: élevé" in result.output
    assert "  À propos du programme: contexte seulement" in result.output


def test_the_report_renders_and_verifies_in_both_languages(tmp_path: Path) -> None:
    """With today's `policygap report` and `verify` (the report tests proper come later)."""
    for lang in ("en", "fr"):
        pdf = tmp_path / f"lpr-{lang}.pdf"
        made = runner.invoke(
            app, ["report", str(QUESTIONNAIRE), str(ANSWERS), "--lang", lang, "-o", str(pdf)]
        )
        assert made.exit_code == 0, made.output
        checked = runner.invoke(
            app,
            [
                "verify",
                str(pdf),
                "--no-database",
                "--allow-unsigned",
                "--questionnaire",
                str(QUESTIONNAIRE),
            ],
        )
        assert checked.exit_code == 0, checked.output
        assert "verified" in checked.output


def test_the_report_takes_its_domain_words_from_the_questionnaire() -> None:
    """Nothing of facial recognition in the engine: keywords, advisory banner and the facts
    heading come from the questionnaire's `report:` block, in the reader's language."""
    from dataclasses import replace

    from service.questionnaire.loader import load_answers, load_file
    from service.report import render

    questionnaire = load_file(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    answers, problems = load_answers(ANSWERS.read_bytes(), str(ANSWERS))
    assert answers is not None, problems
    report = render.build_report_input(questionnaire, answers)
    advisory = replace(report, result=report.result.model_copy(update={"advisory": True}))
    en = render.render_html(advisory, lang="en")
    fr = render.render_html(advisory, lang="fr")
    assert '<meta name="keywords" content="privacy, licence plate readers, gap report">' in en
    assert "ADVISORY: a private operator; the public-sector rules do not bind it." in en
    assert "Applicable rules and derived facts" in en
    assert "facial recognition" not in en
    assert "vie privée, lecteurs de plaques, rapport d&#39;écarts" in fr
    assert "Règles applicables et faits dérivés" in fr
    assert "reconnaissance faciale" not in fr
    # without the block, the report's general words: nothing names a domain
    plain = replace(
        advisory,
        questionnaire=questionnaire.model_copy(update={"report": type(questionnaire.report)()}),
    )
    html = render.render_html(plain, lang="en")
    assert '<meta name="keywords" content="privacy, gap report">' in html
    assert "Applicable law and derived facts" in html


def test_the_command_line_describes_the_tool_not_a_domain() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "facial recognition" not in result.output
    assert "Questionnaires in YAML" in result.output


def test_a_section_without_criteria_is_shown_as_context_only() -> None:
    from service.questionnaire.loader import load_answers, load_file
    from service.report import render

    questionnaire = load_file(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    answers, _ = load_answers(ANSWERS.read_bytes(), str(ANSWERS))
    assert answers is not None
    report = render.build_report_input(questionnaire, answers)
    assert report.result.context_sections == ["scope"]
    rows = {r.id: r.score for r in render.build_view(report, "fr").section_scores}
    assert rows["scope"] == "contexte seulement"
    assert next(iter(rows)) == "scope"  # in the questionnaire's order
    assert "About the program" in render.render_html(report, lang="en")
