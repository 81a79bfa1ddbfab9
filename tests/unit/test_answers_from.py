"""The `answers_from` declaration: how answers of a previous version carry over. Each mistake is
located (FILE:LINE:COL, path) and worded; with the previous version's file (`--previous`) the
declaration is also checked against that version's questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.questionnaire import loader
from service.questionnaire.schema import Questionnaire
from service.questionnaire.source import ProblemCode

DATA = Path(__file__).parent.parent / "data"
MINI_1 = DATA / "mini.yaml"
MINI_2 = (DATA / "carry" / "mini-2.0.yaml").read_text(encoding="utf-8")
ROOT = Path(__file__).resolve().parents[2]


def _previous() -> Questionnaire:
    result = loader.load_file(MINI_1)
    assert result.questionnaire is not None
    return result.questionnaire


# name, text replaced, replacement, checked against mini.yaml (1.0)?, expected
# "LINE:COL: PATH: message fragment", code
CASES = [
    (
        "own_version",
        '  - version: "1.0"\n',
        '  - version: "2.0"\n',
        False,
        "87:14: answers_from[0].version: 2.0 is this questionnaire's own version",
        ProblemCode.mapping,
    ),
    (
        "later_version",
        '  - version: "1.0"\n',
        '  - version: "3.1"\n',
        False,
        "87:14: answers_from[0].version: 3.1 is not a previous version: this questionnaire is version 2.0",
        ProblemCode.mapping,
    ),
    (
        "version_twice",
        "    new: [board_informed]\n",
        '    new: [board_informed]\n  - version: "1.0.0"\n',
        False,
        "97:14: answers_from[1].version: version 1.0.0 is declared twice (first at line 87)",
        ProblemCode.duplicate,
    ),
    (
        "unquoted_version",
        '  - version: "1.0"\n',
        "  - version: 1.0\n",
        False,
        '87:14: answers_from[0].version: 1.0 is read by YAML as a number; write it in quotes: "1.0"',
        ProblemCode.invalid,
    ),
    (
        "unknown_field",
        "        was: pia_done\n",
        "        was: pia_done\n        renamed: true\n",
        False,
        "91:9: answers_from[0].questions[0].renamed: unknown field 'renamed'",
        ProblemCode.unknown_field,
    ),
    (
        "mapped_question_unknown",
        "      - id: pia_status\n        was:",
        "      - id: pia_stats\n        was:",
        False,
        "89:13: answers_from[0].questions[0].id: there is no question 'pia_stats' in this version; did you mean 'pia_status'?",
        ProblemCode.unknown_reference,
    ),
    (
        "option_target_unknown",
        '          "yes": completed\n',
        '          "yes": complete\n',
        False,
        "92:18: answers_from[0].questions[0].options.yes: 'complete' is not an option of pia_status; its options are: completed, dont_know, in_progress, none",
        ProblemCode.mapping,
    ),
    (
        "split_into_single_choice",
        '          "yes": completed\n',
        '          "yes": [completed, in_progress]\n',
        False,
        "92:18: answers_from[0].questions[0].options.yes: a list splits one option into several, for a multiple_choice question; pia_status is single_choice",
        ProblemCode.mapping,
    ),
    (
        "unquoted_yes_target",
        "          dont_know: dont_know\n",
        "          dont_know: dont_know\n      - id: live_authorised\n        options: {partly: yes}\n",
        False,
        '97:27: answers_from[0].questions[1].options.partly: yes is read by YAML as true/false; write it in quotes: "yes"',
        ProblemCode.invalid,
    ),
    (
        "new_unknown",
        "    new: [board_informed]\n",
        "    new: [board_inform]\n",
        False,
        "96:11: answers_from[0].new[0]: there is no question 'board_inform' in this version; did you mean 'board_informed'?",
        ProblemCode.unknown_reference,
    ),
    (
        "mapped_and_new",
        "    new: [board_informed]\n",
        "    new: [board_informed, pia_status]\n",
        False,
        "89:13: answers_from[0].questions[0].id: pia_status is also listed under new:",
        ProblemCode.mapping,
    ),
    (
        "removed_but_mapped",
        "    new: [board_informed]\n",
        "    new: [board_informed]\n    removed: [pia_done]\n",
        False,
        "97:15: answers_from[0].removed[0]: pia_done is listed as removed, but questions[0] takes its answer",
        ProblemCode.mapping,
    ),
    (
        "removed_but_still_asked",
        "    new: [board_informed]\n",
        "    new: [board_informed]\n    removed: [live_use]\n",
        False,
        "97:15: answers_from[0].removed[0]: live_use is still a question of this version, so its answers carry over by default",
        ProblemCode.mapping,
    ),
    # against the previous version's file
    (
        "was_unknown_in_previous",
        "        was: pia_done\n",
        "        was: pia_don\n",
        True,
        "90:14: answers_from[0].questions[0].was: there is no question 'pia_don' in version 1.0; did you mean 'pia_done'?",
        ProblemCode.unknown_reference,
    ),
    (
        "old_option_unknown",
        '          "no": none\n',
        '          "no": none\n          maybe: none\n',
        True,
        "95:11: answers_from[0].questions[0].options.maybe: 'maybe' is not an option of pia_done in version 1.0",
        ProblemCode.mapping,
    ),
    (
        "new_question_undeclared",
        "    new: [board_informed]\n",
        "",
        True,
        "40:13: sections[1].questions[2].id: question board_informed is not in version 1.0: list it under new:",
        ProblemCode.mapping,
    ),
    (
        "renamed_question_undeclared",
        "        was: pia_done\n",
        "",
        True,
        "87:5: answers_from[0]: question pia_done of version 1.0 is not in this version: list it under removed:",
        ProblemCode.mapping,
    ),
    (
        "removed_unknown_in_previous",
        "    new: [board_informed]\n",
        "    new: [board_informed]\n    removed: [pia_dne]\n",
        True,
        "97:15: answers_from[0].removed[0]: there is no question 'pia_dne' in version 1.0; did you mean 'pia_done'?",
        ProblemCode.unknown_reference,
    ),
    (
        "option_lost_by_default",
        "        visible_if: 'live_use == \"yes\"'\n",
        "        visible_if: 'live_use == \"yes\"'\n        partly: false\n",
        True,
        "36:13: sections[1].questions[1].id: option(s) partly of live_authorised (1.0) are not options of live_authorised",
        ProblemCode.mapping,
    ),
    (
        "type_changed_by_default",
        "        partly: false\n        text: {en: Live use?",
        "        text: {en: Live use?",
        True,
        "",
        None,
    ),
    (
        "no_entry_for_previous",
        '  - version: "1.0"\n',
        '  - version: "0.9"\n',
        True,
        "2:10: version: no answers_from entry for version 1.0",
        ProblemCode.mapping,
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "with_previous", "expected", "code"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_answers_from_mistake_is_located(
    name: str,
    old: str,
    new: str,
    with_previous: bool,
    expected: str,
    code: ProblemCode | None,
) -> None:
    assert old in MINI_2, name
    text = MINI_2.replace(old, new, 1)
    previous = _previous() if with_previous else None
    result = loader.load_text(text.encode("utf-8"), "mini-2.0.yaml", previous=previous)
    if code is None:  # a change the declaration allows
        assert result.errors == [], [p.format() for p in result.errors]
        return
    shown = [p.format() for p in result.errors]
    wanted = f"mini-2.0.yaml:{expected}"
    assert any(s.startswith(wanted) for s in shown), shown
    assert any(p.code is code for p in result.errors if p.format().startswith(wanted))
    assert result.questionnaire is None


def test_the_declaration_fits_its_previous_version() -> None:
    result = loader.load_text(MINI_2.encode("utf-8"), "mini-2.0.yaml", previous=_previous())
    assert result.errors == []


def test_shipped_1_1_0_declares_its_mapping_from_1_0_0() -> None:
    old = loader.load_file(ROOT / "questionnaires" / "frt-police-canada.yaml").questionnaire
    assert old is not None
    result = loader.load_file(
        ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml", previous=old
    )
    assert result.errors == [], [p.format() for p in result.errors]
    assert result.questionnaire is not None
    mapping = result.questionnaire.answers_from_version("1.0.0")
    assert mapping is not None
    assert mapping.removed == ["regime_documented"]
    assert {e.was for e in mapping.questions} == {"pia_exists", "live_controls", "local_testing"}
