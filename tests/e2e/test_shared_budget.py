"""Three instances' paced senders share Telegram's global budget through Redis: together they
stay under 30 messages a second, where each alone would allow itself 29."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from aiogram import Bot

from bot.app import SHARED_PER_SECOND
from bot.telegram.sender import PacedSender
from bot.telegram.shared_state import SharedSendBudget
from services.reminders import Outcome
from tests.fake_telegram import FakeTelegram

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
INSTANCES = 3
EACH = 20


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_three_instances_send_no_more_than_30_a_second_together(tg: FakeTelegram) -> None:
    from redis.asyncio import Redis

    tg.enforce_flood_limits(per_second=30)
    redis = Redis.from_url(REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    bots: list[Bot] = [tg.make_bot() for _ in range(INSTANCES)]
    senders = [PacedSender(bot) for bot in bots]
    for sender in senders:
        sender.budget = SharedSendBudget(redis, prefix, SHARED_PER_SECOND)
    people = [tg.user(f"Клиент {n}") for n in range(INSTANCES * EACH)]
    try:
        outcomes = await asyncio.gather(
            *(
                senders[n % INSTANCES].send_message(person.id, "Напоминание")
                for n, person in enumerate(people)
            )
        )
    finally:
        for sender in senders:
            await sender.close()
        for bot in bots:
            await bot.session.close()
        await redis.delete(f"{prefix}:send_pace")
        await redis.aclose()
    assert set(outcomes) == {Outcome.SENT}
    assert tg.flood_429s == 0
    sent = sorted(call.at for call in tg.calls_to("sendMessage") if call.ok)
    assert len(sent) == INSTANCES * EACH
    busiest = max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent)
    assert busiest <= 30
