"""The conversation storage's own SQLite statements (`storage.sqlite_in_loop.DirectStatement`):
they queue behind the engine's writers, and the rows they leave read back through the ORM as
the engine's own writes would."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select, text

from bot.telegram.fsm_storage import DatabaseStorage
from domain.clock import FixedClock
from storage.database import create_engine, create_session_factory, migrate
from storage.models import FsmStateRow
from storage.sqlite_in_loop import COMMITS_PER_TURN

MONDAY_10 = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)
ANNA = StorageKey(bot_id=42, chat_id=7, user_id=7)


async def test_a_form_step_waits_for_the_engines_writer_and_reads_back_as_written(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await migrate(engine)
    session_factory = create_session_factory(engine)
    storage = DatabaseStorage(session_factory, FixedClock(MONDAY_10))
    answers = {"step": 2, "answers": {"name": "Анна «Ромашка»", "phone": {"verified": True}}}
    try:
        async with session_factory() as session:
            # A writer of the engine holds the database's write lock until its commit.
            session.add(FsmStateRow(key="other", state="S", data={}, updated_at=MONDAY_10))
            await session.flush()
            step = asyncio.create_task(storage.enter(ANNA, "LeadForm:answering", answers))
            for _ in range(5):
                await asyncio.sleep(0)
            assert not step.done()
            await session.commit()
        await step

        async with session_factory() as session:
            row = await session.get(FsmStateRow, "fsm:7:7")
        assert row is not None
        assert (row.state, row.data, row.updated_at) == ("LeadForm:answering", answers, MONDAY_10)
        # Byte for byte what the engine writes: the same datetime text as the other row's.
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT key, updated_at FROM fsm_states"))
            stored: dict[str, str] = {key: updated_at for key, updated_at in rows.tuples()}
        assert stored["fsm:7:7"] == stored["other"] == "2026-06-01 07:00:00.000000"
        restarted = DatabaseStorage(session_factory, FixedClock(MONDAY_10))
        assert await restarted.get_data(ANNA) == answers

        await storage.clear(ANNA)
        async with session_factory() as session:
            keys = list(await session.scalars(select(FsmStateRow.key)))
        assert keys == ["other"]
    finally:
        await storage.close()
        await engine.dispose()


async def test_a_task_that_only_writes_lets_the_others_run_and_a_handlers_commits_do_not_wait(
    tmp_path: Path,
) -> None:
    """A statement never yields to the loop on SQLite; a commit yields only after a task made
    `COMMITS_PER_TURN` of them in a row. A handler's two or three commits go straight on to its
    answer (each turn in a busy loop is a wait of its own), and a loop of nothing but writes
    does not hold up the rest of the bot."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await migrate(engine)
    session_factory = create_session_factory(engine)
    turns = 0

    async def another_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def commit(number: int) -> None:
        # As a unit of work does: `async with session` would close it in a task of its own,
        # three turns of the loop (SQLAlchemy's cleanup that a cancellation cannot cut short).
        session = session_factory()
        try:
            session.add(FsmStateRow(key=f"w{number}", state="S", data={}, updated_at=MONDAY_10))
            await session.commit()
        finally:
            await session.close()

    other = asyncio.create_task(another_task())
    try:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        before = turns
        for number in range(COMMITS_PER_TURN - 1):
            await commit(number)
        assert turns == before  # a handler's few commits: not a turn of the loop between them
        for number in range(COMMITS_PER_TURN - 1, 10 * COMMITS_PER_TURN):
            await commit(number)
        assert turns - before >= 9  # a writer in a loop: the others ran every few commits
    finally:
        other.cancel()
        await engine.dispose()
