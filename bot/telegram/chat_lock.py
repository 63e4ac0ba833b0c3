"""One person's updates in order across instances: aiogram's per-chat lock in Redis, held for
a short time and renewed while its update is handled.

aiogram's own lock lives 60 s, so a chat whose update a killed instance was handling answered
nothing for a minute (the cluster test's p99 was 61 s). A lock that simply lived less would
expire under an update still waiting its turn in a burst's shared send budget (tens of seconds),
and let the chat's next update overtake it. Renewed every third of its life, it lasts as long
as its update and no longer than `LOCK_SECONDS` after the instance holding it died."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

LOCK_SECONDS = 10.0
"""How long a chat stays locked after the instance handling its update died."""


class RenewedChatLock(RedisEventIsolation):
    def __init__(
        self, redis: Redis, key_builder: KeyBuilder, *, seconds: float = LOCK_SECONDS
    ) -> None:
        super().__init__(redis, key_builder, lock_kwargs={"timeout": seconds})
        self.seconds = seconds

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        held = self.redis.lock(name=name, timeout=self.seconds, lock_class=Lock)
        await held.acquire()
        renewing = asyncio.create_task(self._renew(held), name=f"renew {name}")
        try:
            yield None
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            with contextlib.suppress(LockError):  # lost meanwhile: nothing left to give back
                await held.release()

    async def _renew(self, held: Lock) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                await held.reacquire()
            except LockError:
                # Lost (Redis restarted, or a pause longer than the lock): the update goes on,
                # and so may the chat's next one, as with aiogram's lock expiring.
                log.warning("the lock of %s was lost while its update was handled", held.name)
                return
