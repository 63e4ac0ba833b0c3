"""The bot's HTTP session to the Bot API: aiogram's aiohttp session, closed without its fixed
wait when there is nothing to wait for."""

from __future__ import annotations

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


class BotApiSession(AiohttpSession):
    """aiogram's `AiohttpSession.close` sleeps 250 ms after closing, for SSL transports to shut
    (aiohttp's graceful-shutdown advice). Over plain HTTP (a local Bot API server next to the
    bot, or the fake one in tests) there are none, and every stop, restart and worker's exit
    would wait a quarter of a second for nothing."""

    @classmethod
    def for_server(cls, base_url: str) -> BotApiSession:
        return cls(api=TelegramAPIServer.from_base(base_url))

    async def close(self) -> None:
        if self.api.base.lower().startswith("https://"):
            await super().close()
            return
        if self._session is not None and not self._session.closed:
            await self._session.close()
