"""Scenario harness on top of the fake Bot API server.

>>> tg = FakeTelegram()
>>> base = await tg.start()
>>> anna = tg.user("Анна", language_code="ru")
>>> await anna.send("/start abc")
>>> msg = await anna.wait_message(contains="Согласен")
>>> await anna.press("Согласен")

:class:`FakeTelegram` is the server plus what a scenario needs around it: users
(:class:`~.fake_user.FakeUser`), waiting for a condition, waiting for the bot to settle,
and an aiogram bot and polling pointed at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram.client.session.aiohttp import AiohttpSession

from .bot_message import BotMessage, ScenarioError
from .fake_user import FakeUser
from .server import DEFAULT_TOKEN, Call, FakeTelegramServer, UserRecord

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0


class FakeTelegram(FakeTelegramServer):
    """The fake server plus scenario helpers (users, waiting, settling)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        default_timeout: float = DEFAULT_TIMEOUT,
        first_user_id: int = 100_001,
        **server_kwargs: Any,
    ) -> None:
        super().__init__(token, **server_kwargs)
        self.default_timeout = default_timeout
        self._user_ids = itertools.count(first_user_id)
        self._dispatchers: list[Dispatcher] = []

    def track_dispatcher(self, dispatcher: Dispatcher) -> None:
        """Let :meth:`settle` also wait for this dispatcher's running update handlers.

        (With ``handle_as_tasks=True``, aiogram's default, handlers run as tasks after the
        next getUpdates has started; :meth:`polling` tracks its dispatcher automatically.)
        """
        if dispatcher not in self._dispatchers:
            self._dispatchers.append(dispatcher)

    def _handler_tasks(self) -> set[asyncio.Task[Any]]:
        current = asyncio.current_task()
        tasks: set[asyncio.Task[Any]] = set()
        for dispatcher in self._dispatchers:
            # aiogram 3 keeps the tasks of running handlers in this (private) set.
            running: set[asyncio.Task[Any]] = getattr(dispatcher, "_handle_update_tasks", set())
            tasks.update(task for task in running if not task.done() and task is not current)
        return tasks

    def user(
        self,
        first_name: str = "Анна",
        *,
        last_name: str | None = None,
        username: str | None = None,
        no_username: bool = False,
        language_code: str | None = "ru",
        user_id: int | None = None,
        phone: str | None = None,
        is_premium: bool = False,
        started: bool = True,
    ) -> FakeUser:
        """Create a user (ids increase from ``first_user_id`` unless ``user_id`` is given).

        ``username`` defaults to ``user<id>`` (``no_username=True`` for none); ``started=False``
        means she never wrote to the bot, so sending to her fails with 403 until she does.
        """
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users:
                user_id = next(self._user_ids)
        record = UserRecord(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=None if no_username else (username or f"user{user_id}"),
            language_code=language_code,
            phone=phone,
            is_premium=is_premium,
            started=started,
        )
        self.add_user(record)
        return FakeUser(self, record)

    @property
    def poll_count(self) -> int:
        """How many getUpdates calls the bot has made."""
        return self._poll_count

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        stored = self.chat(chat_id).messages.get(message_id)
        if stored is None:
            raise ScenarioError(f"no current message #{message_id} in chat {chat_id}")
        return BotMessage.from_stored(stored)

    async def wait_for(
        self,
        probe: Callable[[], T | None],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-step timeout is part of the harness API
        what: Callable[[], str] | str = "a condition",
        chat_id: int | None = None,
    ) -> T:
        """Re-evaluate ``probe`` on every state change until it returns non-None (or time out)."""
        timeout = self.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = probe()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                description = what() if callable(what) else what
                raise ScenarioError(self._timeout_report(description, timeout, chat_id))
            await self.wait_change(remaining)

    async def settle(self, *, quiet: float = 0.1, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot is done with everything sent so far.

        That is: every queued update was fetched, the bot polled again, the handlers of
        tracked dispatchers (see :meth:`track_dispatcher`) finished, and no API call has been
        in flight or started for ``quiet`` seconds.  Work done outside update handlers without
        API calls (e.g. a background task a handler spawned) is not waited for.
        """
        timeout = self.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            busy = self._handler_tasks()
            if busy and remaining > 0:
                await asyncio.wait(busy, timeout=remaining)
                continue
            if not busy and self.is_settled(quiet):
                return
            if remaining <= 0:
                raise ScenarioError(
                    self._timeout_report(
                        f"the bot to settle ({len(self.pending_updates)} unconfirmed updates, "
                        f"{self._inflight} calls in flight, {len(busy)} handlers running, "
                        f"{self.poll_count} polls so far - is the bot polling?)",
                        timeout,
                        None,
                    )
                )
            wait = min(remaining, max(quiet - self.idle_for(), 0.005))
            await self.wait_change(wait)

    def _timeout_report(self, what: str, timeout: float, chat_id: int | None) -> str:
        lines = [f"timed out after {timeout:g}s waiting for {what}"]
        if chat_id is not None:
            messages = self.messages_in(chat_id, from_bot=None)
            lines.append(f"messages in chat {chat_id} (newest last):")
            for message in messages[-10:]:
                who = "bot" if message.from_bot else "user"
                lines.append(f"  {who}: {BotMessage.from_stored(message).describe()}")
            calls = [call for call in self.calls if call.chat_id == chat_id][-5:]
            if calls:
                lines.append("last calls for this chat:")
                lines.extend(f"  {_describe_call(call)}" for call in calls)
        other = [c for c in self.calls if c.method != "getUpdates"][-5:]
        if other and chat_id is None:
            lines.append("last calls:")
            lines.extend(f"  {_describe_call(call)}" for call in other)
        lines.append(f"getUpdates calls so far: {self.poll_count}")
        if self.violations:
            lines.append("violations:")
            lines.extend(f"  {violation}" for violation in self.violations)
        return "\n".join(lines)

    def make_session(self) -> AiohttpSession:
        """An aiogram session pointed at this server (call after :meth:`start`).

        Its ``close()`` skips aiogram's fixed 0.25 s wait for SSL shutdown (plain HTTP here),
        which keeps start/stop of polling in tests fast.
        """
        from aiogram.client.telegram import TelegramAPIServer

        return _FastCloseSession(api=TelegramAPIServer.from_base(self.base_url))

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """An aiogram Bot that talks to this server (call after :meth:`start`)."""
        from aiogram import Bot

        return Bot(self.token, session=self.make_session(), **bot_kwargs)

    @contextlib.asynccontextmanager
    async def polling(
        self, dispatcher: Dispatcher, bot: Bot, **polling_kwargs: Any
    ) -> AsyncIterator[asyncio.Task[None]]:
        """Run ``dispatcher.start_polling(bot)`` in a task until the block exits.

        Waits for the first getUpdates so the bot is ready when the block starts.
        """
        polls_before = self.poll_count
        self.track_dispatcher(dispatcher)
        polling_kwargs.setdefault("handle_signals", False)
        task = asyncio.create_task(dispatcher.start_polling(bot, **polling_kwargs))

        def polling_started() -> bool | None:
            if task.done():
                task.result()  # re-raise a startup failure
            return self.poll_count > polls_before or None

        try:
            await self.wait_for(polling_started, what="the bot to start polling")
            yield task
        finally:
            if not task.done():
                with contextlib.suppress(RuntimeError):
                    await dispatcher.stop_polling()
            await task


def _describe_call(call: Call) -> str:
    params = {k: v for k, v in call.params.items() if k != "chat_id"}
    text = repr(params)
    if len(text) > 160:
        text = text[:157] + "..."
    outcome = "ok" if call.ok else f"{call.status} {call.error}"
    return f"{call.method}{text} -> {outcome}"


class _FastCloseSession(AiohttpSession):
    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
