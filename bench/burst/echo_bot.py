"""The baseline of `python -m bench.burst`: a bare aiogram echo bot, started as a script.

    BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python bench/burst/echo_bot.py

Long polling with aiogram's defaults, no middleware, no storage: every message is answered with
its text (a shared contact with its phone number) and every button press is answered. Run as a
file, not as `-m bench.burst.echo_bot`, so nothing of the project is imported.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message


def build_dispatcher() -> Dispatcher:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        contact = message.contact.phone_number if message.contact else None
        await message.answer(message.text or contact or "?")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    await build_dispatcher().start_polling(bot)


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    asyncio.run(main())
