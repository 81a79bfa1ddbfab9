"""Inbox and portfolio benchmark: 10,000 submissions from 200 agencies against 100.

Fills a fresh SQLite database (migrated to head) with 200 agencies in one province, one reviewer
of that province's commissioner, and assessments of the shipped questionnaire with two submissions
each (so half the submissions are superseded, as after a return). The verdicts, rating and score
of each submission come from scoring the sample answer files in ``questionnaires/examples/``
(the inbox and the portfolio read only the per-submission digest, never the full result, so the
submission rows carry placeholders for the canonical JSON and the result).

Then, in process through the ASGI app (TestClient, signed in as the reviewer), it times the
first inbox page and the portfolio page: median of REPEAT requests after a warm-up. It prints
both sizes and the ratio of the inbox times.

Targets: inbox first page under 100 ms, ratio at most 1.5; portfolio under 500 ms.

    uv run python bench/inbox.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from service import db  # noqa: E402
from service.assessments.digest import verdicts_string  # noqa: E402
from service.assessments.models import Assessment, Submission, SubmissionDigest  # noqa: E402
from service.auth import service as auth_service  # noqa: E402
from service.config import Settings  # noqa: E402
from service.models import Organisation, Role  # noqa: E402
from service.questionnaire import scoring  # noqa: E402
from service.questionnaire.answers import AnswersFile  # noqa: E402
from service.questionnaire.loader import load_directory  # noqa: E402

PASSWORD = "bench password 12345"  # noqa: S105 - a throwaway benchmark account
TARGET_INBOX_MS = 100.0
TARGET_RATIO = 1.5
TARGET_PORTFOLIO_MS = 500.0


def _results() -> tuple[str, str, list[scoring.Result]]:
    import yaml

    registry = load_directory(ROOT / "questionnaires")
    questionnaire = registry.latest("frt-police-canada")
    if questionnaire is None:
        raise SystemExit("the shipped questionnaire did not load")
    results = []
    for path in sorted((ROOT / "questionnaires" / "examples").glob("*.yaml")):
        data = AnswersFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        results.append(
            scoring.score(questionnaire, data.to_answers(), as_of=data.as_of or date(2026, 11, 1))
        )
    return questionnaire.id, questionnaire.version, results


def fill(url: str, *, agencies: int, submissions: int) -> str:
    """Fill the database; returns the reviewer's e-mail."""
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    qid, qver, results = _results()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with db.new_session(engine) as s:
        regulator = auth_service.get_or_create_organisation(
            session=s,
            slug="ipc-on",
            kind="regulator",
            name_en="Information and Privacy Commissioner of Ontario",
            name_fr="Commissaire à l'information et à la protection de la vie privée de l'Ontario",
            body_type=None,
            province="ON",
            agency_id=None,
        )
        email = "bench-reviewer@example.test"
        auth_service.create_user(
            session=s,
            email=email,
            password=PASSWORD,
            full_name="Bench reviewer",
            role=Role.reviewer,
            organisation_id=regulator.id,
        )
        orgs: list[dict[str, object]] = []
        assessments: list[dict[str, object]] = []
        subs: list[dict[str, object]] = []
        digests: list[dict[str, object]] = []
        org_ids = [uuid.uuid4() for _ in range(agencies)]
        for i, org_id in enumerate(org_ids):
            orgs.append(
                {
                    "id": org_id,
                    "kind": "agency",
                    "slug": f"agency-{i:03d}",
                    "name_en": f"Police service {i:03d}",
                    "name_fr": f"Service de police {i:03d}",
                    "body_type": "municipal",
                    "province": "ON",
                    "created_at": start,
                }
            )
        n = 0
        for k in range(submissions // 2):  # two submissions per assessment, round robin
            org_id = org_ids[k % agencies]
            aid = uuid.uuid4()
            status = ("submitted", "returned", "accepted")[k % 3]
            assessments.append(
                {
                    "id": aid,
                    "organisation_id": org_id,
                    "questionnaire_id": qid,
                    "questionnaire_version": qver,
                    "program": f"Program {k:05d}",
                    "answers": {},
                    "evidence": {},
                    "section_status": {},
                    "status": status,
                    "version": 1,
                    "created_at": start,
                    "updated_at": start,
                }
            )
            for number in (1, 2):
                sid = uuid.uuid4()
                at = start + timedelta(minutes=n)
                result = results[n % len(results)]
                n += 1
                subs.append(
                    {
                        "id": sid,
                        "assessment_id": aid,
                        "number": number,
                        "canonical": "{}",
                        "sha256": f"{n:064x}",
                        "result": {},
                        "as_of": at.date(),
                        "submitted_at": at,
                    }
                )
                digests.append(
                    {
                        "submission_id": sid,
                        "assessment_id": aid,
                        "organisation_id": org_id,
                        "questionnaire_id": qid,
                        "questionnaire_version": qver,
                        "number": number,
                        "latest": number == 2,
                        "status": status if number == 2 else "returned",
                        "rating": result.rating.value,
                        "score": result.score,
                        "verdicts": verdicts_string(result),
                        "critical_gaps": [
                            c.id
                            for c in result.criteria
                            if c.severity.value == "critical" and c.verdict.is_gap
                        ],
                        "submitted_at": at,
                    }
                )
        with db.writing(s):
            s.execute(insert(Organisation), orgs)
            s.execute(insert(Assessment), assessments)
            s.execute(insert(Submission), subs)
            s.execute(insert(SubmissionDigest), digests)
    engine.dispose()
    return email


def measure(url: str, email: str, repeat: int) -> tuple[float, float]:
    """Median milliseconds of the first inbox page and of the portfolio page."""
    from service.main import create_app

    settings = Settings(
        database_url=url,
        questionnaires_dir=ROOT / "questionnaires",
        env="test",
        secret_key="bench-secret-" + uuid.uuid4().hex,
        report_prerender=False,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/review/"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        timings: dict[str, list[float]] = {"/review/": [], "/review/portfolio": []}
        for path, values in timings.items():
            for k in range(repeat + 2):
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, response.text[:500]
                if k >= 2:
                    values.append(elapsed)
    app.state.engine.dispose()
    return statistics.median(timings["/review/"]), statistics.median(timings["/review/portfolio"])


def run(size: tuple[int, int], repeat: int, folder: str) -> tuple[float, float]:
    agencies, submissions = size
    url = f"sqlite:///{folder}/bench-{submissions}.sqlite3"
    t0 = time.perf_counter()
    email = fill(url, agencies=agencies, submissions=submissions)
    fill_s = time.perf_counter() - t0
    inbox, portfolio = measure(url, email, repeat)
    print(
        f"{submissions:>6} submissions, {agencies:>3} agencies: inbox first page {inbox:6.1f} ms,"
        f" portfolio {portfolio:6.1f} ms (filled in {fill_s:.1f} s)"
    )
    return inbox, portfolio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("POLICYGAP_ENV", "test")
    with tempfile.TemporaryDirectory() as folder:
        small_inbox, _small_portfolio = run((200, 100), args.repeat, folder)
        big_inbox, big_portfolio = run((200, 10_000), args.repeat, folder)
    ratio = big_inbox / small_inbox
    ok = (
        big_inbox < TARGET_INBOX_MS
        and ratio <= TARGET_RATIO
        and big_portfolio < TARGET_PORTFOLIO_MS
    )
    print(
        f"inbox ratio 10,000 / 100: {ratio:.2f} (target <= {TARGET_RATIO});"
        f" inbox {big_inbox:.1f} ms (target < {TARGET_INBOX_MS:.0f});"
        f" portfolio {big_portfolio:.1f} ms (target < {TARGET_PORTFOLIO_MS:.0f})"
    )
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
