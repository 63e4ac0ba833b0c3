"""aiogram FSM storage in the database, so a half-filled questionnaire survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from storage.models import FsmStateRow


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._key_builder = key_builder or DefaultKeyBuilder()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session_factory() as session:
            row = await session.get(FsmStateRow, self._key_builder.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session_factory() as session:
            row = await session.get(FsmStateRow, self._key_builder.build(key))
            return dict(row.data) if row else {}

    async def close(self) -> None:
        """The engine is owned (and disposed) by the application."""

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Set `state` and/or `data`; a conversation with neither leaves no row behind."""
        storage_key = self._key_builder.build(key)
        async with self._session_factory() as session:
            row = await session.get(FsmStateRow, storage_key)
            state = values.get("state", row.state if row else None)
            data = values.get("data", row.data if row else {})
            if state is None and not data:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(
                    FsmStateRow(
                        key=storage_key, state=state, data=data, updated_at=self._clock.now()
                    )
                )
            else:
                row.state, row.data, row.updated_at = state, data, self._clock.now()
            await session.commit()
