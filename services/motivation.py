"""A person's month in money and their day in activities (definitions in `domain/motivation.py`):
`/my` for a manager, the team's table and payroll estimate for a supervisor, who fell behind the
activity targets on the last working day for the digest, and the end-of-day nudge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.forecast import PlanMonth, month_of
from domain.kpi import named_period
from domain.motivation import ActivityProgress, Earnings, earnings
from domain.reminders import PlannedReminder, plan_nudge
from domain.roles import Action, Role, require
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.lens import team_plans
from services.staff import Actor, StaffError, personal_zone
from services.unit_of_work import ReportingUnitOfWork, UnitOfWork

RoleKey = Literal["manager", "supervisor"]


@dataclass(frozen=True, slots=True)
class PersonMonth:
    staff_id: int
    name: str
    role: Role
    earnings: Earnings | None
    """None where the book has no pay scheme for the role."""
    won_deals: int
    today: ActivityProgress | None
    """None where the book sets the role no daily targets."""


@dataclass(frozen=True, slots=True)
class TeamMonth:
    people: list[PersonMonth]
    """Managers first, the furthest below their plan first; then the supervisors."""

    @property
    def payroll(self) -> Decimal:
        return sum((p.earnings.total for p in self.people if p.earnings), Decimal(0))


async def my_month(
    uow: ReportingUnitOfWork,
    book: SalesBook,
    actor: Actor,
    month: PlanMonth,
    staff_id: int | None = None,
) -> PersonMonth:
    """A person's own month (the one holding `month.now`); someone else's only for those who
    see the team's figures."""
    target = actor.user_id if staff_id is None else staff_id
    if target != actor.user_id:
        require(actor.role, Action.VIEW_REPORTS)
    require(actor.role, Action.VIEW_OWN_DEALS)
    [person] = (await _months(uow, book, month, only=target)).people
    return person


async def team_month(
    uow: ReportingUnitOfWork, book: SalesBook, actor: Actor, month: PlanMonth
) -> TeamMonth:
    require(actor.role, Action.VIEW_REPORTS)
    return await _months(uow, book, month)


@dataclass(frozen=True, slots=True)
class BehindTargets:
    """Who ended the last working day before today below a daily activity target."""

    day: dt.date
    yesterday: bool
    """The day was yesterday (after a weekend or a holiday it is earlier)."""
    people: list[tuple[str, dict[str, int]]]
    """Name and what they missed, by target."""


async def behind_last_working_day(
    uow: ReportingUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
) -> BehindTargets | None:
    """The managers who were on the team on the last working day before today and ended it
    below a daily target; None when the book sets none."""
    targets = book.activity_targets.daily.get("manager")
    if not targets:
        return None
    yesterday = clock.now().astimezone(zone).date() - dt.timedelta(days=1)
    day = yesterday
    for _ in range(31):
        if calendar.is_working_day(day):
            break
        day -= dt.timedelta(days=1)
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    start, end = midnight.astimezone(dt.UTC), (midnight + dt.timedelta(days=1)).astimezone(dt.UTC)
    async with uow:
        managers = [
            member
            for member in await uow.staff.active_with_role(Role.MANAGER)
            if member.joined_at < end  # one who joined since owed nothing that day
        ]
        done = await uow.reports.activities_by_author([m.telegram_id for m in managers], start, end)
    behind = []
    for member in managers:
        progress = ActivityProgress(done.get(member.telegram_id, {}), targets)
        if progress.behind:
            behind.append((member.first_name or str(member.telegram_id), progress.missing))
    return BehindTargets(day, day == yesterday, behind)


async def plan_nudges(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
) -> int:
    """Plan today's end-of-day nudge of each active manager, at the book's `nudge_at` on a
    working day while the working day lasts; once a day whatever the restarts. Whether it is
    still needed is decided when it is due (`needs_nudge`)."""
    settings = book.activity_targets
    if not settings.nudge or not settings.daily.get("manager"):
        return 0
    now = clock.now()
    planned: list[PlannedReminder] = []
    async with uow:
        for member in await uow.staff.active_with_role(Role.MANAGER):
            local_zone = personal_zone(member.timezone, zone)
            today = now.astimezone(local_zone).date()
            period = calendar.working_period(today)
            due = dt.datetime.combine(today, settings.nudge_at, tzinfo=local_zone)
            if period is None or not period[0] <= due < period[1]:
                continue
            planned.append(plan_nudge(member.telegram_id, today, due.astimezone(dt.UTC)))
        await uow.reminders.plan(planned, now)
        await uow.commit()
    return len(planned)


async def needs_nudge(
    uow: ReportingUnitOfWork, clock: Clock, book: SalesBook, staff_id: int, zone: ZoneInfo
) -> dict[str, int]:
    """What a manager still misses today ({} when on target: no nudge is sent)."""
    targets = book.activity_targets.daily.get("manager", {})
    async with uow:
        member = await uow.staff.get(staff_id)
        if member is None or not member.is_active:
            return {}
        local_zone = personal_zone(member.timezone, zone)
        start = named_period("today", clock.now(), local_zone).start
        done = await uow.reports.activities_by_author(
            [staff_id], start, start + dt.timedelta(days=1)
        )
    return ActivityProgress(done.get(staff_id, {}), targets).missing


async def _months(
    uow: ReportingUnitOfWork, book: SalesBook, month: PlanMonth, only: int | None = None
) -> TeamMonth:
    now, zone = month.now, month.zone
    month_start, _ = month_of(now, zone)
    product_of = {pipeline.id: pipeline.product for pipeline in book.pipelines}
    day_start = named_period("today", now, zone).start
    async with uow:
        members = [
            member
            for member in await uow.staff.members(active_only=True)
            if member.role in (Role.MANAGER, Role.SUPERVISOR)
            and (only is None or member.telegram_id == only)
        ]
        if only is not None and not members:
            member = await uow.staff.get(only)
            if member is None or member.role not in (Role.MANAGER, Role.SUPERVISOR):
                raise StaffError("not_staff")
            members = [member]  # someone deactivated this month: their month so far
        # Up to this moment included: a deal won a second ago counts.
        won = await uow.reports.won_by_manager_and_pipeline(
            month_start, now + dt.timedelta(seconds=1)
        )
        plans = (await team_plans(uow, book, month)).plans
        done = await uow.reports.activities_by_author(
            [member.telegram_id for member in members],
            day_start,
            day_start + dt.timedelta(days=1),
        )
    team_revenue = sum((revenue for _, revenue in won.values()), Decimal(0))
    team_deals = sum(count for count, _ in won.values())
    team_average = team_revenue / team_deals if team_deals else None
    people = []
    for member in members:
        role = member.role
        if role is Role.MANAGER:
            mine = {key: value for key, value in won.items() if key[0] == member.telegram_id}
            plan = plans.get(member.telegram_id, book.plan.per_manager.get(str(member.telegram_id)))
        else:  # a supervisor answers for the team's revenue and plan
            mine, plan = won, book.plan.monthly_revenue
        by_product: dict[str, Decimal] = {}
        for (_, pipeline), (_, revenue) in mine.items():
            product = product_of.get(pipeline, pipeline)
            by_product[product] = by_product.get(product, Decimal(0)) + revenue
        deals = sum(count for count, _ in mine.values())
        average = sum(by_product.values(), Decimal(0)) / deals if deals else team_average
        key: RoleKey = "manager" if role is Role.MANAGER else "supervisor"
        scheme = book.motivation.get(key)
        targets = book.activity_targets.daily.get(key)
        people.append(
            PersonMonth(
                staff_id=member.telegram_id,
                name=member.first_name or str(member.telegram_id),
                role=role,
                earnings=earnings(scheme, plan, by_product, average) if scheme else None,
                won_deals=deals,
                today=ActivityProgress(done.get(member.telegram_id, {}), targets)
                if targets
                else None,
            )
        )
    people.sort(key=lambda p: (p.role is not Role.MANAGER, _fulfilment(p), p.name))
    return TeamMonth(people)


def _fulfilment(person: PersonMonth) -> Decimal:
    share = person.earnings.fulfilment if person.earnings else None
    return share if share is not None else Decimal(0)
