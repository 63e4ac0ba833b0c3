"""The team's month in money on a hand-built team, on SQLite and PostgreSQL. Every expected
figure was worked out by hand from the rows in this file.

Now is Friday 20 March 2026, 15:00 in Moscow. The bundled book's schemes: a manager earns
60,000 + 5 % of won implementation revenue (8 % of subscriptions) + 20,000 from 100 % of their
plan or 50,000 from 120 %; a supervisor 120,000 + 1 % of the team's revenue + 40,000 from 100 %
of the team's plan. The team's plan is 3,000,000; the book here names no manager's plan, so the
three managers have 1,000,000 each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.forecast import PlanMonth
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.motivation import my_month, team_month
from services.staff import Actor
from storage.models import ActivityRow, DealRow, StaffRow
from storage.unit_of_work import UnitOfWork

MOSCOW = ZoneInfo("Europe/Moscow")
IVAN, PETR, ANNA, MARIA = 31, 32, 33, 34
IMPL, SUBS = "implementation_mid", "subscription_small"


def msk(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=MOSCOW).astimezone(dt.UTC)


NOW = msk(3, 20, 15)
HEAD = Actor(MARIA, Role.SUPERVISOR, "Мария", None, "ru")

# (manager, pipeline, amount, won at)
WINS = [
    (IVAN, IMPL, 500_000, msk(3, 5)),  # Ivan: 500,000 + 200,000 of subscriptions = 70 %
    (IVAN, SUBS, 200_000, msk(3, 6)),
    (PETR, IMPL, 1_000_000, msk(3, 10)),  # Petr: exactly the plan
    (ANNA, IMPL, 900_000, msk(3, 11)),  # Anna: 1,300,000 = 130 %
    (ANNA, SUBS, 400_000, msk(3, 12)),
    (IVAN, IMPL, 800_000, msk(2, 27)),  # February: not this month
]


async def build(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        for telegram_id, name, role in (
            (IVAN, "Иван", Role.MANAGER),
            (PETR, "Пётр", Role.MANAGER),
            (ANNA, "Анна", Role.MANAGER),
            (MARIA, "Мария", Role.SUPERVISOR),
        ):
            session.add(
                StaffRow(
                    telegram_id=telegram_id, role=role.value, first_name=name, joined_at=msk(1, 10)
                )
            )
        await session.flush()
        for manager, pipeline, amount, won_at in WINS:
            session.add(
                DealRow(
                    pipeline_id=pipeline,
                    stage_id="handover",
                    status="won",
                    manager_id=manager,
                    amount=Decimal(amount),
                    currency="RUB",
                    created_at=msk(1, 15),
                    stage_entered_at=won_at,
                    closed_at=won_at,
                )
            )
        await session.flush()
        # Ivan's day: 4 calls and a meeting today, 10 calls yesterday (not today's).
        for kind, at in [("call", msk(3, 20, 10))] * 4 + [
            ("meeting", msk(3, 20, 11)),
            *[("call", msk(3, 19, 10))] * 10,
        ]:
            session.add(ActivityRow(deal_id=1, kind=kind, author_id=IVAN, at=at))
        await session.commit()


async def test_pay_below_at_and_over_the_plan_and_the_payroll(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    await build(session_factory)
    calendar = WorkingCalendar.from_book(book.working_hours)
    march = PlanMonth(NOW, calendar, MOSCOW)
    team = await team_month(UnitOfWork(session_factory), book, HEAD, march)
    rows = {
        person.name: (
            person.earnings.revenue,
            person.earnings.commission,
            person.earnings.bonus,
            person.earnings.total,
        )
        for person in team.people
        if person.earnings
    }
    assert rows == {
        # 500,000 x 5 % + 200,000 x 8 % = 25,000 + 16,000 = 41,000; 70 %: no bonus.
        "Иван": (Decimal(700_000), Decimal(41_000), Decimal(0), Decimal(101_000)),
        # 1,000,000 x 5 % = 50,000; 100 %: 20,000.
        "Пётр": (Decimal(1_000_000), Decimal(50_000), Decimal(20_000), Decimal(130_000)),
        # 900,000 x 5 % + 400,000 x 8 % = 45,000 + 32,000 = 77,000; 130 %: 50,000 only.
        "Анна": (Decimal(1_300_000), Decimal(77_000), Decimal(50_000), Decimal(187_000)),
        # The team's 3,000,000 = 100 %: 30,000 commission and 40,000.
        "Мария": (Decimal(3_000_000), Decimal(30_000), Decimal(40_000), Decimal(190_000)),
    }
    assert [person.name for person in team.people] == ["Иван", "Пётр", "Анна", "Мария"]
    assert team.payroll == Decimal(608_000)  # 101,000 + 130,000 + 187,000 + 190,000

    ivan = await my_month(
        UnitOfWork(session_factory), book, Actor(IVAN, Role.MANAGER, "Иван", None, "ru"), march
    )
    assert ivan.earnings is not None and ivan.today is not None
    # Ivan's average won deal this month: 700,000 / 2 = 350,000: 17,500 commission; 1,050,000
    # reaches the plan: +20,000.
    assert ivan.earnings.one_more_deal == Decimal("37500.00")
    assert ivan.today.done == {"call": 4, "meeting": 1}
    assert ivan.today.missing == {"call": 11, "meeting": 1, "proposal": 1}
