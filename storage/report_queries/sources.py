"""Per lead source: the leads and the won revenue it brought, and what it cost (unit economics)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Numeric, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kpi import TEAM, Scope
from storage.models import DealRow, MarketingSpendRow
from storage.report_queries.common import deals_in, money, won_in


async def leads_by_source(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[str, int]:
    """Deals created in [start, end) per lead source."""
    rows = await session.execute(
        select(DealRow.source, func.count())
        .where(deals_in(scope), DealRow.created_at >= start, DealRow.created_at < end)
        .group_by(DealRow.source)
    )
    return {source: int(count) for source, count in rows}


async def won_by_source(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[str, tuple[int, Decimal]]:
    """Deals won in [start, end) and their revenue, per the lead source they came from."""
    rows = await session.execute(
        select(DealRow.source, func.count(), func.coalesce(func.sum(DealRow.amount), 0))
        .where(deals_in(scope), won_in(start, end))
        .group_by(DealRow.source)
    )
    return {source: (int(count), money(revenue)) for source, count, revenue in rows}


async def spend_by_source(
    session: AsyncSession, month_shares: Mapping[dt.date, Decimal]
) -> dict[str, Decimal]:
    """Per lead source, the marketing spend of the months in `month_shares` (each month by
    its 1st), each month's amount times its share: the spend of a period pro rata. Sources
    without an amount for any of these months are left out."""
    if not month_shares:
        return {}
    share = case(
        *(
            (MarketingSpendRow.month == month, literal(part, Numeric(24, 20)))
            for month, part in month_shares.items()
        ),
        else_=literal(Decimal(0), Numeric(24, 20)),
    )
    rows = await session.execute(
        select(MarketingSpendRow.source_id, func.sum(MarketingSpendRow.amount * share))
        .where(MarketingSpendRow.month.in_(sorted(month_shares)))
        .group_by(MarketingSpendRow.source_id)
    )
    return {source: money(amount) for source, amount in rows}
