"""The data survives the disk: the bot backs its SQLite file up at 03:00 every night, and a
backup restored with `python -m services.backup restore` brings the bot back with its deals."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from sqlalchemy import select

from bot.app import Application
from config.settings import Settings
from domain.clock import FixedClock
from storage.backup import check_backup, list_backups, sqlite_file
from storage.models import ReminderRow
from tests.e2e.conftest import running_bot
from tests.e2e.scenario import join_team, leave_request
from tests.e2e.test_reminders import msk
from tests.e2e.test_run_bot import PROJECT
from tests.fake_telegram import FakeTelegram, FakeUser


async def backup_rows(app: Application) -> list[tuple[str, str, dt.datetime]]:
    async with app.session_factory() as session:
        rows = await session.scalars(
            select(ReminderRow).where(ReminderRow.kind == "backup").order_by(ReminderRow.id)
        )
        return [(row.key, row.status, row.due_at.replace(tzinfo=dt.UTC)) for row in rows]


def deal_ids(database: Path) -> set[int]:
    with closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM deals")}


async def backup_command(settings: Settings, *args: str) -> tuple[int, str, str]:
    """`python -m services.backup ...` as an admin runs it, configured by the environment."""
    environment = {key: value for key, value in os.environ.items() if key != "BACKUP_KEEP"}
    environment.update(DATABASE_URL=settings.database_url, BACKUP_DIR=str(settings.backup_dir))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.backup",
        *args,
        cwd=settings.backup_dir.parent,  # no .env there
        env={**environment, "PYTHONPATH": str(PROJECT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_bot_backs_itself_up_once_a_night_at_three_keeping_backup_keep(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    settings = settings.model_copy(update={"backup_keep": 2})
    database = sqlite_file(settings.database_url)
    assert database is not None
    clock.set(msk(3, 3, 1))  # Tuesday, 01:00 in Moscow
    async with running_bot(tg, settings, clock) as app:
        await join_team(tg, admin, "Менеджер", "Иван")
        await leave_request(tg.user("Анна"))
        assert await app.sweeper.plan_backup() == 1
        assert await app.sweeper.plan_backup() == 1
        await app.sweeper.tick()
        assert list_backups(settings.backup_dir) == []
        three_at_night = dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)
        assert await backup_rows(app) == [("backup:2026-03-03", "pending", three_at_night)]

    clock.set(msk(3, 3, 3))  # a restart, and 03:00
    async with running_bot(tg, settings, clock) as app:
        await app.sweeper.plan_backup()
        await app.sweeper.tick()
        [backup] = list_backups(settings.backup_dir)
        assert backup.path.name == "salesbot-20260303-000000.sqlite3"
        check_backup(backup.path)
        assert deal_ids(backup.path) == {1}
        await app.sweeper.tick()
        assert len(list_backups(settings.backup_dir)) == 1
        assert await backup_rows(app) == [("backup:2026-03-03", "sent", three_at_night)]

        for day in (4, 5):
            clock.set(msk(day, 3, 3))
            await app.sweeper.plan_backup()
            await app.sweeper.tick()
        assert [status for _, status, _ in await backup_rows(app)] == ["sent"] * 3
    assert [backup.path.name for backup in list_backups(settings.backup_dir)] == [
        "salesbot-20260305-000000.sqlite3",
        "salesbot-20260304-000000.sqlite3",
    ]


async def test_a_restored_backup_brings_the_bot_back_with_its_deals(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    database = sqlite_file(settings.database_url)
    assert database is not None
    async with running_bot(tg, settings, clock):
        ivan = await join_team(tg, admin, "Менеджер", "Иван")
        await leave_request(tg.user("Анна"))
        await ivan.wait_message(contains="Новая заявка №1")
        # Taken by hand while the bot runs.
        code, out, _ = await backup_command(settings, "create")
        assert code == 0 and out.startswith("Backup written: "), out
        await leave_request(tg.user("Борис"), name="Борис", phone="+7 916 765-43-21")
        await ivan.wait_message(contains="Новая заявка №2")
        await tg.settle()
    [backup] = list_backups(settings.backup_dir)
    code, out, _ = await backup_command(settings, "list")
    assert code == 0 and out.startswith(backup.path.name), out

    code, out, err = await backup_command(settings, "restore", backup.path.name)
    assert (code, err) == (0, ""), err
    [aside] = database.parent.glob("bot.sqlite3.before-restore-*")
    assert out.startswith(f"Restored {backup.path} into {database}; ") and str(aside) in out
    assert deal_ids(aside) == {1, 2}  # nothing is lost by restoring the wrong file

    async with running_bot(tg, settings, clock):
        await ivan.send("/deal 1")
        card = await ivan.wait_message(contains="Сделка №1")
        assert "Анна" in card.text
        await ivan.send("/deal 2")
        await ivan.wait_message(exact="Сделки №2 нет.")
