"""A sweeper that dies the hard way: run as `python -m tests.e2e.sweeper_crash <database url>
<Bot API url> <ISO time>`, it claims the reminders due at that time and is SIGKILLed by the
operating system at the moment it would hand the first one to Telegram (the crash window the
reminder engine must survive: claimed, not sent, not marked)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bot.app import create_application
from config.settings import Settings
from domain.clock import FixedClock
from services.reminders import Outcome
from tests.e2e.conftest import ADMIN_ID, TOKEN


async def crash(database_url: str, api_url: str, now: dt.datetime) -> None:
    settings = Settings(
        _env_file=None,
        bot_token=TOKEN,
        telegram_api_url=api_url,
        database_url=database_url,
        admin_ids=frozenset({ADMIN_ID}),
        reminder_tick_seconds=0,
    )
    app = await create_application(settings, clock=FixedClock(now))

    async def die(
        chat_id: int, call: Callable[[], Awaitable[Any]], *, urgent: bool = False
    ) -> Outcome:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    app.sender.deliver = die  # type: ignore[method-assign]
    await app.sweeper.tick()


if __name__ == "__main__":
    asyncio.run(crash(sys.argv[1], sys.argv[2], dt.datetime.fromisoformat(sys.argv[3])))
