"""End-to-end fixtures: the real bot (real dispatcher, real SQLite file, real HTTP) polling a
fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import Application, create_application
from config.settings import Settings
from domain.clock import FixedClock
from tests.db import BACKENDS, fresh_database
from tests.fake_telegram import FakeTelegram, FakeUser, running_fake_telegram

TOKEN = "123456789:AAHtest-token-never-in-logs-0123456"
ADMIN_ID = 1_000
MONDAY_10_MSK = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    # Fails the test at teardown if the bot made any call real Telegram would reject.
    async with running_fake_telegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_10_MSK)


@pytest.fixture
def settings(tg: FakeTelegram, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=TOKEN,
        telegram_api_url=tg.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        admin_ids=frozenset({ADMIN_ID}),
        throttle_burst=1000,  # scenarios type faster than people; throttling has its own test
        reminder_tick_seconds=0,  # tests tick the reminder sweeper themselves, at clock times
        backup_dir=tmp_path / "backups",
    )


@asynccontextmanager
async def running_bot(
    tg: FakeTelegram, settings: Settings, clock: FixedClock
) -> AsyncIterator[Application]:
    """The bot polling the fake server until the block ends (a restart is two blocks)."""
    application = await create_application(settings, clock=clock)
    tg.track_dispatcher(application.dispatcher)
    polls_before = tg.poll_count
    polling = asyncio.create_task(application.run_polling())
    await tg.wait_for(lambda: tg.poll_count > polls_before or None, what="the bot to poll")
    try:
        yield application
    finally:
        await application.dispatcher.stop_polling()
        await polling
        await application.close()


@pytest.fixture
async def app(
    tg: FakeTelegram, settings: Settings, clock: FixedClock
) -> AsyncIterator[Application]:
    async with running_bot(tg, settings, clock) as application:
        yield application


@pytest.fixture(params=BACKENDS)
async def app_on_each_database(
    request: pytest.FixtureRequest,
    tg: FakeTelegram,
    settings: Settings,
    clock: FixedClock,
    tmp_path: Path,
) -> AsyncIterator[Application]:
    """The bot on SQLite, and again on a fresh PostgreSQL database when TEST_DATABASE_URL is
    set: for scenarios whose promise is about what is stored."""
    async with fresh_database(request.param, tmp_path) as url:
        on_it = settings.model_copy(update={"database_url": url})
        async with running_bot(tg, on_it, clock) as application:
            yield application


@pytest.fixture
def admin(tg: FakeTelegram) -> FakeUser:
    return tg.user("Ольга", user_id=ADMIN_ID, username="olga_admin")


@pytest.fixture(autouse=True)
def no_tracebacks_or_token_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every end-to-end scenario, bad input included, must log no traceback and no token."""
    caplog.set_level(logging.DEBUG)
    yield
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text
