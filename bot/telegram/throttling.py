"""Per-user flood control: a token bucket per Telegram user id in front of the handlers.

`TokenBucketLimiter` is pure (no aiogram, the clock injected): every user starts with `burst`
tokens, each update spends one, and tokens come back at `rate` per second up to `burst`. A
refused update starts a *flood*, which lasts until the bucket is full again, so the person is
warned once per flood and not on every dropped update. A full bucket carries no information, so
it is forgotten: the limiter only remembers users who wrote within the last `burst / rate`
seconds (and never more than `max_keys` of them).

`ThrottlingMiddleware` is an outer middleware for `message` and `callback_query` events. Register
it *after* `ActorLocaleMiddleware.setup(...)`, at the dispatcher, so it runs inside the locale
middleware and the warning is in the language of the rest of the conversation::

    throttling = ThrottlingMiddleware(TokenBucketLimiter(rate, burst), exempt_user_ids=admin_ids)
    dispatcher.message.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(throttling)

If it is registered elsewhere (no i18n context is current), it falls back to the dispatcher's
`i18n` and the user's Telegram language.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import I18n

from bot.telegram.i18n import pick_locale, t, tp

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

DEFAULT_RATE = 2.0
DEFAULT_BURST = 8
DEFAULT_MAX_KEYS = 65_536


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an update may pass; for a refusal, whether it is the first one of the flood and
    in how many seconds the next update would be allowed."""

    allowed: bool
    first_refusal: bool = False
    retry_after: float = 0.0


ALLOWED = Decision(allowed=True)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    flooding: bool = False


class TokenBucketLimiter:
    """`rate` events per second sustained, `burst` at once, per key."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._max_keys = max_keys
        # Least recently used first. A bucket is only touched by `allow`, so this is also the
        # order of `updated`, which is what lets `_forget_full` stop at the first live bucket.
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        """How many keys are remembered (all others have a full bucket)."""
        return len(self._buckets)

    def allow(self, key: int) -> Decision:
        now = self._monotonic()
        self._forget_full(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.popitem(last=False)  # the least recently seen: granted a fresh one
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated=now)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = self._refilled(bucket, now)
            bucket.updated = now
            if bucket.tokens >= self.burst:
                bucket.flooding = False
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return ALLOWED
        first = not bucket.flooding
        bucket.flooding = True
        return Decision(
            allowed=False, first_refusal=first, retry_after=(1.0 - bucket.tokens) / self.rate
        )

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.updated)
        return min(float(self.burst), bucket.tokens + elapsed * self.rate)

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled, oldest first, stopping at the first that has not:
        amortised O(1) per call. Whatever stays was touched less than `burst / rate` ago."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if self._refilled(oldest, now) < self.burst:
                return
            self._buckets.popitem(last=False)


class Limiter(Protocol):
    """A `TokenBucketLimiter` here, or its twin in Redis shared by several instances
    (`bot.telegram.shared_state.RedisTokenBucket`)."""

    def allow(self, key: int) -> Decision | Awaitable[Decision]: ...


class ThrottlingMiddleware(BaseMiddleware):
    """Drops a user's messages and button presses beyond the limiter's rate. The first dropped
    update of a flood gets a short "slow down" reply; a dropped button press is always answered
    (Telegram keeps a spinner on the button otherwise), later ones without text."""

    def __init__(self, limiter: Limiter, exempt_user_ids: Collection[int] = ()) -> None:
        self._limiter = limiter
        self._exempt = frozenset(exempt_user_ids)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.id in self._exempt:
            return await handler(event, data)
        decision = self._limiter.allow(user.id)
        if not isinstance(decision, Decision):
            decision = await decision
        if decision.allowed:
            return await handler(event, data)
        if decision.first_refusal:
            log.warning(
                "user %d is sending too fast: dropping updates for now (next in %.1f s)",
                user.id,
                decision.retry_after,
            )
        await self._refuse(event, user, data, warn=decision.first_refusal)
        return None

    async def _refuse(
        self, event: TelegramObject, user: User, data: dict[str, Any], *, warn: bool
    ) -> None:
        try:
            if isinstance(event, CallbackQuery):
                text = _slow_down(user, data, plain=True) if warn else None
                await event.answer(text, show_alert=False)
            elif isinstance(event, Message) and warn:
                text = _slow_down(user, data, plain=False)
                if text is not None:
                    await event.answer(text)
        except TelegramAPIError as error:  # e.g. too many requests or a stale query: still drop
            log.info(
                "could not answer a throttled update of user %d: %s", user.id, type(error).__name__
            )


def _slow_down(user: User, data: dict[str, Any], *, plain: bool) -> str | None:
    """The warning in the current locale; outside a locale context (the middleware registered
    before the locale middleware), in the user's Telegram language; without i18n at all, none."""
    if I18n.get_current() is not None:
        return _slow_down_text(plain)
    i18n = data.get("i18n")
    if not isinstance(i18n, I18n):
        return None
    with i18n.context(), i18n.use_locale(pick_locale(user.language_code, i18n.default_locale)):
        return _slow_down_text(plain)


def _slow_down_text(plain: bool) -> str:
    # Literal keys, so the locale test sees them.
    return tp("throttle.slow_down") if plain else t("throttle.slow_down")
