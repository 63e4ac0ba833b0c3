"""The inbox: one update's id recorded in the transaction that carries its changes, so two
deliveries of it commit once, even at the same moment on two instances."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmStateRow, InboxRow
from storage.repositories.inbox import UpdateAlreadyHandled
from storage.unit_of_work import (
    UnitOfWork,
    already_handled,
    forget_handled_updates,
    record_handled,
)

NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


async def handle(
    session_factory: async_sessionmaker[AsyncSession], update_id: int, key: str
) -> bool:
    """What a handler does: a change, committed; False if another delivery committed first."""
    uow = UnitOfWork(session_factory, update_id=update_id)
    try:
        async with uow:
            uow.session.add(FsmStateRow(key=key, state="s", data={}, updated_at=NOW))
            await uow.session.flush()
            await asyncio.sleep(0.05)  # both deliveries are inside their transactions now
            await uow.commit()
    except UpdateAlreadyHandled:
        return False
    return True


async def rows(session_factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with session_factory() as session:
        states = await session.scalar(select(func.count()).select_from(FsmStateRow))
        inbox = await session.scalar(select(func.count()).select_from(InboxRow))
    return int(states or 0), int(inbox or 0)


async def test_the_same_update_twice_at_once_commits_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    outcomes = await asyncio.gather(
        handle(session_factory, 42, "first"), handle(session_factory, 42, "second")
    )
    assert sorted(outcomes) == [False, True]
    assert await rows(session_factory) == (1, 1)


async def test_the_same_update_again_later_is_refused_and_rolled_back(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    assert await handle(session_factory, 7, "first")
    assert await already_handled(UnitOfWork(session_factory), 7)
    assert not await handle(session_factory, 7, "again")
    assert await rows(session_factory) == (1, 1)
    assert not await already_handled(UnitOfWork(session_factory), 8)


async def test_an_update_that_changed_nothing_is_recorded_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await asyncio.gather(
        record_handled(UnitOfWork(session_factory), 9),
        record_handled(UnitOfWork(session_factory), 9),
    )
    assert await rows(session_factory) == (0, 1)
    assert not await handle(session_factory, 9, "late")


@pytest.mark.parametrize("commits", [2])
async def test_only_the_first_commit_records_the_update(
    session_factory: async_sessionmaker[AsyncSession], commits: int
) -> None:
    uow = UnitOfWork(session_factory, update_id=5)
    for n in range(commits):
        async with uow:
            uow.session.add(FsmStateRow(key=f"k{n}", state="s", data={}, updated_at=NOW))
            await uow.commit()
    assert await rows(session_factory) == (commits, 1)


async def test_old_update_ids_are_forgotten(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await record_handled(UnitOfWork(session_factory), 1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert await forget_handled_updates(UnitOfWork(session_factory), later) == 1
    assert await rows(session_factory) == (0, 0)
