"""Benchmark the gap report: WeasyPrint against headless Chromium on the same HTML.

    uv run python bench/report.py [--runs 5] [--agency questionnaires/examples/X.yaml]

Renders the full PDF report of the largest sample agency (the one with the most report
content) in a fresh child process per run (cold: nothing cached, fonts loaded anew), and
prints the median time, pages, ms per page and peak memory (ru_maxrss of the child). Then
prints the same HTML to PDF with Debian's headless Chromium (started per file), the ratio,
and the time of a repeated request served from the report cache (target < 50 ms).
Targets (2 cores): <= 75 ms per page, about 20 pages under 1.5 s, peak < 200 MB. The per-page
target was set where a plain table report took 70 ms/page, so it is checked as a ratio against
that plain report rendered in the same run (<= 75/70); the absolute figure is printed too.
The load average is printed too: on a busy machine every figure is slower.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONNAIRE = ROOT / "questionnaires" / "frt-police-canada.yaml"
EXAMPLES = ROOT / "questionnaires" / "examples"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from service.questionnaire import loader
from service.report import render
q = loader.load_file(sys.argv[2]).questionnaire
data, _ = loader.load_answers(Path(sys.argv[3]).read_bytes(), sys.argv[3])
report = render.build_report_input(q, data)
import weasyprint  # imported before timing, as in a long-lived render process
start = time.perf_counter()
cpu = time.process_time()
pdf = render.render_pdf(report, lang=sys.argv[4])
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
Path(sys.argv[5]).write_bytes(pdf)
print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": peak_kb / 1024, "bytes": len(pdf)}))
"""


PLAIN = r"""
import io, sys, time
from weasyprint import HTML
def table(s):
    rows = "".join(
        f"<tr><td>{s}.{i}</td><td>Criterion {s}.{i}: a requirement written in one plain sentence</td>"
        f"<td>Not met</td><td>A recommendation long enough to wrap onto a second line of the cell.</td></tr>"
        for i in range(28)
    )
    return (
        f"<h2>Section {s}</h2><p>A short paragraph that introduces the section and its table.</p>"
        "<table><thead><tr><th>#</th><th>Criterion</th><th>Verdict</th><th>Recommendation</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
html = (
    "<html lang=en><head><title>plain</title><style>@page { size: letter; margin: 20mm }"
    " body { font-family: sans-serif; font-size: 10pt } td, th { border-bottom: 1px solid #999 }"
    "</style></head><body><h1>Plain report</h1>"
    + "".join(table(s) for s in range(1, 21))
    + "</body></html>"
)
start = time.perf_counter()
cpu = time.process_time()
document = HTML(string=html).render()
document.write_pdf()
print(time.perf_counter() - start, time.process_time() - cpu, len(document.pages))
"""


def load(agency: Path):  # type: ignore[no-untyped-def]
    from service.questionnaire import loader
    from service.report import render

    q = loader.load_file(QUESTIONNAIRE).questionnaire
    assert q is not None
    data, problems = loader.load_answers(agency.read_bytes(), str(agency))
    assert data is not None, problems
    return render.build_report_input(q, data)


def largest_agency() -> Path:
    from service.report import render

    sizes = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        sizes[path] = len(render.render_html(load(path)))
    return max(sizes, key=lambda p: sizes[p])


def pages_of(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def chromium_print(html: str, workdir: Path) -> tuple[float, bytes] | None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        return None
    source = workdir / "report.html"
    source.write_text(html, encoding="utf-8")
    out = workdir / "chromium.pdf"
    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pdf-header-footer",
        f"--user-data-dir={workdir / 'profile'}",
        f"--print-to-pdf={out}",
        source.as_uri(),
    ]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start, out.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--agency", type=Path, default=None)
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()

    from service.report import render
    from service.report.assets import BASE_URL, REPORTS_DIR

    agency = args.agency or largest_agency()
    print(f"agency: {agency.relative_to(ROOT)} ({args.lang})")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")

    runs = []
    plain: list[float] = []
    plain_cpu: list[float] = []
    plain_pages = "0"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The report and the plain reference take turns, so both see the same machine.
        for _ in range(args.runs):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(ROOT),
                    str(QUESTIONNAIRE),
                    str(agency),
                    args.lang,
                    str(work / "weasy.pdf"),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            proc = subprocess.run(
                [sys.executable, "-c", PLAIN], check=True, capture_output=True, text=True
            )
            seconds_text, cpu_text, plain_pages = proc.stdout.split()
            plain.append(float(seconds_text))
            plain_cpu.append(float(cpu_text))
        pdf = (work / "weasy.pdf").read_bytes()
        pages = pages_of(pdf)
        median = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        print(
            f"weasyprint: median {median:.3f} s of {args.runs} cold runs "
            f"(min {min(r['seconds'] for r in runs):.3f}, max {max(r['seconds'] for r in runs):.3f}); "
            f"{pages} pages; {1000 * median / pages:.1f} ms/page; {len(pdf) / 1024:.0f} KiB; "
            f"peak RSS {peak:.0f} MB"
        )
        print(
            f"weasyprint CPU time: median {cpu:.3f} s; {1000 * cpu / pages:.1f} ms/page "
            "(less sensitive to other load on the machine than the wall time)"
        )

        plain_median = statistics.median(plain)
        plain_cpu_median = statistics.median(plain_cpu)
        n = int(plain_pages)
        print(
            f"reference on this machine: a plain {n}-page table report (untagged) takes "
            f"{plain_median:.3f} s, {1000 * plain_median / n:.1f} ms/page "
            f"(CPU {1000 * plain_cpu_median / n:.1f} ms/page); about 1.4 s for 20 pages "
            "(70 ms/page) on the 2-core machine of pitfalls.md"
        )
        # The target (75 ms/page) was set on a machine where this plain report took 70 ms/page:
        # as a ratio against the same-run reference, the report may cost 75/70 of it per page.
        per_page_ratio = (median / pages) / (plain_median / n)
        cpu_ratio = (cpu / pages) / (plain_cpu_median / n)
        scaled_target = 75 * (1000 * plain_median / n) / 70
        print(
            f"the report costs {per_page_ratio:.2f} times the plain report per page "
            f"(CPU time: {cpu_ratio:.2f}); target <= {75 / 70:.2f}, i.e. "
            f"{scaled_target:.0f} ms/page on this machine"
        )

        report = load(agency)
        html = render._render(report, args.lang, fragment=False, pdf=True)
        html = html.replace(BASE_URL, REPORTS_DIR.as_uri() + "/").replace(
            'url("fonts/', f'url("{REPORTS_DIR.as_uri()}/fonts/'
        )
        chromium = chromium_print(html, work)
        if chromium is None:
            print("chromium: not installed; skipped")
        else:
            seconds, cpdf = chromium
            cpages = pages_of(cpdf)
            print(
                f"chromium (started per file): {seconds:.3f} s; {cpages} pages; "
                f"{1000 * seconds / cpages:.1f} ms/page; {len(cpdf) / 1024:.0f} KiB"
            )
            print(f"ratio weasyprint/chromium: {median / seconds:.2f}")

    render.clear_cache()
    start = time.perf_counter()
    first = render.render_pdf_cached(report, lang=args.lang)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    second = render.render_pdf_cached(report, lang=args.lang)
    cached = time.perf_counter() - start
    assert first == second
    print(f"in-process first request {warm:.3f} s; cached second request {1000 * cached:.2f} ms")
    absolute = 1000 * median / pages <= 75
    ok = per_page_ratio <= 75 / 70 and peak < 200 and cached < 0.05
    print(
        f"absolute 75 ms/page: {'met' if absolute else 'not met'} on this machine "
        f"({1000 * median / pages:.0f} ms/page; the plain reference takes {1000 * plain_median / n:.0f})"
    )
    print(
        "targets (per page <= 75/70 of the same-run plain reference, peak < 200 MB, "
        "cached < 50 ms): " + ("met" if ok else "NOT met")
    )


if __name__ == "__main__":
    main()
