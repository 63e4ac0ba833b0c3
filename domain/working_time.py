"""The working-time clock: SLA deadlines count only the company's working hours.

A calendar says which local dates are working days and, for each, one working period from
`start` to `end` wall-clock time in the calendar's zone. All arithmetic happens on absolute
instants (UTC) of those periods, so a clock change inside a period lengthens or shortens it by
exactly the real time that passes.

Conventions, relied on by callers and pinned by the tests:

* A working period is the half-open interval [open, close): the moment the office closes is not
  a working moment.
* A wall-clock time is turned into an instant as "the first moment the local clock shows at least
  that time on that date". For an ambiguous time (clocks going back) that is the first of the two;
  for a time skipped by clocks going forward it is the moment of the jump.
* `add_working_time(t, d)` with `d > 0` returns the instant at which exactly `d` of working time
  has elapsed since `t`, so a deadline may be the closing moment of a period ("by 18:00 on
  Friday") rather than the next opening. Hence a positive-duration deadline always lies in
  (open, close] of some period, and a zero-duration one (`next_working_moment`) in [open, close).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.book_working_hours import WorkingHours

UTC = dt.UTC

DayRule = Callable[[dt.date], bool] | Set[dt.date]
"""A set of dates, or a predicate for rules that cannot be listed (public holidays of any year)."""

MAX_DAYS_WITHOUT_WORK = 3 * 366
"""A calendar with no working moment in three years is misconfigured; stop instead of looping."""

_ONE_DAY = dt.timedelta(days=1)


def _as_predicate(rule: DayRule) -> Callable[[dt.date], bool]:
    if callable(rule):
        return rule
    return rule.__contains__


def _require_aware(instant: dt.datetime, name: str = "instant") -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {instant!r}")
    return instant.astimezone(UTC)


@functools.lru_cache(maxsize=256)
def _country_year(country: str, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """Public holidays and transferred working weekend days of one country in one year."""
    import holidays  # its country data is read only when a calendar is first asked for

    calendar = holidays.country_holidays(country, years=year)
    public_holidays = frozenset(calendar.keys())
    # Some countries (Russia among them) move working days onto weekends by decree.
    transferred_working_days = frozenset(getattr(calendar, "weekend_workdays", ()))
    return public_holidays, transferred_working_days


@dataclass(frozen=True)
class CountryHolidays:
    """Public holidays of a country per the `holidays` package, loaded lazily one year at a time
    so that any year works and only the years actually asked about are computed."""

    country: str

    def __post_init__(self) -> None:
        import holidays

        try:
            holidays.country_holidays(self.country)
        except NotImplementedError as error:
            raise ValueError(f"unknown holidays country {self.country!r}") from error

    def is_holiday(self, day: dt.date) -> bool:
        return day in _country_year(self.country, day.year)[0]

    def is_transferred_working_day(self, day: dt.date) -> bool:
        """A weekend day that is worked by decree (e.g. a Saturday before a long holiday)."""
        return day in _country_year(self.country, day.year)[1]

    def preload(self, years: range) -> None:
        for year in years:
            _country_year(self.country, year)


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo
    start: dt.time
    end: dt.time
    weekdays: frozenset[int]
    """ISO weekdays (1 is Monday, 7 is Sunday) that are working days unless a day off."""
    days_off: DayRule = frozenset()
    extra_working_days: DayRule = frozenset()
    """Working days whatever the weekday and days off say (transferred working days)."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local wall-clock times: pass naive times")
        if self.start >= self.end:
            raise ValueError(
                f"the working day must start before it ends, got {self.start}-{self.end}"
            )
        if not self.weekdays <= frozenset(range(1, 8)):
            raise ValueError(f"weekdays are ISO numbers 1..7, got {sorted(self.weekdays)}")

    @classmethod
    def from_book(cls, hours: WorkingHours, years: range | None = None) -> WorkingCalendar:
        """The calendar the sales book describes.

        Holidays of `hours.holidays_country` are looked up lazily for whatever year is asked;
        `years`, when given, are loaded up front so the first SLA computation in them is not the
        one that pays for it. The book's own lists win over the country's calendar, and its extra
        working days win over every day off.
        """
        try:
            tz = ZoneInfo(hours.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {hours.timezone!r}") from error

        book_days_off = frozenset(hours.extra_days_off)
        book_working_days = frozenset(hours.extra_working_days)
        if hours.holidays_country is None:
            return cls(
                tz=tz,
                start=hours.start,
                end=hours.end,
                weekdays=frozenset(hours.weekdays),
                days_off=book_days_off,
                extra_working_days=book_working_days,
            )

        country = CountryHolidays(hours.holidays_country)
        if years is not None:
            country.preload(years)

        def is_day_off(day: dt.date) -> bool:
            return day in book_days_off or country.is_holiday(day)

        def is_extra_working_day(day: dt.date) -> bool:
            if day in book_working_days:
                return True
            return country.is_transferred_working_day(day) and day not in book_days_off

        return cls(
            tz=tz,
            start=hours.start,
            end=hours.end,
            weekdays=frozenset(hours.weekdays),
            days_off=is_day_off,
            extra_working_days=is_extra_working_day,
        )

    # --- days ------------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        if _as_predicate(self.extra_working_days)(day):
            return True
        return day.isoweekday() in self.weekdays and not _as_predicate(self.days_off)(day)

    def working_period(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The [open, close) instants (UTC) of a day's work, or None on a day without work.

        A working day can still have no period if both ends fall into one skipped DST hour.
        """
        if not self.is_working_day(day):
            return None
        opens = self._first_instant_at_or_after(day, self.start)
        closes = self._first_instant_at_or_after(day, self.end)
        if opens >= closes:
            return None
        return opens, closes

    # --- instants --------------------------------------------------------------------------------

    def is_working_moment(self, instant: dt.datetime) -> bool:
        instant = _require_aware(instant)
        opens, _ = next(self._periods_ending_after(instant))
        return opens <= instant

    def next_working_moment(self, instant: dt.datetime) -> dt.datetime:
        """`instant` itself if it is a working moment, else the next opening (UTC)."""
        instant = _require_aware(instant)
        opens, _ = next(self._periods_ending_after(instant))
        return max(opens, instant)

    def add_working_time(self, instant: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The deadline: the UTC instant by which `duration` of working time has passed since
        `instant`. Counting starts at the next working moment; a zero duration returns it."""
        instant = _require_aware(instant)
        if duration < dt.timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        if not duration:
            return self.next_working_moment(instant)
        remaining = duration
        for opens, closes in self._periods_ending_after(instant):
            begins = max(opens, instant)
            available = closes - begins
            if remaining <= available:
                return begins + remaining
            remaining -= available
        raise AssertionError("unreachable: the period iterator is endless")  # pragma: no cover

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Working time in [start, end); negative when `end` is before `start`, so that
        "time left until the deadline" turns negative once overdue."""
        start = _require_aware(start, "start")
        end = _require_aware(end, "end")
        if end < start:
            return -self.working_time_between(end, start)
        total = dt.timedelta(0)
        for opens, closes in self._periods_ending_after(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    # --- internals -------------------------------------------------------------------------------

    def _periods_ending_after(
        self, instant: dt.datetime
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working periods in time order, from the first one that closes after `instant`.

        Days are walked one at a time: durations are SLA-sized, and per-day work varies with
        holidays and clock changes anyway, so skipping whole weeks would buy little.
        """
        # Start a day early: near a clock change a period of the previous local date can still
        # be open at an instant whose local date is already the next one.
        day = instant.astimezone(self.tz).date() - _ONE_DAY
        days_without_work = 0
        while True:
            period = self.working_period(day)
            if period is None:
                days_without_work += 1
                if days_without_work > MAX_DAYS_WITHOUT_WORK:
                    raise ValueError(
                        f"the calendar has no working time for {MAX_DAYS_WITHOUT_WORK} days "
                        f"after {day - dt.timedelta(days=MAX_DAYS_WITHOUT_WORK)}"
                    )
            else:
                days_without_work = 0
                if period[1] > instant:
                    yield period
            day += _ONE_DAY

    def _first_instant_at_or_after(self, day: dt.date, wall: dt.time) -> dt.datetime:
        """The first UTC instant at which the local clock shows `wall` or later on `day`."""
        # fold=0 picks the first of two ambiguous instants, which is what we want.
        local = dt.datetime.combine(day, wall, tzinfo=self.tz)
        instant = local.astimezone(UTC)
        if instant.astimezone(self.tz).replace(tzinfo=None) == local.replace(tzinfo=None):
            return instant
        # `wall` was skipped by clocks going forward: the answer is the moment of the jump. With
        # fold=0 zoneinfo reads a skipped time with the offset before the jump (an instant after
        # it), with fold=1 with the offset after it (an instant before it); bisect between them.
        after = instant
        before = local.replace(fold=1).astimezone(UTC)
        offset_after_jump = after.astimezone(self.tz).utcoffset()
        resolution = dt.timedelta(microseconds=1)
        while after - before > resolution:
            middle = before + (after - before) / 2
            if middle.astimezone(self.tz).utcoffset() == offset_after_jump:
                after = middle
            else:
                before = middle
        return after
