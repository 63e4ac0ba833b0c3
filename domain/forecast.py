"""The forecast, defined once here (the README repeats it in words).

- **weighted pipeline**: over open deals, the sum of each deal's expected amount times its
  stage's win probability (the book's `probability` of the stage). Open deals without an
  expected amount are counted, not guessed: the forecast says how many it leaves out.
- **plan pace**: the month's revenue so far (deals won since the 1st, local time) against the
  month's plan. "Expected by now" is the plan times the share of the month's working time that
  has passed; the pace needed is what is left of the plan divided by the working days left
  (today included while its working hours last).
- **a manager's plan**: the book's `plan.per_manager` where it names the manager; the rest of the
  team's plan is shared equally by the active managers it does not name. Someone who joined
  during the month answers for the part of it they are on the team: their plan times the share
  of the month's working time from their first day on, and their pace counts from the moment
  they joined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.working_time import WorkingCalendar

CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class OpenPipeline:
    """Open deals and what they are worth."""

    deals: int = 0
    with_amount: int = 0
    amount: Decimal = Decimal(0)
    """The expected amounts, as they are."""
    weighted: Decimal = Decimal(0)
    """The expected amounts times their stages' win probabilities."""

    @property
    def without_amount(self) -> int:
        return self.deals - self.with_amount

    def __add__(self, other: OpenPipeline) -> OpenPipeline:
        return OpenPipeline(
            self.deals + other.deals,
            self.with_amount + other.with_amount,
            self.amount + other.amount,
            self.weighted + other.weighted,
        )


@dataclass(frozen=True, slots=True)
class PlanPace:
    """A month's revenue so far against its plan, and the pace the rest of the month needs."""

    plan: Decimal
    revenue: Decimal
    elapsed: Decimal
    """Share of the month's working time that has passed, 0..1."""
    days_left: int
    """Working days left in the month, today included while its working hours last."""

    @property
    def fulfilment(self) -> Decimal | None:
        return self.revenue / self.plan if self.plan else None

    @property
    def remaining(self) -> Decimal:
        return max(self.plan - self.revenue, Decimal(0))

    @property
    def expected_by_now(self) -> Decimal:
        return (self.plan * self.elapsed).quantize(CENTS)

    @property
    def ahead(self) -> Decimal:
        """Revenue beyond what the plan's even pace expects by now (negative: behind)."""
        return self.revenue - self.expected_by_now

    @property
    def needed_per_day(self) -> Decimal | None:
        """What each working day left must bring to make the plan (None: no days left)."""
        if not self.days_left:
            return None
        return (self.remaining / self.days_left).quantize(CENTS)


def month_of(now: dt.datetime, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar month holding `now`, as aware instants [1st 00:00, next 1st 00:00)."""
    local = now.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


@dataclass(frozen=True, slots=True)
class MonthProgress:
    """How far into its month's working time a moment is: the same for every plan of the
    month, so computed once and applied to each (`pace`)."""

    elapsed: Decimal
    """Share of the month's working time that has passed, 0..1."""
    days_left: int
    """Working days left in the month, today included while its working hours last."""

    def pace(self, plan: Decimal, revenue: Decimal) -> PlanPace:
        return PlanPace(plan=plan, revenue=revenue, elapsed=self.elapsed, days_left=self.days_left)


def month_progress(
    now: dt.datetime,
    calendar: WorkingCalendar,
    zone: dt.tzinfo,
    since: dt.datetime | None = None,
) -> MonthProgress:
    """How far into the month `now` is; with `since` (someone who joined during the month), how
    far into the part of it from `since` on."""
    start, end = month_of(now, zone)
    if since is not None and start < since <= now:
        start = since
    total = calendar.working_time_between(start, end)
    passed = calendar.working_time_between(start, now)
    elapsed = Decimal(0) if not total else Decimal(str(passed / total)).quantize(Decimal("0.0001"))
    days_left = 0
    day = now.astimezone(zone).date()
    last = (end - dt.timedelta(days=1)).date()
    while day <= last:
        period = calendar.working_period(day)
        if period is not None and period[1] > now:
            days_left += 1
        day += dt.timedelta(days=1)
    return MonthProgress(elapsed=min(elapsed, Decimal(1)), days_left=days_left)


def plan_pace(
    plan: Decimal, revenue: Decimal, now: dt.datetime, calendar: WorkingCalendar, zone: dt.tzinfo
) -> PlanPace:
    return month_progress(now, calendar, zone).pace(plan, revenue)


@dataclass(frozen=True, slots=True)
class PlanMonth:
    """The month whose plans are counted (the one holding `now`), and the part of it each
    manager is on the team."""

    now: dt.datetime
    calendar: WorkingCalendar
    zone: ZoneInfo

    def share_from(self, joined: dt.datetime) -> Decimal:
        """The month's working time from the day of `joined` to its end, as a share of all of
        it: 1 for someone on the team before the month began, or on its first working day."""
        start, end = month_of(self.now, self.zone)
        since = self._day_of(joined)
        if since <= start:
            return Decimal(1)
        total = self.calendar.working_time_between(start, end)
        left = self.calendar.working_time_between(min(since, end), end)
        if total <= dt.timedelta(0):
            return Decimal(1)
        return Decimal(str(max(left / total, 0.0))).quantize(Decimal("0.0001"))

    def progress(self, joined: dt.datetime | None = None) -> MonthProgress:
        """The month's progress; for someone who joined during it, over the working time from
        the moment they joined: nobody is behind in the hour they were invited (their plan,
        counted in whole days, is spread over what is left of the month)."""
        return month_progress(self.now, self.calendar, self.zone, since=joined)

    def _day_of(self, moment: dt.datetime) -> dt.datetime:
        # Whole days: whoever joins at 10:00 answers for that day like everyone else.
        local = moment.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)


def manager_plans(
    team_monthly: Decimal,
    named: Mapping[str, Decimal],
    managers: Sequence[int],
    shares: Mapping[int, Decimal] | None = None,
) -> dict[int, Decimal]:
    """Each active manager's monthly plan: the book's own figure where it names them, an equal
    share of what the named ones leave of the team's plan otherwise; times `shares` for those
    on the team only part of the month (`PlanMonth.share_from`)."""
    plans = {manager: named[str(manager)] for manager in managers if str(manager) in named}
    others = [manager for manager in managers if manager not in plans]
    if others:
        left = max(team_monthly - sum(plans.values(), Decimal(0)), Decimal(0))
        share = (left / len(others)).quantize(CENTS)
        plans.update({manager: share for manager in others})
    for manager, part in (shares or {}).items():
        if manager in plans and part < 1:
            plans[manager] = (plans[manager] * part).quantize(CENTS)
    return plans
