"""Engine benchmark: load-and-validate time of the shipped questionnaire, and scoring time.

Prints medians, and ratios against baselines measured in the same run:
- loading against a bare libyaml parse of the same file (the floor any loader pays);
- scoring against resolving visibility and facts alone.
- the change report (1.0.0 -> 1.1.0) over 1,000 generated answer sets against scoring each set
  under both versions directly (what the report cannot do without).
Targets on a 2-core machine: load under 200 ms; scoring under 1 ms; the change report over
1,000 answer sets under 2 s.

    uv run python bench/engine.py [QUESTIONNAIRE] [ANSWERS]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

from service.questionnaire import engine, impact, loader, scoring
from service.questionnaire.answers import Answers, AnswerValue
from service.questionnaire.carry import carry
from service.questionnaire.schema import Questionnaire, QuestionType

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    path = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "questionnaires" / "frt-police-canada.yaml"
    )
    examples = sorted(
        (ROOT / "questionnaires" / "examples").glob("*.yaml"), key=lambda p: p.stat().st_size
    )
    answers_path = Path(sys.argv[2]) if len(sys.argv) > 2 else (examples[-1] if examples else None)
    raw = path.read_bytes()

    result = loader.load_file(path)
    if result.questionnaire is None:
        for problem in result.problems:
            print(problem.format())
        return 1
    q = result.questionnaire

    parse_ms = median_ms(lambda: yaml.load(raw, Loader=yaml.CSafeLoader), 15)
    load_ms = median_ms(lambda: loader.load_file(path), 15)
    print(
        f"questionnaire: {path.name} ({len(raw) / 1024:.0f} KB, {len(q.questions())} questions, {len(q.criteria)} criteria)"
    )
    print(f"libyaml parse only (baseline): {parse_ms:8.2f} ms")
    print(
        f"load and validate:             {load_ms:8.2f} ms   ratio {load_ms / parse_ms:.1f}x   target < 200 ms"
    )

    if answers_path is None:
        print("no answers file: scoring skipped")
        return 0
    data, problems = loader.load_answers(answers_path.read_bytes(), str(answers_path))
    if data is None:
        for problem in problems:
            print(problem.format())
        return 1
    answers = data.to_answers()
    as_of = data.as_of or date(2026, 11, 1)
    resolve_ms = median_ms(lambda: engine.resolve(q, answers, as_of), 501)
    score_ms = median_ms(lambda: scoring.score(q, answers, as_of=as_of), 501)
    print(f"answers: {answers_path.name} ({len(answers.values)} answers)")
    print(f"resolve visibility and facts (baseline): {resolve_ms:8.3f} ms")
    print(
        f"score one full set of answers:           {score_ms:8.3f} ms   ratio {score_ms / resolve_ms:.1f}x   target < 1 ms"
    )
    return bench_impact()


def generated_answers(q: Questionnaire, count: int, seed: int = 18) -> list[tuple[str, Answers]]:
    """`count` random answer sets: each question answered (a valid value) or left blank."""
    rng = random.Random(seed)
    sets = []
    for n in range(count):
        values: dict[str, AnswerValue] = {}
        for question in q.questions():
            if rng.random() < 0.15:
                continue
            options = sorted(question.option_values())
            if question.type is QuestionType.multiple_choice:
                values[question.id] = rng.sample(options, rng.randint(1, len(options)))
            elif options:
                values[question.id] = rng.choice(options)
            elif question.type is QuestionType.number:
                values[question.id] = rng.randint(0, 1000)
            elif question.type is QuestionType.date:
                values[question.id] = (
                    date(2018, 1, 1)
                    .fromordinal(date(2018, 1, 1).toordinal() + rng.randint(0, 3000))
                    .isoformat()
                )
            else:
                values[question.id] = "note"
        sets.append((f"set-{n}", Answers(values=values)))
    return sets


def bench_impact(count: int = 1000) -> int:
    old = loader.load_file(ROOT / "questionnaires" / "frt-police-canada.yaml").questionnaire
    new = loader.load_file(ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml").questionnaire
    if old is None or new is None:
        print("the shipped questionnaires do not load: change report skipped")
        return 1
    sets = generated_answers(old, count)
    as_of = date(2026, 12, 1)

    carried = [carry(new, answers, old.version, old=old).answers for _, answers in sets]

    def direct() -> None:  # what the report cannot do without: both scorings of each set
        for (_, answers), moved in zip(sets, carried, strict=True):
            scoring.score(old, answers, as_of=as_of)
            scoring.score(new, moved, as_of=as_of)

    def carry_all() -> None:
        for _, answers in sets:
            carry(new, answers, old.version, old=old)

    def report() -> None:
        impact.impact(old, new, sets, as_of=as_of)

    direct_ms = median_ms(direct, 3)
    carry_ms = median_ms(carry_all, 3)
    impact_ms = median_ms(report, 3)
    print(f"change report {old.version} -> {new.version} over {count} generated answer sets:")
    print(f"score each set under both versions (baseline): {direct_ms:8.0f} ms")
    print(f"carry the answers over (part of the report):   {carry_ms:8.0f} ms")
    print(
        f"change report (carry, score both, diff, summary): {impact_ms:8.0f} ms   "
        f"ratio {impact_ms / direct_ms:.2f}x   {impact_ms / count:.2f} ms a set   target < 2000 ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
