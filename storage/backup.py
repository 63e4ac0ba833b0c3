"""Backups of the SQLite database file, and putting one back.

A backup is taken with SQLite's online backup API in a single step: it reads one consistent
snapshot of the database while the bot goes on writing (in WAL mode a reader never blocks the
writer), so it holds exactly the transactions committed before it began. Stepping page by page
instead would start over after every write the bot made in between, and might never finish.
The copy is written under a temporary name and renamed once complete, so a half-written file is
never listed as a backup. PostgreSQL has pg_dump and pg_restore for this (see the README).

Plain blocking I/O: the bot runs it in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import time
import uuid
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.database import SQLITE_BUSY_TIMEOUT_MS, alembic_config

STAMP = "%Y%m%d-%H%M%S"
BACKUP_NAME = re.compile(r"^salesbot-(\d{8}-\d{6})\.sqlite3$")
"""Only files named like this are backups: retention never touches anything else."""
PARTIAL = ".partial"
STALE_PARTIAL_AFTER = dt.timedelta(days=1)
"""A temporary file this old was left by a backup that died half-way: it is removed."""
SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup could not be taken, or a file cannot be restored; the message says why, in
    one line."""


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    taken_at: dt.datetime
    size: int


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for any other database (or one in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def backup_name(taken_at: dt.datetime) -> str:
    return f"salesbot-{taken_at.astimezone(dt.UTC).strftime(STAMP)}.sqlite3"


def create_backup(database: Path, directory: Path, keep: int, now: dt.datetime) -> Path:
    """Copy the database into `directory` as `salesbot-<UTC time>.sqlite3`, then keep only
    the newest `keep` backups there. Safe while the bot writes."""
    if not database.is_file():
        raise BackupError(f"there is no database file at {database}")
    target = directory / backup_name(now)
    partial = directory / f"{target.name}.{uuid.uuid4().hex[:8]}{PARTIAL}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _copy(_read_only(database), partial)
        os.replace(partial, target)
        _sync_directory(directory)
    except (OSError, sqlite3.Error) as error:
        _remove(partial)
        raise BackupError(f"cannot back up {database} into {directory}: {error}") from error
    prune(directory, keep)
    return target


def list_backups(directory: Path) -> list[Backup]:
    """The backups in `directory`, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = BACKUP_NAME.match(path.name)
        if match and path.is_file():
            taken_at = dt.datetime.strptime(match.group(1), STAMP).replace(tzinfo=dt.UTC)
            with suppress(FileNotFoundError):  # deleted meanwhile by another prune
                found.append(Backup(path, taken_at, path.stat().st_size))
    return sorted(found, key=lambda backup: backup.taken_at, reverse=True)


def prune(directory: Path, keep: int) -> None:
    """Delete all but the newest `keep` backups, and temporary files of backups that died. A
    file that cannot be deleted stays until the next backup tries again: the new backup, just
    written, does not fail because of an old one."""
    for backup in list_backups(directory)[keep:]:
        _remove(backup.path)
    stale = time.time() - STALE_PARTIAL_AFTER.total_seconds()
    for path in directory.glob(f"salesbot-*{PARTIAL}"):
        with suppress(OSError):
            if path.stat().st_mtime < stale:
                path.unlink()


def check_backup(path: Path) -> None:
    """Raise BackupError unless `path` is a whole SQLite database of this bot: the SQLite
    header, `PRAGMA integrity_check` answering ok, and a schema version this code knows."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror}") from error
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not a SQLite database")
    try:
        with closing(_read_only(path)) as connection:
            problems = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} fails the integrity check: {problems[0]}")
            versioned = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            version = (
                connection.execute("SELECT version_num FROM alembic_version").fetchone()
                if versioned
                else None
            )
    except sqlite3.Error as error:
        raise BackupError(f"{path} fails the integrity check: {error}") from error
    if version is None:
        raise BackupError(f"{path} is a SQLite database, but not one of this bot")
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if version[0] not in {revision.revision for revision in script.walk_revisions()}:
        raise BackupError(
            f"{path} comes from a newer version of the bot (schema {version[0]}); "
            "update the bot first"
        )


def restore_backup(backup: Path, database: Path, now: dt.datetime) -> Path | None:
    """Put a checked backup in place of the database; the bot must be stopped. The current
    database (with its WAL, which may hold committed changes not yet in the file) is moved
    aside as `<database>.before-restore-<UTC time>` first: returns that path, or None when
    there was no database."""
    check_backup(backup)
    stamp = now.astimezone(dt.UTC).strftime(STAMP)
    staged = database.with_name(f"{database.name}.restoring-{uuid.uuid4().hex[:8]}{PARTIAL}")
    aside: Path | None = None
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        # Copied in full before the current database is touched: a failure here leaves it.
        _copy(_read_only(backup), staged)
        if database.exists():
            aside = _free_name(database.with_name(f"{database.name}.before-restore-{stamp}"))
            for suffix in ("", "-wal", "-shm"):
                companion = Path(f"{database}{suffix}")
                if companion.exists():
                    os.replace(companion, Path(f"{aside}{suffix}"))
        os.replace(staged, database)
        _sync_directory(database.parent)
    except (OSError, sqlite3.Error) as error:
        _remove(staged)
        raise BackupError(f"cannot restore {backup} into {database}: {error}") from error
    return aside


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that neither writes to the file nor creates one that is not there."""
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
    )


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """One consistent snapshot of `source` into a new single-file database at `target`."""
    with closing(source), closing(sqlite3.connect(target)) as copy:
        source.backup(copy)  # all pages in one step: one snapshot, see the module's docstring
        # The copy inherits WAL mode from the bot's database; a backup is one file on its own.
        copy.execute("PRAGMA journal_mode=DELETE")


def _remove(path: Path) -> None:
    with suppress(OSError):  # a file left behind is tried again; it must not hide the outcome
        path.unlink(missing_ok=True)


def _free_name(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _sync_directory(directory: Path) -> None:
    """Make a rename durable: without it a power cut can undo it on some file systems."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
