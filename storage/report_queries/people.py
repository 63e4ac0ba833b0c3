"""Figures per person: won revenue and the open pipeline per manager (the forecast, the pay
estimate), and the activities each person logged (the daily targets)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import Numeric, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.deal import DealStatus
from domain.kpi import TEAM, Scope
from storage.models import ActivityRow, DealRow
from storage.report_queries.common import REAL_DEALS, deals_in, money, won_in


async def won_by_manager(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[int | None, tuple[int, Decimal]]:
    """Per manager (None: deals without one), deals won in [start, end) and their revenue."""
    rows = await session.execute(
        select(DealRow.manager_id, func.count(), func.coalesce(func.sum(DealRow.amount), 0))
        .where(deals_in(scope), won_in(start, end))
        .group_by(DealRow.manager_id)
    )
    return {manager: (int(count), Decimal(revenue)) for manager, count, revenue in rows}


async def won_by_manager_and_pipeline(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[tuple[int | None, str], tuple[int, Decimal]]:
    """Per manager and pipeline, deals won in [start, end) and their revenue (commissions can
    differ by product, and a pipeline sells one product)."""
    rows = await session.execute(
        select(
            DealRow.manager_id,
            DealRow.pipeline_id,
            func.count(),
            func.coalesce(func.sum(DealRow.amount), 0),
        )
        .where(deals_in(scope), won_in(start, end))
        .group_by(DealRow.manager_id, DealRow.pipeline_id)
    )
    return {
        (manager, pipeline): (int(count), money(revenue))
        for manager, pipeline, count, revenue in rows
    }


async def open_pipeline(
    session: AsyncSession,
    probabilities: Mapping[str, Mapping[str, float]],
    scope: Scope = TEAM,
) -> dict[int | None, tuple[int, int, Decimal, Decimal]]:
    """Per manager (None: the queue), open deals now: (deals, with an expected amount, the
    amounts, the amounts weighted by their stage's win probability). `probabilities` maps a
    pipeline to its stages' probabilities."""
    probability = case(
        *(
            (
                and_(DealRow.pipeline_id == pipeline, DealRow.stage_id == stage),
                literal(Decimal(str(share)), Numeric(7, 4)),
            )
            for pipeline, stages in probabilities.items()
            for stage, share in stages.items()
        ),
        else_=literal(Decimal(0), Numeric(7, 4)),
    )
    rows = await session.execute(
        select(
            DealRow.manager_id,
            func.count(),
            func.count(DealRow.amount),
            func.coalesce(func.sum(DealRow.amount), 0),
            func.coalesce(func.sum(DealRow.amount * probability), 0),
        )
        .where(deals_in(scope), DealRow.status == DealStatus.OPEN.value)
        .group_by(DealRow.manager_id)
    )
    return {
        manager: (int(deals), int(priced), money(amount), money(weighted))
        for manager, deals, priced, amount, weighted in rows
    }


async def activities_by_author(
    session: AsyncSession, authors: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[int, dict[str, int]]:
    """Per person of `authors`, the activities of each kind they logged in [start, end) (a
    range of `ix_activities_author_at` per person)."""
    if not authors:
        return {}
    rows = await session.execute(
        select(ActivityRow.author_id, ActivityRow.kind, func.count())
        .join(DealRow, DealRow.id == ActivityRow.deal_id)
        .where(
            ActivityRow.author_id.in_(authors),
            ActivityRow.at >= start,
            ActivityRow.at < end,
            REAL_DEALS,
        )
        .group_by(ActivityRow.author_id, ActivityRow.kind)
    )
    done: dict[int, dict[str, int]] = {}
    for author, kind, count in rows:
        done.setdefault(int(author), {})[kind] = int(count)
    return done
