"""The five KPIs on a hand-built history, on SQLite and PostgreSQL. Every expected figure below
was worked out by hand from the rows in this file, not by the code under test.

The period is March 2026 in Moscow, [01.03 00:00, 01.04 00:00), 31 days; the previous period of
equal length is [29.01 00:00, 01.03 00:00): 3 days of January and the 28 of February. Both
pipelines of the default book have "meeting" as their key stage; the monthly plan is 3,000,000.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.kpi import Period, Trend, plan_for
from domain.roles import Role
from domain.sales_book import SalesBook
from services.kpi import funnels, kpis
from services.staff import Actor
from storage.models import DealRow, StageTransitionRow
from storage.unit_of_work import UnitOfWork

MOSCOW = ZoneInfo("Europe/Moscow")
HEAD = Actor(1, Role.SUPERVISOR, "Мария", None, "ru")
IMPL, SUBS = "implementation_mid", "subscription_small"


def msk(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=MOSCOW).astimezone(dt.UTC)


MARCH = Period(msk(3, 1, 0), msk(4, 1, 0))

# deal: (pipeline, created, [(stage entered, when)], status, closed, amount)
HISTORY: dict[
    int, tuple[str, dt.datetime, list[tuple[str, dt.datetime]], str, dt.datetime | None, int | None]
] = {
    # created in March
    1: (
        IMPL,
        msk(3, 2),
        [("qualification", msk(3, 3)), ("meeting", msk(3, 5))],
        "won",
        msk(3, 20),
        1_000_000,
    ),
    2: (IMPL, msk(3, 4), [("qualification", msk(3, 6))], "open", None, None),
    3: (SUBS, msk(3, 10), [("proposal", msk(3, 12))], "won", msk(3, 15), 200_000),
    4: (SUBS, msk(3, 11), [], "lost", msk(3, 13), None),
    6: (IMPL, msk(3, 30), [], "won", msk(3, 31, 20), 100_000),  # won straight from the request
    # created in the previous period
    5: (IMPL, msk(2, 20), [("meeting", msk(2, 25))], "won", msk(3, 8), 600_000),
    7: (IMPL, msk(2, 1), [("meeting", msk(2, 10))], "won", msk(2, 27), 900_000),
    8: (SUBS, msk(1, 30), [], "open", None, None),
    # created before both periods, won in the previous one
    9: (SUBS, msk(1, 15), [("meeting", msk(1, 20))], "won", msk(2, 5), 300_000),
}


async def build(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        for deal_id, (pipeline, created, moves, status, closed, amount) in HISTORY.items():
            last_stage = moves[-1][0] if moves else "request"
            session.add(
                DealRow(
                    id=deal_id,
                    pipeline_id=pipeline,
                    stage_id=last_stage,
                    status=status,
                    source="site",
                    created_at=created,
                    stage_entered_at=moves[-1][1] if moves else created,
                    closed_at=closed,
                    amount=Decimal(amount) if amount else None,
                    currency="RUB" if amount else None,
                )
            )
            await session.flush()
            session.add(
                StageTransitionRow(
                    deal_id=deal_id, kind="created", to_stage="request", at=created, override=False
                )
            )
            previous = "request"
            for stage, at in moves:
                session.add(
                    StageTransitionRow(
                        deal_id=deal_id,
                        kind="forward",
                        from_stage=previous,
                        to_stage=stage,
                        at=at,
                        override=False,
                    )
                )
                previous = stage
        await session.commit()


async def test_the_five_kpis_against_the_previous_period(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    await build(session_factory)
    report = await kpis(UnitOfWork(session_factory), book, HEAD, MARCH, MOSCOW)
    march, before = report.current, report.previous

    # March: created 1, 2, 3, 4, 6; of them 1 (meeting), 3 (proposal, after the key stage) and
    # 6 (won) reached the key stage. Won in March: 1, 3, 5, 6 = 1,900,000 in 4 deals. Cycles in
    # days: 18 (1), 5 (3), 16 (5), 34 h = 1.4167 (6); the median of four is (5 + 16) / 2.
    assert (march.new_leads, march.reached_key_stage) == (5, 3)
    assert (march.won_deals, march.revenue) == (4, Decimal(1_900_000))
    assert march.key_stage_conversion == Decimal("0.6")
    assert march.average_deal == Decimal(475_000)
    assert march.cycle_days == Decimal("10.5")
    assert march.plan == Decimal("3000000.00")
    assert round(march.plan_fulfilment or 0, 4) == Decimal("0.6333")

    # Before: created 5, 7, 8; 5 and 7 reached the meeting. Won: 7 and 9 = 1,200,000; cycles 26
    # and 21 days, median 23.5. The plan: 3,000,000 x 3/31 for January + 3,000,000 for February.
    assert (before.new_leads, before.reached_key_stage) == (3, 2)
    assert (before.won_deals, before.revenue) == (2, Decimal(1_200_000))
    assert before.average_deal == Decimal(600_000)
    assert before.cycle_days == Decimal("23.5")
    assert before.plan == Decimal("3290322.58")

    assert report.kpi_ids[0] == "key_stage_conversion"
    trends = {kpi: report.figure(kpi).trend for kpi in report.kpi_ids}
    assert trends == {
        "key_stage_conversion": Trend.DOWN,  # 0.6 against 2/3
        "new_leads": Trend.UP,
        "average_deal": Trend.DOWN,
        "sales_cycle": Trend.DOWN,
        "plan_fulfilment": Trend.UP,  # 0.633 against 1,200,000 / 3,290,322.58 = 0.365
    }
    assert round(report.figure("new_leads").change or 0, 4) == Decimal("0.6667")  # 5 against 3


def test_the_plan_is_pro_rata_to_the_days_of_each_month() -> None:
    monthly = Decimal(3_000_000)
    assert plan_for(MARCH, monthly, MOSCOW) == monthly
    one_day = Period(msk(4, 10, 0), msk(4, 11, 0))  # April has 30 days
    assert plan_for(one_day, monthly, MOSCOW) == Decimal("100000.00")
    across = Period(msk(4, 30, 0), msk(5, 2, 0))  # 1/30 of April + 1/31 of May
    assert plan_for(across, monthly, MOSCOW) == Decimal("196774.19")


async def test_each_pipelines_funnel_and_its_weakest_step(
    session_factory: async_sessionmaker[AsyncSession], book: SalesBook
) -> None:
    await build(session_factory)
    implementation, subscription = await funnels(UnitOfWork(session_factory), book, HEAD, MARCH)

    # March's implementation deals: 1 got to the meeting, 2 to qualification, 6 stayed in the
    # request (won from there). Reached: request 3, qualification 2, meeting 1, the rest 0.
    assert [step.reached for step in implementation.steps] == [3, 2, 1, 0, 0, 0, 0, 0]
    assert [step.conversion for step in implementation.steps[:3]] == [
        Decimal(2) / Decimal(3),
        Decimal("0.5"),
        Decimal(0),
    ]
    assert implementation.steps[3].conversion is None  # nobody reached the proposal
    # Margins against the targets 0.8, 0.5, 0.6: -0.133, 0, -0.6: the meeting is the weakest.
    weakest = implementation.weakest
    assert weakest is not None and weakest.stage_id == "meeting"

    # Subscription: 3 went from the request straight to the proposal (so it passed
    # qualification and meeting), 4 stayed in the request. Reached: 2, 1, 1, 1, 0...
    assert [step.reached for step in subscription.steps] == [2, 1, 1, 1, 0, 0, 0, 0]
    # Conversions 0.5 (target 0.7), 1 (0.5), 1 (0.5), 0 (0.6): the proposal is the weakest.
    assert subscription.weakest is not None and subscription.weakest.stage_id == "proposal"
