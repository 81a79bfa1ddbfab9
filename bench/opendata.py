"""Benchmark the open-data exports against the HTML report of the same submission.

    uv run python bench/opendata.py [--runs 7] [--agency questionnaires/examples/X.yaml]

For the sample agency with the most gaps, times (median of --runs, warm: the questionnaire is
loaded once) the OSCAL assessment results (built and written), the findings CSV and the report
as HTML, each from a fresh copy of the same report input (nothing cached between runs), and
prints each with its size and its ratio to the HTML report. The findings should cost less than
the report (they read a part of the same typed view); the OSCAL results read more of it
(observations, findings, the embedded plan) and are written indented with Python's pure
encoder, so they cost 1.5 to 2 times the HTML report (measured for TA-1 on a loaded 2-core machine:
69 ms against 46 ms, 37 ms against 19 ms).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONNAIRE = ROOT / "questionnaires" / "frt-police-canada-1.1.0.yaml"
EXAMPLES = ROOT / "questionnaires" / "examples"


def _median(run: Callable[[], bytes], runs: int) -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(run())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> None:
    from service.questionnaire import loader
    from service.report import opendata, oscal, render
    from service.report.inputs import ReportInput

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--agency", type=Path, default=EXAMPLES / "ta1-lakeshore.yaml")
    args = parser.parse_args()
    questionnaire = loader.load_file(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    data, _ = loader.load_answers(args.agency.read_bytes(), str(args.agency))
    assert data is not None
    report = render.build_report_input(questionnaire, data, status="submitted")
    render.render_html(report, lang="en")  # warm the templates

    def fresh() -> ReportInput:
        return dataclasses.replace(report)  # a new input: its hash is computed again

    cases = {
        "report HTML": lambda: render.render_html(fresh(), lang="en").encode("utf-8"),
        "OSCAL assessment results": lambda: oscal.dumps(oscal.assessment_results(fresh(), "en")),
        "findings CSV": lambda: opendata.findings_csv(fresh(), "en"),
        "findings JSON": lambda: opendata.findings_json(fresh(), "en"),
    }
    print(
        f"{args.agency.name}: {len(report.result.criteria)} criteria, "
        f"{len(report.record.answers)} answers; load average {os.getloadavg()[0]:.2f}"
    )
    results = {name: _median(run, args.runs) for name, run in cases.items()}
    base = results["report HTML"][0]
    for name, (seconds, size) in results.items():
        print(
            f"  {name:26} {seconds * 1000:7.1f} ms  {size / 1024:7.1f} KiB  "
            f"ratio to the report {seconds / base:4.2f}"
        )


if __name__ == "__main__":
    main()
