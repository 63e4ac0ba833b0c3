"""Benchmarks of the reminder engine (issue targets in brackets):

1. **Burst**: 1,000 reminders due at once to 1,000 chats, sent by the real sweeper and paced
   sender over HTTP to the fake Bot API, which enforces Telegram's flood limits (30 messages in
   any second, 1 a second per chat) by answering 429. [all delivered, zero 429s, total time
   within 1.15x of the 33.3 s minimum]
2. **Sweep query**: the sweeper's claim query on SQLite with 1,000,000 open deals and their
   3,000,000 pending reminder rows, of which a handful are due. [under 50 ms per tick]

    .venv/bin/python -m bench.reminders                  # both, ~4 minutes
    .venv/bin/python -m bench.reminders --part burst     # or --part sweep
    .venv/bin/python -m bench.reminders --deals 100000   # a smaller sweep table

Exit status 0 when every target is met, 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Application, create_application
from config.settings import Settings
from domain.clock import FixedClock
from domain.reminders import Audience, PlannedReminder, ReminderKind
from domain.roles import Role
from services.reminders import claim_due
from storage.database import create_engine, create_session_factory, migrate
from storage.models import StaffRow
from storage.unit_of_work import UnitOfWork
from tests.fake_telegram import FakeTelegram, running_fake_telegram

TOKEN = "123456789:AAHbench-token-0123456789abcdefghij"
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # Monday 10:00 in Moscow
TELEGRAM_RATE = 30


async def burst(chats: int) -> bool:
    minimum = chats / TELEGRAM_RATE
    with tempfile.TemporaryDirectory() as folder:
        async with running_fake_telegram(TOKEN, check_violations=True) as tg:
            tg.enforce_flood_limits(per_second=TELEGRAM_RATE, per_chat_per_second=1)
            app = await _app(tg, Path(folder) / "burst.sqlite3")
            try:
                people = [tg.user(f"Менеджер {n}") for n in range(chats)]
                await _reminders_for(app.session_factory, people_ids=[p.id for p in people])
                started = time.perf_counter()
                tally = await app.sweeper.tick()
                elapsed = time.perf_counter() - started
            finally:
                await app.close()
            delivered = len([c for c in tg.calls_to("sendMessage") if c.ok])
            refused = tg.flood_429s
    ratio = elapsed / minimum
    print("## Burst: 1 reminder each to", chats, "chats, fake Bot API enforcing 30/s and 1/s/chat")
    print()
    print("| reminders | delivered | 429s received | total s | minimum s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {chats} | {delivered} | {refused} | {elapsed:.1f} | {minimum:.1f} | {ratio:.3f} |")
    print()
    ok = delivered == chats and tally.sent == chats and refused == 0 and ratio <= 1.15
    print(f"target (all delivered, zero 429s, <= 1.15x): {'PASS' if ok else 'FAIL'}")
    print()
    return ok


async def sweep(deals: int, ticks: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sweep.sqlite3"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        await engine.dispose()
        started = time.perf_counter()
        _fill(path, deals)
        filled = time.perf_counter() - started
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        factory = create_session_factory(engine)
        clock = FixedClock(NOW)
        timings: list[float] = []
        claimed = 0
        for tick in range(ticks):
            clock.set(NOW + dt.timedelta(seconds=15 * tick))
            begun = time.perf_counter()
            rows = await claim_due(UnitOfWork(factory), clock, "bench", limit=200)
            timings.append((time.perf_counter() - begun) * 1000)
            claimed += len(rows)
        await engine.dispose()
        size = path.stat().st_size / 2**20
    p50 = statistics.median(timings)
    worst = max(timings)
    print(f"## Sweep query: {deals:,} open deals, {3 * deals:,} pending reminder rows (SQLite)")
    print()
    print(
        f"filled in {filled:.0f} s; database file {size:,.0f} MiB; {ticks} ticks, {claimed} claimed"
    )
    print()
    print("| ticks | p50 ms | max ms |")
    print("|---:|---:|---:|")
    print(f"| {ticks} | {p50:.2f} | {worst:.2f} |")
    print()
    ok = worst < 50
    print(f"target (< 50 ms per tick): {'PASS' if ok else 'FAIL'}")
    print()
    return ok


async def _app(tg: FakeTelegram, database: Path) -> Application:
    settings = Settings(
        _env_file=None,
        bot_token=TOKEN,
        telegram_api_url=tg.base_url,
        database_url=f"sqlite+aiosqlite:///{database}",
        reminder_tick_seconds=0,
        log_level="WARNING",
    )
    return await create_application(settings, clock=FixedClock(NOW))


async def _reminders_for(
    session_factory: async_sessionmaker[AsyncSession], people_ids: list[int]
) -> None:
    async with UnitOfWork(session_factory) as uow:
        for person_id in people_ids:
            uow.session.add(
                StaffRow(
                    telegram_id=person_id,
                    role=Role.MANAGER.value,
                    first_name="Менеджер",
                    joined_at=NOW,
                )
            )
        await uow.session.flush()
        await uow.reminders.plan(
            [
                PlannedReminder(
                    key=f"bench:{person_id}",
                    kind=ReminderKind.PERSONAL,
                    audience=Audience.STAFF,
                    due_at=NOW,
                    deal_id=None,
                    staff_id=person_id,
                    text="перезвонить клиенту",
                )
                for person_id in people_ids
            ],
            NOW,
        )
        await uow.commit()


def _fill(path: Path, deals: int) -> None:
    """Open deals with their three pending stage reminders, due over the next 30 days, written
    with plain sqlite3 (the ORM would take an hour); 20 reminders are due at NOW."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    created = _sql_time(NOW)
    connection.executemany(
        "INSERT INTO deals (id, pipeline_id, stage_id, status, source, created_at, "
        "stage_entered_at, is_demo) VALUES (?, 'implementation_mid', 'request', 'open', "
        "'site', ?, ?, 0)",
        ((n, created, created) for n in range(1, deals + 1)),
    )
    rows = []
    for n in range(1, deals + 1):
        due = NOW + dt.timedelta(seconds=(n * 2593) % (30 * 86400))
        if n <= 20:
            due = NOW - dt.timedelta(minutes=1)
        for kind, audience, shift in (
            ("due_soon", "manager", 0),
            ("overdue", "manager", 3600),
            ("overdue", "supervisors", 3600),
        ):
            rows.append(
                (
                    f"stage:{n}:request:0:{kind}:{audience}",
                    kind,
                    audience,
                    n,
                    "request",
                    created,
                    _sql_time(due + dt.timedelta(seconds=shift)),
                    created,
                )
            )
        if len(rows) >= 300_000:
            _insert_reminders(connection, rows)
            rows.clear()
    _insert_reminders(connection, rows)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def _sql_time(instant: dt.datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite (text, compared as text)."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_reminders(connection: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    connection.executemany(
        "INSERT INTO reminders (key, kind, audience, deal_id, stage_id, stage_entered_at, "
        "due_at, status, attempts, late, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', "
        "0, 0, ?)",
        rows,
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["burst", "sweep", "both"], default="both")
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=40)
    args = parser.parse_args()
    python = f"Python {platform.python_version()}"
    print(f"{python}, {platform.platform()}, SQLite {sqlite3.sqlite_version}")
    print()
    results = []
    if args.part in ("burst", "both"):
        results.append(await burst(args.chats))
    if args.part in ("sweep", "both"):
        results.append(await sweep(args.deals, args.ticks))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
