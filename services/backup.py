"""The SQLite database's daily backup, and the commands to back up, list and restore by hand.

The daily backup is a reminder row keyed by the team's local date and due at 03:00 there, like
the morning digest: planned every minute, stored once, so it runs once a day whatever the
restarts. When it comes due the sweeper runs it (in a worker thread) instead of sending a
message; a bot that was down at 03:00 takes it when it starts. A failed backup is logged with
its reason and tried again later, up to the reminders' attempt limit. On PostgreSQL nothing is
planned: pg_dump does this job there.

    python -m services.backup create | list | restore <file>
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from config.settings import Settings
from domain.clock import Clock
from domain.reminders import Reminder, ReminderStatus, is_late, plan_backup
from services.reminders import MAX_ATTEMPTS
from services.unit_of_work import UnitOfWork
from storage.backup import (
    BackupError,
    create_backup,
    list_backups,
    restore_backup,
    sqlite_file,
)

log = logging.getLogger(__name__)

BACKUP_AT = dt.time(3, 0)
"""A quiet hour in the team's time zone."""
RETRY_AFTER_FAILURE = dt.timedelta(minutes=10)
"""A failed backup is tried again this much later (a full disk is rarely fixed in a minute)."""


async def plan_backup_today(
    uow: UnitOfWork, clock: Clock, zone: ZoneInfo, database_url: str
) -> int:
    """Plan today's backup (the team's date, at 03:00 there); planning twice stores it once.
    Returns 1, or 0 when the database is not a SQLite file."""
    if sqlite_file(database_url) is None:
        return 0
    now = clock.now()
    today = now.astimezone(zone).date()
    due = dt.datetime.combine(today, BACKUP_AT, tzinfo=zone).astimezone(dt.UTC)
    async with uow:
        await uow.reminders.plan([plan_backup(today, due)], now)
        await uow.commit()
    return 1


async def run_due_backup(
    uow: UnitOfWork,
    clock: Clock,
    claimant: str,
    reminder: Reminder,
    database_url: str,
    directory: Path,
    keep: int,
) -> Path | None:
    """Take the backup a claimed row stands for, and mark the row: sent once the file is in
    place; on failure logged with the reason and put back for a later sweep, or failed for good
    after MAX_ATTEMPTS claims. Returns the new backup, or None."""
    database = sqlite_file(database_url)
    status = ReminderStatus.SENT
    written: Path | None = None
    if database is None:  # planned on SQLite, and the bot moved to another database since
        log.warning("backup %s skipped: the database is no longer a SQLite file", reminder.key)
        status = ReminderStatus.DROPPED
    elif reminder.attempts > MAX_ATTEMPTS:
        status = ReminderStatus.FAILED
    else:
        try:
            written = await asyncio.to_thread(create_backup, database, directory, keep, clock.now())
        except BackupError as error:
            log.error("backup %s failed (attempt %d): %s", reminder.key, reminder.attempts, error)
            status = ReminderStatus.FAILED
    now = clock.now()
    async with uow:
        if status is ReminderStatus.FAILED and reminder.attempts < MAX_ATTEMPTS:
            await uow.reminders.release(reminder.id, claimant, now + RETRY_AFTER_FAILURE)
        else:
            await uow.reminders.finish(
                reminder.id, claimant, status, now, late=is_late(reminder.due_at, now)
            )
        await uow.commit()
    if written is not None:
        log.info("backup written: %s", written)
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.backup",
        description="Back up, list and restore the bot's SQLite database. The database, "
        "BACKUP_DIR and BACKUP_KEEP come from the bot's own settings (environment or .env).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "create",
        help="back up now (safe while the bot runs), keeping the newest BACKUP_KEEP",
        description="Back up the database now into BACKUP_DIR; safe while the bot runs. "
        "Only the newest BACKUP_KEEP backups are kept.",
    )
    commands.add_parser("list", help="list the backups in BACKUP_DIR, newest first")
    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup; STOP THE BOT FIRST",
        description="Replace the database with a backup. Stop the bot first, and start it "
        "again afterwards: a running bot would go on writing into the file moved aside. The "
        "backup is checked (PRAGMA integrity_check) and refused if it fails; the current "
        "database is kept as <database>.before-restore-<UTC time>.",
    )
    restore.add_argument("file", type=Path, help="a backup file, or its name in BACKUP_DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"The bot's settings are not valid:\n{error}", file=sys.stderr)
        return 2
    database = sqlite_file(settings.database_url)
    if database is None:
        print(
            "DATABASE_URL is not a SQLite file: back up PostgreSQL with pg_dump and "
            "pg_restore (README, Backups).",
            file=sys.stderr,
        )
        return 2
    directory = settings.backup_dir
    now = dt.datetime.now(dt.UTC)
    try:
        if args.command == "create":
            written = create_backup(database, directory, settings.backup_keep, now)
            print(f"Backup written: {written} ({_size(written.stat().st_size)}).")
        elif args.command == "list":
            backups = list_backups(directory)
            if not backups:
                print(f"No backups in {directory}.")
            for backup in backups:
                taken = backup.taken_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                print(f"{backup.path.name}  {taken}  {_size(backup.size)}")
        else:
            chosen: Path = args.file
            if not chosen.exists() and (directory / chosen).exists():
                chosen = directory / chosen
            aside = restore_backup(chosen, database, now)
            kept = f"; the previous database is kept as {aside}" if aside else ""
            print(f"Restored {chosen} into {database}{kept}. Start the bot again.")
    except BackupError as error:
        verdict = "Refused" if args.command == "restore" else "Failed"
        print(f"{verdict}: {error}", file=sys.stderr)
        return 1
    return 0


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


if __name__ == "__main__":
    sys.exit(main())
