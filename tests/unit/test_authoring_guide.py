"""Every YAML example of the authoring guide (questionnaires/README.md) is a test.

- an example starting with `id:` is a complete questionnaire: it loads with no problem;
- one starting with `questionnaire:` is an answers file for tests/data/mini.yaml: it is valid;
- `# fragment: KEY` adds the example to tests/data/mini.yaml (list items after the file's own
  `KEY:`; a `rule:` becomes the rule of a new criterion; `rating:` is added): no error;
- `# wrong: MESSAGE` is added the same way and must be refused with MESSAGE.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.questionnaire import loader
from service.questionnaire.answers import check_answers_file

ROOT = Path(__file__).parent.parent.parent
GUIDE = (ROOT / "questionnaires" / "README.md").read_text(encoding="utf-8")
MINI = (ROOT / "tests" / "data" / "mini.yaml").read_text(encoding="utf-8")
LIST_KEYS = ("sources", "sections", "facts", "criteria")


def _examples() -> list[tuple[int, str]]:
    found = []
    for match in re.finditer(r"^```yaml\n(.*?)^```", GUIDE, re.S | re.M):
        line = GUIDE[: match.start()].count("\n") + 1
        found.append((line, match.group(1)))
    return found


EXAMPLES = _examples()


def _key_of(body: str) -> str:
    first = next(ln for ln in body.splitlines() if ln and not ln.startswith("#"))
    return first.split(":", 1)[0]


def _with_fragment(body: str) -> str:
    """tests/data/mini.yaml with the fragment added."""
    key = _key_of(body)
    lines = [ln for ln in body.splitlines() if not ln.startswith("#")]
    if key == "rule":
        criterion = (
            "  - id: ZZZ-01\n    section: governance\n    title: {en: T, fr: T}\n"
            "    requirement: {en: R, fr: R}\n    severity: low\n"
            + "".join(f"    {ln}\n" for ln in lines)
        )
        assert MINI.rstrip().splitlines()[0].startswith("id:")
        return MINI + criterion  # criteria is the last key of mini.yaml
    if key in LIST_KEYS:
        head = f"\n{key}:\n"
        assert head in MINI, key
        items = "".join(f"{ln}\n" for ln in lines[1:])
        return MINI.replace(head, head + items, 1)
    assert key not in MINI.split("\n"), key
    return MINI + "\n".join(lines) + "\n"


def _load(text: str, tmp_path: Path) -> loader.LoadResult:
    path = tmp_path / "example.yaml"
    path.write_text(text, encoding="utf-8")
    return loader.load_file(path)


def test_every_example_is_tagged() -> None:
    assert len(EXAMPLES) >= 14
    for line, body in EXAMPLES:
        first = body.splitlines()[0]
        assert re.match(r"# (fragment|wrong): |id: |questionnaire: ", first), (
            f"README.md:{line}: start the example with # fragment: KEY, # wrong: MESSAGE, "
            "id: (a complete questionnaire) or questionnaire: (an answers file)"
        )


@pytest.mark.parametrize(("line", "body"), EXAMPLES, ids=[f"line{n}" for n, _ in EXAMPLES])
def test_guide_example(line: int, body: str, tmp_path: Path) -> None:
    first = body.splitlines()[0]
    if first.startswith("id:"):
        result = _load(body, tmp_path)
        assert result.ok, [p.format() for p in result.problems]
        assert result.problems == []
    elif first.startswith("questionnaire:"):
        mini = loader.load_file(ROOT / "tests" / "data" / "mini.yaml").questionnaire
        assert mini is not None
        data, problems = loader.load_answers(body.encode(), "answers.yaml")
        assert data is not None
        assert problems == []
        assert check_answers_file(mini, data) == []
    elif first.startswith("# fragment:"):
        result = _load(_with_fragment(body), tmp_path)
        assert result.errors == [], [p.format() for p in result.errors]
    else:
        message = first.removeprefix("# wrong: ")
        result = _load(_with_fragment(body), tmp_path)
        assert result.errors, f"README.md:{line}: the wrong example loads"
        assert any(message in p.message for p in result.errors), [p.format() for p in result.errors]
