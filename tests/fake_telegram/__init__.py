"""A fake Telegram Bot API server and a scenario harness for end-to-end tests.

Wiring it into pytest (e.g. in ``tests/conftest.py``)::

    from collections.abc import AsyncIterator

    import pytest

    from tests.fake_telegram import FakeTelegram, running_fake_telegram

    @pytest.fixture
    async def tg() -> AsyncIterator[FakeTelegram]:
        async with running_fake_telegram("123456789:TEST-token") as fake:
            yield fake   # fails the test at teardown if the bot broke a Telegram rule

Then the bot under test gets ``Bot(token, session=AiohttpSession(
api=TelegramAPIServer.from_base(tg.base_url)))`` (or ``tg.make_bot()``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from .bot_message import (
    BotMessage,
    Button,
    CallbackAnswer,
    MenuCommand,
    ReplyButton,
    ScenarioError,
)
from .fake_user import FakeUser
from .formatting import EntityParseError, parse_text, utf16_len
from .harness import FakeTelegram
from .server import (
    DEFAULT_BOT_USERNAME,
    DEFAULT_TOKEN,
    ApiError,
    Call,
    FakeTelegramServer,
    StoredMessage,
    UserRecord,
)
from .spec import ApiSpec, SpecError, UploadedFile, load_spec

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "ApiError",
    "ApiSpec",
    "BotMessage",
    "Button",
    "Call",
    "CallbackAnswer",
    "EntityParseError",
    "FakeTelegram",
    "FakeTelegramServer",
    "FakeUser",
    "MenuCommand",
    "ReplyButton",
    "ScenarioError",
    "SpecError",
    "StoredMessage",
    "UploadedFile",
    "UserRecord",
    "load_spec",
    "parse_text",
    "running_fake_telegram",
    "utf16_len",
]


@contextlib.asynccontextmanager
async def running_fake_telegram(
    token: str = DEFAULT_TOKEN, *, check_violations: bool = True, **kwargs: Any
) -> AsyncIterator[FakeTelegram]:
    """Start a :class:`FakeTelegram` for the duration of the block.

    With ``check_violations`` (default) an ``AssertionError`` listing every call that real
    Telegram would have rejected is raised on a normal exit; tests that provoke violations on
    purpose should clear them with ``tg.take_violations()``.  ``kwargs`` go to FakeTelegram
    (``bot_username``, ``default_timeout``, ``strict_ampersand``, ...).
    """
    fake = FakeTelegram(token, **kwargs)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    if check_violations:
        fake.assert_no_violations()
