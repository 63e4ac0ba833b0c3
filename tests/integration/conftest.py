from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.book_loading import parse_sales_book
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.working_time import WorkingCalendar
from storage.database import create_engine, create_session_factory, migrate
from tests.db import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture(scope="session")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def calendar(book: SalesBook) -> WorkingCalendar:
    return WorkingCalendar.from_book(book.working_hours)
