"""A double tap of a button that only shows something is one press: the middleware on real
aiogram objects, with a fake clock and a bot whose session records requests instead of sending
them."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from bot.telegram.repeated_presses import ONE_PER_TAP, WINDOW_SECONDS, RepeatedPresses
from tests.unit.test_throttling import (
    USER_ID,
    FakeClock,
    Handler,
    RecordingSession,
    message,
    user_dict,
)


class Presses:
    """The middleware between a person pressing and a handler counting what reaches it."""

    def __init__(self) -> None:
        self.session = RecordingSession()
        self.bot = Bot("123456:TEST", session=self.session)
        self.clock = FakeClock()
        self.handler = Handler()
        self.middleware = RepeatedPresses(now=self.clock)

    async def press(
        self, data: str = "go", message_id: int = 7, user_id: int = USER_ID, *, shows: bool = True
    ) -> Any:
        """A press of a button whose handler only shows something (`shows`), or of another."""
        event = press(self.bot, data, message_id, user_id)
        handler = HandlerObject(callback=self.handler, flags=ONE_PER_TAP if shows else {})
        return await self.middleware(self.handler, event, {"handler": handler})


def press(bot: Bot, data: str = "go", message_id: int = 7, user_id: int = USER_ID) -> CallbackQuery:
    return CallbackQuery.model_validate(
        {
            "id": "q1",
            "from": user_dict(user_id),
            "chat_instance": "c1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1_772_000_000,
                "chat": {"id": user_id, "type": "private"},
                "text": "a screen",
            },
        },
        context={"bot": bot},
    )


async def test_a_second_press_within_the_window_is_answered_and_dropped() -> None:
    presses = Presses()
    assert await presses.press() == "handled"
    presses.clock.advance(WINDOW_SECONDS / 2)
    assert await presses.press() is None
    assert len(presses.handler.events) == 1
    assert [type(r) for r in presses.session.requests] == [AnswerCallbackQuery]  # no spinner


async def test_a_press_after_the_window_another_button_or_person_is_handled() -> None:
    presses = Presses()
    await presses.press()
    await presses.press(data="other")  # another button
    await presses.press(message_id=8)  # the same button, on another message
    await presses.press(user_id=USER_ID + 1)  # someone else
    presses.clock.advance(WINDOW_SECONDS)
    await presses.press(message_id=8)  # read the answer, pressed again
    assert len(presses.handler.events) == 5
    assert presses.session.requests == []


async def test_a_message_in_between_makes_the_next_press_a_press() -> None:
    presses = Presses()
    await presses.press()
    await presses.middleware(presses.handler, message(presses.bot, text="/cancel"), {})
    await presses.press()  # the question again, after leaving it: quick, but no double tap
    assert len(presses.handler.events) == 3


async def test_a_button_that_changes_something_is_left_to_its_handler() -> None:
    presses = Presses()
    await presses.press(shows=False)
    await presses.press(shows=False)  # its handler answers it: "stale", "done already"
    assert len(presses.handler.events) == 2
