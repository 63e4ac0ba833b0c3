"""Unit economics per lead source: supervisors enter what each source cost a month (typed, or a
whole file at once), and the team's figures for a period set that spend against the leads,
customers and revenue each source brought (definitions in `domain/unit_economics.py`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.kpi import TEAM, Period, month_shares
from domain.roles import Action, require
from domain.sales_book import SalesBook
from domain.unit_economics import (
    EconomicsTable,
    SourceResults,
    SpendEntry,
    UnknownSource,
    economics_table,
    parse_spend_table,
    this_and_last_month,
    validate_month,
    validate_spend,
)
from services.digest import month_so_far
from services.staff import Actor
from services.unit_of_work import ReportingUnitOfWork


@dataclass(frozen=True, slots=True)
class RecentSpend:
    """What was entered for this month and the month before, for the /spend screen."""

    this_month: dt.date
    last_month: dt.date
    amounts: dict[tuple[str, dt.date], Decimal]
    """By (source, month); a pair without an entry is missing."""


@dataclass(frozen=True, slots=True)
class SourceReport:
    period: Period
    zone: ZoneInfo
    table: EconomicsTable


def may_enter_spend(actor: Actor) -> None:
    """Raises PermissionDenied for someone who may not enter spend (checked before a file is
    downloaded, not only when it is stored)."""
    require(actor.role, Action.ENTER_MARKETING_SPEND)


async def recent_spend(
    uow: ReportingUnitOfWork, clock: Clock, actor: Actor, zone: ZoneInfo
) -> RecentSpend:
    require(actor.role, Action.ENTER_MARKETING_SPEND)
    this_month, last_month = this_and_last_month(clock.now().astimezone(zone).date())
    async with uow:
        amounts = await uow.spend.for_months([this_month, last_month])
    return RecentSpend(this_month, last_month, amounts)


async def enter_spend(
    uow: ReportingUnitOfWork,
    clock: Clock,
    book: SalesBook,
    actor: Actor,
    source_id: str,
    month: dt.date,
    amount: Decimal,
) -> SpendEntry:
    """Store what a source cost in a month, replacing an earlier entry for that month."""
    require(actor.role, Action.ENTER_MARKETING_SPEND)
    if source_id not in {source.id for source in book.sources}:
        raise UnknownSource(source_id)
    entry = SpendEntry(source_id, validate_month(month), validate_spend(amount))
    async with uow:
        await uow.spend.upsert([entry], actor.user_id, clock.now())
        await uow.commit()
    return entry


async def import_spend(
    uow: ReportingUnitOfWork,
    clock: Clock,
    book: SalesBook,
    actor: Actor,
    rows: Sequence[Sequence[str]],
) -> int:
    """Store every row of an upload (`source, month, amount`) in one transaction, or none:
    a single bad row raises `SpendTableInvalid` naming every bad row. Returns how many rows
    were stored."""
    require(actor.role, Action.ENTER_MARKETING_SPEND)
    entries = parse_spend_table(rows, book.sources)
    async with uow:
        await uow.spend.upsert(entries, actor.user_id, clock.now())
        await uow.commit()
    return len(entries)


async def source_economics(
    uow: ReportingUnitOfWork, book: SalesBook, actor: Actor, period: Period, zone: ZoneInfo
) -> SourceReport:
    """The team's unit economics per lead source for a period; for those who see the team's
    reports only (a manager's own deals say nothing about what a source costs)."""
    require(actor.role, Action.VIEW_REPORTS)
    shares = month_shares(period, zone)
    async with uow:
        reports = uow.reports
        leads = await reports.leads_by_source(period.start, period.end, TEAM)
        won = await reports.won_by_source(period.start, period.end, TEAM)
        # Only the months with spend go into the query: a period of decades (typed dates) has
        # hundreds of months, nearly all of them without any.
        entered = await uow.spend.months_between(min(shares), max(shares))
        spend = await reports.spend_by_source({month: shares[month] for month in entered})
    results = {
        source: SourceResults(leads.get(source, 0), *won.get(source, (0, Decimal(0))))
        for source in leads.keys() | won.keys()
    }
    margin = None if book.economics is None else book.economics.margin
    table = economics_table([source.id for source in book.sources], results, spend, margin)
    return SourceReport(period, zone, table)


async def month_source_economics(
    uow: ReportingUnitOfWork, clock: Clock, book: SalesBook, actor: Actor, zone: ZoneInfo
) -> SourceReport:
    """The month so far, as the digest counts it."""
    return await source_economics(uow, book, actor, month_so_far(clock.now(), zone), zone)
