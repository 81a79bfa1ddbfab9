"""Engine benchmark: load-and-validate time of a questionnaire, and scoring time.

Prints medians, and ratios against baselines measured in the same run:
- loading against a bare libyaml parse of the same file (the floor any loader pays);
- scoring against resolving visibility and facts alone.
- the change report (1.0.0 -> 1.1.0) over 1,000 generated answer sets against scoring each set
  under both versions directly (what the report cannot do without).
Targets on a 2-core machine: loading at most 1.4x the bare parse and under 200 ms; scoring
under 1 ms; the change report over 1,000 answer sets under 2 s.

How it measures, so that a busy machine does not decide the result: the baseline and the
measured call run in the same process, alternately (parse, load, parse, load, ...), so both see
the same load on the machine; each is timed in CPU time of this process (`time.process_time`:
what the work costs, not how long other processes kept the CPU) and in wall time; the figures
are medians over the repeats, and the ratio is the median of the per-pair ratios. The machine's
load average is printed beside them. Before, the bench timed 15 parses, then 15 loads, in wall
time: on a busy machine the two batches saw different loads (ratios from 1.3x to 1.6x on the
same code), and it scored the 1.1.0 examples against the 1.0.0 file.

    uv run python bench/engine.py [QUESTIONNAIRE] [ANSWERS] [--repeat N]

Without arguments: the largest shipped example answers file, scored against the questionnaire
version it names (found in questionnaires/), which is also the file loaded.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from service.questionnaire import engine, impact, loader, scoring
from service.questionnaire.answers import Answers, AnswerValue
from service.questionnaire.carry import carry
from service.questionnaire.schema import Questionnaire, QuestionType

ROOT = Path(__file__).resolve().parent.parent
LOAD_RATIO_TARGET = 1.4
LOAD_MS_TARGET = 200.0
SCORE_MS_TARGET = 1.0


@dataclass(frozen=True)
class Pair:
    """Medians of a baseline and a measured call timed alternately."""

    base_cpu: float
    base_wall: float
    cpu: float
    wall: float
    ratio: float  # median of the per-pair CPU-time ratios


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds (the change report's own figures)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def alternate(
    baseline: Callable[[], object], measured: Callable[[], object], repeat: int, inner: int = 1
) -> Pair:
    """Time `baseline` and `measured` alternately `repeat` times (each `inner` calls per
    sample); medians in milliseconds per call."""
    base_cpu, base_wall, cpu, wall, ratios = [], [], [], [], []
    for _ in range(repeat):
        samples = []
        for fn in (baseline, measured):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(inner):
                fn()
            c1, w1 = time.process_time(), time.perf_counter()
            samples.append(((c1 - c0) * 1000 / inner, (w1 - w0) * 1000 / inner))
        (bc, bw), (mc, mw) = samples
        base_cpu.append(bc)
        base_wall.append(bw)
        cpu.append(mc)
        wall.append(mw)
        if bc > 0:
            ratios.append(mc / bc)
    median = statistics.median
    return Pair(
        median(base_cpu), median(base_wall), median(cpu), median(wall), median(ratios or [0.0])
    )


def verdict(ok: bool) -> str:
    return "within target" if ok else "OVER TARGET"


def _default_paths() -> tuple[Path, Path | None]:
    examples = sorted(
        (ROOT / "questionnaires" / "examples").glob("*.yaml"), key=lambda p: p.stat().st_size
    )
    if not examples:
        return ROOT / "questionnaires" / "frt-police-canada.yaml", None
    answers_path = examples[-1]
    data, _ = loader.load_answers(answers_path.read_bytes(), str(answers_path))
    if data is not None:
        for candidate in sorted((ROOT / "questionnaires").glob("*.yaml")):
            loaded = loader.load_file(candidate).questionnaire
            if loaded is not None and (loaded.id, loaded.version) == (
                data.questionnaire,
                data.version,
            ):
                return candidate, answers_path
    return ROOT / "questionnaires" / "frt-police-canada.yaml", answers_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("questionnaire", nargs="?", type=Path)
    parser.add_argument("answers", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=21, help="alternate pairs (default 21)")
    args = parser.parse_args(argv)
    path, answers_path = _default_paths()
    path = args.questionnaire or path
    answers_path = args.answers or answers_path
    raw = path.read_bytes()

    result = loader.load_file(path)
    if result.questionnaire is None:
        for problem in result.problems:
            print(problem.format())
        return 1
    q = result.questionnaire
    load1, load5, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
    print(
        f"questionnaire: {path.name} ({len(raw) / 1024:.0f} KB, {len(q.questions())} questions, "
        f"{len(q.criteria)} criteria); {args.repeat} alternate pairs, medians"
    )

    load = alternate(
        lambda: yaml.load(raw, Loader=yaml.CSafeLoader),
        lambda: loader.load_file(path),
        args.repeat,
    )
    load_ok = load.ratio <= LOAD_RATIO_TARGET and load.cpu < LOAD_MS_TARGET
    print("                                 CPU ms    wall ms")
    print(f"libyaml parse only (baseline): {load.base_cpu:8.2f}   {load.base_wall:8.2f}")
    print(f"load and validate:             {load.cpu:8.2f}   {load.wall:8.2f}")
    print(
        f"load ratio {load.ratio:.2f}x (target <= {LOAD_RATIO_TARGET}x), "
        f"load {load.cpu:.1f} ms CPU (target < {LOAD_MS_TARGET:.0f} ms): {verdict(load_ok)}"
    )

    if answers_path is None:
        print("no answers file: scoring skipped")
        return 0
    data, problems = loader.load_answers(answers_path.read_bytes(), str(answers_path))
    if data is None:
        for problem in problems:
            print(problem.format())
        return 1
    if (data.questionnaire, data.version) != (q.id, q.version):
        print(
            f"note: {answers_path.name} answers {data.questionnaire} {data.version}, "
            f"scored against {q.id} {q.version}"
        )
    answers = data.to_answers()
    as_of = data.as_of or date(2026, 11, 1)
    scored = alternate(
        lambda: engine.resolve(q, answers, as_of),
        lambda: scoring.score(q, answers, as_of=as_of),
        args.repeat,
        inner=25,
    )
    score_ok = scored.cpu < SCORE_MS_TARGET
    print(f"answers: {answers_path.name} ({len(answers.values)} answers)")
    print(
        f"resolve visibility and facts (baseline): {scored.base_cpu:8.3f}   {scored.base_wall:8.3f}"
    )
    print(f"score one full set of answers:           {scored.cpu:8.3f}   {scored.wall:8.3f}")
    print(
        f"score ratio {scored.ratio:.1f}x, score {scored.cpu:.3f} ms CPU "
        f"(target < {SCORE_MS_TARGET:.0f} ms): {verdict(score_ok)}"
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
