"""One place that sends notifications the way Telegram wants them sent.

Telegram allows a bot about 30 messages a second overall, one a second to one private chat and
20 a minute to one group; beyond that it answers 429 with `retry_after`. Everything the bot sends
on its own initiative (reminders, escalations, follow-ups) goes through `PacedSender`: a queue
served by one loop that starts a send only when the global and the chat's pace allow it, waits
out a 429 for exactly `retry_after` seconds (and holds every other send meanwhile, since Telegram
is telling the bot to slow down), retries server errors and timeouts with a growing pause, and
reports a 403 (the person blocked the bot) or a refused chat to the caller instead of retrying.

Replies to a person's own action do not queue here (the answer to a button or a command, a
relayed message); `CountInteractiveSends` makes them take their share of the global pace, so
the paced sends leave room for them, and tries a reply refused with 429 again after the hold
(while one lasts, replies take their turns at the pace). Messages a change owes someone else
(the new-lead card, a handover, the client's "a manager took your request") are rows of the
outbox: they queue here as urgent, ahead of every waiting reminder, so a thousand due reminders
never delay them and a 429 only makes them wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile

from services.reminders import Outcome

if TYPE_CHECKING:
    from bot.telegram.shared_state import SharedSendBudget

log = logging.getLogger(__name__)

_PACED: contextvars.ContextVar[bool] = contextvars.ContextVar("paced_send", default=False)
"""The send's place in the pace is taken already (a queued job's, or `place_for_reply`'s)."""
_QUEUED: contextvars.ContextVar[bool] = contextvars.ContextVar("queued_send", default=False)
"""The send is a job of the paced queue, which waits out its own 429s."""
REPLY_ATTEMPTS = 8
"""How many times a reply refused with 429 is tried in all before its handler fails."""
SEND_METHOD_PREFIXES = ("send", "copy", "forward")


@dataclass(frozen=True)
class Pace:
    per_second: float = 29.0
    """Overall messages a second; a little under Telegram's 30 so the odd reply fits."""
    private_interval: float = 1.0
    group_interval: float = 3.0
    """20 messages a minute to one group."""
    max_attempts: int = 5
    """Tries of one message through server errors and timeouts before giving up."""
    first_backoff: float = 0.5
    """The pause after the first server error or timeout; doubled after each next one."""


@dataclass
class _Job:
    chat_id: int
    call: Callable[[], Awaitable[Any]]
    done: asyncio.Future[Outcome]
    not_before: float = 0.0
    attempts: int = 0
    urgent: bool = False
    """Owed by someone's action just now (the outbox): goes ahead of waiting reminders."""


@dataclass
class SenderStats:
    sent: int = 0
    retry_after: list[float] = field(default_factory=list)
    """Every 429's `retry_after`, as received."""
    server_errors: int = 0
    blocked: int = 0


class PacedSender:
    def __init__(
        self,
        bot: Bot,
        pace: Pace | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self.pace = pace or Pace()
        """Telegram's limits as this sender keeps them (a test may shorten the waits)."""
        self._monotonic = monotonic
        self._queue: deque[_Job] = deque()
        self._wake = asyncio.Event()
        self._global_next = 0.0
        self._held_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.stats = SenderStats()
        self.budget: SharedSendBudget | None = None
        """Several instances: the global pace is kept in Redis, for all of them at once."""

    async def send_message(
        self, chat_id: int, text: str, *, urgent: bool = False, **kwargs: Any
    ) -> Outcome:
        return await self.deliver(
            chat_id, lambda: self._bot.send_message(chat_id, text, **kwargs), urgent=urgent
        )

    async def send_photo(self, chat_id: int, png: bytes, caption: str, **kwargs: Any) -> Outcome:
        photo = BufferedInputFile(png, filename="digest.png")
        return await self.deliver(
            chat_id, lambda: self._bot.send_photo(chat_id, photo, caption=caption, **kwargs)
        )

    async def deliver(
        self, chat_id: int, call: Callable[[], Awaitable[Any]], *, urgent: bool = False
    ) -> Outcome:
        """Send when the pace allows, an urgent message before the others waiting; returns how
        it went (never raises for Telegram's errors)."""
        job = _Job(chat_id, call, asyncio.get_running_loop().create_future(), urgent=urgent)
        self._queue.append(job)
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve(), name="paced-sender")
        return await job.done

    def hold(self, seconds: float) -> None:
        """Telegram answered 429: every send waits as long (the limit is the bot's, whichever
        send ran into it), the queue's and the replies' alike."""
        self.stats.retry_after.append(seconds)
        self._held_until = max(self._held_until, self._monotonic() + seconds)
        self._global_next = max(self._global_next, self._held_until)

    def held(self) -> bool:
        """A 429's `retry_after` is still running."""
        return self._held_until > self._monotonic()

    async def take_turn(self) -> None:
        """Wait for a slot of the global pace (after any hold) and take it: while Telegram
        refuses, replies go one by one at the pace, not all at once when the hold ends."""
        now = self._monotonic()
        slot = max(self._global_next, now)
        self._global_next = slot + 1 / self.pace.per_second
        if slot > now:
            await asyncio.sleep(slot - now)

    def note_interactive_send(self) -> None:
        """A reply outside the queue went out: it used one slot of the global pace. (At most a
        second's worth is owed: a burst of replies delays reminders by a second, not more;
        beyond that Telegram's own 429 decides.)"""
        now = self._monotonic()
        owed = max(self._global_next, now) + 1 / self.pace.per_second
        self._global_next = min(owed, now + 1.0)

    @contextlib.asynccontextmanager
    async def place_for_reply(self) -> AsyncIterator[None]:
        """The next reply's place in the pace (and in the instances' shared budget), taken
        before what must come right before it is sent: the lead's confirmation is taken from
        the outbox only once its place has come, so a bot killed while it waits (seconds, in a
        burst) leaves the confirmation to the sweepers instead of losing it."""
        self.note_interactive_send()
        if self.budget is not None:
            await self.budget.take()
        token = _PACED.set(True)  # the reply's place is taken: the session does not take another
        try:
            yield
        finally:
            _PACED.reset(token)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        for job in self._queue:
            if not job.done.done():
                job.done.set_result(Outcome.GAVE_UP)
        self._queue.clear()

    async def _serve(self) -> None:
        while self._queue:
            now = self._monotonic()
            job = self._next_ready(now)
            if job is None:
                await self._nap(self._earliest_start(now) - now)
                continue
            if self._global_next > now:
                await self._nap(self._global_next - now)
                continue
            if self.budget is not None:
                # The place is taken for whichever job is ready when it comes (an urgent one
                # may have arrived meanwhile).
                await self.budget.take()
                now = self._monotonic()
                job = self._next_ready(now) or job
                if job not in self._queue:
                    continue
            self._queue.remove(job)
            self._global_next = max(self._global_next, now) + 1 / self.pace.per_second
            self._chat_next[job.chat_id] = now + self._interval(job.chat_id)
            task = asyncio.create_task(self._attempt(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _next_ready(self, now: float) -> _Job | None:
        ready = (
            job
            for job in self._queue
            if job.not_before <= now and self._chat_next.get(job.chat_id, 0.0) <= now
        )
        first: _Job | None = None
        for job in ready:
            if job.urgent:
                return job
            first = first or job
        return first

    def _earliest_start(self, now: float) -> float:
        return min(
            max(job.not_before, self._chat_next.get(job.chat_id, 0.0)) for job in self._queue
        )

    async def _nap(self, seconds: float) -> None:
        """Wait a while, or less if new work arrives."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))

    def _interval(self, chat_id: int) -> float:
        return self.pace.group_interval if chat_id < 0 else self.pace.private_interval

    async def _attempt(self, job: _Job) -> None:
        job.attempts += 1
        token = _PACED.set(True)
        queued = _QUEUED.set(True)
        try:
            await job.call()
        except TelegramRetryAfter as error:
            # Exactly as long as Telegram asks, for this chat and for everyone else.
            self.hold(error.retry_after)
            self._requeue(job, self._monotonic() + error.retry_after)
            return
        except TelegramForbiddenError:
            self.stats.blocked += 1
            job.done.set_result(Outcome.BLOCKED)
            return
        except (TelegramBadRequest, TelegramNotFound) as error:
            log.warning("Telegram refused a message to %s: %s", job.chat_id, error.message)
            job.done.set_result(Outcome.GONE)
            return
        except (TelegramServerError, TelegramNetworkError) as error:
            self.stats.server_errors += 1
            if job.attempts >= self.pace.max_attempts:
                log.warning("giving up a message to %s for now: %s", job.chat_id, error.message)
                job.done.set_result(Outcome.GAVE_UP)
                return
            pause = self.pace.first_backoff * 2 ** (job.attempts - 1)
            self._requeue(job, self._monotonic() + pause)
            return
        except asyncio.CancelledError:
            # Shutting down: whoever waits for this message learns it did not go (and a
            # reminder is released, to be sent after the restart).
            job.done.set_result(Outcome.GAVE_UP)
            raise
        except Exception:
            # Anything else (a bad token, an answer aiogram cannot parse) must not leave the
            # caller waiting forever: report it and give the message up for now.
            log.exception("sending a message to %s failed unexpectedly", job.chat_id)
            job.done.set_result(Outcome.GAVE_UP)
            return
        finally:
            _QUEUED.reset(queued)
            _PACED.reset(token)
        self.stats.sent += 1
        job.done.set_result(Outcome.SENT)

    def _requeue(self, job: _Job, not_before: float) -> None:
        job.not_before = not_before
        self._queue.appendleft(job)
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve(), name="paced-sender")


class CountInteractiveSends(BaseRequestMiddleware):
    """Bot-session middleware for every call that did not come through the paced queue (a reply
    to someone's action): a send takes its slot of the global pace, and a 429 is waited out for
    exactly `retry_after` and the call made again (a 429 sent nothing), so a reply in an ad
    burst comes late rather than never."""

    def __init__(self, sender: PacedSender) -> None:
        self._sender = sender

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if _QUEUED.get():
            return await make_request(bot, method)
        sends = method.__api_method__.startswith(SEND_METHOD_PREFIXES)
        placed = _PACED.get()
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            if attempt > 1 or (sends and not placed):
                await self._take_place(again=attempt > 1)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == REPLY_ATTEMPTS or isinstance(method, GetUpdates):
                    raise  # polling backs off by itself
                self._sender.hold(error.retry_after)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _take_place(self, *, again: bool) -> None:
        if again or self._sender.held():
            await self._sender.take_turn()  # Telegram said "slow down": this reply queues too
        else:
            self._sender.note_interactive_send()
        if self._sender.budget is not None:
            # Several instances: a reply waits for its place too, or together they would
            # collect 429s.
            await self._sender.budget.take()
