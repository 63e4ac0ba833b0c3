"""The KPI figures (`domain/kpi.py`), the funnel, the lost reasons and the A/B report of the
objection scripts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.deal import DealStatus
from domain.kpi import TEAM, Scope
from storage.models import DealRow, ScriptUseRow, StageTransitionRow
from storage.report_queries.common import REAL_DEALS, days_between, deals_in, won_in


async def new_leads(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> int:
    query = select(func.count()).where(
        deals_in(scope), DealRow.created_at >= start, DealRow.created_at < end
    )
    return int(await session.scalar(query) or 0)


async def reached_key_stage(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    key_and_later: Mapping[str, Sequence[str]],
    scope: Scope = TEAM,
) -> int:
    """Deals created in [start, end) that reached their pipeline's key stage (or a later one)
    before `end`, or were won before `end`. `key_and_later` maps a pipeline to those stages."""
    entered = exists().where(
        StageTransitionRow.deal_id == DealRow.id,
        StageTransitionRow.at < end,
        or_(
            *(
                and_(DealRow.pipeline_id == pipeline, StageTransitionRow.to_stage.in_(stages))
                for pipeline, stages in key_and_later.items()
            )
        ),
    )
    won = and_(DealRow.status == DealStatus.WON.value, DealRow.closed_at < end)
    query = select(func.count()).where(
        deals_in(scope), DealRow.created_at >= start, DealRow.created_at < end, or_(entered, won)
    )
    return int(await session.scalar(query) or 0)


async def won(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> tuple[int, Decimal]:
    """Deals won in [start, end) and their revenue."""
    query = select(func.count(), func.coalesce(func.sum(DealRow.amount), 0)).where(
        deals_in(scope), won_in(start, end)
    )
    count, revenue = (await session.execute(query)).one()
    return int(count), Decimal(revenue)


async def median_cycle_days(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> Decimal | None:
    """The median of (won - created) in days over deals won in [start, end): the middle value,
    or the mean of the two middle ones, picked by ORDER BY / LIMIT / OFFSET in the database."""
    days = days_between(session, DealRow.created_at, DealRow.closed_at).label("days")
    cycles = select(days).where(deals_in(scope), won_in(start, end)).subquery()
    count = select(func.count()).select_from(cycles).scalar_subquery()
    middle = (
        select(cycles.c.days)
        .order_by(cycles.c.days)
        .limit(2 - count % 2)
        .offset((count - 1) // 2)
        .subquery()
    )
    value = await session.scalar(select(func.avg(middle.c.days)))
    return None if value is None else Decimal(str(round(float(value), 4)))


async def furthest_stages(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    stage_order: Mapping[str, Sequence[str]],
    scope: Scope = TEAM,
) -> dict[tuple[str, int], int]:
    """For deals created in [start, end): how many got no further than each stage before `end`
    by their stage history, as {(pipeline, stage index): deals}. `stage_order` lists each
    pipeline's stages in order; the funnel adds these up."""
    index = case(
        *(
            (and_(DealRow.pipeline_id == pipeline, StageTransitionRow.to_stage == stage), position)
            for pipeline, stages in stage_order.items()
            for position, stage in enumerate(stages)
        ),
        else_=0,
    )
    # Per deal, a correlated subquery over its own history (the `deal_id` index): joined
    # instead, SQLite may walk the whole history by its `at` index, which costs what the
    # history holds rather than what the period holds.
    furthest = (
        select(func.max(index))
        .where(StageTransitionRow.deal_id == DealRow.id, StageTransitionRow.at < end)
        .correlate(DealRow)
        .scalar_subquery()
    )
    per_deal = (
        select(
            DealRow.pipeline_id.label("pipeline"),
            func.coalesce(furthest, 0).label("reached"),
        )
        .where(deals_in(scope), DealRow.created_at >= start, DealRow.created_at < end)
        .subquery()
    )
    rows = await session.execute(
        select(per_deal.c.pipeline, per_deal.c.reached, func.count()).group_by(
            per_deal.c.pipeline, per_deal.c.reached
        )
    )
    return {(pipeline, int(position)): int(count) for pipeline, position, count in rows}


async def lost_reasons(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> list[tuple[str, int]]:
    """Deals lost in [start, end) per reason, the most frequent first."""
    count = func.count().label("deals")
    rows = await session.execute(
        select(DealRow.lost_reason_id, count)
        .where(
            deals_in(scope),
            DealRow.status == DealStatus.LOST.value,
            DealRow.closed_at >= start,
            DealRow.closed_at < end,
        )
        .group_by(DealRow.lost_reason_id)
        .order_by(count.desc(), DealRow.lost_reason_id)
    )
    return [(reason or "", int(deals)) for reason, deals in rows]


async def script_variants(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, str, int, int, int, int, int]]:
    """Per objection and variant, over the uses in [start, end): (objection, variant, uses,
    rated, helped, closed deals it was used on, of them won)."""
    closed = DealRow.status.in_([DealStatus.WON.value, DealStatus.LOST.value])
    rows = await session.execute(
        select(
            ScriptUseRow.objection_id,
            ScriptUseRow.variant_id,
            func.count(),
            func.count(ScriptUseRow.outcome),
            func.count(case((ScriptUseRow.outcome == "helped", 1))),
            func.count(func.distinct(case((closed, ScriptUseRow.deal_id)))),
            func.count(
                func.distinct(case((DealRow.status == DealStatus.WON.value, ScriptUseRow.deal_id)))
            ),
        )
        .outerjoin(DealRow, DealRow.id == ScriptUseRow.deal_id)
        .where(
            ScriptUseRow.at >= start,
            ScriptUseRow.at < end,
            or_(DealRow.id.is_(None), REAL_DEALS),
        )
        .group_by(ScriptUseRow.objection_id, ScriptUseRow.variant_id)
        .order_by(ScriptUseRow.objection_id, ScriptUseRow.variant_id)
    )
    return [
        (objection, variant, int(uses), int(rated), int(helped), int(closed_n), int(won))
        for objection, variant, uses, rated, helped, closed_n, won in rows
    ]
