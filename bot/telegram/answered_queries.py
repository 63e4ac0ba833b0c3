"""Which button presses this update has already answered.

Telegram takes one answer per press: a handler that stopped the spinner and then failed cannot
have its apology shown as the press's alert (the second answer is refused as "query is too
old"), so the error handler says it in the chat instead. A bot-session middleware notes each
answer in the update's own context (one task per update), where the error handler reads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery

log = logging.getLogger(__name__)
Result = TypeVar("Result")

_answered: ContextVar[set[str] | None] = ContextVar("answered_queries", default=None)


class RememberAnsweredQueries(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        if isinstance(method, AnswerCallbackQuery):
            answered = _answered.get()
            if answered is None:
                answered = set()
                _answered.set(answered)
            answered.add(method.callback_query_id)
        return response


def already_answered(query_id: str) -> bool:
    answered = _answered.get()
    return answered is not None and query_id in answered


async def answer_beside(query: CallbackQuery, reply: Awaitable[Result]) -> Result:
    """The press answered (its spinner stopped) while `reply` goes out, both calls in one turn
    of the event loop rather than one round trip after the other. In an ad burst the loop is
    busy and each turn is a wait of its own: answered first, the consent's first question came
    a turn later, the slowest reply of the burst (bench/RESULTS.md). A press too old to be
    answered (delivered again after a restart) does not stop the reply."""
    if _answered.get() is None:
        _answered.set(set())  # shared with the answer's own task, which gather runs in a copy
    answered, result = await asyncio.gather(_answer(query), reply, return_exceptions=True)
    if isinstance(result, BaseException):
        raise result
    if isinstance(answered, TelegramBadRequest):
        log.info("a button press was not answered: %s", answered.message)
    elif isinstance(answered, BaseException):
        raise answered
    return result


async def _answer(query: CallbackQuery) -> bool:
    return await query.answer()  # a method object, not a coroutine: gather needs one
