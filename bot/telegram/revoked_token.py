"""A token revoked in @BotFather (a new one made) makes Telegram answer every call with 401.
While polling, aiogram retries `getUpdates` forever, which helps with a network that comes back
but never with a token that will not: so the first 401 stops polling. Behind a webhook the
updates still arrive and no answer can go out: the first call refused stops the server. Either
way the start's own words say why (`run_bot.py`, exit code 2)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response

log = logging.getLogger(__name__)


class RevokedTokenWatch(BaseRequestMiddleware):
    """Bot-session middleware: notes Telegram's refusal of the token on `getUpdates` (or, with
    `every_method`, on any call: webhook mode) and asks the bot to stop (`stop`, run once,
    beside what it stops)."""

    def __init__(
        self, stop: Callable[[], Coroutine[Any, Any, None]], *, every_method: bool = False
    ) -> None:
        self._stop = stop
        self._every_method = every_method
        self._stopping: asyncio.Task[None] | None = None
        self.refusal: str | None = None
        """Telegram's words ("Unauthorized") once it refused the token; None until then."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        try:
            return await make_request(bot, method)
        except TelegramUnauthorizedError as refused:
            watched = self._every_method or isinstance(method, GetUpdates)
            if watched and self._stopping is None:
                self.refusal = refused.message
                log.error("Telegram no longer accepts the bot token: the bot stops")
                self._stopping = asyncio.create_task(self._stop())
            raise
