"""The five KPIs of the sales department, defined once here (the README repeats them in words).

A period is a half-open span of time [start, end); each figure is compared with the previous
period of equal length, [start - length, start).

- **new_leads**: deals created in the period (a lead's request, or a deal a manager opened).
- **key_stage_conversion**: of the deals created in the period, the share that reached their
  pipeline's key stage before the period's end: entered the key stage or any stage after it,
  or were won. The key stage is the book's `key_stage` of each pipeline.
- **average_deal**: won revenue / won deals, over deals won in the period (closed as won).
- **sales_cycle**: the median, over deals won in the period, of the days from the request
  (the deal's creation) to the win.
- **plan_fulfilment**: won revenue in the period / the plan for the period. The plan is the
  book's monthly revenue, pro rata to the calendar days of each month the period covers (in the
  sales team's time zone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period is made of aware instants")
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def length(self) -> dt.timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        return Period(self.start - self.length, self.start)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which deals a figure counts: the whole team's, or one manager's, or one pipeline's; never
    a /training sandbox deal."""

    manager_id: int | None = None
    pipeline_id: str | None = None


TEAM = Scope()


def plan_for(period: Period, monthly: Decimal, zone: ZoneInfo) -> Decimal:
    """The monthly plan pro rata to the period's share of each month it covers, by the local
    clock: one whole month is exactly the monthly plan, a day of a 30-day month 1/30 of it."""
    total = sum((monthly * share for share in month_shares(period, zone).values()), Decimal(0))
    return total.quantize(Decimal("0.01"))


def month_shares(period: Period, zone: ZoneInfo) -> dict[dt.date, Decimal]:
    """The share of each local calendar month (keyed by its 1st) that the period covers: a
    monthly figure (the plan, the marketing spend) counts pro rata to these."""
    shares: dict[dt.date, Decimal] = {}
    cursor = period.start.astimezone(zone)
    end = period.end.astimezone(zone)
    while cursor < end:
        month_start = cursor.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
        piece_end = min(end, next_month)
        month_length = (next_month - month_start).total_seconds()
        share = Decimal(str((piece_end - cursor).total_seconds())) / Decimal(str(month_length))
        shares[month_start.date()] = share
        cursor = piece_end
    return shares


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    NEW = "new"
    """Nothing to compare with: the previous period had no value."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One KPI for a period beside the previous period's value."""

    value: Decimal | None
    previous: Decimal | None

    @property
    def trend(self) -> Trend:
        if self.value is None or self.previous is None:
            return Trend.NEW
        if self.value > self.previous:
            return Trend.UP
        if self.value < self.previous:
            return Trend.DOWN
        return Trend.FLAT

    @property
    def change(self) -> Decimal | None:
        """Relative change against the previous period (0.25 = +25 %); None when there is no
        previous value, or it was zero."""
        if self.value is None or self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / self.previous


def ratio(numerator: Decimal | int | None, denominator: Decimal | int | None) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


NAMED_PERIODS = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month")


def named_period(name: str, now: dt.datetime, zone: ZoneInfo) -> Period:
    """A period people name, in local days: "today" and "this week/month" run up to now, this
    moment included; weeks start on Monday."""
    local = now.astimezone(zone)
    so_far = local + dt.timedelta(seconds=1)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - dt.timedelta(days=today.weekday())
    month = today.replace(day=1)
    last_month = (month - dt.timedelta(days=1)).replace(day=1)
    spans = {
        "today": (today, so_far),
        "yesterday": (today - dt.timedelta(days=1), today),
        "this_week": (week, so_far),
        "last_week": (week - dt.timedelta(days=7), week),
        "this_month": (month, so_far),
        "last_month": (last_month, month),
    }
    start, end = spans[name]
    return Period(start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def days_period(first: dt.date, last: dt.date, zone: ZoneInfo) -> Period:
    """From the start of `first` to the end of `last`, local days, both included."""
    if last < first:
        first, last = last, first
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return Period(start.astimezone(dt.UTC), end.astimezone(dt.UTC))
