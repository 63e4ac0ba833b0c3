"""Which button presses this update has already answered.

Telegram takes one answer per press: a handler that stopped the spinner and then failed cannot
have its apology shown as the press's alert (the second answer is refused as "query is too
old"), so the error handler says it in the chat instead. A bot-session middleware notes each
answer in the update's own context (one task per update), where the error handler reads it.
"""

from __future__ import annotations

from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

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
