"""The bot's database for one run (a fresh SQLite file, or a fresh PostgreSQL database created
and dropped around the run), and what the run left in it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


DATABASES = ("sqlite", "postgresql")


@asynccontextmanager
async def fresh_database(kind: str, workdir: Path, postgres_url: str) -> AsyncIterator[str]:
    """The URL the bot gets. For PostgreSQL, `postgres_url` names the server (its database is
    only where CREATE DATABASE is issued from); the run's own database is dropped after."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    server = make_url(postgres_url)
    name = f"salesbot_burst_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def deals_by_lead(url: str) -> dict[int, list[int]]:
    """Telegram id of the lead -> the numbers of the deals filed for them."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT contacts.telegram_id, deals.id FROM deals "
                    "JOIN contacts ON contacts.id = deals.contact_id"
                )
            )
            found: dict[int, list[int]] = defaultdict(list)
            for telegram_id, deal_id in rows:
                found[int(telegram_id)].append(int(deal_id))
            return dict(found)
    finally:
        await engine.dispose()


async def deals_per_manager(url: str) -> dict[int | None, int]:
    """Manager (None: nobody, queued) -> how many deals the round robin gave them."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT manager_id, COUNT(*) FROM deals GROUP BY manager_id")
            )
            return {manager: int(count) for manager, count in rows}
    finally:
        await engine.dispose()
