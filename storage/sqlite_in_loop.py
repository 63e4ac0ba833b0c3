"""SQLite for the asyncio engine without a thread per connection: statements run on the event
loop's own thread, and writers take turns through a lock on the loop (storage/write_lock.py).

Why: aiosqlite hands every call (cursor, execute, fetch, close, commit) to the connection's
thread and waits for the loop to be woken back, four hops per statement. A SQLite statement on
a small indexed table costs microseconds, so the hops were most of a database session's cost
(about 0.6 ms for one read, 1 ms for a write with its commit). Run in place, a session costs
what SQLAlchemy itself costs.

What this changes, and why it is safe:
- A statement blocks the loop while it runs. The bot's statements are index lookups and short
  writes; the heaviest (the digest's and the reports' aggregates) take tens of milliseconds
  even over a million deals (bench/RESULTS.md), which is a pause, not a stall.
- A statement does not yield to the loop, and a commit yields only when its task has made
  `COMMITS_PER_TURN` commits without the loop turning (`_Turns`): a task that does nothing but
  write, in a loop, still lets the others run, and a handler's few commits go on to its next
  network call without a turn of their own. Every commit once yielded, with its connection
  still checked out of the pool: in an ad burst the loop's turn is hundreds of milliseconds, the
  pool's fifteen connections all sat in such yields, and every other update's first statement
  queued for one (the consent's contact read waited 660 ms at p50; bench/RESULTS.md).
- SQLite lets one connection write at a time, and a second writer waits in SQLite's busy
  handler, which here would block the loop, and with it the first writer's commit. So a
  connection takes the database's write lock (`WriteLock`) before its first write and holds it to
  its commit or rollback: writers queue in the loop, and SQLite never has to wait for them. One
  lock per database file, shared by every engine of the process. A writer that does not get
  the lock within SQLite's busy timeout gets SQLite's own "database is locked", as before.
- Another process (a backup, a migration run by hand) is waited for by the busy timeout, in
  SQLite's busy handler, which sleeps on the loop's thread 1, 2, 5 ms and longer.
- Several workers of one bot (WORKERS, bot/fanout/) write the same file all the time, and a
  worker's transaction holds it for a fraction of a millisecond: in an ad burst with two
  workers a worker spent some 15% of its time asleep in that handler. So a worker calls
  `share_with_other_processes()` at its start, and from then on a transaction that starts
  with a write starts with `BEGIN IMMEDIATE` instead of sqlite3's implicit BEGIN, tried
  without the busy timeout (`_begin_writing`): a busy file is tried again every 0.1 ms for up
  to 50 ms, then on the loop's turns, which go on with everything else meanwhile. The other
  worker holds the file for 0.3 ms at p50 and 7 ms at p99 (longer when the machine's cores are
  all busy), so nearly every wait ends in the short tries, sleeping on the loop's thread and
  leaving the core to the other worker. A wait on the loop is worse for them: in a burst a turn
  lasts tens of milliseconds, the other worker takes the file again before this one looks, and
  meanwhile this worker's other writers queue behind the waiting one (with short tries of 5 ms,
  a form step's write waited 200-300 ms at p90; storage/write_lock.py, bench/RESULTS.md). Only
  that BEGIN goes without the timeout: a read that finds the file busy (a
  crash's recovery by the first to open it) still waits in SQLite. One process alone does
  none of this: its BEGIN and its two busy-timeout switches cost 34 microseconds a
  transaction, measurable in the burst, for waits it never has.

`create_engine` in storage/database.py uses it for every `sqlite+aiosqlite` URL; aiosqlite
itself stays for any other engine built from such a URL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import await_only

from storage.database import SQLITE_BUSY_TIMEOUT_MS
from storage.write_lock import WriteLock

DRIVER = "inloop"  # storage.database.IN_LOOP
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
_BEGINS_TRANSACTION = ("INSERT", "UPDATE", "DELETE", "REPLACE")
"""The statements before which sqlite3 begins a transaction on its own (its legacy mode): this
module begins it first, as IMMEDIATE. Other writes (DDL, VACUUM, SAVEPOINT) run as before."""
SPIN_SECONDS = 0.05
"""How long a write tries again at once for a file another process is writing (the loop does
not turn meanwhile: past it, something holds the file for longer than a worker's write)..."""
SPIN_PAUSE = 0.0001
"""...pausing this long between tries (the loop's thread sleeps)..."""
WAIT_PAUSES = (0.0, 0.0, 0.0005, 0.001, 0.002, 0.005)
"""...and then the pauses on the loop between the tries that follow, the last repeated."""
SQLITE_TIMEOUT = 5.0
"""Seconds a writer waits for the write lock (the connect URL's `timeout`, by default)."""
_shared = False
"""Other processes of this bot write the same SQLite file (`share_with_other_processes`)."""
# Per event loop (a lock's waiters are one loop's futures), then per database file.
_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, WriteLock]] = (
    weakref.WeakKeyDictionary()
)


COMMITS_PER_TURN = 8
"""Commits one task may make in a row, the loop not turning between them, before one yields."""


class _Turns:
    """Counts each task's commits since the event loop last turned: a callback queued at the
    first commit of a turn runs once the loop gets round to its ready queue again, which a task
    that never yields does not let it do."""

    def __init__(self) -> None:
        self._turn = 0
        self._noted = False
        self._commits: weakref.WeakKeyDictionary[asyncio.Task[Any], list[int]] = (
            weakref.WeakKeyDictionary()
        )

    def owed(self, loop: asyncio.AbstractEventLoop) -> bool:
        """A commit was made: True if its task should now let the others run."""
        if not self._noted:
            self._noted = True
            loop.call_soon(self._turned)
        task = asyncio.current_task(loop)
        if task is None:
            return False
        seen = self._commits.get(task)
        if seen is None or seen[0] != self._turn:
            self._commits[task] = [self._turn, 1]
            return False
        seen[1] += 1
        return seen[1] >= COMMITS_PER_TURN

    def _turned(self) -> None:
        self._turn += 1
        self._noted = False


# Per event loop; a `_Turns` holds no reference to its loop, so a closed loop's entry goes.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


def _turn_owed() -> bool:
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = _Turns()
    return turns.owed(loop)


def _write_lock(database: str) -> WriteLock:
    locks = _write_locks.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(database)
    if lock is None:
        lock = locks[database] = WriteLock()
    return lock


def share_with_other_processes(shared: bool = True) -> None:
    """This process is one of several bot processes writing the same SQLite file (a worker of
    WORKERS): writes wait for the others on the loop, not in SQLite's busy handler."""
    global _shared
    _shared = shared


def shared_with_other_processes() -> bool:
    """Whether `share_with_other_processes` was called: a SQLite reader that must not race
    another process's writer (the round robin's cursor) takes the write lock first."""
    return _shared


def _writes(statement: str) -> bool:
    return not statement.lstrip()[:7].upper().startswith(_READS)


def _begins_transaction(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(_BEGINS_TRANSACTION)


async def _begin_writing(connection: sqlite3.Connection, within: float) -> None:
    """`BEGIN IMMEDIATE` on `connection`: SQLite's write lock, waited for on the loop when
    another process holds it, or SQLite's own "database is locked" after `within` s."""
    # A plain cursor: this module's would take the write lock, held here already.
    cursor = sqlite3.Cursor(connection)
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        spin_until = time.perf_counter() + SPIN_SECONDS
        tries = 0
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorname != "SQLITE_BUSY" or loop.time() >= deadline:
                    raise
            if time.perf_counter() < spin_until:
                # Deliberately on the loop's thread: see the module's docstring.
                time.sleep(SPIN_PAUSE)  # noqa: ASYNC251
                continue
            await asyncio.sleep(WAIT_PAUSES[min(tries, len(WAIT_PAUSES) - 1)])
            tries += 1
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # configure_sqlite's
        cursor.close()


class InLoopConnection(sqlite3.Connection):
    """A sqlite3 connection whose first write of a transaction waits for the write lock."""

    lock: WriteLock
    lock_timeout: float
    holds_lock: bool = False

    def cursor(self, factory: Any = None) -> InLoopCursor:  # type: ignore[override]
        return super().cursor(factory or InLoopCursor)

    def before_writing(self, statement: str) -> None:
        if self.holds_lock:
            await_only(_done())  # see InLoopCursor._before
            return
        await_only(_take(self.lock, self.lock_timeout))
        self.holds_lock = True
        if _shared and not self.in_transaction and _begins_transaction(statement):
            try:
                await_only(_begin_writing(self, self.lock_timeout))
            except BaseException:
                self._release()
                raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()
        if _turn_owed():
            await_only(asyncio.sleep(0))

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self.holds_lock:
            self.holds_lock = False
            self.lock.release()


class InLoopCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> InLoopCursor:
        self._before(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> InLoopCursor:
        self._before(sql)
        return super().executemany(sql, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's asyncio results call on an async driver's cursor; rows of this
        one are fetched already."""

    def _before(self, sql: str) -> None:
        if _writes(sql):
            self.connection.before_writing(sql)  # type: ignore[attr-defined]
        else:
            # SQLAlchemy's asyncio layer checks that a statement awaited something (its guard
            # against a blocking driver): a coroutine that is done at once, and costs a
            # greenlet switch, not a trip through the loop.
            await_only(_done())


async def _done() -> None:
    return None


async def _take(lock: WriteLock, within: float) -> None:
    """A database's write lock, or SQLite's own "database is locked" after `within` s."""
    if not lock.locked():
        await lock.acquire()  # free: taken at once, without the task a timed wait would start
        return
    try:
        await asyncio.wait_for(lock.acquire(), within)
    except TimeoutError:
        raise sqlite3.OperationalError("database is locked") from None


class SQLiteInLoopDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared async so the asyncio engine runs it inside its greenlets."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: Any) -> type[AsyncAdaptedQueuePool]:
        # The queue pool's waits must be the loop's, never a thread's.
        return AsyncAdaptedQueuePool

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        timeout = float(cparams.pop("timeout", SQLITE_TIMEOUT))
        cparams["factory"] = InLoopConnection
        # Created, used and closed on the loop's thread; the pool may close one elsewhere.
        cparams["check_same_thread"] = False
        connection = super().connect(*cargs, timeout=timeout, **cparams)
        assert isinstance(connection, InLoopConnection)
        connection.lock = _write_lock(str(cargs[0]) if cargs else cparams.get("database", ""))
        connection.lock_timeout = timeout
        return connection


dialect = SQLiteInLoopDialect


class DirectStatement:
    """One statement in a transaction of its own, run on a sqlite3 connection outside
    SQLAlchemy, for the hottest write there is: a form's every step (bot/telegram/fsm_storage.py).

    Why: SQLite takes some 20 microseconds to run and commit that upsert; SQLAlchemy's asyncio
    engine around it (a pooled connection, a transaction object, an execution context, greenlet
    switches, a result) took 330 in the bot, a third of a form step (bench/RESULTS.md). The
    statement is still SQLAlchemy's, compiled once for the engine's dialect, and its values go
    through the columns' own types (JSON, UTC datetimes), so the rows are the ones the engine
    would have written.

    The connection takes the same write lock as the engine's connections (one per database file
    in this loop), so writers still queue in the loop. `for_engine` returns None for anything
    but a file database on this module's dialect: the caller keeps the engine's path."""

    def __init__(self, statement: Any, dialect: SQLiteInLoopDialect, database: str) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        # The dialect's own implementation of each type, as the engine's execution uses: for
        # SQLite a datetime becomes the engine's text form, not the sqlite3 module's.
        self._bound = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()
        ]
        self._database = database
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def for_engine(cls, engine: Any, statement: Any) -> DirectStatement | None:
        dialect = engine.dialect
        if not isinstance(dialect, SQLiteInLoopDialect):
            return None
        arguments, _ = dialect.create_connect_args(engine.url)
        database = str(arguments[0]) if arguments else ":memory:"
        if database == ":memory:" or database.startswith("file:"):
            return None  # another connection would not see the same database
        return cls(statement, dialect, database)

    async def run(self, values: dict[str, Any]) -> None:
        """Execute and commit, or raise with nothing written."""
        parameters = [
            process(values[name]) if process else values[name] for name, process in self._bound
        ]
        connection = self._connection or self._connect()
        lock = _write_lock(self._database)
        await _take(lock, SQLITE_TIMEOUT)
        try:
            if _shared:
                await _begin_writing(connection, SQLITE_TIMEOUT)
            connection.execute(self.sql, parameters)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            lock.release()
        if _turn_owed():
            await asyncio.sleep(0)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        from storage.database import configure_sqlite

        connection = sqlite3.connect(self._database, check_same_thread=False)
        configure_sqlite(connection, None)  # WAL, busy timeout, synchronous: as the engine's
        self._connection = connection
        return connection
