"""The updates of one Telegram Business chat are handled one after another, in the order they
came. aiogram handles a batch of updates as concurrent tasks, and keeps only one person's
updates in order (the conversation key); a business chat has two people in it (the client and
the manager), and a deletion names no one. Without this, a manager's reply could be handled
before the client's first message created the chat, or a deletion before the message."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def keep_business_chats_in_order(dispatcher: Dispatcher) -> None:
    """Put `BusinessChatsInOrder` among the dispatcher's own update middlewares, before the
    conversation state's (which reads the storage, and so lets another update's task run):
    nothing before it waits, so the chat's lock is taken in the order the updates' tasks start,
    which is the order Telegram sent them. Call it right after the dispatcher is made."""
    outer = dispatcher.update.outer_middleware
    state = [m for m in outer if isinstance(m, FSMContextMiddleware)]
    for middleware in state:
        outer.unregister(middleware)
    outer.register(BusinessChatsInOrder())
    for middleware in state:
        outer.register(middleware)


class BusinessChatsInOrder(BaseMiddleware):
    """One lock per business chat, held while its update is handled."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._holders: dict[tuple[str, int], int] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        key = _chat_key(event) if isinstance(event, Update) else None
        if key is None:
            return await handler(event, data)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody waits: the chat's lock is not kept
                del self._holders[key], self._locks[key]


def _chat_key(update: Update) -> tuple[str, int] | None:
    message = update.business_message or update.edited_business_message
    if message is not None and message.business_connection_id is not None:
        return message.business_connection_id, message.chat.id
    deleted = update.deleted_business_messages
    if deleted is not None:
        return deleted.business_connection_id, deleted.chat.id
    return None
