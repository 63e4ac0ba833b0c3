"""aiogram FSM storage in the database, so a half-filled questionnaire survives a restart.

Reads are served from an in-process copy of what this process last read or wrote. That is
sound because only one process receives a bot's updates: Telegram answers a second long-polling
consumer with 409 Conflict, so nobody else writes these rows while this process runs. A deployment
that spreads updates over several processes (webhooks behind a balancer) sets `REDIS_URL` and
gets aiogram's `RedisStorage` instead (see `bot.app`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.types import CallbackQuery
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable

from bot.telegram.i18n import tp
from domain.clock import Clock
from storage.models import FsmStateRow
from storage.sqlite_in_loop import DirectStatement
from storage.upserts import upsert

DEFAULT_CACHED_CONVERSATIONS = 10_000


@dataclass(slots=True)
class _Conversation:
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        key_builder: KeyBuilder | None = None,
        cached_conversations: int = DEFAULT_CACHED_CONVERSATIONS,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._key_builder = key_builder or DefaultKeyBuilder()
        # Least recently used first; conversations without a row are kept too, because most
        # updates (a lead writing to a manager, any staff screen) come from people in no form.
        self._known: OrderedDict[str, _Conversation] = OrderedDict()
        self._capacity = cached_conversations
        # The keys that have a row, read once: a conversation neither cached nor listed here is
        # empty without asking the database, as is everyone's first message (the same
        # single-consumer argument as the cache's).
        self._stored_keys: set[str] | None = None
        self._engine: AsyncEngine = session_factory.kw["bind"]
        # Built once, compiled once (storage/upserts.py).
        self._upsert = upsert(
            FsmStateRow,
            columns=["key", "state", "data", "updated_at"],
            conflict=["key"],
            update=["state", "data", "updated_at"],
        )
        self._delete = delete(FsmStateRow).where(FsmStateRow.key == bindparam("key"))
        # On SQLite, the same two statements without the engine around them (a third of a form
        # step's time; storage/sqlite_in_loop.py): None elsewhere.
        self._direct_upsert = DirectStatement.for_engine(self._engine, self._upsert)
        self._direct_delete = DirectStatement.for_engine(self._engine, self._delete)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        storage_key = self._key_builder.build(key)
        conversation = await self._conversation(storage_key)
        if value != conversation.state:
            await self._write(storage_key, value, conversation.data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._conversation(self._key_builder.build(key))).state

    async def enter(self, key: StorageKey, state: StateType, data: Mapping[str, Any]) -> None:
        """A new state and its data in one write (aiogram's context makes one per call)."""
        value = state.state if isinstance(state, State) else state
        storage_key = self._key_builder.build(key)
        conversation = await self._conversation(storage_key)
        if value != conversation.state or dict(data) != conversation.data:
            await self._write(storage_key, value, dict(data))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        storage_key = self._key_builder.build(key)
        conversation = await self._conversation(storage_key)
        if dict(data) != conversation.data:
            await self._write(storage_key, conversation.state, dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        conversation = await self._conversation(self._key_builder.build(key))
        # A copy, as a database read would give: a handler that edits what it got must not
        # change the stored conversation behind the storage's back.
        return _copied(conversation.data)

    async def clear(self, key: StorageKey) -> None:
        """State and data gone in one write (aiogram's `FSMContext.clear` makes two)."""
        storage_key = self._key_builder.build(key)
        conversation = await self._conversation(storage_key)
        if conversation.state is not None or conversation.data:
            await self._write(storage_key, None, {})

    async def close(self) -> None:
        """The engine is owned (and disposed) by the application; the direct statements'
        connection is the storage's own."""
        for direct in (self._direct_upsert, self._direct_delete):
            if direct is not None:
                direct.close()

    async def _conversation(self, storage_key: str) -> _Conversation:
        conversation = self._known.get(storage_key)
        if conversation is not None:
            self._known.move_to_end(storage_key)
            return conversation
        if self._stored_keys is None:
            async with self._engine.connect() as connection:
                self._stored_keys = set(await connection.scalars(select(FsmStateRow.key)))
        if storage_key not in self._stored_keys:
            conversation = _Conversation()
        else:
            async with self._session_factory() as session:
                row = await session.get(FsmStateRow, storage_key)
                conversation = _Conversation(row.state, dict(row.data)) if row else _Conversation()
        self._remember(storage_key, conversation)
        return conversation

    async def _write(self, storage_key: str, state: str | None, data: dict[str, Any]) -> None:
        """One statement: a conversation with neither state nor data leaves no row behind. (Writes
        that would change nothing never get here: `/start` clears a conversation nobody had.)"""
        if state is None and not data:
            await self._run(self._direct_delete, self._delete, {"key": storage_key})
        else:
            values: dict[str, Any] = {"key": storage_key, "state": state, "data": data}
            values["updated_at"] = self._clock.now()
            await self._run(self._direct_upsert, self._upsert, values)
        if self._stored_keys is not None:
            if state is None and not data:
                self._stored_keys.discard(storage_key)
            else:
                self._stored_keys.add(storage_key)
        self._remember(storage_key, _Conversation(state, _copied(data)))

    async def _run(
        self, direct: DirectStatement | None, statement: Executable, values: dict[str, Any]
    ) -> None:
        if direct is not None:
            await direct.run(values)
            return
        async with self._engine.begin() as connection:
            await connection.execute(statement, values)

    def _remember(self, storage_key: str, conversation: _Conversation) -> None:
        self._known[storage_key] = conversation
        self._known.move_to_end(storage_key)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)


def _copied(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a conversation's data, which is JSON (its column's type): only its dicts
    and lists can be changed in place. `copy.deepcopy` did the same at three times the cost, in
    every form step."""
    return {key: _copied_value(value) for key, value in data.items()}


def _copied_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _copied(value)
    if isinstance(value, list):
        return [_copied_value(item) for item in value]
    return value


async def enter_conversation(state: FSMContext, new_state: StateType, data: dict[str, Any]) -> None:
    """Ask for something: the prompt's state and what it needs, one write with the database
    storage (two with any other)."""
    if isinstance(state.storage, DatabaseStorage):
        await state.storage.enter(state.key, new_state, data)
    else:
        await state.set_state(new_state)
        await state.set_data(data)


async def asked_already(
    query: CallbackQuery, state: FSMContext, asking: State, about: Mapping[str, Any]
) -> bool:
    """The same question about the same thing (`about`: the data that names it) is open, and
    its message is in the chat: a second tap of the button that asks it (a double tap) has
    nothing more to ask. True once the press is answered with a pointer to that question."""
    if await state.get_state() != asking.state:
        return False
    data = await state.get_data()
    if data.get("asked") is None or any(data.get(k) != v for k, v in about.items()):
        return False
    await query.answer(tp("prompt.asked_already"))
    return True


async def end_conversation(state: FSMContext) -> None:
    """Forget a conversation's state and data: one write with the database storage, aiogram's
    own `clear` with any other."""
    if isinstance(state.storage, DatabaseStorage):
        await state.storage.clear(state.key)
    else:
        await state.clear()
