"""The start's first question to Telegram, against the fake Bot API: which answers mean "try
again later" and which mean "this token will never work"."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.telegram.telegram_probe import TokenRejected, wait_for_telegram
from tests.e2e.conftest import TOKEN
from tests.fake_telegram import DEFAULT_BOT_USERNAME, FakeTelegram


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with tg.make_bot() as bot:
        yield bot


async def test_a_bad_gateway_is_logged_in_one_line_and_asked_again(
    tg: FakeTelegram, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    tg.fail_next("getMe", 502)
    me = await wait_for_telegram(bot, tg.base_url)
    assert me.username == DEFAULT_BOT_USERNAME
    assert [call.method for call in tg.calls] == ["getMe", "getMe"]
    retries = [
        (record.levelno, record.getMessage())
        for record in caplog.records
        if record.name == "bot.telegram.telegram_probe"
    ]
    assert retries == [
        (
            logging.WARNING,
            f"Telegram Bot API at {tg.base_url} is unreachable (Bad Gateway); retrying in 1 s",
        )
    ]


async def test_not_found_is_a_rejected_token_like_unauthorized(tg: FakeTelegram, bot: Bot) -> None:
    # Telegram answers 404 instead of 401 for some malformed tokens.
    tg.fail_next("getMe", 404, "Not Found")
    with pytest.raises(TokenRejected) as rejection:
        await wait_for_telegram(bot, tg.base_url)
    assert rejection.value.description == "Not Found"
    assert TOKEN not in str(rejection.value)
