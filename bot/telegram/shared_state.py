"""What several instances behind one webhook share through Redis, so that none of them decides
from its own memory alone: each person's flood limit, Telegram's global send budget, and the
version of the team (the staff directory of every instance reads it again when it moves).

Each decision is one Lua script, atomic in Redis; the time is Redis's own (`TIME`), so the
instances' clocks need not agree. Tests may pass `now` instead."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from bot.telegram.throttling import ALLOWED, Decision

if TYPE_CHECKING:
    from redis.asyncio import Redis

_NOW = """
local now
if ARGV[#ARGV] ~= '' then
  now = tonumber(ARGV[#ARGV])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

TOKEN_BUCKET = (
    _NOW
    + """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'flooding')
local tokens, flooding = tonumber(stored[1]), stored[3] == '1'
if tokens == nil then
  tokens, flooding = burst, false
else
  tokens = math.min(burst, tokens + math.max(0, now - tonumber(stored[2])) * rate)
  if tokens >= burst then flooding = false end
end
local allowed, first, retry = 0, 0, 0
if tokens >= 1 then
  tokens, allowed = tokens - 1, 1
else
  if not flooding then first = 1 end
  flooding = true
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
  'flooding', flooding and '1' or '0')
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, first, tostring(retry)}
"""
)

SEND_PACE = (
    _NOW
    + """
local interval = tonumber(ARGV[1])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due <= now then
  redis.call('SET', KEYS[1], tostring(math.max(due, now - interval) + interval),
    'PX', math.ceil(interval * 1000) + 1000)
  return '0'
end
return tostring(due - now)
"""
)


class RedisTokenBucket:
    """`TokenBucketLimiter`'s rule (`rate` a second after a burst of `burst`, one warning per
    flood) with the bucket in Redis, so a person's updates count wherever they land."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        rate: float,
        burst: int,
        *,
        now: Callable[[], float] | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:flood:"
        self.rate = rate
        self.burst = burst
        self._now = now
        self._script = redis.register_script(TOKEN_BUCKET)

    async def allow(self, key: int) -> Decision:
        now = "" if self._now is None else repr(self._now())
        allowed, first, retry = cast(
            list[Any],
            await self._script(keys=[f"{self._prefix}{key}"], args=[self.rate, self.burst, now]),
        )
        if allowed:
            return ALLOWED
        return Decision(allowed=False, first_refusal=bool(first), retry_after=float(retry))


class SharedSendBudget:
    """Telegram's ~30 messages a second are the bot's, not an instance's: all instances together
    send one message every 1/`per_second` s, each place decided in Redis when the message is
    about to go (a cell-rate schedule: the next free moment is one key). Spaced, not counted per
    second: a window that lets a second's budget go at once sees the messages of two windows
    land within one second at Telegram, given a little jitter on the way (that was the 429s of
    a burst behind nginx). A place left unused for a moment is not saved up beyond one."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        per_second: float,
        *,
        now: Callable[[], float] | None = None,
    ) -> None:
        self._redis = redis
        self._key = f"{prefix}:send_pace"
        self._interval = 1 / per_second
        self._now = now
        self._script = redis.register_script(SEND_PACE)

    async def try_take(self) -> float:
        """Take the next place in the shared pace: 0, or the seconds until it comes."""
        now = "" if self._now is None else repr(self._now())
        wait = await self._script(keys=[self._key], args=[self._interval, now])
        return float(cast(str, wait))

    async def take(self) -> None:
        """Wait for a place in the budget and take it."""
        while True:
            wait = await self.try_take()
            if wait <= 0:
                return
            # Spread the waiters a little: they all see the same place free up.
            await asyncio.sleep(wait + random.uniform(0, 0.02))


class TeamVersion:
    """A counter in Redis moved whenever the team changes on any instance."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._key = f"{prefix}:team_version"

    async def current(self) -> int:
        return int(cast(bytes | str | None, await self._redis.get(self._key)) or 0)

    async def bump(self) -> None:
        await self._redis.incr(self._key)
