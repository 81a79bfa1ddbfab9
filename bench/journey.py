"""The PDF journey: from the submit POST to each PDF cached, and the first downloads.

One uvicorn worker (its embedded job worker and warm render process, as ``policygap serve``
runs) on a fresh SQLite database holding the demo data (``policygap demo``), and a new draft of
TA-1's answers (Lakeshore, the shipped questionnaire, about 29 pages) with every section
completed. Measured in the same run:

- one render: the same report (the same ``RenderJob``, uncached), rendered in a warm child
  process of the bench itself, three times; the median is the unit of the ratios;
- submit: from the submit POST to the first language's PDF cached, and to both, the server
  otherwise idle;
- page p99 while rendering: a second submit while four clients load a page (another
  assessment's task list) without pause; the render process runs at a lower CPU priority
  (``report_delivery.service.RENDER_NICE``), so its PDFs take longer here, which is printed;
- the first download 1 s after the submit (a second draft), and the first download once the PDF
  is cached;
- accept: the reviewer accepts; the first download 1 s later, and both accepted PDFs cached.

Targets (issue 20, on the 2-core machine): first language ready within 1.1 x one render of the
submit, both within 2 x one render + 0.5 s, a download of a cached PDF under 50 ms, page p99
while rendering under 60 ms. The machine is shared: load average is printed with the figures.

    uv run python bench/journey.py
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import Engine  # noqa: E402
from sqlmodel import select  # noqa: E402

from service import db  # noqa: E402

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')
_UNANSWERED = re.compile(r'name="unanswered" value="([^"]+)"')
OFFICER = ("officer@demo.policygap.ca", "demo-officer-pass")
REVIEWER = ("reviewer@demo.policygap.ca", "demo-reviewer-pass")
EXAMPLE = ROOT / "questionnaires" / "examples" / "ta1-lakeshore.yaml"


def prepare(url: str, program: str) -> str:
    """A draft of TA-1's answers at Lakeshore with every section completed; its id."""
    import yaml

    from service.assessments import service as assessment_service
    from service.assessments.models import Assessment
    from service.assessments.service import Viewer
    from service.documents import store as document_store
    from service.models import Organisation, SectionStatus, User
    from service.questionnaire.answers import AnswersFile
    from service.questionnaire.loader import load_directory

    assessment_service.use_documents(document_store)
    data = AnswersFile.model_validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    questionnaire = load_directory(ROOT / "questionnaires").get(data.questionnaire, data.version)
    assert questionnaire is not None
    engine = db.make_engine(url)
    with db.new_session(engine) as session:
        officer = session.exec(select(User).where(User.email == OFFICER[0])).one()
        agency = session.get_one(Organisation, officer.organisation_id)
        viewer = Viewer(user=officer, organisation=agency)
        draft = assessment_service.start(
            session=session, viewer=viewer, questionnaire=questionnaire, program=program
        )
        answers = data.to_answers()
        assessment_service.save_answers(
            session=session,
            viewer=viewer,
            assessment_id=draft.id,
            expected_version=None,
            questionnaire=questionnaire,
            values=dict(answers.values),
            evidence=dict(answers.evidence),
            as_of=data.as_of or draft.created_at.date(),
        )
        with db.writing(session):
            fresh = session.get_one(Assessment, draft.id)
            fresh.section_status = {s.id: SectionStatus.completed for s in questionnaire.sections}
        aid = str(draft.id)
    engine.dispose()
    return aid


def cached_languages(url: str, aid: str, state: str) -> set[str]:
    from service.assessments.models import Submission
    from service.report_delivery.models import ReportCache

    engine = _engines.get(url) or _engines.setdefault(url, db.make_engine(url))
    with db.new_session(engine) as session:
        shas = {
            s.sha256
            for s in session.exec(
                select(Submission).where(Submission.assessment_id == uuid.UUID(aid))
            ).all()
        }
        rows = session.exec(
            select(ReportCache.language).where(
                ReportCache.sha256.in_(shas),  # type: ignore[attr-defined]
                ReportCache.review_state == state,
            )
        ).all()
        return set(rows)


_engines: dict[str, Engine] = {}


def one_render_seconds(url: str, aid: str, rounds: int = 3) -> float:
    """The same report rendered in a warm child process of the bench (never cached)."""

    from service.assessments.models import Assessment, Submission
    from service.config import Settings
    from service.jobs.child import ChildProcess
    from service.questionnaire.loader import load_directory
    from service.report import render as report_render
    from service.report_delivery import service as web_reports

    settings = Settings(database_url=url, questionnaires_dir=ROOT / "questionnaires")
    engine = db.make_engine(url)
    with db.new_session(engine) as session:
        submission = session.exec(
            select(Submission).where(Submission.assessment_id == uuid.UUID(aid))
        ).first()
        assert submission is not None
        assessment = session.get_one(Assessment, submission.assessment_id)
        questionnaire = load_directory(ROOT / "questionnaires").get(
            assessment.questionnaire_id, assessment.questionnaire_version
        )
        assert questionnaire is not None
        job = web_reports.render_job(
            session,
            questionnaire=questionnaire,
            assessment=assessment,
            submission=submission,
            lang="en",
            settings=settings,
        )
    engine.dispose()
    child = ChildProcess(memory_mb=1024, cpu_seconds=300, name="bench render")
    child.start(web_reports.warm_child, str(ROOT / "questionnaires"))
    try:
        child.call(int, "0", timeout=300)  # started and warm
        times = []
        for _ in range(rounds):
            child.call(report_render.clear_cache, timeout=60)  # the library's own cache
            start = time.perf_counter()
            child.call(web_reports.render_in_child, str(ROOT / "questionnaires"), job, timeout=300)
            times.append(time.perf_counter() - start)
    finally:
        child.shutdown()
    return statistics.median(times)


def sign_in(client: httpx.Client, who: tuple[str, str]) -> None:
    page = client.get("/login").text
    client.post(
        "/login",
        data={"email": who[0], "password": who[1], "csrf_token": _CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )


def form_of(html: str) -> dict[str, object]:
    data: dict[str, object] = {"csrf_token": _CSRF.search(html).group(1)}  # type: ignore[union-attr]
    version = _VERSION.search(html)
    if version:
        data["version"] = version.group(1)
    unanswered = _UNANSWERED.findall(html)
    if unanswered:
        data["unanswered"] = unanswered
        data["confirm"] = "yes"
    return data


def submit(client: httpx.Client, aid: str) -> float:
    """POST the submit; the time it was sent (perf_counter)."""
    page = client.get(f"/assessments/{aid}/check-your-answers").text
    data = form_of(page)
    start = time.perf_counter()
    r = client.post(f"/assessments/{aid}/check-your-answers", data=data)  # type: ignore[arg-type]
    assert r.status_code == 303, (r.status_code, r.text[:300])
    SUBMIT_POSTS.append(time.perf_counter() - start)
    return start


SUBMIT_POSTS: list[float] = []  # how long each submit POST took to answer


def wait_cached(url: str, aid: str, state: str, start: float) -> list[float]:
    """Seconds from ``start`` to each language's PDF cached (in the order they came)."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 600
    while len(seen) < 2 and time.monotonic() < deadline:
        for lang in cached_languages(url, aid, state) - set(seen):
            seen[lang] = time.perf_counter() - start
        time.sleep(0.01)
    if len(seen) < 2:
        raise SystemExit(f"the {state} PDFs were not both cached within 600 s: {sorted(seen)}")
    return sorted(seen.values())


class PageLoad:
    """``clients`` threads loading ``path`` back to back; latencies in seconds."""

    def __init__(self, base: str, cookies: httpx.Cookies, path: str, clients: int = 4) -> None:
        self.times: list[float] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, args=(base, cookies, path)) for _ in range(clients)
        ]

    def _loop(self, base: str, cookies: httpx.Cookies, path: str) -> None:
        # a keep-alive http.client connection: far less client CPU than httpx (bench/web.py)
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        while not self.stop.is_set():
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            self.times.append(time.perf_counter() - start)
            assert response.status == 200, response.status
        conn.close()

    def __enter__(self) -> PageLoad:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def p99(self) -> float:
        return statistics.quantiles(self.times, n=100)[98] if len(self.times) > 2 else 0.0


def main() -> None:
    from web import free_port  # bench/web.py

    tmp = Path(tempfile.mkdtemp(prefix="policygap-journey-"))
    url = f"sqlite:///{tmp / 'journey.sqlite3'}"
    env = {
        **os.environ,
        "POLICYGAP_DATABASE_URL": url,
        "POLICYGAP_QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
        "POLICYGAP_LOG_LEVEL": "warning",
    }
    subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [sys.executable, "-m", "service.cli", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    first, second = prepare(url, "Journey one"), prepare(url, "Journey two")
    third = prepare(url, "Journey three")
    other = prepare(url, "Page under load")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        time.sleep(5)  # let the render process start and warm up, as a server that has run a while
        officer = httpx.Client(base_url=base, timeout=300)
        reviewer = httpx.Client(base_url=base, timeout=300)
        sign_in(officer, OFFICER)
        sign_in(reviewer, REVIEWER)

        # 1. submit: each language's PDF cached, the server otherwise idle
        start = submit(officer, first)
        ready = wait_cached(url, first, "submitted", start)
        start = time.perf_counter()
        r = officer.get(f"/assessments/{first}/report.pdf?lang=en")
        cached_download = time.perf_counter() - start
        assert r.status_code == 200
        assert r.content.startswith(b"%PDF")

        # 1a. the same page load with nothing rendering: the baseline of the p99 below
        with PageLoad(base, officer.cookies, f"/assessments/{other}/") as idle:
            time.sleep(8.0)
        idle_p99 = idle.p99()

        # 1b. page p99 while rendering: another submit, four clients loading a page meanwhile
        with PageLoad(base, officer.cookies, f"/assessments/{other}/") as load:
            start = submit(officer, third)
            loaded = wait_cached(url, third, "submitted", start)
        page_p99 = load.p99()

        # 2. the first download 1 s after the submit
        start = submit(officer, second)
        time.sleep(1.0)
        t = time.perf_counter()
        r = officer.get(f"/assessments/{second}/report.pdf?lang=en")
        download_after_submit = time.perf_counter() - start
        download_wait = time.perf_counter() - t
        assert r.status_code == 200

        # 3. accept, and the first download 1 s later
        # accepting is confirmed on a page of its own: the decision is the POST from that page
        page = reviewer.get(f"/review/{first}/accept").text
        data = form_of(page)
        start = time.perf_counter()
        r = reviewer.post(f"/review/{first}/accept", data=data)  # type: ignore[arg-type]
        assert r.status_code == 303, r.status_code
        assert "done=accept" in r.headers["location"], r.headers["location"]
        time.sleep(1.0)
        t = time.perf_counter()
        r = reviewer.get(f"/assessments/{first}/report.pdf?lang=en")
        download_after_accept = time.perf_counter() - t
        assert r.status_code == 200
        accepted = wait_cached(url, first, "accepted", start)
        officer.close()
        reviewer.close()
    finally:
        server.terminate()
        server.wait(30)

    render = one_render_seconds(url, first)
    load1, load5, _ = os.getloadavg()
    print(f"load average {load1:.1f} (1 min), {load5:.1f} (5 min) on {os.cpu_count()} cores: "
          "a shared, busy machine; the ratios are the figures that carry over")  # fmt: skip
    print(f"one render of TA-1 (warm process, median of 3): {render:.2f} s")
    print(f"submit -> first language cached: {ready[0]:.2f} s = {ready[0] / render:.2f} x one "
          "render (target <= 1.1)")  # fmt: skip
    both_target = 2 * render + 0.5
    print(f"submit -> both cached: {ready[-1]:.2f} s = {ready[-1] / both_target:.2f} x "
          f"(2 x render + 0.5 s = {both_target:.2f} s) (target <= 1.0)")  # fmt: skip
    print(f"the submit POST itself answered in {SUBMIT_POSTS[0]:.2f} s (the first submit)")
    print(f"download once cached: {cached_download * 1000:.0f} ms (target < 50 ms)")
    print(f"page p99 while rendering (4 clients, {len(load.times)} requests): "
          f"{page_p99 * 1000:.0f} ms (target < 60 ms); nothing rendering: "
          f"{idle_p99 * 1000:.0f} ms ({len(idle.times)} requests), ratio "
          f"{page_p99 / idle_p99:.2f}; that submit's PDFs cached in "
          f"{loaded[0]:.2f} s and {loaded[-1]:.2f} s (the render yields the CPU to pages)")  # fmt: skip
    print(f"first download 1 s after submit: answered {download_after_submit:.2f} s after the "
          f"submit ({download_wait:.2f} s waiting for the job) = "
          f"{download_after_submit / render:.2f} x one render")  # fmt: skip
    print(f"first download 1 s after accept: {download_after_accept:.2f} s waiting; "
          f"accept -> both accepted PDFs cached: {accepted[-1]:.2f} s = "
          f"{accepted[-1] / both_target:.2f} x (2 x render + 0.5 s)")  # fmt: skip


if __name__ == "__main__":
    main()
