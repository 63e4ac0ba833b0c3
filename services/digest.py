"""The head of sales' morning digest: who gets it when, and the figures in it.

Each supervisor gets it at the book's digest time in their own time zone (the team's by
default), on working days unless the book says `on_days_off: true`. It is a reminder row keyed
by person and local date, sent by the reminder engine: once a day across restarts and
instances. The figures are the month so far against the same number of days before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.funnel import Funnel
from domain.kpi import Period
from domain.reminders import plan_digest
from domain.roles import Action, Role, require
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.kpi import KpiReport, funnels, kpis, scope_of
from services.staff import Actor
from storage import report_queries as q
from storage.models import StaffMember
from storage.unit_of_work import UnitOfWork

IDLE_AFTER = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Digest:
    period: Period
    zone: ZoneInfo
    kpis: KpiReport
    funnels: list[Funnel]
    lost_reasons: list[tuple[str, int]]
    snoozed: int
    """Open deals snoozed now (not counted overdue until their date)."""
    overdue: list[tuple[str | None, int, list[int]]]
    """Per manager (None: the queue), the most first: name, overdue deals, the worst three."""
    first_response: tuple[int, int]
    """Requests of the period answered in time, of those whose time has come."""
    idle: int
    """Open deals with neither an activity nor a stage move for a week."""


async def plan_digests(
    uow: UnitOfWork, clock: Clock, book: SalesBook, calendar: WorkingCalendar, zone: ZoneInfo
) -> int:
    """Plan today's digest of every supervisor (admins when there is none); planning twice is
    harmless. Returns how many were planned or already there."""
    now = clock.now()
    planned = []
    async with uow:
        members = list(await uow.staff.active_with_role(Role.SUPERVISOR))
        if not members:
            members = list(await uow.staff.active_with_role(Role.ADMIN))
        for member in members:
            local_zone = _zone_of(member, zone)
            today = now.astimezone(local_zone).date()
            if not book.digest.on_days_off and not calendar.is_working_day(today):
                continue
            due = dt.datetime.combine(today, book.digest.time, tzinfo=local_zone)
            planned.append(plan_digest(member.telegram_id, today, due.astimezone(dt.UTC)))
        await uow.reminders.plan(planned, now)
        await uow.commit()
    return len(planned)


async def digest(
    uow: UnitOfWork, clock: Clock, book: SalesBook, actor: Actor, zone: ZoneInfo
) -> Digest:
    """The month so far (from the 1st, local time) against the same length of time before.
    The scheduled digest passes its recipient, chosen by role when it was planned."""
    require(actor.role, Action.RECEIVE_DIGEST)
    now = clock.now()
    local = now.astimezone(zone)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if month_start >= now:  # the very first instant of a month: report the month before
        month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    return await figures(uow, clock, book, actor, Period(month_start.astimezone(dt.UTC), now), zone)


async def figures(
    uow: UnitOfWork, clock: Clock, book: SalesBook, actor: Actor, period: Period, zone: ZoneInfo
) -> Digest:
    """Everything the digest shows, for any period: the team's for those who see reports, a
    manager's own deals for a manager."""
    now = clock.now()
    scope = scope_of(actor)
    report = await kpis(uow, book, actor, period, zone)
    pipelines = await funnels(uow, book, actor, period)
    async with uow:
        session = uow.session
        lost = await q.lost_reasons(session, period.start, period.end, scope)
        paused = await q.snoozed(session, now, scope)
        overdue = []
        for manager_id, count, worst in await q.overdue_by_manager(session, now, scope=scope):
            member = await uow.staff.get(manager_id) if manager_id is not None else None
            name = (member.first_name or str(manager_id)) if member else None
            overdue.append((name, count, worst))
        answered = await q.first_response(session, period.start, period.end, scope)
        idle = await q.idle_deals(session, now, IDLE_AFTER, scope)
    return Digest(period, zone, report, pipelines, lost, paused, overdue, answered, idle)


def _zone_of(member: StaffMember, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(member.timezone) if member.timezone else default
    except (KeyError, ValueError):
        return default
