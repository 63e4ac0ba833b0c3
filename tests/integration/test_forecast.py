"""The forecast on a hand-built team, on SQLite and PostgreSQL. Every expected figure below was
worked out by hand from the rows in this file, not by the code under test.

Now is Monday 16 March 2026, 13:00 in Moscow. The book's working hours are 09:00-18:00 on
weekdays, with Russia's holidays: March 2026 has 22 weekdays less the 9 March holiday = 21
working days = 189 working hours. Before now: 2-6 and 10-13 March (9 days, 81 h) and 09:00-13:00
today (4 h) = 85 h, so 85 / 189 = 0.4497 of the month's working time has passed. Working days
left, today included: 16-20, 23-27, 30-31 March = 12.

The team's plan is 3,000,000 a month; the book names Ivan's, 1,200,000, and the two other active
managers share the rest: 900,000 each. Oleg is no longer active but still holds an open deal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import FixedClock
from domain.forecast import PlanMonth
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.forecast import forecast
from services.lens import lens
from services.staff import Actor
from storage.models import DealRow, StaffRow
from storage.unit_of_work import UnitOfWork

MOSCOW = ZoneInfo("Europe/Moscow")
HEAD = Actor(1, Role.SUPERVISOR, "Мария", None, "ru")
IVAN, PETR, ANNA, OLEG = 21, 22, 23, 24
IMPL, SUBS = "implementation_mid", "subscription_small"


def msk(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=MOSCOW).astimezone(dt.UTC)


NOW = msk(3, 16, 13)

# (pipeline, stage, status, manager, amount, closed); stage probabilities from the default book
DEALS: list[tuple[str, str, str, int | None, int | None, dt.datetime | None]] = [
    (IMPL, "qualification", "open", IVAN, 500_000, None),  # x 0.1 = 50,000
    (IMPL, "proposal", "open", IVAN, 800_000, None),  # x 0.4 = 320,000
    (SUBS, "meeting", "open", PETR, 150_000, None),  # x 0.3 = 45,000
    (SUBS, "request", "open", PETR, None, None),  # no amount: counted, not weighed
    (IMPL, "negotiation", "open", OLEG, 1_000_000, None),  # x 0.6 = 600,000
    (SUBS, "request", "open", None, 40_000, None),  # the queue, x 0.05 = 2,000
    (IMPL, "proposal", "lost", ANNA, 300_000, msk(3, 10)),  # lost: neither pipeline nor revenue
    (IMPL, "invoice", "won", IVAN, 600_000, msk(3, 5)),
    (SUBS, "payment", "won", PETR, 250_000, msk(3, 12)),
    (IMPL, "invoice", "won", IVAN, 900_000, msk(2, 27)),  # February: not this month's revenue
]


async def build(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        for telegram_id, name, active in (
            (IVAN, "Иван", True),
            (PETR, "Пётр", True),
            (ANNA, "Анна", True),
            (OLEG, "Олег", False),
        ):
            session.add(
                StaffRow(
                    telegram_id=telegram_id,
                    role=Role.MANAGER.value,
                    first_name=name,
                    is_active=active,
                    joined_at=msk(1, 10),
                )
            )
        await session.flush()
        for pipeline, stage, status, manager, amount, closed in DEALS:
            session.add(
                DealRow(
                    pipeline_id=pipeline,
                    stage_id=stage,
                    status=status,
                    manager_id=manager,
                    amount=None if amount is None else Decimal(amount),
                    currency=None if amount is None else "RUB",
                    created_at=msk(2, 2),
                    stage_entered_at=msk(2, 3),
                    closed_at=closed,
                )
            )
        await session.commit()


@pytest.fixture
async def team_book(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> SalesBook:
    """The team above stored, and the book naming Ivan's plan."""
    await build(session_factory)
    plan = book.plan.model_copy(update={"per_manager": {str(IVAN): Decimal(1_200_000)}})
    return book.model_copy(update={"plan": plan})


async def test_the_teams_weighted_pipeline_and_pace_with_each_manager_against_their_plan(
    session_factory: async_sessionmaker[AsyncSession],
    team_book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    book, uow = team_book, UnitOfWork(session_factory)
    team = await lens(uow, book, HEAD, PlanMonth(NOW, calendar, MOSCOW))
    outlook = await forecast(uow, FixedClock(NOW), book, calendar, MOSCOW, team)

    # Open: 6 deals, 5 with an amount: 500 + 800 + 150 + 1,000 + 40 thousand = 2,490,000;
    # weighted 50 + 320 + 45 + 600 + 2 thousand = 1,017,000.
    pipeline = outlook.pipeline
    assert (pipeline.deals, pipeline.with_amount, pipeline.without_amount) == (6, 5, 1)
    assert (pipeline.amount, pipeline.weighted) == (Decimal(2_490_000), Decimal(1_017_000))
    assert (outlook.queue.deals, outlook.queue.weighted) == (1, Decimal(2_000))

    # March so far: 600,000 + 250,000 = 850,000 of 3,000,000. Expected by now 3,000,000 x 0.4497
    # = 1,349,100, so 499,100 behind; the 2,150,000 left over 12 days = 179,166.67 a day.
    pace = outlook.pace
    assert pace is not None
    assert (pace.plan, pace.revenue, pace.elapsed, pace.days_left) == (
        Decimal(3_000_000),
        Decimal(850_000),
        Decimal("0.4497"),
        12,
    )
    assert pace.expected_by_now == Decimal("1349100.00")
    assert pace.ahead == Decimal("-499100.00")
    assert pace.needed_per_day == Decimal("179166.67")

    # Per manager, furthest behind first:
    #   Anna: 0 of 900,000, expected 404,730: -404,730; needs 75,000 a day
    #   Petr: 250,000 of 900,000, expected 404,730: -154,730; needs 54,166.67; weighted 45,000
    #   Oleg: no plan (inactive), nothing won: 0; weighted 600,000
    #   Ivan: 600,000 of 1,200,000, expected 539,640: +60,360; needs 50,000; weighted 370,000
    rows = [
        (row.name, row.pace.plan, row.pace.ahead, row.pace.needed_per_day, row.pipeline.weighted)
        for row in outlook.managers
    ]
    assert rows == [
        ("Анна", Decimal("900000.00"), Decimal("-404730.00"), Decimal("75000.00"), Decimal(0)),
        (
            "Пётр",
            Decimal("900000.00"),
            Decimal("-154730.00"),
            Decimal("54166.67"),
            Decimal(45_000),
        ),
        ("Олег", Decimal(0), Decimal(0), Decimal(0), Decimal(600_000)),
        (
            "Иван",
            Decimal(1_200_000),
            Decimal("60360.00"),
            Decimal("50000.00"),
            Decimal(370_000),
        ),
    ]


async def test_a_managers_own_forecast_and_one_pipelines(
    session_factory: async_sessionmaker[AsyncSession],
    team_book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    book, uow, clock = team_book, UnitOfWork(session_factory), FixedClock(NOW)

    petr = Actor(PETR, Role.MANAGER, "Пётр", None, "ru")
    own = await forecast(
        uow,
        clock,
        book,
        calendar,
        MOSCOW,
        await lens(uow, book, petr, PlanMonth(NOW, calendar, MOSCOW)),
    )
    assert [row.name for row in own.managers] == ["Пётр"]
    assert (own.pipeline.deals, own.pipeline.amount) == (2, Decimal(150_000))
    assert own.pace is not None
    assert (own.pace.plan, own.pace.revenue) == (Decimal("900000.00"), Decimal(250_000))

    # The subscription pipeline: the meeting (150,000 x 0.3), the unpriced request and the
    # queue's (40,000 x 0.05); no plan of its own, so no pace and no managers' rows.
    subscription = await lens(uow, book, HEAD, PlanMonth(NOW, calendar, MOSCOW), pipeline_id=SUBS)
    one = await forecast(uow, clock, book, calendar, MOSCOW, subscription)
    assert (one.pipeline.deals, one.pipeline.with_amount) == (3, 2)
    assert (one.pipeline.amount, one.pipeline.weighted) == (Decimal(190_000), Decimal(47_000))
    assert one.pace is None and one.managers == []
