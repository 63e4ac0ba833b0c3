"""The bot's session to the Bot API closes its connections when the bot stops, over plain HTTP
without aiogram's fixed wait for SSL transports."""

from __future__ import annotations

import asyncio

from aiogram import Bot

from bot.telegram.http_session import BotApiSession
from tests.e2e.conftest import TOKEN
from tests.fake_telegram import FakeTelegram


async def test_a_plain_http_session_closes_its_connections_without_waiting(
    tg: FakeTelegram,
) -> None:
    session = BotApiSession.for_server(tg.base_url)
    bot = Bot(TOKEN, session=session)
    me = await bot.get_me()
    assert me.is_bot
    client = await session.create_session()
    connector = client.connector
    assert connector is not None
    # What aiogram's close waits 250 ms for (SSL transports shutting) cannot exist here.
    closing = asyncio.create_task(bot.session.close())
    turns = 0
    while not closing.done() and turns < 100:
        turns += 1
        await asyncio.sleep(0)
    # A few turns of the loop, no timer: aiogram's own close spins here for 250 ms.
    assert closing.done(), f"still closing after {turns} turns of the loop"
    assert client.closed and connector.closed
