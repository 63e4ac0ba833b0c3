"""A worker process (WORKERS > 1): the whole bot, fed updates by the poller instead of polling.

Started by bot/fanout/poller.py as `python -m bot.fanout.worker INDEX FD`, with the poller's
environment (the same settings) and one end of a socket pair as FD. It handles each update as
polling would (a task per update, the dispatcher's middlewares and handlers), and stops when the
poller closes the line: at a routine stop, or because the poller died. Signals are the
poller's to act on: a Ctrl-C reaches the whole process group, and a worker that stopped on it
would drop the updates the poller had already handed it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from bot.app import Application, WorkerPlace, create_application, load_sales_book
from bot.fanout.link import LINE_LIMIT, WAKE, PollerLink, ready_line
from bot.telegram.logging_setup import configure_logging
from config.settings import Settings
from domain.sales_book import SalesBook
from storage.sqlite_in_loop import share_with_other_processes

log = logging.getLogger(__name__)


def main(arguments: list[str]) -> int:
    index, descriptor = int(arguments[0]), int(arguments[1])
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    settings = Settings()
    # The other workers write the same database file (storage/sqlite_in_loop.py).
    share_with_other_processes()
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    configure_logging(settings.log_level, token, process=f"worker {index}")
    # The poller read the settings and the book before it started any worker.
    book = load_sales_book(settings.sales_book)
    line = socket.socket(fileno=descriptor)
    asyncio.run(serve(settings, book, index, line))
    return 0


async def serve(settings: Settings, book: SalesBook, index: int, line: socket.socket) -> None:
    """Handle the updates the poller sends over `line` until it closes it."""
    reader, writer = await asyncio.open_unix_connection(sock=line, limit=LINE_LIMIT)
    link = PollerLink(writer)
    application = await create_application(
        settings, book=book, place=WorkerPlace(index=index, link=link)
    )
    dispatcher, bot = application.dispatcher, application.bot
    # As polling starts it: the dispatcher's own data beside it.
    workflow: dict[str, Any] = {"dispatcher": dispatcher, "bots": [bot], **dispatcher.workflow_data}
    try:
        await dispatcher.emit_startup(bot=bot, **workflow)
        async with _web(application, serves=index == 0):
            writer.write(ready_line(dispatcher.resolve_used_update_types()))
            await _handle_lines(reader, application)
    finally:
        log.info("stopping")
        await dispatcher.emit_shutdown(bot=bot, **workflow)
        await application.close()
        writer.close()


@contextlib.asynccontextmanager
async def _web(application: Application, *, serves: bool) -> AsyncIterator[None]:
    """The first worker serves WEB_PORT (/healthz, /metrics, the Mini App), when it is set."""
    settings = application.settings
    if not serves or settings.web_port is None:
        yield
        return
    from bot.web import build_web_app, serving

    app = build_web_app(application, webhook=False)
    async with serving(app, settings.web_host, settings.web_port, 1.0):
        yield


async def _handle_lines(reader: asyncio.StreamReader, application: Application) -> None:
    dispatcher, bot = application.dispatcher, application.bot
    handling: set[asyncio.Task[None]] = set()
    while line := await reader.readline():
        if line.startswith(b"{"):
            try:
                update = Update.model_validate_json(line, context={"bot": bot})
            except ValueError:
                log.exception("an update this worker could not read: skipped")
                continue
            task = asyncio.create_task(_handle(dispatcher, bot, update))
            handling.add(task)
            task.add_done_callback(handling.discard)
        elif line == WAKE:
            application.sweeper.wake_outbox()
        else:
            log.warning("the poller sent a line this worker does not know: %r", line[:40])


async def _handle(dispatcher: Dispatcher, bot: Bot, update: Update) -> None:
    """One update, as aiogram's polling handles it."""
    try:
        response = await dispatcher.feed_update(bot, update)
        if isinstance(response, TelegramMethod):
            await dispatcher.silent_call_request(bot=bot, result=response)
    except Exception:
        log.exception("update %d failed", update.update_id)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
