"""Review page benchmark: the reviewer's page of one demo assessment of the shipped questionnaire.

Fills a fresh SQLite database with the demo (``ensure_demo``: the shipped questionnaire answered
from ``questionnaires/examples/``), signs in as the demo reviewer and times ``GET /review/{id}``
of each submitted or accepted assessment the reviewer may read, in process through the ASGI app
(TestClient): median CPU time of the process over REPEAT requests (CPU time, so other
work on the machine does not count), in English and French.

    uv run python bench/review.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import select  # noqa: E402

from service import db  # noqa: E402
from service.admin_cli import ensure_demo  # noqa: E402
from service.assessments.models import Assessment  # noqa: E402
from service.config import Settings  # noqa: E402
from service.questionnaire.loader import load_directory  # noqa: E402

EMAIL, PASSWORD = "reviewer@demo.policygap.ca", "demo-reviewer-pass"


def measure(folder: str, repeat: int) -> dict[str, float]:
    from service.main import create_app

    url = f"sqlite:///{folder}/bench-review.sqlite3"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    registry = load_directory(ROOT / "questionnaires")
    with db.new_session(engine) as session:
        ensure_demo(
            session=session, registry=registry, examples_dir=ROOT / "questionnaires" / "examples"
        )
        ids = [str(a.id) for a in session.exec(select(Assessment)) if a.status != "draft"]
    engine.dispose()
    settings = Settings(
        database_url=url,
        questionnaires_dir=ROOT / "questionnaires",
        env="test",
        secret_key="bench-secret-" + uuid.uuid4().hex,
        report_prerender=False,
    )
    app = create_app(settings)
    out: dict[str, float] = {}
    with TestClient(app) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": token, "next": "/review/"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text[:500]
        for lang in ("en", "fr"):
            home = client.get("/review/")
            token = home.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post("/language", data={"lang": lang, "csrf_token": token, "next": "/"})
            times: list[float] = []
            for aid in ids:
                path = f"/review/{aid}"
                if client.get(path).status_code != 200:
                    continue  # not the demo reviewer's
                for _ in range(repeat):
                    t0 = time.process_time()
                    response = client.get(path)
                    times.append((time.process_time() - t0) * 1000)
                    assert response.status_code == 200
            out[lang] = statistics.median(times)
    app.state.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = measure(folder, args.repeat)
    for lang, ms in result.items():
        print(f"review page ({lang}): median {ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
