"""Backups of the SQLite file: taken while the bot writes, kept to BACKUP_KEEP, planned once a
day (never on PostgreSQL), and a broken file never restored over the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import FixedClock
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.backup import main, plan_backup_today, run_due_backup
from services.deals import create_deal
from services.reminders import claim_due
from storage.backup import check_backup, create_backup, list_backups
from storage.database import create_engine, create_session_factory, migrate
from storage.models import ReminderRow
from storage.unit_of_work import UnitOfWork

MOSCOW = ZoneInfo("Europe/Moscow")
TUESDAY_01_MSK = dt.datetime(2026, 3, 3, 1, 0, tzinfo=MOSCOW)
BALLAST_MB = 48
"""Bulk that makes the copy take long enough for requests to be filed while it runs."""


@pytest.fixture
async def bot_database(
    tmp_path: Path,
) -> AsyncIterator[tuple[Path, async_sessionmaker[AsyncSession]]]:
    """A migrated database of the bot in its own folder, and its session factory."""
    path = tmp_path / "live" / "bot.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine)
    yield path, create_session_factory(engine)
    await engine.dispose()


def deal_ids(database: Path) -> set[int]:
    with closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM deals")}


async def test_a_backup_taken_while_requests_are_filed_holds_every_one_committed_before_it(
    tmp_path: Path,
    bot_database: tuple[Path, async_sessionmaker[AsyncSession]],
    book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    database, session_factory = bot_database
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE ballast (data BLOB)")
        connection.executemany(
            "INSERT INTO ballast VALUES (randomblob(1048576))", [()] * BALLAST_MB
        )
        connection.commit()
    clock = FixedClock(TUESDAY_01_MSK)
    pipeline_id = book.pipelines[0].id
    filed: list[tuple[float, int]] = []
    stop = asyncio.Event()
    progress = asyncio.Condition()

    async def file_requests() -> None:
        while not stop.is_set():
            deal = await create_deal(
                UnitOfWork(session_factory), clock, book, calendar, pipeline_id, source="site"
            )
            assert deal.id is not None
            async with progress:
                filed.append((time.monotonic(), deal.id))
                progress.notify_all()

    async def wait_for_filed(count: int) -> None:
        async with progress:
            await progress.wait_for(lambda: len(filed) >= count)

    writer = asyncio.create_task(file_requests())
    await wait_for_filed(20)
    committed_before = {deal_id for _, deal_id in filed}
    started = time.monotonic()
    backup = await asyncio.to_thread(create_backup, database, tmp_path / "backups", 14, clock.now())
    finished = time.monotonic()
    await wait_for_filed(len(filed) + 5)
    stop.set()
    await writer

    during = [deal_id for at, deal_id in filed if started < at < finished]
    assert during, "no request was filed while the backup ran: the test would prove nothing"
    assert backup == tmp_path / "backups" / "salesbot-20260302-220000.sqlite3"
    check_backup(backup)  # opens, passes PRAGMA integrity_check, is a database of this bot
    in_backup = deal_ids(backup)
    assert committed_before <= in_backup
    assert in_backup < deal_ids(database)  # the writes after it went on into the database
    with closing(sqlite3.connect(backup)) as connection:
        # One snapshot: every deal in it whole, with the stage history of its creation.
        unrecorded = connection.execute(
            "SELECT count(*) FROM deals WHERE id NOT IN (SELECT deal_id FROM stage_transitions)"
        ).fetchone()
        assert unrecorded == (0,)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not list(backup.parent.glob("*.partial"))


def test_only_the_newest_backup_keep_backups_are_kept_and_nothing_else_is_touched(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bot.sqlite3"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
    directory = tmp_path / "backups"
    directory.mkdir()
    (directory / "notes.txt").write_text("the admin's own file")
    (directory / "salesbot-before-migration.sqlite3").write_bytes(b"kept by hand")
    stale = directory / "salesbot-20261101-031500.sqlite3.1a2b3c4d.partial"
    stale.write_bytes(b"left by a backup that died")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    fresh = directory / "salesbot-20261206-031500.sqlite3.5e6f7a8b.partial"
    fresh.write_bytes(b"a backup being written right now")

    for day in range(1, 6):
        create_backup(database, directory, 3, dt.datetime(2026, 12, day, 0, 15, tzinfo=dt.UTC))

    assert [backup.path.name for backup in list_backups(directory)] == [
        "salesbot-20261205-001500.sqlite3",
        "salesbot-20261204-001500.sqlite3",
        "salesbot-20261203-001500.sqlite3",
    ]
    assert sorted(path.name for path in directory.iterdir()) == [
        "notes.txt",
        "salesbot-20261203-001500.sqlite3",
        "salesbot-20261204-001500.sqlite3",
        "salesbot-20261205-001500.sqlite3",
        "salesbot-20261206-031500.sqlite3.5e6f7a8b.partial",
        "salesbot-before-migration.sqlite3",
    ]


async def test_the_daily_backup_is_planned_once_a_day_and_never_on_postgresql(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    clock = FixedClock(TUESDAY_01_MSK)
    planned = [
        await plan_backup_today(UnitOfWork(session_factory), clock, MOSCOW, database_url)
        for _ in range(3)
    ]
    clock.set(dt.datetime(2026, 3, 3, 23, 59, tzinfo=MOSCOW))  # still Tuesday in Moscow
    planned.append(
        await plan_backup_today(UnitOfWork(session_factory), clock, MOSCOW, database_url)
    )
    clock.set(dt.datetime(2026, 3, 4, 0, 1, tzinfo=MOSCOW))
    planned.append(
        await plan_backup_today(UnitOfWork(session_factory), clock, MOSCOW, database_url)
    )
    async with session_factory() as session:
        rows = list(await session.scalars(select(ReminderRow).order_by(ReminderRow.id)))
    if database_url.startswith("postgresql"):
        assert planned == [0] * 5
        assert rows == []
        return
    assert planned == [1] * 5
    assert [(row.key, row.kind, row.audience, row.status) for row in rows] == [
        ("backup:2026-03-03", "backup", "bot", "pending"),
        ("backup:2026-03-04", "backup", "bot", "pending"),
    ]
    assert [row.due_at.replace(tzinfo=dt.UTC) for row in rows] == [
        dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC),  # 03:00 in Moscow
        dt.datetime(2026, 3, 4, 0, 0, tzinfo=dt.UTC),
    ]


async def test_a_failed_backup_is_logged_with_its_reason_and_taken_on_a_later_sweep(
    tmp_path: Path,
    bot_database: tuple[Path, async_sessionmaker[AsyncSession]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    database, session_factory = bot_database
    url = f"sqlite+aiosqlite:///{database}"
    clock = FixedClock(TUESDAY_01_MSK)
    await plan_backup_today(UnitOfWork(session_factory), clock, MOSCOW, url)
    blocked = tmp_path / "backups"
    blocked.write_text("a file where the backup folder should be")

    clock.set(dt.datetime(2026, 3, 3, 3, 0, tzinfo=MOSCOW))
    [row] = await claim_due(UnitOfWork(session_factory), clock, "sweeper", 10)
    with caplog.at_level(logging.ERROR):
        written = await run_due_backup(
            UnitOfWork(session_factory), clock, "sweeper", row, url, blocked, 14
        )
    assert written is None
    [failure] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert "backup backup:2026-03-03 failed (attempt 1)" in failure.getMessage()
    assert str(blocked) in failure.getMessage()
    async with session_factory() as session:
        again = await session.get(ReminderRow, row.id)
    assert again is not None and again.status == "pending"
    assert await claim_due(UnitOfWork(session_factory), clock, "sweeper", 10) == []

    blocked.unlink()  # the admin fixes the disk
    clock.set(dt.datetime(2026, 3, 3, 3, 10, tzinfo=MOSCOW))
    [row] = await claim_due(UnitOfWork(session_factory), clock, "sweeper", 10)
    written = await run_due_backup(
        UnitOfWork(session_factory), clock, "sweeper", row, url, blocked, 14
    )
    assert written == blocked / "salesbot-20260303-001000.sqlite3"
    check_backup(written)
    async with session_factory() as session:
        done = await session.get(ReminderRow, row.id)
    assert done is not None and (done.status, done.attempts) == ("sent", 2)


def fingerprint(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("random bytes", "is not a SQLite database"),
        ("truncated copy", "fails the integrity check"),
        ("someone else's database", "is a SQLite database, but not one of this bot"),
        ("missing file", "cannot read"),
    ],
)
async def test_restore_refuses_a_broken_file_and_leaves_the_database_untouched(
    tmp_path: Path,
    bot_database: tuple[Path, async_sessionmaker[AsyncSession]],
    book: SalesBook,
    calendar: WorkingCalendar,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: str,
    reason: str,
) -> None:
    database, session_factory = bot_database
    live = database.parent
    for _ in range(30):
        await create_deal(
            UnitOfWork(session_factory),
            FixedClock(TUESDAY_01_MSK),
            book,
            calendar,
            book.pipelines[0].id,
            source="site",
        )
    good = create_backup(database, tmp_path / "backups", 14, TUESDAY_01_MSK)
    broken = tmp_path / "broken.sqlite3"
    if damage == "random bytes":
        broken.write_bytes(os.urandom(good.stat().st_size))
    elif damage == "truncated copy":
        broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "someone else's database":
        with closing(sqlite3.connect(broken)) as connection:
            connection.execute("CREATE TABLE deals (id INTEGER PRIMARY KEY)")
            connection.commit()
    before = fingerprint(live)

    monkeypatch.chdir(tmp_path)  # no .env here: only the environment configures the command
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    assert main(["restore", str(broken)]) == 1

    output = capsys.readouterr()
    assert output.out == ""
    [line] = output.err.splitlines()
    assert line.startswith("Refused: ") and str(broken) in line and reason in line, line
    assert fingerprint(live) == before
    assert deal_ids(database) == set(range(1, 31))
