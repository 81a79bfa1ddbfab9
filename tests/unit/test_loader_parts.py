"""The loader's parts: problem codes from the source and the checks, and the registry's
`LoadedQuestionnaire`."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from service.questionnaire import loader
from service.questionnaire.engine import program_of
from service.questionnaire.registry import LoadedQuestionnaire
from service.questionnaire.schema import Questionnaire
from service.questionnaire.source import FATAL, ProblemCode, read_yaml

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken"

# file -> the codes of its errors, by what each file is built to show
CODES = {
    "alias_bomb.yaml": {ProblemCode.alias},
    "bad_condition_syntax.yaml": {ProblemCode.condition},
    "bad_criterion_id.yaml": {ProblemCode.invalid},
    "bad_severity.yaml": {ProblemCode.invalid},
    "choice_without_options.yaml": {ProblemCode.question_shape},
    "comments_only.yaml": {ProblemCode.empty},
    "custom_tag.yaml": {ProblemCode.tag},
    "dangling_answer.yaml": {ProblemCode.unknown_reference},
    "dangling_condition_name.yaml": {ProblemCode.condition},
    "dangling_map_option.yaml": {ProblemCode.rule},
    "dangling_section.yaml": {ProblemCode.unknown_reference},
    "dangling_source.yaml": {ProblemCode.unknown_reference},
    "deep_nesting.yaml": {ProblemCode.too_deep},
    "duplicate_criterion.yaml": {ProblemCode.duplicate},
    "duplicate_key.yaml": {ProblemCode.duplicate_key},
    "empty.yaml": {ProblemCode.empty},
    "missing_field.yaml": {ProblemCode.missing_field},
    "never_shown.yaml": {ProblemCode.unreachable},
    "not_utf8.yaml": {ProblemCode.not_utf8},
    "syntax_error.yaml": {ProblemCode.syntax},
    "tab_indent.yaml": {ProblemCode.tab},
    "top_level_list.yaml": {ProblemCode.top_level},
    "top_level_scalar.yaml": {ProblemCode.top_level},
    "two_documents.yaml": {ProblemCode.second_document},
    "unknown_field.yaml": {ProblemCode.unknown_field},
    "unknown_field_and_dangling.yaml": {ProblemCode.unknown_field, ProblemCode.unknown_reference},
    "unquoted_bool_key.yaml": {ProblemCode.key_quoting, ProblemCode.invalid},
    "visibility_cycle.yaml": {ProblemCode.cycle},
}


@pytest.mark.parametrize(("name", "codes"), sorted(CODES.items()))
def test_every_problem_carries_its_code(name: str, codes: set[ProblemCode]) -> None:
    result = loader.load_file(BROKEN / name)
    assert result.questionnaire is None
    assert {p.code for p in result.errors} == codes


@pytest.mark.parametrize(
    ("name", "fatal"),
    [("alias_bomb.yaml", True), ("two_documents.yaml", True), ("duplicate_key.yaml", False)],
)
def test_fatal_problems_drop_the_data_by_code(name: str, fatal: bool) -> None:
    doc = read_yaml((BROKEN / name).read_bytes(), name)
    assert any(p.code in FATAL for p in doc.problems) is fatal
    assert (doc.data is None) is fatal


def test_warnings_carry_codes() -> None:
    result = loader.load_file(DATA / "mini.yaml")
    assert result.ok
    assert all(p.code is not ProblemCode.invalid for p in result.warnings)


def test_the_registry_gives_loaded_questionnaires() -> None:
    registry = loader.load_directory(DATA)
    loaded = registry.loaded("mini", "1.0")
    assert isinstance(loaded, LoadedQuestionnaire)
    assert loaded.sha256 == hashlib.sha256((DATA / "mini.yaml").read_bytes()).hexdigest()
    assert loaded.model is registry.get("mini", "1.0")
    assert loaded.model.sha256 == loaded.sha256  # kept for callers holding only the model
    assert program_of(loaded.model) is loaded.program  # compiled once, by the checks
    assert loaded in registry.entries()
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.sha256 = "x"  # type: ignore[misc]


def test_a_model_not_loaded_from_a_file_has_no_hash_and_compiles_on_demand() -> None:
    result = loader.load_file(DATA / "mini.yaml")
    assert result.questionnaire is not None
    data = result.questionnaire.model_dump(mode="json", exclude_unset=True)
    copy = Questionnaire.model_validate(data)
    assert copy.sha256 == ""
    assert program_of(copy) is program_of(copy)
    assert program_of(copy) is not program_of(result.questionnaire)
