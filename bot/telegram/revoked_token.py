"""While polling: a token revoked in @BotFather (a new one made) makes Telegram answer every
`getUpdates` with 401. aiogram retries any failure forever, which helps with a network that
comes back but never with a token that will not: so the first 401 stops polling, and the start's
own words say why (`run_bot.py`, exit code 2)."""

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
    """Bot-session middleware: notes Telegram's refusal of the token on `getUpdates` and asks
    polling to stop (`stop`, run once, beside the polling it stops)."""

    def __init__(self, stop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._stop = stop
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
            if isinstance(method, GetUpdates) and self._stopping is None:
                self.refusal = refused.message
                log.error("Telegram no longer accepts the bot token: polling stops")
                self._stopping = asyncio.create_task(self._stop())
            raise
