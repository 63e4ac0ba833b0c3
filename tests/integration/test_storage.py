"""Storage on a real database: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.telegram.fsm_storage import DatabaseStorage, end_conversation
from domain.clock import FixedClock
from domain.deal import DealStatus, TransitionKind
from domain.errors import ExitCriteriaNotMet, InviteInvalid, PermissionDenied
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.deals import advance_deal, create_deal, lose_deal, move_deal_back, win_deal
from services.staff import (
    Actor,
    Profile,
    create_invite,
    deactivate,
    identify,
    join_by_invite,
)
from storage.models import Base, FsmStateRow, StageTransitionRow
from storage.sqlite_in_loop import DirectStatement
from storage.unit_of_work import UnitOfWork

MONDAY_10 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # 10:00 in Moscow
ADMIN = Profile(user_id=1, first_name="Ольга", username="olga", language_code="ru")
MANAGER = Profile(user_id=2, first_name="Иван", username=None, language_code="ru")
OTHER_MANAGER = Profile(user_id=3, first_name="Пётр", username=None, language_code="en")


async def test_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_migrating_twice_changes_nothing(engine: AsyncEngine) -> None:
    from alembic.script import ScriptDirectory

    from storage.database import alembic_config, migrate

    await migrate(engine)
    async with engine.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    async with engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 5000
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
    async with session_factory() as session:
        session.add(
            StageTransitionRow(
                deal_id=999, kind="forward", from_stage="a", to_stage="b", at=MONDAY_10
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_writers_of_one_process_take_turns_without_locking_each_other_out(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Each writer yields to the loop in the middle of its transaction, as a handler does when
    it awaits: on SQLite the others queue for the write lock instead of failing "database is
    locked" (or blocking the loop that would let the first one commit)."""

    async def write(number: int) -> None:
        async with session_factory() as session:
            session.add(
                FsmStateRow(key=f"writer:{number}", state="s", data={}, updated_at=MONDAY_10)
            )
            await session.flush()
            await asyncio.sleep(0.001)
            await session.commit()

    await asyncio.gather(*(write(number) for number in range(40)))
    async with session_factory() as session:
        written = await session.scalar(select(func.count()).select_from(FsmStateRow))
    assert written == 40


async def _staff(
    session_factory: async_sessionmaker[AsyncSession], clock: FixedClock, book: SalesBook
) -> tuple[Actor, Actor, Actor]:
    admin = await identify(UnitOfWork(session_factory), clock, ADMIN, admin_ids={ADMIN.user_id})
    pipelines = [p.id for p in book.pipelines]
    for profile in (MANAGER, OTHER_MANAGER):
        invite = await create_invite(
            UnitOfWork(session_factory),
            clock,
            admin,
            Role.MANAGER,
            profile.first_name,
            dt.timedelta(days=1),
        )
        await join_by_invite(UnitOfWork(session_factory), clock, profile, invite.token, pipelines)
    manager = await identify(UnitOfWork(session_factory), clock, MANAGER, admin_ids=set())
    other = await identify(UnitOfWork(session_factory), clock, OTHER_MANAGER, admin_ids=set())
    return admin, manager, other


async def test_a_deal_keeps_its_whole_stage_history(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    clock = FixedClock(MONDAY_10)
    calendar = WorkingCalendar.from_book(book.working_hours)
    _, manager, _ = await _staff(session_factory, clock, book)
    pipeline = book.pipelines[0]
    deal = await create_deal(
        UnitOfWork(session_factory),
        clock,
        book,
        calendar,
        pipeline.id,
        manager_id=manager.user_id,
        source="ads_vk",
        need="CRM для отдела продаж",
    )
    assert deal.id is not None
    first, second = pipeline.stages[0], pipeline.stages[1]

    clock.advance(dt.timedelta(hours=1))
    with pytest.raises(ExitCriteriaNotMet) as not_met:
        await advance_deal(
            UnitOfWork(session_factory), clock, book, calendar, manager, deal.id, ticked=[]
        )
    assert not_met.value.missing == list(first.exit_criteria)
    all_ticked = range(len(first.exit_criteria))
    await advance_deal(
        UnitOfWork(session_factory), clock, book, calendar, manager, deal.id, all_ticked
    )

    clock.advance(dt.timedelta(hours=2))
    await move_deal_back(
        UnitOfWork(session_factory),
        clock,
        book,
        calendar,
        manager,
        deal.id,
        first.id,
        "клиент пропал",
    )
    clock.advance(dt.timedelta(hours=1))
    await advance_deal(
        UnitOfWork(session_factory), clock, book, calendar, manager, deal.id, all_ticked
    )
    clock.advance(dt.timedelta(days=1))
    won = await win_deal(
        UnitOfWork(session_factory), clock, book, manager, deal.id, Decimal("150000.50")
    )
    assert won.status is DealStatus.WON

    async with UnitOfWork(session_factory) as uow:
        stored = await uow.deals.get(deal.id)
        history = await uow.deals.history(deal.id)
    assert stored is not None
    assert stored.status is DealStatus.WON
    assert stored.amount == Decimal("150000.50")
    assert stored.currency == book.currency
    assert stored.stage_id == second.id
    assert stored.source == "ads_vk"
    assert stored.closed_at == MONDAY_10 + dt.timedelta(days=1, hours=4)
    assert [(h.kind, h.from_stage, h.to_stage) for h in history] == [
        (TransitionKind.CREATED, None, first.id),
        (TransitionKind.FORWARD, first.id, second.id),
        (TransitionKind.BACK, second.id, first.id),
        (TransitionKind.FORWARD, first.id, second.id),
        (TransitionKind.WON, second.id, second.id),
    ]
    assert [h.actor_id for h in history] == [None] + [manager.user_id] * 4
    assert history[2].comment == "клиент пропал"
    assert history[1].at == MONDAY_10 + dt.timedelta(hours=1)
    assert all(h.at.tzinfo is not None for h in history)


async def test_a_manager_cannot_touch_a_colleagues_deal(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    clock = FixedClock(MONDAY_10)
    admin, manager, other = await _staff(session_factory, clock, book)
    calendar = WorkingCalendar.from_book(book.working_hours)
    deal = await create_deal(
        UnitOfWork(session_factory),
        clock,
        book,
        calendar,
        book.pipelines[0].id,
        manager_id=manager.user_id,
    )
    assert deal.id is not None
    with pytest.raises(PermissionDenied):
        await lose_deal(
            UnitOfWork(session_factory), clock, book, other, deal.id, book.lost_reasons[0].id
        )
    lost = await lose_deal(
        UnitOfWork(session_factory), clock, book, admin, deal.id, book.lost_reasons[0].id
    )
    assert lost.status is DealStatus.LOST
    async with UnitOfWork(session_factory) as uow:
        stored = await uow.deals.get(deal.id)
    assert stored is not None and stored.lost_reason_id == book.lost_reasons[0].id


async def test_an_invite_works_once_and_only_before_it_expires(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    clock = FixedClock(MONDAY_10)
    admin = await identify(UnitOfWork(session_factory), clock, ADMIN, admin_ids={ADMIN.user_id})
    invite = await create_invite(
        UnitOfWork(session_factory), clock, admin, Role.SUPERVISOR, "Анна", dt.timedelta(hours=2)
    )
    async with UnitOfWork(session_factory) as uow:
        stored = await uow.invites.pending(clock.now())
    assert [(row.label, row.role) for row in stored] == [("Анна", "supervisor")]
    assert invite.token not in stored[0].token_hash

    role = await join_by_invite(UnitOfWork(session_factory), clock, MANAGER, invite.token, [])
    assert role is Role.SUPERVISOR
    with pytest.raises(InviteInvalid) as reused:
        await join_by_invite(UnitOfWork(session_factory), clock, OTHER_MANAGER, invite.token, [])
    assert reused.value.reason == "used"

    late = await create_invite(
        UnitOfWork(session_factory), clock, admin, Role.MANAGER, "Пётр", dt.timedelta(hours=2)
    )
    clock.advance(dt.timedelta(hours=2))
    with pytest.raises(InviteInvalid) as expired:
        await join_by_invite(UnitOfWork(session_factory), clock, OTHER_MANAGER, late.token, [])
    assert expired.value.reason == "expired"
    stranger = await identify(UnitOfWork(session_factory), clock, OTHER_MANAGER, admin_ids=set())
    assert stranger.role is Role.LEAD


async def test_round_robin_candidates_skip_deactivated_and_unreachable_managers(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    clock = FixedClock(MONDAY_10)
    admin, manager, other = await _staff(session_factory, clock, book)
    pipeline_id = book.pipelines[0].id
    async with UnitOfWork(session_factory) as uow:
        assert await uow.staff.managers_serving(pipeline_id) == [manager.user_id, other.user_id]
        await uow.staff.remember_round_robin(pipeline_id, manager.user_id)
        await uow.commit()
    await deactivate(UnitOfWork(session_factory), clock, admin, other.user_id, {ADMIN.user_id})
    async with UnitOfWork(session_factory) as uow:
        assert await uow.staff.managers_serving(pipeline_id) == [manager.user_id]
        assert await uow.staff.last_assigned(pipeline_id) == manager.user_id
        member = await uow.staff.get(manager.user_id)
        assert member is not None
        member.is_reachable = False
        await uow.staff.save(member)
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        assert await uow.staff.managers_serving(pipeline_id) == []


async def test_the_round_robin_reads_in_one_query_and_remembers_in_one_upsert(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    clock = FixedClock(MONDAY_10)
    _, manager, other = await _staff(session_factory, clock, book)
    pipeline_id = book.pipelines[0].id
    async with UnitOfWork(session_factory) as uow:
        languages, last = await uow.staff.round_robin_candidates(pipeline_id)
        assert (list(languages), last) == ([manager.user_id, other.user_id], None)
        await uow.staff.remember_round_robin(pipeline_id, manager.user_id)  # inserts
        await uow.staff.remember_round_robin(pipeline_id, other.user_id)  # updates
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        assert (await uow.staff.round_robin_candidates(pipeline_id))[1] == other.user_id


async def test_unit_of_work_rolls_back_unless_committed(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    clock = FixedClock(MONDAY_10)
    async with UnitOfWork(session_factory) as uow:
        await identify(uow, clock, ADMIN, admin_ids=set())  # a stranger: nothing stored
        await uow.invites.pending(clock.now())
    async with UnitOfWork(session_factory) as uow:
        assert await uow.staff.members() == []

    uow = UnitOfWork(session_factory)
    with pytest.raises(RuntimeError):
        async with uow:
            from domain.deal import open_deal

            deal, _ = open_deal(book.pipelines[0], clock.now())
            await uow.deals.add(deal)
            raise RuntimeError("boom")
    async with session_factory() as session:
        from storage.models import DealRow

        assert await session.scalar(select(func.count()).select_from(DealRow)) == 0


async def test_conversation_state_survives_a_restart(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FixedClock(MONDAY_10)
    key = StorageKey(bot_id=42, chat_id=7, user_id=7)
    storage = DatabaseStorage(session_factory, clock)
    await storage.set_state(key, "Form:phone")
    await storage.set_data(key, {"name": "Анна", "step": 2})

    after_restart = DatabaseStorage(session_factory, clock)
    assert await after_restart.get_state(key) == "Form:phone"
    assert await after_restart.get_data(key) == {"name": "Анна", "step": 2}

    await after_restart.set_state(key, None)
    await after_restart.set_data(key, {})
    assert await after_restart.get_state(key) is None
    assert await after_restart.get_data(key) == {}


async def test_conversation_copies_stay_private_and_forgotten_ones_come_back_from_disk(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FixedClock(MONDAY_10)
    anna, boris = StorageKey(42, 7, 7), StorageKey(42, 8, 8)
    storage = DatabaseStorage(session_factory, clock, cached_conversations=1)
    await storage.set_state(anna, "Form:phone")
    await storage.set_data(anna, {"answers": {"name": "Анна"}})
    await storage.set_state(boris, "Form:name")  # pushes Anna's conversation out of memory

    data = await storage.get_data(anna)  # read back from the database
    assert data == {"answers": {"name": "Анна"}}
    data["answers"]["name"] = "changed by a handler, never saved"
    assert await storage.get_data(anna) == {"answers": {"name": "Анна"}}
    assert await storage.get_state(anna) == "Form:phone"

    await storage.set_state(anna, None)
    await storage.set_data(anna, {})
    async with session_factory() as session:
        keys = list(await session.scalars(select(FsmStateRow.key)))
    assert keys == ["fsm:8:8"]  # a finished conversation leaves no row


async def test_ending_a_conversation_is_one_write_that_leaves_no_row(
    session_factory: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = StorageKey(bot_id=42, chat_id=7, user_id=7)
    storage = DatabaseStorage(session_factory, FixedClock(MONDAY_10))
    state = FSMContext(storage, key)
    await state.set_state("Form:need")
    await state.set_data({"answers": {"name": "Анна"}})

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0])

    run_directly = DirectStatement.run

    async def direct(statement: DirectStatement, values: dict[str, Any]) -> None:
        statements.append(statement.sql.split()[0])  # SQLite: on the storage's own connection
        await run_directly(statement, values)

    engine = session_factory.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    monkeypatch.setattr(DirectStatement, "run", direct)
    try:
        await end_conversation(state)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert statements == ["DELETE"]
    assert await DatabaseStorage(session_factory, FixedClock(MONDAY_10)).get_state(key) is None
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(FsmStateRow)) == 0
