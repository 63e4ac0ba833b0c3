"""Report figures as aggregate queries (SQLAlchemy Core): the database counts and sums, Python
never loops over loaded deals. Each query is bounded by the period through an index on the time
column it filters (`created_at`, `closed_at`), so a period costs what it holds, not what the
whole history holds. The definitions are in `domain/kpi.py`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.deal import DealStatus
from storage.models import (
    ActivityRow,
    DealRow,
    MarketingSpendRow,
    ScriptUseRow,
    StageTransitionRow,
)

Scope = ColumnElement[bool]
"""Which deals a figure counts: the whole team's, or one manager's (`manager_scope`) or one
pipeline's (`pipeline_scope`); never a /training sandbox deal."""
REAL_DEALS: Scope = DealRow.is_sandbox.is_(False)
TEAM: Scope = REAL_DEALS


def manager_scope(manager_id: int) -> Scope:
    return and_(REAL_DEALS, DealRow.manager_id == manager_id)


def pipeline_scope(pipeline_id: str) -> Scope:
    return and_(REAL_DEALS, DealRow.pipeline_id == pipeline_id)


async def new_leads(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> int:
    query = select(func.count()).where(scope, DealRow.created_at >= start, DealRow.created_at < end)
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
        scope, DealRow.created_at >= start, DealRow.created_at < end, or_(entered, won)
    )
    return int(await session.scalar(query) or 0)


async def won(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> tuple[int, Decimal]:
    """Deals won in [start, end) and their revenue."""
    query = select(func.count(), func.coalesce(func.sum(DealRow.amount), 0)).where(
        scope, _won_in(start, end)
    )
    count, revenue = (await session.execute(query)).one()
    return int(count), Decimal(revenue)


async def won_by_manager(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[int | None, tuple[int, Decimal]]:
    """Per manager (None: deals without one), deals won in [start, end) and their revenue."""
    rows = await session.execute(
        select(DealRow.manager_id, func.count(), func.coalesce(func.sum(DealRow.amount), 0))
        .where(scope, _won_in(start, end))
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
        .where(scope, _won_in(start, end))
        .group_by(DealRow.manager_id, DealRow.pipeline_id)
    )
    return {
        (manager, pipeline): (int(count), _money(revenue))
        for manager, pipeline, count, revenue in rows
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
        .where(scope, DealRow.status == DealStatus.OPEN.value)
        .group_by(DealRow.manager_id)
    )
    return {
        manager: (int(deals), int(priced), _money(amount), _money(weighted))
        for manager, deals, priced, amount, weighted in rows
    }


def _money(value: object) -> Decimal:
    """A sum as money: SQLite adds NUMERIC as floating point, so round to cents."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def median_cycle_days(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> Decimal | None:
    """The median of (won - created) in days over deals won in [start, end): the middle value,
    or the mean of the two middle ones, picked by ORDER BY / LIMIT / OFFSET in the database."""
    days = _days_between(session, DealRow.created_at, DealRow.closed_at).label("days")
    cycles = select(days).where(scope, _won_in(start, end)).subquery()
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


def _won_in(start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    return and_(
        DealRow.status == DealStatus.WON.value,
        DealRow.closed_at >= start,
        DealRow.closed_at < end,
    )


def _days_between(
    session: AsyncSession,
    earlier: ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime],
    later: ColumnElement[dt.datetime | None] | InstrumentedAttribute[dt.datetime | None],
) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Float)
    return cast(func.extract("epoch", later - earlier) / 86400.0, Float)


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
        .where(scope, DealRow.created_at >= start, DealRow.created_at < end)
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
            scope,
            DealRow.status == DealStatus.LOST.value,
            DealRow.closed_at >= start,
            DealRow.closed_at < end,
        )
        .group_by(DealRow.lost_reason_id)
        .order_by(count.desc(), DealRow.lost_reason_id)
    )
    return [(reason or "", int(deals)) for reason, deals in rows]


async def snoozed(session: AsyncSession, now: dt.datetime, scope: Scope = TEAM) -> int:
    """Open deals whose clock is paused now."""
    query = select(func.count()).where(
        scope, DealRow.status == DealStatus.OPEN.value, DealRow.snoozed_until > now
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
    ranked = select(DealRow.manager_id, DealRow.id, rank).where(scope, _overdue(now)).subquery()
    counts = await session.execute(
        select(DealRow.manager_id, func.count())
        .where(scope, _overdue(now))
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
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> tuple[int, int]:
    """Requests of [start, end) whose first-response time has come (or that were taken):
    (taken in time, all of them)."""
    due = and_(
        scope,
        DealRow.created_at >= start,
        DealRow.created_at < end,
        DealRow.first_response_due_at.is_not(None),
        or_(DealRow.taken_at.is_not(None), DealRow.first_response_due_at < end),
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
        scope,
        DealRow.status == DealStatus.OPEN.value,
        DealRow.created_at < since,
        ~acted,
        ~moved,
    )
    return int(await session.scalar(query) or 0)


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
        .where(scope, DealRow.created_at >= start, DealRow.created_at < end)
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
        .where(scope, StageTransitionRow.at >= start, StageTransitionRow.at < end)
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
        .where(scope, ActivityRow.at >= start, ActivityRow.at < end)
        .order_by(ActivityRow.at, ActivityRow.id)
    )
    return [tuple(row) for row in rows]


async def leads_by_source(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[str, int]:
    """Deals created in [start, end) per lead source."""
    rows = await session.execute(
        select(DealRow.source, func.count())
        .where(scope, DealRow.created_at >= start, DealRow.created_at < end)
        .group_by(DealRow.source)
    )
    return {source: int(count) for source, count in rows}


async def won_by_source(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
) -> dict[str, tuple[int, Decimal]]:
    """Deals won in [start, end) and their revenue, per the lead source they came from."""
    rows = await session.execute(
        select(DealRow.source, func.count(), func.coalesce(func.sum(DealRow.amount), 0))
        .where(scope, _won_in(start, end))
        .group_by(DealRow.source)
    )
    return {source: (int(count), _money(revenue)) for source, count, revenue in rows}


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
    return {source: _money(amount) for source, amount in rows}
