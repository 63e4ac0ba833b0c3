"""Flood control: the token bucket on a fake clock, and the middleware on real aiogram objects
with a bot whose session records requests instead of sending them."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from bot.telegram.i18n import ActorLocaleMiddleware
from bot.telegram.throttling import Decision, ThrottlingMiddleware, TokenBucketLimiter

USER_ID = 42
SLOW_DOWN = {"ru": "Не так быстро", "en": "Not so fast"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSession(BaseSession):
    """Answers every request in memory and remembers it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.fail = False

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - the base class's signature
    ) -> TelegramType:
        self.requests.append(method)
        if self.fail:
            raise TelegramAPIError(method, "Too Many Requests: retry after 5")
        if isinstance(method, SendMessage):
            return cast(TelegramType, message(bot, text=method.text))
        return cast(TelegramType, True)

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""


def user_dict(user_id: int = USER_ID, language: str = "en") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": language}


def message_dict(
    text: str = "hello", user_id: int = USER_ID, language: str = "en"
) -> dict[str, Any]:
    return {
        "message_id": 1,
        "date": 1_772_000_000,
        "chat": {"id": user_id, "type": "private"},
        "from": user_dict(user_id, language),
        "text": text,
    }


def message(bot: Bot, text: str = "hello", user_id: int = USER_ID) -> Message:
    return Message.model_validate(message_dict(text, user_id), context={"bot": bot})


def callback(bot: Bot, user_id: int = USER_ID) -> CallbackQuery:
    return CallbackQuery.model_validate(
        {"id": "q1", "from": user_dict(user_id), "chat_instance": "c1", "data": "go"},
        context={"bot": bot},
    )


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def bot(session: RecordingSession) -> Bot:
    return Bot("123456:TEST", session=session)


@pytest.fixture(scope="module")
def i18n(tmp_path_factory: pytest.TempPathFactory) -> I18n:
    """A two-language catalogue with just the throttling text, so these tests neither depend
    on nor are broken by the project's catalogues."""
    root: Path = tmp_path_factory.mktemp("locales")
    for locale, text in SLOW_DOWN.items():
        catalogue = Catalog(locale=locale)
        catalogue.add("throttle.slow_down", text)
        target = root / locale / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True)
        with target.open("wb") as mo_file:
            write_mo(mo_file, catalogue)
    return I18n(path=root, default_locale="ru", domain="messages")


@pytest.fixture
def english(i18n: I18n) -> Iterator[I18n]:
    """The context the locale middleware sets up before ours runs."""
    with i18n.context(), i18n.use_locale("en"):
        yield i18n


class Handler:
    def __init__(self) -> None:
        self.events: list[TelegramObject] = []

    async def __call__(self, event: TelegramObject, data: dict[str, Any]) -> str:
        self.events.append(event)
        return "handled"


def drained(burst: int = 3, rate: float = 1.0) -> tuple[TokenBucketLimiter, FakeClock]:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate=rate, burst=burst, monotonic=clock)
    for _ in range(burst):
        assert limiter.allow(USER_ID).allowed
    return limiter, clock


# The limiter


def test_a_burst_passes_then_updates_are_refused() -> None:
    limiter, _ = drained(burst=8, rate=2.0)
    decision = limiter.allow(USER_ID)
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate() -> None:
    limiter, clock = drained(burst=3, rate=2.0)
    clock.advance(0.49)
    assert not limiter.allow(USER_ID).allowed
    clock.advance(0.01)
    assert limiter.allow(USER_ID).allowed
    assert not limiter.allow(USER_ID).allowed
    clock.advance(60)  # never more than the burst
    assert [limiter.allow(USER_ID).allowed for _ in range(4)] == [True, True, True, False]


def test_only_the_first_refusal_of_a_flood_is_flagged() -> None:
    limiter, clock = drained(burst=3, rate=1.0)
    assert limiter.allow(USER_ID) == Decision(allowed=False, first_refusal=True, retry_after=1.0)
    assert not limiter.allow(USER_ID).first_refusal
    clock.advance(1)  # a script keeps going at the sustained rate: still the same flood
    assert limiter.allow(USER_ID).allowed
    refused = limiter.allow(USER_ID)
    assert not refused.allowed and not refused.first_refusal
    clock.advance(3)  # quiet until the bucket is full: the flood is over
    assert all(limiter.allow(USER_ID).allowed for _ in range(3))
    assert limiter.allow(USER_ID).first_refusal


def test_users_have_their_own_buckets() -> None:
    limiter, _ = drained(burst=3)
    assert not limiter.allow(USER_ID).allowed
    assert all(limiter.allow(USER_ID + 1).allowed for _ in range(3))
    assert limiter.allow(USER_ID + 1).first_refusal


def test_full_buckets_are_forgotten() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate=2.0, burst=8, monotonic=clock)
    for user_id in range(10_000):
        limiter.allow(user_id)
        clock.advance(0.01)
    # One update each: a bucket is full again 1 / rate = 0.5 s later and then forgotten.
    assert 49 <= len(limiter) <= 51
    clock.advance(0.5)
    limiter.allow(USER_ID)
    assert len(limiter) == 1


def test_memory_has_a_hard_cap() -> None:
    clock = FakeClock()  # standing still: no bucket refills, so only the cap can forget
    limiter = TokenBucketLimiter(rate=2.0, burst=8, monotonic=clock, max_keys=100)
    for user_id in range(1_000):
        limiter.allow(user_id)
    assert len(limiter) == 100


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 8), (-1.0, 8), (2.0, 0)])
def test_nonsense_limits_are_rejected(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(rate=rate, burst=burst)


# The middleware


async def feed(
    middleware: ThrottlingMiddleware, handler: Handler, event: Message | CallbackQuery
) -> Any:
    assert event.from_user is not None
    return await middleware(handler, event, {"event_from_user": event.from_user})


@pytest.mark.usefixtures("english")
async def test_allowed_updates_reach_the_handler(bot: Bot, session: RecordingSession) -> None:
    handler = Handler()
    middleware = ThrottlingMiddleware(TokenBucketLimiter(rate=1.0, burst=2))
    assert await feed(middleware, handler, message(bot)) == "handled"
    assert await feed(middleware, handler, callback(bot)) == "handled"
    assert len(handler.events) == 2
    assert session.requests == []


@pytest.mark.usefixtures("english")
async def test_a_flood_of_messages_is_dropped_with_one_warning(
    bot: Bot, session: RecordingSession, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Handler()
    middleware = ThrottlingMiddleware(TokenBucketLimiter(rate=1.0, burst=2))
    with caplog.at_level(logging.WARNING, logger="bot.telegram.throttling"):
        results = [await feed(middleware, handler, message(bot, "secret text")) for _ in range(6)]
    assert results == ["handled", "handled", None, None, None, None]
    assert len(handler.events) == 2
    [reply] = session.requests
    assert isinstance(reply, SendMessage)
    assert reply.text == SLOW_DOWN["en"]
    assert reply.chat_id == USER_ID
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert str(USER_ID) in record.getMessage()
    assert "secret text" not in caplog.text


@pytest.mark.usefixtures("english")
async def test_dropped_button_presses_are_still_answered(
    bot: Bot, session: RecordingSession
) -> None:
    handler = Handler()
    middleware = ThrottlingMiddleware(TokenBucketLimiter(rate=1.0, burst=1))
    for _ in range(4):
        await feed(middleware, handler, callback(bot))
    assert len(handler.events) == 1
    answers = cast(list[AnswerCallbackQuery], session.requests)
    assert [type(answer) for answer in answers] == [AnswerCallbackQuery] * 3
    assert all(answer.callback_query_id == "q1" for answer in answers)
    assert [answer.text for answer in answers] == [SLOW_DOWN["en"], None, None]
    assert answers[0].show_alert is False


@pytest.mark.usefixtures("english")
async def test_exempt_users_are_never_throttled(bot: Bot, session: RecordingSession) -> None:
    handler = Handler()
    middleware = ThrottlingMiddleware(
        TokenBucketLimiter(rate=1.0, burst=1), exempt_user_ids=[USER_ID]
    )
    for _ in range(20):
        await feed(middleware, handler, message(bot))
    assert len(handler.events) == 20
    assert session.requests == []


@pytest.mark.usefixtures("english")
async def test_a_failed_warning_still_drops_the_update(bot: Bot, session: RecordingSession) -> None:
    handler = Handler()
    middleware = ThrottlingMiddleware(TokenBucketLimiter(rate=1.0, burst=1))
    await feed(middleware, handler, callback(bot))
    session.fail = True
    assert await feed(middleware, handler, callback(bot)) is None
    assert await feed(middleware, handler, callback(bot)) is None
    assert len(handler.events) == 1
    assert len(session.requests) == 2


async def test_without_a_locale_context_the_users_language_is_used(
    bot: Bot, session: RecordingSession, i18n: I18n
) -> None:
    assert I18n.get_current() is None
    handler = Handler()
    middleware = ThrottlingMiddleware(TokenBucketLimiter(rate=1.0, burst=1))
    for language, user_id in (("en", 1), ("ru", 2), ("de", 3)):
        event = Message.model_validate(message_dict("hi", user_id, language), context={"bot": bot})
        data = {"event_from_user": event.from_user, "i18n": i18n}
        for _ in range(2):
            await middleware(handler, event, data)
    texts = [cast(SendMessage, request).text for request in session.requests]
    assert texts == [SLOW_DOWN["en"], SLOW_DOWN["ru"], SLOW_DOWN["ru"]]  # de: the default


async def test_registered_after_the_locale_middleware_it_speaks_its_language(
    bot: Bot, session: RecordingSession, i18n: I18n
) -> None:
    """The registration recommended for `create_dispatcher`."""
    dispatcher = Dispatcher()
    router = Router()
    handled: list[str] = []

    @router.message()
    async def echo(event: Message) -> None:
        handled.append(event.text or "")

    dispatcher.include_router(router)
    ActorLocaleMiddleware(i18n).setup(dispatcher)  # no actor here: the default locale, ru
    throttling = ThrottlingMiddleware(TokenBucketLimiter(rate=1.0, burst=1))
    dispatcher.message.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(throttling)
    for update_id in range(3):
        update = Update.model_validate(
            {"update_id": update_id, "message": message_dict(f"m{update_id}")},
            context={"bot": bot},
        )
        await dispatcher.feed_update(bot, update)
    assert handled == ["m0"]
    [reply] = session.requests
    assert cast(SendMessage, reply).text == SLOW_DOWN["ru"]
