"""A double tap of a button that only shows something is one press: the same button of the same
message, pressed by the same person again within a second of the first press being handled,
with nothing else from them in between, is answered and dropped.

Why: the second tap of a double tap carries the message as it was before the first tap, and a
button that sends something (a report's export, an objection's script, a manager's drill-down)
would send it twice. Only such buttons take part, by their handler's flag (`ONE_PER_TAP`):
a press that changes something is for its handler to judge, and a second one is answered in
words ("this button is stale", "no open deals left"), as every bad input is; a screen already
showing what a press would show is not edited again (bot/screens/in_place.py), and a question
already open is pointed to (`asked_already`). A person's updates take turns (the chat lock), so
the second tap is seen once the first is done, and the second counts from then. Anything else
the person sends in between (a typed word, a command) makes the next press a press again,
however quick. Per process, as that lock is with one instance."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject

ONE_PER_TAP = {"one_per_tap": True}
"""The flags of a button's handler that only sends something to look at."""
WINDOW_SECONDS = 1.0
"""A double tap's second press comes within a few hundred milliseconds of the first's answer;
a press meant as a second one comes later (a person reads the answer first)."""
REMEMBERED = 10_000
"""People whose last press is remembered (the least recent forgotten first)."""

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
_Press = tuple[int | None, str]


class RepeatedPresses(BaseMiddleware):
    """An inner middleware of the dispatcher's `callback_query` and `message` observers both
    (it sees the handler's flags): a message is the "something else in between"."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        # person -> their last press of a ONE_PER_TAP button and when it was handled
        self._last: OrderedDict[int, tuple[_Press, float]] = OrderedDict()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message):
            if event.from_user is not None:
                self._last.pop(event.from_user.id, None)
            return await handler(event, data)
        if not isinstance(event, CallbackQuery) or event.data is None:
            return await handler(event, data)
        person = event.from_user.id
        if not get_flag(data, "one_per_tap"):
            self._last.pop(person, None)
            return await handler(event, data)
        press = (event.message.message_id if event.message is not None else None, event.data)
        last = self._last.get(person)
        if last is not None and last[0] == press and self._now() - last[1] < WINDOW_SECONDS:
            await event.answer()  # the spinner stops; the first press's answer stands
            return None
        try:
            return await handler(event, data)
        finally:
            self._last[person] = (press, self._now())
            self._last.move_to_end(person)
            while len(self._last) > REMEMBERED:
                self._last.popitem(last=False)
