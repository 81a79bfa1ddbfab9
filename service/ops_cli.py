"""Operations commands: ``policygap backup FILE`` and ``policygap restore FILE``.

SQLite: the online backup API copies a consistent snapshot while the app keeps writing (WAL
readers are not blocked); the copy must pass ``PRAGMA integrity_check`` before it is kept.
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``; a clear error
when those programs are missing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from service.config import get_settings, normalise_database_url


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def _check_integrity(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    if result != [("ok",)]:
        raise BackupError(f"{path}: integrity check failed: {result[:5]}")


@contextmanager
def _beside(target: Path, suffix: str) -> Iterator[Path]:
    """A new temporary file in ``target``'s directory (so the final rename stays on one file
    system and is atomic); removed unless the caller has renamed it into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    except OSError as error:
        raise BackupError(f"{target.parent}: cannot write here: {error.strerror}") from error
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _put_in_place(tmp: Path, target: Path) -> None:
    """Flush ``tmp`` to disk, then rename it over ``target`` in one step (a reader sees the old
    backup or the new one, never a mix), and flush the directory entry too."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as error:
        raise BackupError(f"{target}: cannot put the backup in place: {error.strerror}") from error


def sqlite_backup(source: Path, target: Path, *, pages_per_step: int = 1024) -> None:
    """Copy ``source`` to ``target`` with the online backup API, then check the copy.

    The copy is written next to ``target`` and renamed into place only once it passes
    ``PRAGMA integrity_check``, so a failed backup (a full disk, a damaged copy) leaves the
    previous file at ``target`` as it was."""
    if not source.exists():
        raise BackupError(f"{source}: no such database file")
    with _beside(target, ".sqlite3") as tmp:
        try:
            src = sqlite3.connect(source, timeout=30)
            try:
                dst = sqlite3.connect(tmp)
                try:
                    src.execute("PRAGMA busy_timeout=30000")
                    src.backup(dst, pages=pages_per_step)
                    dst.execute("PRAGMA journal_mode=DELETE")
                finally:
                    dst.close()
            finally:
                src.close()
            _check_integrity(tmp)
        except (sqlite3.Error, OSError) as error:
            raise BackupError(
                f"{target}: the backup could not be written ({error}; is the disk full?); "
                "the previous backup there, if any, is unchanged"
            ) from error
        _put_in_place(tmp, target)


def sqlite_restore(backup: Path, target: Path) -> None:
    """Replace the database at ``target`` with ``backup`` (checked first). Stop the app first."""
    if not backup.exists():
        raise BackupError(f"{backup}: no such file")
    _check_integrity(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(backup)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    _check_integrity(target)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed or not on PATH; install the PostgreSQL client programs "
            f"(Debian: apt-get install postgresql-client) matching the server's major version"
        )
    return found


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(normalise_database_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or ""]
    return args, env


def _pg_check_dump(dump: Path) -> None:
    """A dump must be non-empty and read to its end by ``pg_restore``: ``--list`` reads only
    the table of contents (a dump cut short by a full disk still lists), so the whole archive
    is also restored as a script to nowhere, which reads every data block."""
    if dump.stat().st_size == 0:
        raise BackupError("pg_dump wrote an empty file")
    tool = _pg_tool("pg_restore")
    for check in (["--list"], ["--file", os.devnull]):
        done = subprocess.run(  # noqa: S603 - fixed program, a file we wrote
            [tool, *check, str(dump)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise BackupError(f"the dump does not read back: {done.stderr.strip()}")


def pg_backup(url: str, target: Path) -> None:
    """``pg_dump`` into a file beside ``target``, checked, then renamed over it: a failed dump
    (database unreachable, disk full) leaves the previous backup at ``target`` untouched."""
    args, env = _pg_args(url)
    tool = _pg_tool("pg_dump")
    with _beside(target, ".dump") as tmp:
        done = subprocess.run(  # noqa: S603 - fixed program, arguments from the settings
            [tool, "--format=custom", "--no-owner", "--file", str(tmp), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(
                f"pg_dump failed: {done.stderr.strip()}; the previous backup, if any, is unchanged"
            )
        _pg_check_dump(tmp)
        _put_in_place(tmp, target)


def pg_restore(url: str, backup: Path) -> None:
    if not backup.exists():
        raise BackupError(f"{backup}: no such file")
    args, env = _pg_args(url)
    tool = _pg_tool("pg_restore")
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from the settings
        [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(backup)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def backup(url: str, target: Path) -> None:
    path = _sqlite_path(url)
    if path is not None:
        sqlite_backup(path, target)
    else:
        pg_backup(url, target)


def restore(url: str, source: Path) -> None:
    path = _sqlite_path(url)
    if path is not None:
        sqlite_restore(source, path)
    else:
        pg_restore(url, source)


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the command line."""

    @app.command("backup")
    def backup_command(
        file: Annotated[Path, typer.Argument(help="Where to write the backup")],
    ) -> None:
        """Back up the database while the app keeps running (SQLite: checked copy; PostgreSQL:
        pg_dump custom format)."""
        try:
            backup(get_settings().database_url, file)
        except BackupError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from error
        typer.echo(f"backup written to {file}")

    @app.command("restore")
    def restore_command(
        file: Annotated[Path, typer.Argument(help="A backup made by policygap backup")],
    ) -> None:
        """Replace the database with a backup (stop the app first; run migrate afterwards)."""
        try:
            restore(get_settings().database_url, file)
        except BackupError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from error
        typer.echo(f"database restored from {file}")
