"""The chat's lock in Redis (bot.telegram.chat_lock): held as long as its update is handled,
and let go a few seconds after the instance holding it died, not aiogram's minute."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey

from bot.telegram.chat_lock import RenewedChatLock
from tests.integration.test_shared_state import needs_redis, redis

__all__ = ["redis"]  # the fixture, shared with test_shared_state

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)
LIFE = 0.6


async def _waited_for(isolation: RenewedChatLock) -> float:
    started = time.perf_counter()
    async with isolation.lock(KEY):
        return time.perf_counter() - started


@needs_redis
async def test_a_lock_outlives_its_own_life_while_its_update_is_handled(
    redis: tuple[Any, str],
) -> None:
    client, prefix = redis
    first, second = (
        RenewedChatLock(client, DefaultKeyBuilder(prefix=prefix), seconds=LIFE) for _ in range(2)
    )
    order: list[str] = []

    async def slow_update() -> None:
        async with first.lock(KEY):
            order.append("first starts")
            await asyncio.sleep(LIFE * 3)  # a handler waiting its turn in the send budget
            order.append("first ends")

    handling = asyncio.create_task(slow_update())
    await asyncio.sleep(0.05)
    async with second.lock(KEY):
        order.append("second")
    await handling
    assert order == ["first starts", "first ends", "second"]
    assert await _waited_for(second) < LIFE  # given back at once


@needs_redis
async def test_a_chat_held_by_a_killed_instance_is_free_within_the_locks_life(
    redis: tuple[Any, str],
) -> None:
    client, prefix = redis
    isolation = RenewedChatLock(client, DefaultKeyBuilder(prefix=prefix), seconds=LIFE)
    # What a killed instance leaves behind: the lock taken, never renewed, never given back.
    dead = client.lock(isolation.key_builder.build(KEY, "lock"), timeout=LIFE)
    assert await dead.acquire()
    waited = await _waited_for(isolation)
    assert LIFE / 2 < waited < LIFE + 0.5
