"""What instances share: the round robin and an invite in the database, atomic under requests
at the same moment; the flood limit, the send budget and the team's version in Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.shared_state import RedisTokenBucket, SharedSendBudget, TeamVersion
from bot.telegram.staff_directory import StaffDirectory
from domain.assignment import pick_next_manager
from domain.clock import FixedClock
from domain.errors import InviteInvalid
from domain.roles import Role
from domain.sales_book import SalesBook
from services.staff import create_invite, identify, join_by_invite
from storage.unit_of_work import UnitOfWork
from tests.integration.test_storage import ADMIN, MANAGER, MONDAY_10, OTHER_MANAGER, _staff

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")


async def assign(session_factory: async_sessionmaker[AsyncSession], pipeline_id: str) -> int:
    """What filing a request does to the round robin, slowed between the read and the write
    so that every request is inside its transaction at the same moment."""
    async with UnitOfWork(session_factory) as uow:
        candidates, last = await uow.staff.round_robin_candidates(pipeline_id)
        chosen = pick_next_manager(list(candidates), last)
        assert chosen is not None
        await asyncio.sleep(0.02)
        await uow.staff.remember_round_robin(pipeline_id, chosen)
        await uow.commit()
    return chosen


async def test_the_round_robin_loses_no_turn_under_concurrent_requests(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances run on PostgreSQL; SQLite is one process")
    clock = FixedClock(MONDAY_10)
    _, manager, other = await _staff(session_factory, clock, book)
    pipeline_id = book.pipelines[0].id
    chosen = await asyncio.gather(*(assign(session_factory, pipeline_id) for _ in range(8)))
    assert Counter(chosen) == {manager.user_id: 4, other.user_id: 4}


async def test_an_invite_pressed_by_two_people_at_once_is_redeemed_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FixedClock(MONDAY_10)
    admin = await identify(UnitOfWork(session_factory), clock, ADMIN, admin_ids={ADMIN.user_id})
    invite = await create_invite(
        UnitOfWork(session_factory), clock, admin, Role.MANAGER, "Иван", dt.timedelta(hours=2)
    )
    outcomes = await asyncio.gather(
        *(
            join_by_invite(UnitOfWork(session_factory), clock, person, invite.token, [])
            for person in (MANAGER, OTHER_MANAGER)
        ),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["InviteInvalid", "Role"]
    refused = next(o for o in outcomes if isinstance(o, InviteInvalid))
    assert refused.reason == "used"


@pytest.fixture
async def redis() -> AsyncIterator[tuple[object, str]]:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    try:
        yield client, prefix
    finally:
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@needs_redis
async def test_the_flood_limit_counts_a_persons_updates_on_every_instance(
    redis: tuple[object, str],
) -> None:
    client, prefix = redis
    now = [1000.0]
    first, second = (
        RedisTokenBucket(client, prefix, rate=1.0, burst=3, now=lambda: now[0])  # type: ignore[arg-type]
        for _ in range(2)
    )
    decisions = [await (first if n % 2 else second).allow(42) for n in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.first_refusal for d in decisions[3:]] == [True, False]
    assert decisions[3].retry_after == pytest.approx(1.0)
    assert (await first.allow(7)).allowed  # someone else is not held up
    now[0] += 1.0
    assert (await second.allow(42)).allowed


@needs_redis
async def test_the_send_budget_spaces_all_instances_sends_evenly(
    redis: tuple[object, str],
) -> None:
    client, prefix = redis
    now = [500.0]
    budgets = [
        SharedSendBudget(client, prefix, per_second=20, now=lambda: now[0])  # type: ignore[arg-type]
        for _ in range(3)
    ]
    # After a quiet while, one place is saved up: two go at once, then one every 50 ms,
    # whichever instance asks.
    assert [await budgets[n].try_take() for n in range(3)] == [0, 0, pytest.approx(0.05)]
    now[0] += 0.05
    assert await budgets[2].try_take() == 0
    assert await budgets[0].try_take() == pytest.approx(0.05)
    # A second's worth of senders at once: one second of the pace holds at most 21 messages.
    sent: list[float] = []
    while now[0] < 502.0:
        if await budgets[len(sent) % 3].try_take() == 0:
            sent.append(now[0])
        now[0] = round(now[0] + 0.001, 3)
    assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= 21


@needs_redis
async def test_a_team_change_on_one_instance_reaches_the_others_at_once(
    redis: tuple[object, str],
    session_factory: async_sessionmaker[AsyncSession],
    book: SalesBook,
) -> None:
    client, prefix = redis
    clock = FixedClock(MONDAY_10)  # the refresh period never passes: only the version tells
    here, there = (
        StaffDirectory(session_factory, clock, team_version=TeamVersion(client, prefix))  # type: ignore[arg-type]
        for _ in range(2)
    )
    assert not await there.may_be_staff(MANAGER.user_id)
    await _staff(session_factory, clock, book)  # an invite redeemed, through `here`
    await here.forget()
    assert await there.may_be_staff(MANAGER.user_id)
