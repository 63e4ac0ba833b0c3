"""The paced sender against the fake Bot API: Telegram's errors the way Telegram gives them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.telegram.sender import CountInteractiveSends, Pace, PacedSender
from services.reminders import Outcome
from tests.e2e.conftest import TOKEN
from tests.fake_telegram import FakeTelegram


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url), timeout=0.5)
    bot = Bot(TOKEN, session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


def sends_to(tg: FakeTelegram, chat_id: int) -> list[float]:
    return [call.at for call in tg.calls_to("sendMessage", chat_id=chat_id)]


async def test_a_429_is_waited_out_for_exactly_retry_after_then_sent(
    tg: FakeTelegram, bot: Bot
) -> None:
    anna = tg.user("Анна")
    sender = PacedSender(bot)
    tg.fail_next("sendMessage", 429, retry_after=1)
    assert await sender.send_message(anna.id, "Напоминание") is Outcome.SENT
    refused, sent = sends_to(tg, anna.id)
    assert 1.0 <= sent - refused < 1.25
    assert sender.stats.retry_after == [1]
    await anna.wait_message(exact="Напоминание")
    await sender.close()


async def test_server_errors_and_a_timeout_are_retried_with_backoff(
    tg: FakeTelegram, bot: Bot
) -> None:
    anna = tg.user("Анна")
    sender = PacedSender(bot, Pace(first_backoff=0.1))
    tg.fail_next("sendMessage", 500)
    tg.fail_next("sendMessage", 502)
    tg.delay_next("sendMessage", 1.0)  # longer than the session's 0.5 s timeout
    assert await sender.send_message(anna.id, "Всё-таки дошло") is Outcome.SENT
    first, second, third, fourth = sends_to(tg, anna.id)
    assert second - first >= 0.1  # then 0.2, then (after the timeout) 0.4
    assert third - second >= 0.2
    assert fourth - third >= 0.5 + 0.4
    assert sender.stats.server_errors == 3
    assert [m.text for m in tg.messages_in(anna.id)].count("Всё-таки дошло") >= 1
    await sender.close()


async def test_it_gives_up_after_the_last_attempt_and_reports_a_block(
    tg: FakeTelegram, bot: Bot
) -> None:
    anna, boris = tg.user("Анна"), tg.user("Борис")
    sender = PacedSender(bot, Pace(first_backoff=0.01, max_attempts=3))
    tg.fail_next("sendMessage", 500, times=3)
    assert await sender.send_message(anna.id, "Не дойдёт") is Outcome.GAVE_UP
    assert len(sends_to(tg, anna.id)) == 3
    await boris.block_bot()
    assert await sender.send_message(boris.id, "Заблокирован") is Outcome.BLOCKED
    assert len(sends_to(tg, boris.id)) == 1  # a 403 is never retried
    await sender.close()


async def test_one_chat_gets_one_message_a_second_while_others_are_not_held_up(
    tg: FakeTelegram, bot: Bot
) -> None:
    anna = tg.user("Анна")
    others = [tg.user(f"Клиент {n}") for n in range(5)]
    sender = PacedSender(bot)
    started = asyncio.get_running_loop().time()
    outcomes = await asyncio.gather(
        *(sender.send_message(anna.id, f"Анне {n}") for n in range(3)),
        *(sender.send_message(other.id, "Вам") for other in others),
    )
    assert set(outcomes) == {Outcome.SENT}
    to_anna = sends_to(tg, anna.id)
    assert all(later - earlier >= 0.99 for earlier, later in itertools.pairwise(to_anna))
    assert max(sends_to(tg, other.id)[0] for other in others) - started < 0.5
    await sender.close()


async def test_replies_outside_the_queue_take_their_share_of_the_pace(
    tg: FakeTelegram, bot: Bot
) -> None:
    anna, boris = tg.user("Анна"), tg.user("Борис")
    sender = PacedSender(bot, Pace(per_second=2))
    bot.session.middleware(CountInteractiveSends(sender))
    for n in range(2):
        await bot.send_message(boris.id, f"Ответ на кнопку {n}")  # not queued, not delayed
    await sender.send_message(anna.id, "Напоминание")
    replies = sends_to(tg, boris.id)
    [reminder] = sends_to(tg, anna.id)
    assert reminder - replies[0] >= 0.99  # the two replies used this second's two slots
    await sender.close()
