"""Dated rules (issue 15): `in_force` / `until` and `judged_by` on a fact row, an escalation, a
case and a whole criterion.

The loader refuses a dated rule that does not say which date it is judged by, or that is judged
by something other than `as_of` or a date question, with FILE:LINE:COL on the faulty value (a
table of single-fault mutations of tests/data/dated_rules.yaml). The engine judges each rule on
its own date, hand-computed below: the regime on `as_of`, the PIA duty on the first-use date (a
planned program, whose first-use question is hidden, on `as_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from service.questionnaire import loader, scoring
from service.questionnaire.answers import Answers
from service.questionnaire.engine import Window, program_of, resolve
from service.questionnaire.reasons import Reason, ReasonCode
from service.questionnaire.schema import Questionnaire, Severity, Verdict

DATA = Path(__file__).parent.parent / "data"
FILE = DATA / "dated_rules.yaml"
TEXT = FILE.read_text(encoding="utf-8")
NAME = "dated_rules.yaml"


@dataclass(frozen=True)
class M:
    name: str
    find: str
    replace: str
    at: str  # the faulty value: the problem is located at its first occurrence in the new text
    words: str


MUTATIONS = [
    M(
        "unknown_date_question",
        "        judged_by: first_use\n    default",
        "        judged_by: first_usage\n    default",
        "first_usage",
        "there is no date question 'first_usage'; did you mean 'first_use'?",
    ),
    M(
        "as_of_misspelt",
        "        judged_by: as_of\n        references",
        "        judged_by: asof\n        references",
        "asof",
        "there is no date question 'asof'; did you mean 'as_of'?",
    ),
    M(
        "judged_by_a_choice_question",
        "          judged_by: first_use\n        - when",
        "          judged_by: notice\n        - when",
        "notice\n        - when",
        "notice is a yes_no question, not a date question",
    ),
    M(
        "judged_by_a_fact",
        "\n    judged_by: as_of\n    rule: {answer: report}",
        "\n    judged_by: regime\n    rule: {answer: report}",
        "regime\n    rule",
        "regime is a fact, not a date question",
    ),
    M(
        "judged_by_a_number",
        "\n    judged_by: as_of\n    rule: {answer: report}",
        "\n    judged_by: 2026\n    rule: {answer: report}",
        "2026\n    rule",
        "2026 is read by YAML as a number",
    ),
    M(
        "in_force_without_judged_by",
        "        in_force: 2030-01-01\n        judged_by: as_of\n",
        "        in_force: 2030-01-01\n",
        "2030-01-01",
        "a dated rule names the date it is judged by: add judged_by: as_of",
    ),
    M(
        "until_without_judged_by",
        "          until: 2022-09-21\n          judged_by: first_use\n",
        "          until: 2022-09-21\n",
        "2022-09-21",
        "a dated rule names the date it is judged by",
    ),
    M(
        "judged_by_without_a_date",
        "        in_force: 2030-01-01\n        judged_by: as_of\n",
        "        judged_by: as_of\n",
        "as_of\n    rule: {answer: pia}",
        "judged_by needs in_force",
    ),
    M(
        "until_before_in_force",
        "    in_force: 2026-08-02\n    judged_by: as_of\n",
        "    in_force: 2026-08-02\n    until: 2026-01-01\n    judged_by: as_of\n",
        "2026-01-01",
        "until (2026-01-01) is before in_force (2026-08-02)",
    ),
    M(
        "not_a_date",
        "    in_force: 2026-08-02\n    judged_by",
        "    in_force: 2026-13-02\n    judged_by",
        "2026-13-02",
        "date",
    ),
    M(
        "not_in_force_reason_on_an_undated_criterion",
        "    rule: {answer: pia}\n",
        "    rule: {answer: pia}\n    not_in_force_reason: Not yet.\n",
        "Not yet.",
        "not_in_force_reason is printed only while PIA-01 is not in force",
    ),
    M(
        "judged_by_makes_a_cycle",
        "visible_if: 'stage == \"in_service\"'",
        "visible_if: 'pia_duty == \"guidance\"'",
        "first_use\n    default",
        "cycle",
    ),
]


def _position(text: str, fragment: str) -> tuple[int, int]:
    index = text.index(fragment)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


@pytest.mark.parametrize("m", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_the_loader_refuses_a_faulty_dated_rule_at_its_line_and_column(m: M) -> None:
    assert TEXT.count(m.find) >= 1, m.find
    mutated = TEXT.replace(m.find, m.replace, 1)
    result = loader.load_text(mutated.encode(), NAME)
    assert result.questionnaire is None
    line, col = _position(mutated, m.at)
    errors = [p for p in result.problems if p.level == "error"]
    located = [p for p in errors if (p.line, p.col) == (line, col)]
    assert located, f"nothing at {NAME}:{line}:{col}; got {[p.format() for p in errors]}"
    assert any(m.words in p.message for p in located), [p.format() for p in located]
    assert located[0].format().startswith(f"{NAME}:{line}:{col}: ")


def test_the_file_loads_clean() -> None:
    result = loader.load_file(FILE)
    assert result.questionnaire is not None
    assert [p.format() for p in result.problems] == []


# -- the engine ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    result = loader.load_file(FILE)
    assert result.questionnaire is not None
    return result.questionnaire


def score(q: Questionnaire, values: dict[str, Any], as_of: date) -> scoring.Result:
    return scoring.score(q, Answers(values=values, evidence={}), as_of=as_of)


IN_SERVICE = {"stage": "in_service", "pia": "yes", "notice": "yes", "report": "yes"}


@pytest.mark.parametrize(
    ("as_of", "regime"),
    [
        (date(2025, 6, 10), "old_act"),  # the old act's last day
        (date(2025, 6, 11), "new_act"),  # the new act's first day
        (date(2026, 1, 1), "new_act"),
    ],
)
def test_the_regime_is_judged_on_as_of(q: Questionnaire, as_of: date, regime: str) -> None:
    # first use long before either date: the regime follows the assessment's date only
    values = {**IN_SERVICE, "first_use": "2020-01-01"}
    assert score(q, values, as_of).facts["regime"] == regime


@pytest.mark.parametrize(
    ("values", "as_of", "duty"),
    [
        # in service: the first-use date decides, whatever the assessment's date
        ({"first_use": "2025-06-30"}, date(2026, 1, 1), "guidance"),
        ({"first_use": "2025-07-01"}, date(2026, 1, 1), "statutory"),
        # a planned program: its first-use question is hidden; judged on as_of
        ({"stage": "planned", "first_use": None}, date(2025, 6, 30), "guidance"),
        ({"stage": "planned", "first_use": None}, date(2025, 7, 1), "statutory"),
        # in service, the first-use date not given: unknown, the dated row does not hold
        ({"first_use": None}, date(2026, 1, 1), "guidance"),
    ],
)
def test_the_pia_duty_is_judged_on_the_first_use_date(
    q: Questionnaire, values: dict[str, Any], as_of: date, duty: str
) -> None:
    answers = {k: v for k, v in {**IN_SERVICE, **values}.items() if v is not None}
    assert score(q, answers, as_of).facts["pia_duty"] == duty


def test_a_dated_fact_reads_its_date_question_first(q: Questionnaire) -> None:
    order = program_of(q).order
    assert order.index("first_use") < order.index("pia_duty")


def test_an_escalation_holds_only_in_force(q: Questionnaire) -> None:
    values = {**IN_SERVICE, "first_use": "2020-01-01", "pia": "no"}
    # PIA duty is guidance (first use 2020), the dated escalation takes effect 2030-01-01
    before = score(q, values, date(2029, 12, 31)).criterion("PIA-01")
    assert (before.severity, before.escalated, before.weight) == (Severity.high, False, 4.0)
    after = score(q, values, date(2030, 1, 1)).criterion("PIA-01")
    assert (after.severity, after.weight) == (Severity.critical, 8.0)
    assert after.trace.escalation is not None
    assert dict(after.trace.escalation.values) == {
        "base": "high",
        "to": "critical",
        "when": "answered(stage)",
        "in_force": "2030-01-01",
        "until": "",
        "judged_by": "as_of",
        "date": "2030-01-01",
    }


@pytest.mark.parametrize(
    ("first_use", "notice", "verdict", "case"),
    [
        ("2021-05-01", "partly", Verdict.met, "2"),  # the law of its day asked less
        ("2022-09-21", "partly", Verdict.met, "2"),  # the old law's last day
        ("2022-09-22", "partly", Verdict.not_met, None),  # the new law: partly is not enough
        ("2023-01-01", "yes", Verdict.met, "1"),
        ("2021-05-01", "yes", Verdict.met, "2"),  # case 1 is not in force on 2021-05-01
    ],
)
def test_a_case_is_judged_on_its_own_date(
    q: Questionnaire, first_use: str, notice: str, verdict: Verdict, case: str | None
) -> None:
    values = {**IN_SERVICE, "first_use": first_use, "notice": notice}
    c = score(q, values, date(2026, 1, 1)).criterion("NOT-01")
    assert c.verdict is verdict
    if case is None:
        assert c.trace.rule.code is ReasonCode.otherwise
    else:
        assert c.trace.rule.code is ReasonCode.case
        assert c.trace.rule.value("number") == case
        assert c.trace.rule.value("judged_by") == "first_use"
        assert c.trace.rule.value("date") == first_use
    # the date question a case is judged by is among what the verdict read
    assert "first_use" in c.trace.reads


def test_a_criterion_not_in_force_is_not_applicable(q: Questionnaire) -> None:
    values = {**IN_SERVICE, "first_use": "2020-01-01", "report": "no"}
    before = score(q, values, date(2026, 8, 1))
    c = before.criterion("REP-01")
    assert c.verdict is Verdict.not_applicable
    assert c.credit is None
    assert c.trace.rule.code is ReasonCode.not_in_force
    assert isinstance(c.na_reason, Reason)
    assert c.na_reason.code is ReasonCode.na_not_in_force
    assert dict(c.na_reason.values)["in_force"] == "2026-08-02"
    assert dict(c.na_reason.values)["date"] == "2026-08-01"
    # PIA-01 met (4) and NOT-01 met (2): 100 %; REP-01 critical not met is out of the score
    assert (before.score, before.rating) == (100.0, "green")
    after = score(q, values, date(2026, 8, 2))
    assert after.criterion("REP-01").verdict is Verdict.not_met
    # (4 + 2) / (4 + 2 + 8) = 42.9 %, and the critical gap caps at red
    assert (after.score, after.rating) == (42.9, "red")


@pytest.mark.parametrize(
    ("window", "day", "covered"),
    [
        (Window(date(2025, 7, 1), None, "as_of"), date(2025, 6, 30), False),
        (Window(date(2025, 7, 1), None, "as_of"), date(2025, 7, 1), True),
        (Window(None, date(2022, 9, 21), "as_of"), date(2022, 9, 21), True),
        (Window(None, date(2022, 9, 21), "as_of"), date(2022, 9, 22), False),
        (Window(date(2020, 1, 1), date(2020, 12, 31), "as_of"), date(2021, 1, 1), False),
        (Window(date(2020, 1, 1), None, "first_use"), None, False),  # unknown date
    ],
)
def test_window_covers(window: Window, day: date | None, covered: bool) -> None:
    assert window.covers(day) is covered


def test_a_hidden_date_question_is_judged_on_as_of(q: Questionnaire) -> None:
    window = Window(date(2025, 7, 1), None, "first_use")
    as_of = date(2026, 1, 1)
    planned = resolve(q, Answers(values={"stage": "planned"}, evidence={}), as_of)
    assert "first_use" not in planned.visible
    assert window.judged_date(planned.env, planned.visible, as_of) == as_of
    shown = resolve(q, Answers(values={"stage": "in_service"}, evidence={}), as_of)
    assert window.judged_date(shown.env, shown.visible, as_of) is None
    used = resolve(
        q, Answers(values={"stage": "in_service", "first_use": "2024-02-03"}, evidence={}), as_of
    )
    assert window.judged_date(used.env, used.visible, as_of) == date(2024, 2, 3)
