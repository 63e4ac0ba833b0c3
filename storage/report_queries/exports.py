"""The rows of a report's export: deals created, stage moves and activities of a period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kpi import TEAM, Scope
from storage.models import ActivityRow, DealRow, StageTransitionRow
from storage.report_queries.common import deals_in


async def deals_created(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> list[tuple[object, ...]]:
    """The export's deal rows: deals created in [start, end), oldest first."""
    rows = await session.execute(
        select(
            DealRow.id,
            DealRow.created_at,
            DealRow.pipeline_id,
            DealRow.stage_id,
            DealRow.status,
            DealRow.manager_id,
            DealRow.source,
            DealRow.qualification_level,
            DealRow.amount,
            DealRow.currency,
            DealRow.lost_reason_id,
            DealRow.closed_at,
        )
        .where(deals_in(scope), DealRow.created_at >= start, DealRow.created_at < end)
        .order_by(DealRow.created_at, DealRow.id)
    )
    return [tuple(row) for row in rows]


async def stage_history(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> list[tuple[object, ...]]:
    """Stage moves made in [start, end), in order."""
    rows = await session.execute(
        select(
            StageTransitionRow.deal_id,
            StageTransitionRow.at,
            StageTransitionRow.kind,
            StageTransitionRow.from_stage,
            StageTransitionRow.to_stage,
            StageTransitionRow.actor_id,
            StageTransitionRow.override,
            StageTransitionRow.comment,
        )
        .join(DealRow, DealRow.id == StageTransitionRow.deal_id)
        .where(deals_in(scope), StageTransitionRow.at >= start, StageTransitionRow.at < end)
        .order_by(StageTransitionRow.at, StageTransitionRow.id)
    )
    return [tuple(row) for row in rows]


async def activities(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> list[tuple[object, ...]]:
    """Calls, meetings, notes and proposals logged in [start, end), in order."""
    rows = await session.execute(
        select(
            ActivityRow.deal_id,
            ActivityRow.at,
            ActivityRow.kind,
            ActivityRow.author_id,
            ActivityRow.comment,
        )
        .join(DealRow, DealRow.id == ActivityRow.deal_id)
        .where(deals_in(scope), ActivityRow.at >= start, ActivityRow.at < end)
        .order_by(ActivityRow.at, ActivityRow.id)
    )
    return [tuple(row) for row in rows]
