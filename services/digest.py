"""The head of sales' morning digest: who gets it when, and the figures in it.

Each supervisor gets it at the book's digest time in their own time zone (the team's by
default), on working days unless the book says `on_days_off: true`. It is a reminder row keyed
by person and local date, sent by the reminder engine: once a day across restarts and
instances. The figures are the month so far against the same number of days before it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.forecast import PlanMonth, month_of
from domain.funnel import Funnel
from domain.kpi import Period
from domain.reminders import plan_digest
from domain.roles import Action, Role, require
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.forecast import Forecast, forecast
from services.kpi import KpiReport, funnels, kpis
from services.lens import Lens, lens
from services.motivation import BehindTargets, behind_last_working_day
from services.staff import Actor, personal_zone
from services.unit_of_work import ReportingUnitOfWork, UnitOfWork

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
    overdue: list[tuple[int | None, str | None, int, list[int]]]
    """Per manager, the most first: id and name (None: the queue), overdue deals, the worst
    three."""
    first_response: tuple[int, int]
    """Requests of the period answered in time, of those whose time has come."""
    idle: int
    """Open deals with neither an activity nor a stage move for a week."""
    lens: Lens
    forecast: Forecast
    behind_targets: BehindTargets | None = None
    """The team's managers below a daily activity target on the last working day (the team's
    morning digest only, not a report of another period)."""


async def plan_digests(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
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
            local_zone = personal_zone(member.timezone, zone)
            today = now.astimezone(local_zone).date()
            if not book.digest.on_days_off and not calendar.is_working_day(today):
                continue
            due = dt.datetime.combine(today, book.digest.time, tzinfo=local_zone)
            planned.append(plan_digest(member.telegram_id, today, due.astimezone(dt.UTC)))
        await uow.reminders.plan(planned, now)
        await uow.commit()
    return len(planned)


def month_so_far(now: dt.datetime, zone: ZoneInfo) -> Period:
    """From the 1st of this month (local time) up to now; at the very first instant of a month,
    the month before."""
    month_start, _ = month_of(now, zone)
    if month_start >= now:
        month_start, _ = month_of(now - dt.timedelta(seconds=1), zone)
    return Period(month_start.astimezone(dt.UTC), now)


async def digest(
    uow: ReportingUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    zone: ZoneInfo,
    *,
    manager_id: int | None = None,
    pipeline_id: str | None = None,
) -> Digest:
    """The month so far against the same length of time before: the team's, or (drilling in)
    one manager's or one pipeline's. The scheduled digest passes its recipient, chosen by role
    when it was planned."""
    require(actor.role, Action.RECEIVE_DIGEST)
    month = PlanMonth(clock.now(), calendar, zone)
    view = await lens(uow, book, actor, month, manager_id=manager_id, pipeline_id=pipeline_id)
    period = month_so_far(clock.now(), zone)
    morning = await figures(uow, clock, book, calendar, view, period, zone)
    if view.manager_id is None and view.pipeline_id is None:  # the team's morning digest
        behind = await behind_last_working_day(uow, clock, book, calendar, zone)
        morning = dataclasses.replace(morning, behind_targets=behind)
    return morning


async def figures(
    uow: ReportingUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    view: Lens,
    period: Period,
    zone: ZoneInfo,
) -> Digest:
    """Everything the digest shows, for any period, over the deals the lens counts."""
    now = clock.now()
    scope = view.scope
    report = await kpis(uow, book, view, period, zone)
    pipelines = await funnels(uow, book, view, period)
    outlook = await forecast(uow, clock, book, calendar, zone, view)
    async with uow:
        reports = uow.reports
        lost = await reports.lost_reasons(period.start, period.end, scope)
        paused = await reports.snoozed(now, scope)
        late = await reports.overdue_by_manager(now, scope=scope)
        names = await uow.staff.names([manager for manager, _, _ in late if manager is not None])
        overdue = [
            (
                manager,
                None if manager is None else names.get(manager) or str(manager),
                count,
                worst,
            )
            for manager, count, worst in late
        ]
        answered = await reports.first_response(period.start, period.end, now, scope)
        idle = await reports.idle_deals(now, IDLE_AFTER, scope)
    return Digest(
        period,
        zone,
        report,
        pipelines,
        lost,
        paused,
        overdue,
        answered,
        idle,
        view,
        outlook,
    )
