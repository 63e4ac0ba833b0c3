"""Engine and session factory, and the migrations that run at start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, text
from sqlalchemy.dialects import registry, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert

IN_LOOP = "inloop"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
MIGRATION_LOCK = 4_815_162_342
"""The PostgreSQL advisory lock the migrations at start take."""


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; on SQLite with WAL, a busy timeout and foreign keys enforced."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if parsed.get_driver_name() == "aiosqlite":
            # The same file, without aiosqlite's thread hops (storage/sqlite_in_loop.py).
            registry.register(f"sqlite.{IN_LOOP}", "storage.sqlite_in_loop", "dialect")
            parsed = parsed.set(drivername=f"sqlite+{IN_LOOP}")
        engine = create_async_engine(parsed, echo=echo)
        event.listen(engine.sync_engine, "connect", configure_sqlite)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit: handlers render them after the unit of work ends,
    # and an expired attribute would need a lazy load, which async code cannot do implicitly.
    return async_sessionmaker(engine, expire_on_commit=False)


def upsert_insert(
    dialect: str,
) -> Callable[[Any], PostgresqlInsert] | Callable[[Any], sqlite.Insert]:
    """The dialect's own `insert`, the one with ON CONFLICT, for a dialect name such as
    `session.get_bind().dialect.name`."""
    if dialect == "postgresql":
        # Imported only on PostgreSQL: the dialect is large, and SQLite never needs it.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite.insert


def alembic_config() -> Config:
    # Alembic is imported when the migrations run, not with everything that opens a database.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


class DatabaseUnavailable(Exception):
    """The database could not be opened at all (server down, wrong address, user or name)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; safe at every start). Raises
    `DatabaseUnavailable` when not even a connection opens, so a start can say so in one line
    rather than a driver's traceback."""
    try:
        connection = await engine.connect()
    except Exception as error:  # the drivers raise anything from OSError to their own errors
        reason = str(getattr(error, "orig", None) or error) or type(error).__name__
        url = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(url, reason.splitlines()[0]) from error
    try:
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                # Instances started together migrate one after the other (the later ones find
                # the schema at head), should `alembic upgrade head` not have run before them.
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            await connection.run_sync(_upgrade_to_head)
    finally:
        await connection.close()


def _upgrade_to_head(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
