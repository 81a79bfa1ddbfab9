"""The loader: every broken file gets located, plain-worded messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.questionnaire import loader

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken"

# file, expected "LINE:COL: PATH: message fragment" of one reported error
CASES = [
    ("syntax_error.yaml", "5:3: (file): YAML syntax error: did not find expected node content"),
    ("tab_indent.yaml", "5:1: (file): a tab character: YAML indentation must use spaces"),
    ("empty.yaml", "1:1: (file): the file is empty; a questionnaire starts with id:"),
    ("comments_only.yaml", "1:1: (file): the file is empty"),
    ("top_level_list.yaml", "1:1: (file): the top level is a list; it must be a mapping"),
    ("top_level_scalar.yaml", "1:1: (file): the top level is a single value"),
    ("alias_bomb.yaml", "2:8: (file): aliases (*a) are not allowed; write the value out in full"),
    ("deep_nesting.yaml", "2:43: (file): the document nests deeper than 40 levels"),
    (
        "python_tag.yaml",
        "4:14: description: YAML tags such as !!python/object/apply:os.system are not allowed",
    ),
    ("custom_tag.yaml", "4:14: description: YAML tags such as !secret are not allowed"),
    ("duplicate_key.yaml", "4:1: title: duplicate key 'title' (first at line 3)"),
    ("unknown_field.yaml", "4:1: titel: unknown field 'titel'; did you mean 'title'?"),
    (
        "unquoted_yes_option.yaml",
        '13:21: sections[0].questions[0].options[1].value: yes is read by YAML as true/false; write it in quotes: "yes"',
    ),
    (
        "unquoted_version.yaml",
        '2:10: version: 1.10 is read by YAML as a number; write it in quotes: "1.10"',
    ),
    (
        "unquoted_bool_key.yaml",
        '28:14: facts[0].values.yes: the key yes is read by YAML as true/false; write it in quotes: "yes":',
    ),
    (
        "bad_severity.yaml",
        "22:15: criteria[0].severity: 'severe' is not allowed here; write one of: critical, high, medium or low",
    ),
    (
        "bad_question_type.yaml",
        "15:15: sections[0].questions[1].type: 'boolean' is not allowed here",
    ),
    ("missing_field.yaml", "18:5: criteria[0]: missing field 'requirement'"),
    (
        "bad_criterion_id.yaml",
        "18:9: criteria[0].id: criterion ids are three capitals, a dash and two digits",
    ),
    ("bad_question_id.yaml", "14:13: sections[0].questions[1].id: ids are snake_case"),
    (
        "duplicate_question_id.yaml",
        "14:13: sections[0].questions[1].id: duplicate question id 'body_type' (first at line 8)",
    ),
    (
        "duplicate_option.yaml",
        "13:21: sections[0].questions[0].options[1].value: duplicate option value 'police' (first at line 12)",
    ),
    (
        "duplicate_criterion.yaml",
        "24:9: criteria[1].id: duplicate criterion id 'GOV-01' (first at line 18)",
    ),
    (
        "dangling_answer.yaml",
        "23:20: criteria[0].rule.answer: there is no question 'pia_dne'; did you mean 'pia_done'?",
    ),
    (
        "dangling_section.yaml",
        "19:14: criteria[0].section: there is no section 'scopes'; did you mean 'scope'?",
    ),
    (
        "dangling_source.yaml",
        "26:27: criteria[0].references[0].source: there is no source with key 'OPC-FRG'",
    ),
    (
        "dangling_option_value.yaml",
        "15:22: sections[0].questions[1].visible_if: 'polic' is not a value of body_type; its values are: border, police",
    ),
    (
        "dangling_condition_name.yaml",
        "24:18: criteria[0].applies_if: unknown name 'bodytype': not a question id or fact id; did you mean 'body_type'?",
    ),
    (
        "dangling_fact_value.yaml",
        "24:18: criteria[0].applies_if: 'maybe' is not a value of scope_fact",
    ),
    (
        "dangling_evidence_from.yaml",
        "24:21: criteria[0].evidence_from[0]: there is no question 'pia_file'",
    ),
    (
        "dangling_map_option.yaml",
        "23:67: criteria[0].rule.map.navy: 'navy' is not an option of body_type",
    ),
    (
        "bad_condition_syntax.yaml",
        "24:44: criteria[0].applies_if: in the condition: expected a name or a value before 'and'",
    ),
    (
        "visibility_cycle.yaml",
        "10:21: sections[0].questions[0].visible_if: visibility cycle: body_type -> pia_done -> body_type",
    ),
    (
        "never_shown.yaml",
        "24:11: criteria[0].rule: the rule reads pia_done, which is never shown when GOV-01 applies",
    ),
    (
        "text_not_string.yaml",
        "3:8: title: must be text, or a map of language to text such as {en: ..., fr: ...}",
    ),
    ("empty_sections.yaml", "4:11: sections: this list must not be empty"),
    ("two_documents.yaml", "24:1: (file): a questionnaire file holds one YAML document"),
    (
        "choice_without_options.yaml",
        "9:15: sections[0].questions[0].type: a single_choice question needs options",
    ),
    ("not_utf8.yaml", "3:11: (file): the file is not UTF-8 text (byte 0xe9); save it as UTF-8"),
    ("too_large.yaml", "1:1: (file): the file is 2097163 bytes; the limit is 2097152 (2 MB)"),
    ("unknown_field_and_dangling.yaml", "20:14: criteria[0].section: there is no section 'scopes'"),
]


GENERATED = "too_large.yaml"  # 2 MB: written at test time rather than kept in the repository


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The broken corpus, with the oversized file generated beside a copy of the others."""
    folder = tmp_path_factory.mktemp("broken")
    for path in BROKEN.glob("*.yaml"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / GENERATED).write_bytes(b"id: big\n# " + b"x" * (2 * 1024 * 1024) + b"\n")
    return folder


def test_corpus_is_large_enough(corpus: Path) -> None:
    assert len(CASES) >= 25
    assert {name for name, _ in CASES} <= {p.name for p in corpus.glob("*.yaml")}


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_file_reports_located_message(corpus: Path, name: str, expected: str) -> None:
    result = loader.load_file(corpus / name)
    assert result.questionnaire is None
    lines = [p.format() for p in result.errors]
    assert any(line.startswith(f"{corpus / name}:{expected}") for line in lines), lines


def test_all_problems_of_a_file_are_reported_at_once() -> None:
    result = loader.load_file(BROKEN / "unknown_field_and_dangling.yaml")
    assert [p.path for p in result.errors] == ["titel", "criteria[0].section"]
    result = loader.load_file(BROKEN / "multiple_errors.yaml")
    assert [p.path for p in result.errors] == ["colour", "criteria[0].severity"]


def test_alias_bomb_is_refused_before_expansion() -> None:
    result = loader.load_file(BROKEN / "alias_bomb.yaml")
    # one message per alias name, not one per use
    assert len(result.errors) == 3


def test_valid_file_loads_with_hash_and_no_problems() -> None:
    result = loader.load_file(DATA / "mini.yaml")
    assert result.ok
    assert result.problems == []
    assert result.questionnaire is not None
    assert len(result.sha256) == 64
    assert result.questionnaire.sha256 == result.sha256


def test_warnings_for_unread_question_and_missing_language(tmp_path: Path) -> None:
    text = (DATA / "mini.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "      - id: live_authorised",
        "      - id: extra_question\n        type: text\n        text: Anything else?\n"
        "      - id: live_authorised",
    )
    text = text.replace(
        "recommendation: {en: Do a PIA., fr: Réaliser une EFVP.}", "recommendation: {en: Do a PIA.}"
    )
    path = tmp_path / "warn.yaml"
    path.write_text(text, encoding="utf-8")
    result = loader.load_file(path)
    assert result.ok
    assert [p.format().removeprefix(str(path) + ":") for p in result.warnings] == [
        "31:13: sections[1].questions[1].id: warning: no criterion or fact reads question "
        "extra_question; use it in a rule or mark it context_only: true",
        "33:15: sections[1].questions[1].text: warning: text in one language only; "
        "write it as {en: ..., fr: ...}",
        "60:21: criteria[0].recommendation: warning: missing text in fr",
    ]


def test_unreadable_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    result = loader.load_file(tmp_path / "missing.yaml")
    assert result.questionnaire is None
    assert "cannot read the file" in result.errors[0].message


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01\x02",
        b"id: [unclosed",
        b"? complex\n: key",
        b"a: !!binary aGVsbG8=",
        b"- - - - -",
        b"id: x\nversion: 1\ntitle: t\nsections: 5\ncriteria: {}",
        b"\xef\xbb\xbfid: bom",
        b"key: 'unterminated",
        b"{" * 500,
    ],
)
def test_odd_input_never_raises(raw: bytes) -> None:
    result = loader.load_text(raw, "odd.yaml")
    assert result.questionnaire is None
    assert result.errors
    for problem in result.errors:
        assert problem.format().startswith("odd.yaml:")


def test_cli_validate_prints_located_errors_and_no_traceback(corpus: Path) -> None:
    files = [str(corpus / name) for name, _ in CASES]
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "validate", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for name, expected in CASES:
        assert f"{corpus / name}:{expected}" in proc.stderr


def test_authoring_guide_example_is_valid_and_matches_the_test_file(tmp_path: Path) -> None:
    guide = (DATA.parent.parent / "questionnaires" / "README.md").read_text(encoding="utf-8")
    example = (
        guide.split("## A small complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    )
    assert example == (DATA / "mini.yaml").read_text(encoding="utf-8")
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    result = loader.load_file(path)
    assert result.ok
    assert result.warnings == []


def _mini_with(tmp_path: Path, old: str, new: str) -> loader.LoadResult:
    text = (DATA / "mini.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return loader.load_file(path)


def test_as_of_is_readable_in_conditions_and_checked_as_a_date(tmp_path: Path) -> None:
    ok = _mini_with(
        tmp_path,
        "      - when: 'body_type == \"police\"'\n        to: critical",
        '      - when: \'body_type == "police" and as_of >= date("2025-07-01")\'\n        to: critical',
    )
    assert ok.ok, [p.format() for p in ok.problems]
    bad = _mini_with(
        tmp_path, "applies_if: 'live_use == \"yes\"'", "applies_if: 'as_of == \"soon\"'"
    )
    assert [p.message for p in bad.errors] == [
        'as_of is a date; compare it with date("YYYY-MM-DD") or a date question'
    ]


def test_as_of_is_a_reserved_id(tmp_path: Path) -> None:
    result = _mini_with(tmp_path, "      - id: live_use\n", "      - id: as_of\n")
    assert any(
        p.message == "as_of is reserved for the assessment date; choose another id"
        for p in result.errors
    ), [p.format() for p in result.problems]


def test_never_shown_check_covers_large_multiple_choice(tmp_path: Path) -> None:
    options = "".join(f"          - {{value: use_{i}, label: Use {i}}}\n" for i in range(8))
    question = (
        "      - id: uses\n        type: multiple_choice\n        text: Uses?\n        evidence: false\n"
        "        options:\n" + options
    )
    result = _mini_with(
        tmp_path,
        "      - id: live_use\n",
        question + "      - id: live_use\n        visible_if: 'uses contains \"use_7\"'\n",
    )
    # COL-07 applies when live_use is yes; live_use shows for use_7: reachable.
    assert result.ok, [p.format() for p in result.problems]
    result = _mini_with(
        tmp_path,
        "      - id: live_authorised\n        type: yes_no\n        visible_if: 'live_use == \"yes\"'",
        "      - id: live_authorised\n        type: yes_no\n        visible_if: 'live_use == \"no\"'",
    )
    assert any(
        "the rule reads live_authorised, which is never shown when COL-07 applies" in p.message
        for p in result.errors
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'id: x\nversion: "1"\ntitle: t\nsections: 5\ncriteria: []\n',
            "4:11: sections: must be a list: one item per line starting with '- ', or [a, b]",
        ),
        (
            'id: x\nversion: "1"\ntitle: t\nsections: [5]\ncriteria: []\n',
            "4:12: sections[0]: must be a mapping of fields, such as key: value",
        ),
        (
            'id: x\nversion: "1"\ntitle: t\nlanguages: [de]\nsections: []\ncriteria: []\n',
            "4:13: languages[0]: 'de' is not allowed here; write one of: en or fr",
        ),
    ],
)
def test_type_errors_are_in_plain_words(text: str, expected: str) -> None:
    result = loader.load_text(text.encode(), "t.yaml")
    assert f"t.yaml:{expected}" in [p.format() for p in result.errors]


MINI_LINES = (DATA / "mini.yaml").read_text(encoding="utf-8").splitlines(keepends=True)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, len(MINI_LINES) - 1), max_size=6),
    st.text(alphabet=" -:[]{}'\"!&*#|>\t\nabcyesno0123.", max_size=40),
)
def test_mutated_files_never_raise(dropped: list[int], noise: str) -> None:
    lines = [line for i, line in enumerate(MINI_LINES) if i not in set(dropped)]
    if dropped:
        lines.insert(dropped[0] % (len(lines) + 1), noise)
    result = loader.load_text("".join(lines).encode(), "m.yaml")
    for problem in result.problems:
        assert problem.format().startswith("m.yaml:")
    assert result.questionnaire is None or not result.errors


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(raw: bytes) -> None:
    result = loader.load_text(raw, "b.yaml")
    assert result.questionnaire is None
    data, problems = loader.load_answers(raw, "b.yaml")
    assert data is None or not [p for p in problems if p.level == "error"]
