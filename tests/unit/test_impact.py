"""The change report (`questionnaire.impact`, `policygap impact`) and `validate --previous`:
its numbers equal scoring each carried answer set directly."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.carry import carry
from service.questionnaire.impact import ChangeWhy, impact
from service.questionnaire.schema import Questionnaire, Rating

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
OLD_FILE = ROOT / "questionnaires" / "frt-police-canada.yaml"
NEW_FILE = ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml"
EXAMPLES = sorted((DATA / "examples-1.0.0").glob("*.yaml"))
AS_OF = date(2026, 12, 5)
runner = CliRunner()


def _load(path: Path) -> Questionnaire:
    result = loader.load_file(path)
    assert result.questionnaire is not None
    return result.questionnaire


OLD = _load(OLD_FILE)
NEW = _load(NEW_FILE)


def _answer_sets() -> list[tuple[str, Answers]]:
    out = []
    for path in EXAMPLES:
        data, _ = loader.load_answers(path.read_bytes(), str(path))
        assert data is not None
        out.append((path.name, data.to_answers()))
    return out


def test_impact_numbers_equal_scoring_each_carried_answer_set() -> None:
    sets = _answer_sets()
    report = impact(OLD, NEW, sets, as_of=AS_OF)
    assert [r.name for r in report.assessments] == [name for name, _ in sets]
    for row, (_, answers) in zip(report.assessments, sets, strict=True):
        before = scoring.score(OLD, answers, as_of=AS_OF)
        after = scoring.score(NEW, carry(NEW, answers, "1.0.0", old=OLD).answers, as_of=AS_OF)
        assert (row.old.rating, row.old.score) == (before.rating, before.score)
        assert (row.new.rating, row.new.score) == (after.rating, after.score)
        old_verdicts = {c.id: c.verdict for c in before.criteria}
        new_verdicts = {c.id: c.verdict for c in after.criteria}
        changed = {
            cid
            for cid in old_verdicts.keys() | new_verdicts.keys()
            if old_verdicts.get(cid) != new_verdicts.get(cid)
        }
        assert {c.criterion for c in row.changes} == changed
        for ch in row.changes:
            assert (ch.old, ch.new) == (
                old_verdicts.get(ch.criterion),
                new_verdicts.get(ch.criterion),
            )
            if ch.old is None:
                assert ch.why is ChangeWhy.new_criterion
    summary = report.summary
    pairs = Counter((r.old.rating, r.new.rating) for r in report.assessments)
    assert all(summary.moved(a, b) == pairs.get((a, b), 0) for a in Rating for b in Rating)
    assert sum(summary.moves.values()) == len(sets) == summary.assessments
    fresh = set(report.new_criteria)
    assert fresh == {"APP-05", "APP-06", "APP-07", "COL-15", "COL-16", "COL-17", "COL-18"}
    failing = Counter(
        c.id
        for r in report.assessments
        for c in r.new.criteria
        if c.id in fresh and c.verdict.is_gap
    )
    assert dict(summary.new_criteria_failing) == dict(failing)


def test_impact_explains_a_change_by_the_changed_answers_it_reads() -> None:
    """ta2 answered local_testing "full": under 1.1.0 that is asked again, so ACC-02 (which
    reads bias_testing) changes because of the answers, and bias_testing is to answer now."""
    sets = [s for s in _answer_sets() if s[0] == "ta2-federal-force.yaml"]
    row = impact(OLD, NEW, sets, as_of=AS_OF).assessments[0]
    acc = next(c for c in row.changes if c.criterion == "ACC-02")
    assert acc.why is ChangeWhy.answers_changed
    assert "bias_testing" in acc.questions
    assert "bias_testing" in row.new_questions_to_answer
    assert "lifecycle_stage" in row.new_questions_to_answer


def test_cli_impact_prints_each_file_and_the_summary_and_writes_csv(tmp_path: Path) -> None:
    out = tmp_path / "impact.csv"
    result = runner.invoke(
        app,
        [
            "impact",
            str(OLD_FILE),
            str(NEW_FILE),
            *map(str, EXAMPLES),
            "--as-of",
            "2026-12-05",
            "--csv",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "frt-police-canada 1.0.0 -> 1.1.0" in text
    assert all(p.name in text for p in EXAMPLES)
    assert "Summary (5):" in text
    assert "New criteria failing most often:" in text
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["Answers", "Agency", "Program"]
    assert {r[0] for r in rows[1:]} == {p.name for p in EXAMPLES}
    french = runner.invoke(
        app, ["impact", str(OLD_FILE), str(NEW_FILE), str(EXAMPLES[0]), "--lang", "fr"]
    )
    assert french.exit_code == 0, french.output
    assert "Rapport de changement" in french.output


def test_cli_impact_refuses_bad_input(tmp_path: Path) -> None:
    bad_date = runner.invoke(
        app, ["impact", str(OLD_FILE), str(NEW_FILE), str(EXAMPLES[0]), "--as-of", "5/12/2026"]
    )
    assert bad_date.exit_code == 2
    assert "not a date" in bad_date.output
    other = runner.invoke(app, ["impact", str(OLD_FILE), str(DATA / "mini.yaml"), str(EXAMPLES[0])])
    assert other.exit_code == 2
    assert "is not a version of" in other.output
    # answers of the new version given as old answers: located problems, exit 2
    wrong = runner.invoke(
        app,
        [
            "impact",
            str(OLD_FILE),
            str(NEW_FILE),
            str(ROOT / "questionnaires" / "examples" / EXAMPLES[0].name),
        ],
    )
    assert wrong.exit_code == 2
    assert "version: the answers are for version '1.1.0'" in wrong.output


def test_cli_validate_previous_checks_the_mapping(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", "--previous", str(OLD_FILE), str(NEW_FILE)])
    assert ok.exit_code == 0, ok.output
    text = (DATA / "carry" / "mini-2.0.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "mini-2.0.yaml"
    broken.write_text(text.replace("    new: [board_informed]\n", ""), encoding="utf-8")
    alone = runner.invoke(app, ["validate", str(broken)])
    assert alone.exit_code == 0, alone.output  # alone, nothing says board_informed is new
    checked = runner.invoke(app, ["validate", "--previous", str(DATA / "mini.yaml"), str(broken)])
    assert checked.exit_code == 1
    assert (
        f"{broken}:40:13: sections[1].questions[2].id: question board_informed is not in "
        "version 1.0: list it under new:" in checked.output
    )
