"""The demo-data generator run again, refused, and from the command line: the same seed gives
the same data, demo data is kept unless replaced, impossible requests are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.working_time import WorkingCalendar
from services.demo_data import (
    DemoDataError,
    DemoSummary,
    _Timeline,
    generate_demo_data,
    main,
)
from storage.database import create_engine, create_session_factory, migrate
from storage.models import (
    ContactRow,
    DealRow,
    StaffRow,
    StageTransitionRow,
)
from tests.integration.demo_department import (
    MANAGERS,
    MOSCOW,
    NOW,
    SEED,
    SINCE,
    Factory,
    all_rows,
    generate,
)


@pytest.fixture
async def summary(session_factory: Factory, book: SalesBook) -> DemoSummary:
    return await generate(session_factory, book)


# --- determinism ---------------------------------------------------------------------------------


async def test_the_same_seed_and_now_give_the_same_data(
    session_factory: Factory, book: SalesBook, summary: DemoSummary, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'again.sqlite3'}")
    try:
        await migrate(engine)
        again = create_session_factory(engine)
        assert await generate(again, book) == summary
        assert await all_rows(again) == await all_rows(session_factory)
    finally:
        await engine.dispose()

    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        await migrate(other)
        different = await generate(create_session_factory(other), book, seed=SEED + 1)
        assert different.fingerprint != summary.fingerprint
    finally:
        await other.dispose()


async def test_existing_demo_data_is_kept_unless_replaced(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    with pytest.raises(DemoDataError, match="already holds demo data"):
        await generate(session_factory, book)

    replaced = await generate(session_factory, book, deals=20, seed=SEED + 1, replace=True)
    async with session_factory() as session:
        deals = await session.scalar(select(func.count()).select_from(DealRow))
        contacts = await session.scalar(select(func.count()).select_from(ContactRow))
        staff = await session.scalar(select(func.count()).select_from(StaffRow))
        history_deals = await session.scalar(
            select(func.count(func.distinct(StageTransitionRow.deal_id)))
        )
    assert deals == history_deals == 20
    assert contacts == replaced.contacts
    assert staff == MANAGERS + 1


async def test_refuses_impossible_requests(session_factory: Factory, book: SalesBook) -> None:
    with pytest.raises(DemoDataError, match="manager"):
        await generate_demo_data(
            session_factory, book, managers=0, supervisors=1, deals=5, days=9, seed=1, now=NOW
        )
    with pytest.raises(DemoDataError, match="no working time"):
        # New Year holidays in Russia: 1-8 January 2027 are days off.
        await generate_demo_data(
            session_factory,
            book,
            managers=1,
            supervisors=0,
            deals=5,
            days=3,
            seed=1,
            now=dt.datetime(2027, 1, 4, 12, 0, tzinfo=MOSCOW),
        )


# --- working time as a line --------------------------------------------------------------------


def test_the_timeline_agrees_with_the_working_calendar(book: SalesBook) -> None:
    calendar = WorkingCalendar.from_book(book.working_hours)
    until = NOW.astimezone(dt.UTC)
    timeline = _Timeline(calendar, SINCE, until)
    first, last = timeline.offset(SINCE), timeline.offset(until)
    rng = random.Random(1)
    for _ in range(200):
        a, b = sorted(rng.randrange(first, last) for _ in range(2))
        start, end = timeline.at(a), timeline.at(b)
        assert calendar.is_working_moment(start) and calendar.is_working_moment(end)
        assert timeline.offset(start) == a
        assert calendar.working_time_between(start, end) == dt.timedelta(seconds=b - a)


# --- command line --------------------------------------------------------------------------------


def test_the_command_line_fills_a_database_and_says_what_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "demo.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", url)  # the default comes from the bot's settings
    argv = [
        "--managers", "2", "--supervisors", "1", "--deals", "30", "--days", "30",
        "--seed", "5", "--now", "2026-11-23T09:00:00+03:00",
    ]  # fmt: skip

    assert main([*argv, "--sales-book", str(DEFAULT_SALES_BOOK_PATH)]) == 0
    printed = capsys.readouterr().out
    assert "2 managers" in printed and "1 supervisor;" in printed
    assert "30 deals" in printed and " won" in printed and " lost" in printed
    assert "revenue" in printed and "RUB" in printed
    assert str(database) in printed

    async def count() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(select(func.count()).select_from(DealRow)) or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(count()) == 30

    assert main(argv) == 1  # the sales book from the settings, but the demo is already there
    assert "already holds demo data" in capsys.readouterr().err
    assert main([*argv, "--replace", "--database-url", url]) == 0
    assert "30 deals" in capsys.readouterr().out


def test_the_command_line_wants_now_with_an_offset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--now", "2026-11-23T09:00:00"])
    assert exit_info.value.code == 2
    assert "UTC offset" in capsys.readouterr().err
