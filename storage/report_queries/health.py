"""How the open deals stand now, for the digest: snoozed, overdue per manager, answered in time,
idle."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.deal import DealStatus
from domain.kpi import TEAM, Scope
from storage.models import ActivityRow, DealRow, StageTransitionRow
from storage.report_queries.common import deals_in


async def snoozed(session: AsyncSession, now: dt.datetime, scope: Scope = TEAM) -> int:
    """Open deals whose clock is paused now."""
    query = select(func.count()).where(
        deals_in(scope), DealRow.status == DealStatus.OPEN.value, DealRow.snoozed_until > now
    )
    return int(await session.scalar(query) or 0)


def _overdue(now: dt.datetime) -> ColumnElement[bool]:
    """As /deals counts it: past the stage deadline (or, not yet taken, the first-response one)
    and not snoozed past now."""
    stage_missed = DealRow.deadline_at <= now
    response_missed = and_(DealRow.taken_at.is_(None), DealRow.first_response_due_at <= now)
    not_snoozed = or_(DealRow.snoozed_until.is_(None), DealRow.snoozed_until <= now)
    return and_(
        DealRow.status == DealStatus.OPEN.value, or_(stage_missed, response_missed), not_snoozed
    )


async def overdue_by_manager(
    session: AsyncSession, now: dt.datetime, worst: int = 3, scope: Scope = TEAM
) -> list[tuple[int | None, int, list[int]]]:
    """Overdue open deals per manager (None: the queue), the most first: (manager, how many,
    the ids of the `worst` longest overdue)."""
    deadline = func.coalesce(DealRow.deadline_at, DealRow.first_response_due_at)
    rank = (
        func.row_number()
        .over(partition_by=DealRow.manager_id, order_by=(deadline, DealRow.id))
        .label("rank")
    )
    ranked = (
        select(DealRow.manager_id, DealRow.id, rank)
        .where(deals_in(scope), _overdue(now))
        .subquery()
    )
    counts = await session.execute(
        select(DealRow.manager_id, func.count())
        .where(deals_in(scope), _overdue(now))
        .group_by(DealRow.manager_id)
        .order_by(func.count().desc(), DealRow.manager_id.nulls_last())
    )
    tops = await session.execute(
        select(ranked.c.manager_id, ranked.c.id)
        .where(ranked.c.rank <= worst)
        .order_by(ranked.c.manager_id, ranked.c.rank)
    )
    worst_ids: dict[int | None, list[int]] = {}
    for manager_id, deal_id in tops:
        worst_ids.setdefault(manager_id, []).append(int(deal_id))
    return [(manager, int(n), worst_ids.get(manager, [])) for manager, n in counts]


async def first_response(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    scope: Scope = TEAM,
) -> tuple[int, int]:
    """Requests of [start, end) whose first-response time has come by `now` (or that were
    taken): (taken in time, all of them). A request still within its time counts in neither,
    whatever the period's end (a report up to the month's end is asked before it)."""
    due = and_(
        deals_in(scope),
        DealRow.created_at >= start,
        DealRow.created_at < end,
        DealRow.first_response_due_at.is_not(None),
        or_(DealRow.taken_at.is_not(None), DealRow.first_response_due_at < min(end, now)),
    )
    in_time = and_(DealRow.taken_at.is_not(None), DealRow.taken_at <= DealRow.first_response_due_at)
    met, total = (
        await session.execute(select(func.count().filter(in_time), func.count()).where(due))
    ).one()
    return int(met), int(total)


async def idle_deals(
    session: AsyncSession, now: dt.datetime, quiet: dt.timedelta, scope: Scope = TEAM
) -> int:
    """Open deals older than `quiet` with no activity logged and no stage move within it."""
    since = now - quiet
    acted = exists().where(ActivityRow.deal_id == DealRow.id, ActivityRow.at >= since)
    moved = exists().where(StageTransitionRow.deal_id == DealRow.id, StageTransitionRow.at >= since)
    query = select(func.count()).where(
        deals_in(scope),
        DealRow.status == DealStatus.OPEN.value,
        DealRow.created_at < since,
        ~acted,
        ~moved,
    )
    return int(await session.scalar(query) or 0)
