"""The baseline of `python -m bench.burst`: a bare aiogram echo bot, started as a script.

    BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python bench/burst/echo_bot.py

Long polling with aiogram's defaults, no middleware, no storage: every message is answered with
its text (a shared contact with its phone number) and every button press is answered. Run as a
file, not as `-m bench.burst.echo_bot`, so nothing of the project is imported.

With WEBHOOK_URL, WEBHOOK_SECRET and WEB_PORT set (`--webhook`), it takes webhooks as the
real bot does: aiogram's request handler at the same path, answering once the update is
handled (as bot/web.py does), and 200 on GET /healthz.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

WEBHOOK_PATH = "/telegram/webhook"
"""bot/web.py's, which deploy/nginx's site forwards (not imported: nothing of the project)."""


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
    dispatcher = build_dispatcher()
    if not os.environ.get("WEBHOOK_URL"):
        await dispatcher.start_polling(bot)
        return
    secret = os.environ["WEBHOOK_SECRET"]

    async def set_webhook(bot: Bot) -> None:
        url = os.environ["WEBHOOK_URL"].rstrip("/") + WEBHOOK_PATH
        await bot.set_webhook(url, secret_token=secret, drop_pending_updates=False)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    dispatcher.startup.register(set_webhook)
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret).register(
        app, path=WEBHOOK_PATH
    )
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["WEB_PORT"])).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()  # the benchmark stops it as a service manager does
    await runner.cleanup()


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    asyncio.run(main())
