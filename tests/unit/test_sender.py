from __future__ import annotations

from aiogram import Bot

from bot.telegram.sender import PacedSender
from services.reminders import Outcome

TOKEN = "123456789:AAHunit-test-token-0123456789abcdefg"


async def test_an_unexpected_failure_is_reported_not_awaited_forever() -> None:
    bot = Bot(TOKEN)
    sender = PacedSender(bot)

    async def broken() -> None:
        raise RuntimeError("an answer nobody expected")

    try:
        assert await sender.deliver(42, broken) is Outcome.GAVE_UP
    finally:
        await sender.close()
        await bot.session.close()
