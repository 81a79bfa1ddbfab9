"""Issue 15 in the report: the before-launch checklist, the law version each finding rests on,
and the board-facing wording (verification tags and catalogue notes only where they belong)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.questionnaire.schema import Reference, Source, Verdict, Verification
from service.report import render
from service.report.view import build_view, reference_text, section_label
from tests.report.conftest import DATA, QUESTIONNAIRES, report_input

NYD = Path(__file__).resolve().parents[1] / "data" / "not_yet_due.yaml"


@pytest.fixture(scope="module")
def planned() -> render.ReportInput:
    return report_input(NYD, DATA / "planned.yaml")


def test_not_yet_due_criteria_are_listed_before_launch(planned: render.ReportInput) -> None:
    view = build_view(planned, "en")
    assert [row.id for row in view.before_launch] == ["PIA-01", "AUD-01", "REP-01"]
    pia = view.before_launch[0]
    assert pia.reason == "The PIA is due before the first collection."
    assert pia.recommendation == "Do the PIA"
    assert pia.refs == "LAW s. 38(3), in force 2025-07-01"
    assert view.before_launch[2].reason == 'Not yet due while stage == "planned".'
    assert view.gap_rows == ()
    detail = view.criterion_detail("AUD-01")
    assert (detail.verdict, detail.verdict_label, detail.not_scored) == (
        Verdict.not_yet_due,
        "Not yet due",
        True,
    )
    assert detail.na_reason == "Audits follow launch."


def test_the_checklist_in_french_and_in_the_html(planned: render.ReportInput) -> None:
    fr = build_view(planned, "fr")
    assert fr.before_launch[0].reason == "L'EFVP est due avant la première collecte."
    assert fr.before_launch[0].refs == "LAW art. 38(3), en vigueur depuis le 2025-07-01"
    assert fr.criterion_detail("AUD-01").verdict_label == "Pas encore exigible"
    html = render.render_html(planned, lang="en")
    assert 'id="pg-before-launch"' in html
    assert "Before launch" in html
    assert "Why not yet due" in html
    html_fr = render.render_html(planned, lang="fr")
    assert "Avant le lancement" in html_fr


def test_reference_text_names_the_version_of_the_law() -> None:
    sources = {
        "ON-FIPPA": Source(key="ON-FIPPA", title="FIPPA", verification=Verification.verified)
    }
    ref = Reference.model_validate(
        {"source": "ON-FIPPA", "section": "s. 38(3)", "in_force": "2025-07-01"}
    )
    assert reference_text(ref, sources, "en") == "ON-FIPPA s. 38(3), in force 2025-07-01"
    repealed = Reference.model_validate(
        {"source": "AB", "section": "s. 33", "until": "2025-06-10", "verification": "secondary"}
    )
    assert reference_text(repealed, sources, "en") == "AB s. 33, in force until 2025-06-10"
    both = Reference.model_validate(
        {
            "source": "AB",
            "section": "ss. 33, 35(b)",
            "in_force": "2000-01-01",
            "until": "2025-06-10",
        }
    )
    assert reference_text(both, sources, "fr") == (
        "AB art. 33, 35(b), en vigueur du 2000-01-01 au 2025-06-10"
    )


@pytest.mark.parametrize(
    ("section", "fr"),
    [
        ("s. 38(3)", "art. 38(3)"),
        ("ss. 119(2) and 128", "art. 119(2) et 128"),
        ("Part 6, s. 119", "partie 6, art. 119"),
        ("Art. 27", "art. 27"),
        ("s. 69(5.3); s. 36.3", "art. 69(5.3); art. 36.3"),
        ("para. 12", "par. 12"),
        ("Sch. 1", "ann. 1"),
        ("Principles 1-7", "Principles 1-7"),
    ],
)
def test_section_labels_in_french(section: str, fr: str) -> None:
    assert section_label(section, "fr") == fr
    assert section_label(section, "en") == section


def test_the_escalation_and_the_fact_cite_the_law_they_rest_on(
    planned: render.ReportInput,
) -> None:
    view = build_view(planned, "en")
    duty = next(f for f in view.summary.facts if f.label == "PIA duty")
    assert (duty.value, duty.basis) == ("Statutory", "LAW s. 38(3), in force 2025-07-01")


def test_action_plan_citations_carry_no_verification_tag_and_sources_no_catalogue_note() -> None:
    shipped = QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml"
    report = report_input(shipped, QUESTIONNAIRES / "examples" / "ta1-lakeshore.yaml")
    for lang, marks in (("en", ("[secondary]", "[unverified]")), ("fr", ("[source secondaire]",))):
        view = build_view(report, lang)
        assert view.gap_rows
        for gap in view.gap_rows:
            assert not any(mark in gap.refs for mark in marks), gap.refs
        # the tags stay in the appendix
        assert any(s.verification != "verified" for s in view.sources)
        assert all(s.mark for s in view.sources)
        assert not any(hasattr(s, "note") for s in view.sources)
    html = render.render_html(report, lang="fr")
    assert "Statut de vérification dans le catalogue" not in html
    assert "Verification status in the catalogue" not in render.render_html(report, lang="en")


DATED = Path(__file__).resolve().parents[1] / "data" / "dated_rules.yaml"


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> render.ReportInput:
    answers = tmp_path_factory.mktemp("dated") / "answers.yaml"
    answers.write_text(
        'questionnaire: dated-rules\nversion: "1.0"\nagency: Dated Police\nprogram: P\n'
        "as_of: 2026-08-01\nanswers:\n  stage: in_service\n  first_use: '2021-05-01'\n"
        "  pia: 'yes'\n  notice: partly\n  report: 'no'\n",
        encoding="utf-8",
    )
    return report_input(DATED, answers)


def test_the_report_says_which_date_each_dated_rule_was_judged_on(
    dated: render.ReportInput,
) -> None:
    view = build_view(dated, "en")
    facts = {f.label: f for f in view.summary.facts}
    # the regime is judged on the assessment's date; its row cites the act in force then
    assert facts["Regime"].value == "The new act"
    assert facts["Regime"].basis == (
        "NEW s. 26, in force 2025-06-11; the law in force on 2026-08-01 (the assessment date)"
    )
    # the PIA duty on the first-use date: 2021, before the duty took effect
    assert facts["PIA duty"].value == "Guidance"
    rules = {row.id: row for row in view.method.rules}
    assert rules["NOT-01"].rule == (
        'case 2: notice in ["yes", "partly"] (in force until 2022-09-21, judged on 2021-05-01 '
        "(first_use))"
    )
    assert rules["REP-01"].rule == (
        "not in force on 2026-08-01 (the assessment date): in force 2026-08-02"
    )
    detail = view.criterion_detail("REP-01")
    assert detail.na_reason == (
        "Not in force on 2026-08-01 (the assessment date): in force 2026-08-02."
    )
    fr = build_view(dated, "fr")
    assert {f.label: f for f in fr.summary.facts}["Regime"].basis.endswith(
        "la loi en vigueur le 2026-08-01 (la date de l'évaluation)"
    )
