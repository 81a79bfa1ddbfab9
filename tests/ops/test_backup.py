"""``policygap backup`` / ``restore``: a backup taken during a stream of saves restores into a
database holding every save acknowledged before the backup began; PostgreSQL through pg_dump."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import col, func, select

from service import db, ops_cli
from service.assessments.models import Assessment
from service.auth import service as auth_service
from service.models import AuditEvent
from tests.builders import ROOT, free_port, make_world, server
from tests.conftest import create_pg_database, drop_pg_database


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "POLICYGAP_DATABASE_URL": database_url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "test-secret",
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_backup_during_saves_restores_every_acknowledged_save(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = db.make_engine(sqlite_url)
    world = make_world(engine)
    with db.new_session(engine) as s:
        token = auth_service.create_api_token(session=s, user=world.officer_a, name="backup")
    engine.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    acknowledged: list[int] = []
    backup_file = tmp_path / "backup.sqlite3"
    with server(sqlite_url) as (base, _proc):
        created = httpx.post(
            base + "/api/v1/assessments",
            json={"questionnaire": "web-mini", "program": "Backup"},
            headers=auth,
        )
        assert created.status_code == 201
        url = base + created.headers["location"]
        etag = created.headers["etag"]
        stop = threading.Event()

        def saves() -> None:
            nonlocal etag
            with httpx.Client(timeout=30) as client:
                for n in range(1, 100_000):
                    if stop.is_set():
                        return
                    r = client.patch(
                        url + "/answers",
                        json={"answers": {"searches": n}},
                        headers={**auth, "If-Match": etag},
                    )
                    assert r.status_code == 200, r.text
                    etag = r.headers["etag"]
                    acknowledged.append(n)

        worker = threading.Thread(target=saves)
        worker.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = list(acknowledged)  # every save acknowledged before the backup began
        ops_cli.backup(sqlite_url, backup_file)  # what `policygap backup FILE` runs
        while len(acknowledged) < len(before) + 10 and time.monotonic() < deadline:
            time.sleep(0.01)  # the saves went on during and after the backup
        stop.set()
        worker.join(30)
    assert len(before) >= 20
    assert len(acknowledged) > len(before)
    with sqlite3.connect(backup_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    result = _cli(restored_url, "restore", str(backup_file))
    assert result.returncode == 0, result.stderr
    engine = db.make_engine(restored_url)
    with db.new_session(engine) as s:
        assessment = s.exec(select(Assessment)).one()
        assert assessment.answers["searches"] >= before[-1]
        saves_kept = s.exec(
            select(func.count()).where(
                AuditEvent.assessment_id == assessment.id, col(AuditEvent.action) == "save"
            )
        ).one()
        assert saves_kept >= len(before)
    engine.dispose()


def test_restore_refuses_a_damaged_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises((ops_cli.BackupError, sqlite3.DatabaseError)):
        ops_cli.restore(f"sqlite:///{tmp_path / 'target.sqlite3'}", bad)
    with pytest.raises(ops_cli.BackupError, match="no such"):
        ops_cli.backup(f"sqlite:///{tmp_path / 'missing.sqlite3'}", tmp_path / "out")
    with pytest.raises(ops_cli.BackupError, match="in-memory"):
        ops_cli.backup("sqlite://", tmp_path / "out")


def test_postgres_tools_missing_give_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(ops_cli.BackupError, match="pg_dump is not installed"):
        ops_cli.backup("postgresql://u:p@localhost/x", tmp_path / "x.dump")
    (tmp_path / "x.dump").write_bytes(b"x")
    with pytest.raises(ops_cli.BackupError, match="pg_restore is not installed"):
        ops_cli.restore("postgresql://u:p@localhost/x", tmp_path / "x.dump")


@pytest.mark.postgres
def test_postgres_backup_and_restore(pg_server_url: str, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    source = create_pg_database(pg_server_url, "policygap_backup")
    target = create_pg_database(pg_server_url, "policygap_restore")
    try:
        db.upgrade_to_head(source)
        engine = db.make_engine(source)
        make_world(engine)
        engine.dispose()
        dump = tmp_path / "pg.dump"
        ops_cli.backup(source, dump)
        result = _cli(target, "restore", str(dump))
        assert result.returncode == 0, result.stderr
        engine = db.make_engine(target)
        with db.new_session(engine) as s:
            assert s.exec(select(func.count()).select_from(AuditEvent)).one() >= 0
            from service.models import User

            assert len(s.exec(select(User)).all()) == 6
        engine.dispose()
    finally:
        drop_pg_database(pg_server_url, source)
        drop_pg_database(pg_server_url, target)


def test_backup_command_line(sqlite_url: str, tmp_path: Path) -> None:
    target = tmp_path / "cli.sqlite3"
    done = _cli(sqlite_url, "backup", str(target))
    assert done.returncode == 0, done.stderr
    assert "backup written" in done.stdout
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    missing = _cli(sqlite_url, "restore", str(tmp_path / "nothing.sqlite3"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


# A failed backup never touches the backup already at the target (issue 20).


def _cli_limited(
    database_url: str, file_size_limit: int, *args: str
) -> subprocess.CompletedProcess[str]:
    """The command line with writes beyond ``file_size_limit`` bytes failing (EFBIG), as on a
    full disk: RLIMIT_FSIZE, inherited by pg_dump; Python ignores SIGXFSZ, so writes fail."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    env = {
        **os.environ,
        "POLICYGAP_DATABASE_URL": database_url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "test-secret",
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        preexec_fn=limit,
    )


def _grow_sqlite(url: str) -> None:
    engine = db.make_engine(url)
    make_world(engine)
    engine.dispose()


def _leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


def test_sqlite_backup_to_a_full_disk_keeps_the_previous_backup(
    sqlite_url: str, tmp_path: Path
) -> None:
    _grow_sqlite(sqlite_url)
    source = Path(sqlite_url.removeprefix("sqlite:///"))
    out = tmp_path / "out"
    out.mkdir()
    target = out / "same.sqlite3"
    first = _cli(sqlite_url, "backup", str(target))
    assert first.returncode == 0, first.stderr
    before = target.read_bytes()
    failed = _cli_limited(sqlite_url, source.stat().st_size // 2, "backup", str(target))
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert "error:" in failed.stderr
    assert target.read_bytes() == before
    assert _leftovers(out, {"same.sqlite3"}) == []


def test_sqlite_backup_that_fails_its_check_keeps_the_previous_backup(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    target = out / "same.sqlite3"
    ops_cli.backup(sqlite_url, target)
    before = target.read_bytes()

    def damaged(path: Path) -> None:
        raise ops_cli.BackupError(f"{path}: integrity check failed")

    monkeypatch.setattr(ops_cli, "_check_integrity", damaged)
    with pytest.raises(ops_cli.BackupError, match="integrity"):
        ops_cli.backup(sqlite_url, target)
    assert target.read_bytes() == before
    assert _leftovers(out, {"same.sqlite3"}) == []


def _pg_restore_reads(dump: Path) -> bool:
    done = subprocess.run(
        ["pg_restore", "--file", os.devnull, str(dump)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.postgres
def test_postgres_failed_backup_keeps_the_previous_backup(
    pg_server_url: str, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    source = create_pg_database(pg_server_url, "policygap_backup")
    try:
        db.upgrade_to_head(source)
        engine = db.make_engine(source)
        make_world(engine)
        engine.dispose()
        out = tmp_path / "out"
        out.mkdir()
        target = out / "same.dump"
        first = _cli(source, "backup", str(target))
        assert first.returncode == 0, first.stderr
        before = target.read_bytes()
        assert before
        assert _pg_restore_reads(target)

        unreachable = make_url(source).set(port=free_port()).render_as_string(hide_password=False)
        failed = _cli(unreachable, "backup", str(target))
        assert failed.returncode == 2, failed.stderr
        assert "Traceback" not in failed.stderr
        assert target.read_bytes() == before

        full = _cli_limited(source, len(before) // 2, "backup", str(target))
        assert full.returncode == 2, full.stderr
        assert "Traceback" not in full.stderr
        assert target.read_bytes() == before
        assert _pg_restore_reads(target)
        assert _leftovers(out, {"same.dump"}) == []
    finally:
        drop_pg_database(pg_server_url, source)
