"""In a worker of WORKERS, a write that finds the SQLite file held by another process (another
worker, a backup, a migration run by hand) waits for it without stopping the event loop, and
gives up with SQLite's own "database is locked" after the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.telegram.fsm_storage import DatabaseStorage
from domain.clock import FixedClock
from storage.database import create_engine, create_session_factory, migrate
from storage.sqlite_in_loop import share_with_other_processes
from tests.integration.test_sqlite_direct import ANNA, MONDAY_10

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute("INSERT INTO marks VALUES ('other process')")
print("holding", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
"""


@pytest.fixture(autouse=True)
def a_worker() -> Iterator[None]:
    share_with_other_processes()
    yield
    share_with_other_processes(False)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "bot.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}?timeout=0.5")
    await migrate(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE marks (who TEXT)"))
    yield engine, path
    await engine.dispose()


@contextmanager
def another_process_writing(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process of its own holding the file's write lock until told to commit."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


class LoopTurns:
    """Counts the event loop's turns while a write waits: a loop stopped in SQLite's busy
    handler counts none."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0.001)

    def stop(self) -> None:
        self._task.cancel()


def _commit(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("commit\n")
    holder.stdin.flush()
    assert holder.wait(timeout=10) == 0


async def _written(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT who FROM marks ORDER BY rowid"))
        return [who for (who,) in rows]


async def test_a_write_waits_for_another_process_while_the_loop_goes_on(
    database: tuple[AsyncEngine, Path],
) -> None:
    engine, path = database
    with another_process_writing(path) as holder:
        turns = LoopTurns()

        async def write() -> None:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO marks VALUES ('this bot')"))

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        assert not writing.done()
        assert turns.count > 50, turns.count  # 200 ms of 1 ms ticks, less the short tries
        _commit(holder)
        await asyncio.wait_for(writing, timeout=5)
        turns.stop()
    assert await _written(engine) == ["other process", "this bot"]
    # Afterwards the connections wait in SQLite again for what else may hold the file.
    async with engine.connect() as connection:
        busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert busy == 5000


async def test_a_write_held_off_past_the_timeout_is_told_database_is_locked(
    database: tuple[AsyncEngine, Path],
) -> None:
    engine, path = database
    with another_process_writing(path):
        turns = LoopTurns()
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO marks VALUES ('this bot')"))
        turns.stop()
        assert turns.count > 100, turns.count  # the half second's wait was the loop's
    assert await _written(engine) == []
    # The failed write left nothing held: the next one goes through.
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO marks VALUES ('later')"))
    assert await _written(engine) == ["later"]


async def test_a_form_step_waits_for_another_process_too(
    database: tuple[AsyncEngine, Path],
) -> None:
    engine, path = database
    storage = DatabaseStorage(create_session_factory(engine), FixedClock(MONDAY_10))
    try:
        with another_process_writing(path) as holder:
            step = asyncio.create_task(storage.enter(ANNA, "LeadForm:answering", {"step": 1}))
            await asyncio.sleep(0.1)
            assert not step.done()
            _commit(holder)
            await asyncio.wait_for(step, timeout=5)
        assert await storage.get_state(ANNA) == "LeadForm:answering"
    finally:
        await storage.close()


def test_the_holder_really_holds(tmp_path: Path) -> None:
    """The tests above are about waiting: the other process must make a plain write fail."""
    path = tmp_path / "plain.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE marks (who TEXT)")
    with another_process_writing(path):
        plain = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            plain.execute("INSERT INTO marks VALUES ('x')")
        plain.close()
