"""The forecast, defined once here (the README repeats it in words).

- **weighted pipeline**: over open deals, the sum of each deal's expected amount times its
  stage's win probability (the book's `probability` of the stage). Open deals without an
  expected amount are counted, not guessed: the forecast says how many it leaves out.
- **plan pace**: the month's revenue so far (deals won since the 1st, local time) against the
  month's plan. "Expected by now" is the plan times the share of the month's working time that
  has passed; the pace needed is what is left of the plan divided by the working days left
  (today included while its working hours last).
- **a manager's plan**: the book's `plan.per_manager` where it names the manager; the rest of the
  team's plan is shared equally by the active managers it does not name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

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


def month_progress(now: dt.datetime, calendar: WorkingCalendar, zone: dt.tzinfo) -> MonthProgress:
    start, end = month_of(now, zone)
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


def manager_plans(
    team_monthly: Decimal, named: Mapping[str, Decimal], managers: Sequence[int]
) -> dict[int, Decimal]:
    """Each active manager's monthly plan: the book's own figure where it names them, an equal
    share of what the named ones leave of the team's plan otherwise."""
    plans = {manager: named[str(manager)] for manager in managers if str(manager) in named}
    others = [manager for manager in managers if manager not in plans]
    if others:
        left = max(team_monthly - sum(plans.values(), Decimal(0)), Decimal(0))
        share = (left / len(others)).quantize(CENTS)
        plans.update({manager: share for manager in others})
    return plans
