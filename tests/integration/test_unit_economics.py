"""Unit economics per lead source on a hand-built history, on SQLite and PostgreSQL. Every
expected figure below was worked out by hand from the rows in this file, not by the code under
test.

The period is 16 April 2026 00:00 to 16 May 2026 00:00, Moscow time: the second half of April
(15 of its 30 days, a share of 1/2) and the first 15 of May's 31 days (15/31). The book's
margin is 0.35.

Spend entered (per month):
    ads_vk      March 99,999 (outside the period), April 40,000, May 62,000
    ads_yandex  April 120,000
    site        April 0 (entered: no spend, which is not the same as nothing entered)
    partner_integrator and referral: nothing entered
Pro rata: ads_vk 40,000 x 1/2 + 62,000 x 15/31 = 20,000 + 30,000 = 50,000;
          ads_yandex 120,000 x 1/2 = 60,000; site 0.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import FixedClock
from domain.errors import PermissionDenied
from domain.kpi import Period
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.unit_economics import RowProblem, SpendTableInvalid, UnknownSource
from services.staff import Actor
from services.unit_economics import enter_spend, import_spend, source_economics
from storage.models import DealRow, MarketingSpendRow
from storage.unit_of_work import UnitOfWork

MOSCOW = ZoneInfo("Europe/Moscow")
HEAD = Actor(1, Role.SUPERVISOR, "Мария", None, "ru")
MANAGER = Actor(2, Role.MANAGER, "Иван", None, "ru")
IMPL = "implementation_mid"


def msk(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MOSCOW).astimezone(dt.UTC)


PERIOD = Period(msk(4, 16, 0), msk(5, 16, 0))
NOW = msk(5, 16, 9)

# (source, created, status, amount, closed)
DEALS: list[tuple[str, dt.datetime, str, int | None, dt.datetime | None]] = [
    # ads_vk: leads 1, 2, 3, 4 and 6 = 5; customers 1 and 5 = 2, revenue 300,000 + 200,000
    ("ads_vk", msk(4, 20), "won", 300_000, msk(5, 5)),
    ("ads_vk", msk(4, 25), "open", None, None),
    ("ads_vk", msk(5, 2), "lost", None, msk(5, 10)),
    ("ads_vk", msk(5, 10), "open", None, None),
    ("ads_vk", msk(3, 30), "won", 200_000, msk(4, 18)),  # created before: a customer, no lead
    ("ads_vk", msk(4, 17), "won", 1_000_000, msk(5, 20)),  # won after: a lead, no customer
    # ads_yandex: 5 leads, 1 customer, 120,000
    ("ads_yandex", msk(4, 16, 0, 30), "won", 120_000, msk(5, 14)),
    ("ads_yandex", msk(4, 21), "open", None, None),
    ("ads_yandex", msk(4, 28), "open", None, None),
    ("ads_yandex", msk(5, 3), "open", None, None),
    ("ads_yandex", msk(5, 12), "open", None, None),
    ("ads_yandex", msk(5, 16, 0), "open", None, None),  # the period's end is not in it
    # site: 2 leads, 1 customer, 90,000
    ("site", msk(4, 22), "won", 90_000, msk(4, 30)),
    ("site", msk(5, 1), "open", None, None),
    # partner_integrator: 1 lead, 1 customer, 400,000, no spend entered
    ("partner_integrator", msk(4, 19), "won", 400_000, msk(5, 8)),
    # referral: nothing at all, still a row
    # no known source, and a source since removed from the book: one lead each
    ("unknown", msk(5, 4), "open", None, None),
    ("ads_tiktok", msk(4, 23), "open", None, None),
]

SPEND: list[list[str]] = [
    ["source", "month", "amount"],
    ["ads_vk", "2026-03", "99 999"],
    ["ads_vk", "04.2026", "40 000"],
    ["Реклама во ВКонтакте", "2026-05", "62000"],  # by the source's name
    ["ads_yandex", "2026-04", "120000,00"],
    ["site", "2026-04", "0"],
]


async def build(session_factory: async_sessionmaker[AsyncSession], book: SalesBook) -> None:
    async with session_factory() as session:
        for source, created, status, amount, closed in DEALS:
            session.add(
                DealRow(
                    pipeline_id=IMPL,
                    stage_id="payment" if status == "won" else "request",
                    status=status,
                    source=source,
                    amount=None if amount is None else Decimal(amount),
                    currency=None if amount is None else "RUB",
                    created_at=created,
                    stage_entered_at=created,
                    closed_at=closed,
                )
            )
        await session.commit()
    stored = await import_spend(UnitOfWork(session_factory), FixedClock(NOW), book, HEAD, SPEND)
    assert stored == 5


async def spend_rows(
    session_factory: async_sessionmaker[AsyncSession],
) -> list[tuple[str, dt.date, Decimal, int]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(
                MarketingSpendRow.source_id,
                MarketingSpendRow.month,
                MarketingSpendRow.amount,
                MarketingSpendRow.entered_by,
            ).order_by(MarketingSpendRow.source_id, MarketingSpendRow.month)
        )
        return [(source, month, Decimal(amount), by) for source, month, amount, by in rows]


@pytest.fixture
async def stored(session_factory: async_sessionmaker[AsyncSession], book: SalesBook) -> SalesBook:
    await build(session_factory, book)
    return book


async def test_every_figure_per_source_and_the_totals(
    session_factory: async_sessionmaker[AsyncSession], stored: SalesBook
) -> None:
    report = await source_economics(UnitOfWork(session_factory), stored, HEAD, PERIOD, MOSCOW)
    table = report.table
    assert table.margin == Decimal("0.35")
    # (source, leads, spend, CPL, customers, CAC, revenue, ROMI, payback), the costliest first,
    # then the sources without spend by leads, then the book's order:
    #   ads_yandex: CPL 60,000 / 5 = 12,000; CAC 60,000 / 1 = 60,000;
    #     ROMI (120,000 x 0.35 - 60,000) / 60,000 = (42,000 - 60,000) / 60,000 = -0.3;
    #     payback 60,000 / (120,000 x 0.35) = 60,000 / 42,000 = 1.428... = 1.43 deals
    #   ads_vk: CPL 50,000 / 5 = 10,000; CAC 50,000 / 2 = 25,000;
    #     ROMI (500,000 x 0.35 - 50,000) / 50,000 = (175,000 - 50,000) / 50,000 = 2.5;
    #     payback 25,000 / (250,000 average x 0.35) = 25,000 / 87,500 = 0.2857 = 0.29
    #   site: spend 0: CPL 0 / 2 = 0, CAC 0 / 1 = 0, ROMI none (0 spent), payback 0
    #   partner_integrator, ads_tiktok, unknown: 1 lead each, no spend: every ratio "—"
    #   referral: nothing, still shown
    rows = [
        (
            row.source_id,
            row.leads,
            row.spend,
            row.cost_per_lead,
            row.customers,
            row.cac,
            row.revenue,
            row.romi,
            row.payback,
        )
        for row in table.rows
    ]
    assert rows == [
        (
            "ads_yandex",
            5,
            Decimal("60000.00"),
            Decimal("12000.00"),
            1,
            Decimal("60000.00"),
            Decimal("120000.00"),
            Decimal("-0.3000"),
            Decimal("1.43"),
        ),
        (
            "ads_vk",
            5,
            Decimal("50000.00"),
            Decimal("10000.00"),
            2,
            Decimal("25000.00"),
            Decimal("500000.00"),
            Decimal("2.5000"),
            Decimal("0.29"),
        ),
        (
            "site",
            2,
            Decimal("0.00"),
            Decimal("0.00"),
            1,
            Decimal("0.00"),
            Decimal("90000.00"),
            None,
            Decimal("0.00"),
        ),
        ("partner_integrator", 1, None, None, 1, None, Decimal("400000.00"), None, None),
        ("ads_tiktok", 1, None, None, 0, None, Decimal(0), None, None),
        ("unknown", 1, None, None, 0, None, Decimal(0), None, None),
        ("referral", 0, None, None, 0, None, Decimal(0), None, None),
    ]
    # Totals over every source: 15 leads (5 + 5 + 2 + 1 + 1 + 1), 5 customers (1 + 2 + 1 + 1),
    # revenue 120,000 + 500,000 + 90,000 + 400,000 = 1,110,000, spend 60,000 + 50,000 + 0 =
    # 110,000. CPL 110,000 / 15 = 7,333.33; CAC 110,000 / 5 = 22,000;
    # ROMI (1,110,000 x 0.35 - 110,000) / 110,000 = (388,500 - 110,000) / 110,000 = 2.5318;
    # payback 110,000 / 388,500 = 0.2831 = 0.28 deals.
    total = table.total
    assert (total.source_id, total.leads, total.customers) == (None, 15, 5)
    assert (total.revenue, total.spend) == (Decimal("1110000.00"), Decimal("110000.00"))
    assert (total.cost_per_lead, total.cac) == (Decimal("7333.33"), Decimal("22000.00"))
    assert (total.romi, total.payback) == (Decimal("2.5318"), Decimal("0.28"))


async def test_a_whole_month_counts_its_whole_spend(
    session_factory: async_sessionmaker[AsyncSession], stored: SalesBook
) -> None:
    april = Period(msk(4, 1, 0), msk(5, 1, 0))
    report = await source_economics(UnitOfWork(session_factory), stored, HEAD, april, MOSCOW)
    spend = {row.source_id: row.spend for row in report.table.rows}
    # April alone: ads_vk 40,000 and ads_yandex 120,000 whole; site 0; March's 99,999 and
    # May's 62,000 not at all.
    assert spend["ads_vk"] == Decimal("40000.00")
    assert spend["ads_yandex"] == Decimal("120000.00")
    assert spend["site"] == Decimal("0.00")
    # April's leads from ads_vk: 20.04, 25.04 and 17.04 (30.03 is March's): CPL 40,000 / 3.
    vk = next(row for row in report.table.rows if row.source_id == "ads_vk")
    assert (vk.leads, vk.cost_per_lead) == (3, Decimal("13333.33"))
    # Won in April from ads_vk: the deal of 30.03 won 18.04 (200,000): CAC 40,000;
    # ROMI (70,000 - 40,000) / 40,000 = 0.75.
    assert (vk.customers, vk.cac, vk.romi) == (1, Decimal("40000.00"), Decimal("0.7500"))


async def test_without_a_margin_there_is_no_romi_or_payback(
    session_factory: async_sessionmaker[AsyncSession], stored: SalesBook
) -> None:
    no_margin = stored.model_copy(update={"economics": None})
    report = await source_economics(UnitOfWork(session_factory), no_margin, HEAD, PERIOD, MOSCOW)
    vk = next(row for row in report.table.rows if row.source_id == "ads_vk")
    assert (vk.cost_per_lead, vk.cac) == (Decimal("10000.00"), Decimal("25000.00"))
    assert (vk.romi, vk.payback, report.table.margin) == (None, None, None)


async def test_entering_again_replaces_and_a_manager_may_neither_enter_nor_see(
    session_factory: async_sessionmaker[AsyncSession], stored: SalesBook
) -> None:
    uow, clock = UnitOfWork(session_factory), FixedClock(NOW)
    april = dt.date(2026, 4, 1)
    entry = await enter_spend(uow, clock, stored, HEAD, "ads_yandex", april, Decimal("90000"))
    assert entry.amount == Decimal("90000.00")
    assert ("ads_yandex", april, Decimal("90000.00"), HEAD.user_id) in await spend_rows(
        session_factory
    )
    assert len(await spend_rows(session_factory)) == 5  # replaced, not added

    with pytest.raises(UnknownSource):
        await enter_spend(uow, clock, stored, HEAD, "ads_tiktok", april, Decimal(1))
    before = await spend_rows(session_factory)
    with pytest.raises(PermissionDenied):
        await enter_spend(uow, clock, stored, MANAGER, "ads_vk", april, Decimal(1))
    with pytest.raises(PermissionDenied):
        await import_spend(uow, clock, stored, MANAGER, [["ads_vk", "2026-04", "1"]])
    with pytest.raises(PermissionDenied):
        await source_economics(uow, stored, MANAGER, PERIOD, MOSCOW)
    assert await spend_rows(session_factory) == before


async def test_an_upload_with_a_broken_row_stores_nothing(
    session_factory: async_sessionmaker[AsyncSession], stored: SalesBook
) -> None:
    before = await spend_rows(session_factory)
    upload = [
        ["ads_vk", "2026-06", "10 000"],  # good, yet not stored: the file goes whole or not
        ["ads_vk", "2026-13", "10 000"],
        ["tiktok", "2026-06", "-5"],
        ["site", "2026-06", "5"],
        ["site", "06.2026", "7"],  # the same source and month as row 4
    ]
    with pytest.raises(SpendTableInvalid) as raised:
        await import_spend(UnitOfWork(session_factory), FixedClock(NOW), stored, HEAD, upload)
    assert raised.value.problems == [
        RowProblem(2, "bad_month", "2026-13"),
        RowProblem(3, "unknown_source", "tiktok"),
        RowProblem(3, "negative", "-5"),
        RowProblem(5, "duplicate", "4"),
    ]
    assert await spend_rows(session_factory) == before


async def test_the_database_refuses_a_negative_amount(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        session.add(
            MarketingSpendRow(
                source_id="ads_vk",
                month=dt.date(2026, 4, 1),
                amount=Decimal(-1),
                entered_by=HEAD.user_id,
                entered_at=NOW,
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()
