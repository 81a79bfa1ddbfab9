"""Archive import memory: an archive of several large, highly compressible documents.

Issue 16: a 0.93 MB archive of 7 documents of 20 MB each (under the 200:1 ratio check) took the
server from 195 to 393 MB resident, each document inflated whole into memory. The import now
inflates each member a chunk at a time into a spool file (hashed as it goes), sniffs it from
that file, and copies it into the documents directory in chunks.

Prints the peak of Python allocations (tracemalloc) while the archive is read and imported,
against the members' total size, with the documents in a directory (the members are never held
whole) and in the database (a blob column: one member at a time is held whole to insert it).

    uv run python bench/archive_memory.py [MEMBERS] [MEGABYTES_EACH]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import db  # noqa: E402
from service.assessments import service as assessment_service  # noqa: E402
from service.documents import archive  # noqa: E402
from service.documents import service as document_service  # noqa: E402
from service.questionnaire.answers import AnswersFile  # noqa: E402
from tests.builders import make_world  # noqa: E402
from tests.documents.files import compressible_text  # noqa: E402
from tests.review.helpers import mini, viewer  # noqa: E402


def build(members: int, size: int) -> bytes:
    answers = AnswersFile(questionnaire="web-mini", version="1.0", answers={"pia_done": "yes"})
    documents = [
        ("pia_done", f"log-{n}.txt", "text/plain", compressible_text(size, n))
        for n in range(members)
    ]
    return archive.build(answers, documents)


def measure(raw: bytes, members: int, size: int, work: Path, on_disk: bool) -> tuple[int, float]:
    """(peak bytes allocated, seconds) to read and import ``raw`` into a fresh database."""
    url = f"sqlite:///{work / ('disk' if on_disk else 'db')}.sqlite3"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    officer = viewer(engine, world.officer_a)
    q = mini()
    with db.new_session(engine) as s:
        started = assessment_service.start(session=s, viewer=officer, questionnaire=q, program="P")
        aid, version = started.id, started.version
    directory = work / "documents" if on_disk else None
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    checked = archive.read(
        raw,
        q,
        max_document_bytes=size,
        max_total_bytes=2 * members * size,
        spool_dir=directory,
    )
    with checked, db.new_session(engine) as s:
        added = document_service.import_archive(
            session=s,
            viewer=officer,
            assessment_id=aid,
            expected_version=version,
            questionnaire=q,
            checked=checked,
            max_bytes=size,
            directory=directory,
            as_of=date(2026, 11, 26),
        )
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    assert added == members, added
    return peak, seconds


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    size = (int(sys.argv[2]) if len(sys.argv) > 2 else 20) * 1024 * 1024
    raw = build(members, size)
    total = members * size
    mib = 1024 * 1024
    print(f"archive: {len(raw) / mib:.2f} MiB holding {members} members of {size / mib:.0f} MiB")
    print(f"members' total: {total / mib:.0f} MiB ({total / len(raw):.0f} times the archive)")
    for on_disk in (True, False):
        with tempfile.TemporaryDirectory() as work:
            peak, seconds = measure(raw, members, size, Path(work), on_disk)
        where = "documents directory" if on_disk else "database blobs     "
        print(
            f"{where}: peak {peak / mib:6.1f} MiB = {peak / total:.3f} of the members' total "
            f"({peak / size:.2f} of one member), raw archive included; {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
