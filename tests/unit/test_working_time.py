from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.working_time import WorkingCalendar
from tests.unit.book_factory import make_working_hours

UTC = dt.UTC
MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = dt.timedelta(hours=1)
MICROSECOND = dt.timedelta(microseconds=1)

WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def moscow_book_calendar(**overrides: object) -> WorkingCalendar:
    return WorkingCalendar.from_book(make_working_hours(**overrides))


def msk(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=MSK)


# --- examples ----------------------------------------------------------------------------------


def test_friday_evening_plus_two_hours_is_monday_ten() -> None:
    calendar = moscow_book_calendar()
    deadline = calendar.add_working_time(msk(2026, 5, 22, 17, 0), 2 * HOUR)
    assert deadline == msk(2026, 5, 25, 10, 0)
    assert deadline.tzinfo is UTC


def test_lead_on_saturday_with_thirty_minutes_is_due_monday_half_past_nine() -> None:
    calendar = moscow_book_calendar()
    deadline = calendar.add_working_time(msk(2026, 5, 23, 12, 0), dt.timedelta(minutes=30))
    assert deadline == msk(2026, 5, 25, 9, 30)


def test_new_year_holidays_are_skipped() -> None:
    # RU: 2025-12-31 and 2026-01-01..09 are days off, 10-11 a weekend.
    calendar = moscow_book_calendar()
    deadline = calendar.add_working_time(msk(2025, 12, 30, 17, 30), HOUR)
    assert deadline == msk(2026, 1, 12, 9, 30)


def test_may_day_is_skipped() -> None:
    calendar = moscow_book_calendar()
    assert not calendar.is_working_day(dt.date(2026, 5, 1))
    deadline = calendar.add_working_time(msk(2026, 4, 30, 17, 0), 2 * HOUR)
    assert deadline == msk(2026, 5, 4, 10, 0)


def test_extra_working_day_from_the_book_is_honoured() -> None:
    calendar = moscow_book_calendar(extra_working_days=[dt.date(2026, 5, 23)])
    deadline = calendar.add_working_time(msk(2026, 5, 22, 17, 0), 2 * HOUR)
    assert deadline == msk(2026, 5, 23, 10, 0)


def test_extra_working_day_overrides_a_public_holiday() -> None:
    calendar = moscow_book_calendar(extra_working_days=[dt.date(2026, 6, 12)])
    assert calendar.is_working_day(dt.date(2026, 6, 12))


def test_transferred_working_saturday_of_the_country_is_honoured() -> None:
    # RU 2027: Saturday 20 February is worked, Monday 22 February is off instead.
    calendar = moscow_book_calendar()
    assert calendar.is_working_day(dt.date(2027, 2, 20))
    assert not calendar.is_working_day(dt.date(2027, 2, 22))
    deadline = calendar.add_working_time(msk(2027, 2, 19, 17, 0), 2 * HOUR)
    assert deadline == msk(2027, 2, 20, 10, 0)


def test_book_day_off_beats_a_transferred_working_day() -> None:
    calendar = moscow_book_calendar(extra_days_off=[dt.date(2027, 2, 20)])
    assert not calendar.is_working_day(dt.date(2027, 2, 20))


def test_extra_day_off_from_the_book_is_honoured() -> None:
    calendar = moscow_book_calendar(extra_days_off=[dt.date(2026, 5, 25)])
    deadline = calendar.add_working_time(msk(2026, 5, 22, 17, 0), 2 * HOUR)
    assert deadline == msk(2026, 5, 26, 10, 0)


def test_without_a_holidays_country_only_weekdays_count() -> None:
    calendar = moscow_book_calendar(holidays_country=None)
    assert calendar.is_working_day(dt.date(2026, 1, 5))


def test_any_year_gets_its_holidays() -> None:
    calendar = moscow_book_calendar()
    assert not calendar.is_working_day(dt.date(2041, 1, 3))
    assert not calendar.is_working_day(dt.date(2003, 11, 7))  # the old November holiday


def test_preloaded_years_give_the_same_answers() -> None:
    lazy = moscow_book_calendar()
    eager = WorkingCalendar.from_book(make_working_hours(), years=range(2025, 2028))
    start = msk(2025, 12, 1, 12, 0)
    assert lazy.add_working_time(start, 100 * HOUR) == eager.add_working_time(start, 100 * HOUR)


def test_a_positive_duration_may_end_exactly_at_closing_time() -> None:
    calendar = moscow_book_calendar()
    deadline = calendar.add_working_time(msk(2026, 5, 22, 9, 0), 9 * HOUR)
    assert deadline == msk(2026, 5, 22, 18, 0)
    assert not calendar.is_working_moment(deadline)


def test_zero_duration_is_the_next_working_moment() -> None:
    calendar = moscow_book_calendar()
    assert calendar.add_working_time(msk(2026, 5, 22, 18, 0), dt.timedelta(0)) == msk(
        2026, 5, 25, 9, 0
    )
    inside = msk(2026, 5, 22, 11, 15)
    assert calendar.add_working_time(inside, dt.timedelta(0)) == inside


def test_working_moments_are_half_open_periods() -> None:
    calendar = moscow_book_calendar()
    assert calendar.is_working_moment(msk(2026, 5, 22, 9, 0))
    assert calendar.is_working_moment(msk(2026, 5, 22, 17, 59, 59))
    assert not calendar.is_working_moment(msk(2026, 5, 22, 18, 0))
    assert not calendar.is_working_moment(msk(2026, 5, 22, 8, 59, 59))
    assert not calendar.is_working_moment(msk(2026, 5, 23, 12, 0))


def test_working_time_between_is_negative_when_overdue() -> None:
    calendar = moscow_book_calendar()
    deadline = msk(2026, 5, 25, 10, 0)
    now = msk(2026, 5, 25, 12, 30)
    assert calendar.working_time_between(now, deadline) == -dt.timedelta(hours=2, minutes=30)


def test_long_durations_are_fast_and_exact() -> None:
    calendar = moscow_book_calendar()
    start = msk(2026, 1, 1, 0, 0)
    deadline = calendar.add_working_time(start, 2000 * HOUR)  # about a working year
    assert calendar.working_time_between(start, deadline) == 2000 * HOUR
    assert dt.date(2026, 11, 1) < deadline.date() < dt.date(2026, 12, 31)


def test_a_period_across_spring_forward_is_an_hour_shorter() -> None:
    calendar = WorkingCalendar(BERLIN, dt.time(1, 0), dt.time(5, 0), frozenset(range(1, 8)))
    opens = dt.datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)
    closes = dt.datetime(2026, 3, 29, 5, 0, tzinfo=BERLIN)
    assert calendar.working_time_between(opens, closes) == 3 * HOUR
    assert calendar.add_working_time(opens, 3 * HOUR) == closes


def test_a_period_across_fall_back_is_an_hour_longer() -> None:
    calendar = WorkingCalendar(BERLIN, dt.time(1, 0), dt.time(5, 0), frozenset(range(1, 8)))
    opens = dt.datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN)
    closes = dt.datetime(2026, 10, 25, 5, 0, tzinfo=BERLIN)
    assert calendar.working_time_between(opens, closes) == 5 * HOUR


def test_a_skipped_opening_time_opens_at_the_jump() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: the clock jumps from 02:00 to 03:00.
    calendar = WorkingCalendar(BERLIN, dt.time(2, 30), dt.time(6, 0), frozenset(range(1, 8)))
    period = calendar.working_period(dt.date(2026, 3, 29))
    assert period == (
        dt.datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN),
        dt.datetime(2026, 3, 29, 6, 0, tzinfo=BERLIN),
    )


def test_an_ambiguous_opening_time_opens_at_its_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25; the office opens at the first one (CEST).
    calendar = WorkingCalendar(BERLIN, dt.time(2, 30), dt.time(6, 0), frozenset(range(1, 8)))
    period = calendar.working_period(dt.date(2026, 10, 25))
    assert period is not None
    assert period[0] == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_office_hours_across_dst_keep_their_wall_clock_times() -> None:
    calendar = WorkingCalendar(BERLIN, dt.time(9, 0), dt.time(18, 0), frozenset(range(1, 8)))
    deadline = calendar.add_working_time(dt.datetime(2026, 3, 28, 17, 0, tzinfo=BERLIN), 2 * HOUR)
    assert deadline == dt.datetime(2026, 3, 29, 10, 0, tzinfo=BERLIN)
    assert deadline == dt.datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_naive_datetimes_are_rejected() -> None:
    calendar = moscow_book_calendar()
    naive = dt.datetime(2026, 5, 22, 12, 0)
    with pytest.raises(ValueError):
        calendar.add_working_time(naive, HOUR)
    with pytest.raises(ValueError):
        calendar.is_working_moment(naive)
    with pytest.raises(ValueError):
        calendar.next_working_moment(naive)
    with pytest.raises(ValueError):
        calendar.working_time_between(naive, msk(2026, 5, 22, 12, 0))


def test_negative_durations_are_rejected() -> None:
    with pytest.raises(ValueError):
        moscow_book_calendar().add_working_time(msk(2026, 5, 22, 12, 0), -HOUR)


def test_a_day_that_ends_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(MSK, dt.time(18, 0), dt.time(9, 0), WEEKDAYS)


def test_a_calendar_without_working_time_fails_instead_of_looping() -> None:
    calendar = WorkingCalendar(MSK, dt.time(9, 0), dt.time(18, 0), frozenset())
    with pytest.raises(ValueError, match="no working time"):
        calendar.add_working_time(msk(2026, 5, 22, 12, 0), HOUR)


def test_days_off_may_be_a_predicate() -> None:
    calendar = WorkingCalendar(
        MSK, dt.time(9, 0), dt.time(18, 0), WEEKDAYS, days_off=lambda day: day.day == 13
    )
    assert not calendar.is_working_day(dt.date(2026, 5, 13))
    assert calendar.is_working_day(dt.date(2026, 5, 14))


# --- properties --------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Moscow",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # half-hour DST shift
    "America/Santiago",  # clocks change at midnight
    "Asia/Kolkata",  # +05:30, no DST
]

# Dates of clock changes in the zones above, so instants near them are drawn often.
DST_DATES = [
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 29),
    dt.date(2026, 4, 5),
    dt.date(2026, 9, 6),
    dt.date(2026, 10, 4),
    dt.date(2026, 10, 25),
    dt.date(2026, 11, 1),
]

FIRST_DAY = dt.date(2025, 12, 1)
LAST_DAY = dt.date(2027, 1, 31)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    # Working days of at least half an hour keep the walk short for the longest durations.
    start_minute = draw(st.integers(0, 24 * 60 - 31))
    end_minute = draw(st.integers(start_minute + 30, 24 * 60 - 1))
    # Day numbers rather than st.dates(): drawing dates costs more than the test itself.
    some_days = st.lists(st.integers(0, (LAST_DAY - FIRST_DAY).days), max_size=6).map(
        lambda numbers: frozenset(FIRST_DAY + dt.timedelta(days=n) for n in numbers)
    )
    weekday_mask = draw(st.integers(1, 2**7 - 1))  # a non-empty set of weekdays, drawn at once
    return WorkingCalendar(
        tz=ZoneInfo(draw(st.sampled_from(ZONES))),
        start=dt.time(start_minute // 60, start_minute % 60),
        end=dt.time(end_minute // 60, end_minute % 60),
        weekdays=frozenset(day for day in range(1, 8) if weekday_mask >> (day - 1) & 1),
        days_off=draw(some_days),
        extra_working_days=draw(some_days),
    )


uniform_instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(UTC)
)


@st.composite
def instants_near_clock_changes(draw: st.DrawFn) -> dt.datetime:
    day = draw(st.sampled_from(DST_DATES))
    two_days = 2 * dt.timedelta(days=1)
    offset = draw(st.timedeltas(min_value=-two_days, max_value=two_days))
    return dt.datetime.combine(day, dt.time(12), tzinfo=UTC) + offset


instants = st.one_of(uniform_instants, instants_near_clock_changes())

# Up to 40 working hours: more than a year for a calendar of half an hour one day a week.
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=40 * HOUR)
positive_durations = st.timedeltas(min_value=MICROSECOND, max_value=40 * HOUR)

# Drawing a calendar costs hypothesis about 2 ms, so example counts are what keeps this file fast:
# 200 for the defining properties of a deadline, 100 for the ones that look from another angle.
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
CROSS_CHECK_SETTINGS = settings(max_examples=100, deadline=None)


@CROSS_CHECK_SETTINGS
@given(calendars(), instants, durations)
def test_deadline_is_never_before_the_start(
    calendar: WorkingCalendar, start: dt.datetime, duration: dt.timedelta
) -> None:
    deadline = calendar.add_working_time(start, duration)
    assert deadline >= start
    assert deadline >= calendar.next_working_moment(start)
    assert deadline.tzinfo is UTC


@PROPERTY_SETTINGS
@given(calendars(), instants, durations)
def test_working_time_until_the_deadline_is_the_duration(
    calendar: WorkingCalendar, start: dt.datetime, duration: dt.timedelta
) -> None:
    deadline = calendar.add_working_time(start, duration)
    assert calendar.working_time_between(start, deadline) == duration


@CROSS_CHECK_SETTINGS
@given(calendars(), instants, positive_durations)
def test_positive_deadline_ends_a_stretch_of_working_time(
    calendar: WorkingCalendar, start: dt.datetime, duration: dt.timedelta
) -> None:
    """A positive-duration deadline lies in (open, close] of a working period: the microsecond
    before it is worked. It is either a working moment itself or exactly a closing time."""
    deadline = calendar.add_working_time(start, duration)
    assert calendar.is_working_moment(deadline - MICROSECOND)
    if not calendar.is_working_moment(deadline):
        local_day = (deadline - MICROSECOND).astimezone(calendar.tz).date()
        closing_times = {
            period[1]
            for day in (local_day - dt.timedelta(days=1), local_day)
            if (period := calendar.working_period(day)) is not None
        }
        assert deadline in closing_times


@CROSS_CHECK_SETTINGS
@given(calendars(), instants)
def test_zero_duration_deadline_is_a_working_moment(
    calendar: WorkingCalendar, start: dt.datetime
) -> None:
    moment = calendar.add_working_time(start, dt.timedelta(0))
    assert calendar.is_working_moment(moment)
    assert moment == calendar.next_working_moment(start)
    # Nothing was skipped on the way: no working time between the start and that moment.
    assert calendar.working_time_between(start, moment) == dt.timedelta(0)


@CROSS_CHECK_SETTINGS
@given(calendars(), instants)
def test_next_working_moment_is_identity_exactly_on_working_moments(
    calendar: WorkingCalendar, instant: dt.datetime
) -> None:
    assert (calendar.next_working_moment(instant) == instant) == calendar.is_working_moment(instant)


@PROPERTY_SETTINGS
@given(calendars(), instants, durations, durations)
def test_deadline_is_monotonic_in_duration(
    calendar: WorkingCalendar, start: dt.datetime, first: dt.timedelta, second: dt.timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert calendar.add_working_time(start, shorter) <= calendar.add_working_time(start, longer)


@PROPERTY_SETTINGS
@given(calendars(), instants, durations, positive_durations)
def test_adding_in_two_steps_equals_adding_the_sum(
    calendar: WorkingCalendar, start: dt.datetime, first: dt.timedelta, second: dt.timedelta
) -> None:
    # With a zero second step the two differ only when the first deadline is a closing time:
    # adding nothing moves on to the next working moment. Hence a positive second step here.
    in_two_steps = calendar.add_working_time(calendar.add_working_time(start, first), second)
    assert in_two_steps == calendar.add_working_time(start, first + second)


spans = st.timedeltas(min_value=-30 * dt.timedelta(days=1), max_value=30 * dt.timedelta(days=1))


@CROSS_CHECK_SETTINGS
@given(calendars(), instants, spans, spans)
def test_working_time_between_adds_up_and_is_antisymmetric(
    calendar: WorkingCalendar, a: dt.datetime, to_b: dt.timedelta, to_c: dt.timedelta
) -> None:
    b, c = a + to_b, a + to_c
    first, middle, last = sorted((a, b, c))
    assert calendar.working_time_between(first, middle) + calendar.working_time_between(
        middle, last
    ) == calendar.working_time_between(first, last)
    assert calendar.working_time_between(a, b) == -calendar.working_time_between(b, a)
    assert calendar.working_time_between(first, last) >= dt.timedelta(0)


@CROSS_CHECK_SETTINGS
@given(calendars(), instants)
def test_working_moment_matches_the_wall_clock_on_days_without_clock_changes(
    calendar: WorkingCalendar, instant: dt.datetime
) -> None:
    """An independent oracle: on an ordinary day, a moment is worked when its local date is a
    working day and its local time is within [start, end)."""
    local = instant.astimezone(calendar.tz)
    day = local.date()
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=calendar.tz)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=calendar.tz)
    if midnight.utcoffset() != next_midnight.utcoffset():
        return
    expected = calendar.is_working_day(day) and calendar.start <= local.time() < calendar.end
    assert calendar.is_working_moment(instant) == expected


@CROSS_CHECK_SETTINGS
@given(calendars(), instants, durations)
def test_any_input_zone_gives_the_same_deadline(
    calendar: WorkingCalendar, start: dt.datetime, duration: dt.timedelta
) -> None:
    in_moscow = start.astimezone(MSK)
    assert calendar.add_working_time(in_moscow, duration) == calendar.add_working_time(
        start, duration
    )
