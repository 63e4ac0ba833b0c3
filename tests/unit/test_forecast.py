"""The plan pace at the edges of a month and the managers' share of the plan, worked out by
hand. The calendar is a plain one: weekdays 09:00-18:00, no holidays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.forecast import PlanMonth, manager_plans, plan_pace
from domain.working_time import WorkingCalendar

MOSCOW = ZoneInfo("Europe/Moscow")
CALENDAR = WorkingCalendar(
    tz=MOSCOW, start=dt.time(9), end=dt.time(18), weekdays=frozenset({1, 2, 3, 4, 5})
)


def msk(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 4, day, hour, tzinfo=MOSCOW)


def test_on_the_first_morning_nothing_has_passed_and_every_working_day_is_left() -> None:
    # April 2026: 30 days, 22 weekdays (1 April is a Wednesday).
    pace = plan_pace(Decimal(2_200_000), Decimal(0), msk(1, 8), CALENDAR, MOSCOW)
    assert (pace.elapsed, pace.days_left) == (Decimal(0), 22)
    assert pace.expected_by_now == Decimal(0)
    assert pace.needed_per_day == Decimal("100000.00")


def test_after_the_last_working_hour_no_day_is_left_and_no_pace_is_asked() -> None:
    # Thursday 30 April 19:00: the month's working time is all gone.
    pace = plan_pace(Decimal(2_200_000), Decimal(2_000_000), msk(30, 19), CALENDAR, MOSCOW)
    assert (pace.elapsed, pace.days_left) == (Decimal(1), 0)
    assert pace.needed_per_day is None
    assert (pace.remaining, pace.ahead) == (Decimal(200_000), Decimal(-200_000))


def test_today_counts_while_its_working_hours_last() -> None:
    # Thursday 30 April: at 17:00 one day is left (an hour of it), at 18:00 none.
    assert plan_pace(Decimal(1), Decimal(0), msk(30, 17), CALENDAR, MOSCOW).days_left == 1
    assert plan_pace(Decimal(1), Decimal(0), msk(30, 18), CALENDAR, MOSCOW).days_left == 0


def test_a_plan_made_leaves_nothing_to_make() -> None:
    pace = plan_pace(Decimal(1_000_000), Decimal(1_250_000), msk(15, 12), CALENDAR, MOSCOW)
    assert pace.remaining == 0 and pace.needed_per_day == Decimal(0)
    assert pace.fulfilment == Decimal("1.25")


def test_unnamed_managers_share_what_the_named_ones_leave_of_the_teams_plan() -> None:
    team = Decimal(3_000_000)
    assert manager_plans(team, {}, [1, 2, 3]) == {
        1: Decimal("1000000.00"),
        2: Decimal("1000000.00"),
        3: Decimal("1000000.00"),
    }
    assert manager_plans(team, {"1": Decimal(2_000_000)}, [1, 2, 3]) == {
        1: Decimal(2_000_000),
        2: Decimal("500000.00"),
        3: Decimal("500000.00"),
    }
    # Named plans above the team's leave the others nothing rather than a negative share.
    assert manager_plans(team, {"1": Decimal(4_000_000)}, [1, 2]) == {
        1: Decimal(4_000_000),
        2: Decimal("0.00"),
    }
    assert manager_plans(team, {"9": Decimal(500_000)}, []) == {}


def test_who_joins_during_the_month_answers_for_its_working_days_from_their_first() -> None:
    april = PlanMonth(msk(20, 12), CALENDAR, MOSCOW)
    before = dt.datetime(2026, 3, 30, 15, tzinfo=MOSCOW)
    # On the team before April, or from any hour of its first working day: the whole month.
    assert april.share_from(before) == april.share_from(msk(1, 17)) == Decimal(1)
    # From Wednesday 15 April: 12 of its 22 working days.
    assert april.share_from(msk(15, 16)) == Decimal("0.5455")
    assert manager_plans(
        Decimal(2_200_000), {"1": Decimal(1_000_000)}, [1, 2, 3], {2: Decimal("0.5455")}
    ) == {1: Decimal(1_000_000), 2: Decimal("327300.00"), 3: Decimal("600000.00")}
    # Their pace counts from the moment they joined: on Monday the 20th at noon, 23 of their 101
    # working hours have passed (2 on the 15th, 18 on the 16th and 17th, 3 today), against the
    # month's 120 of 198.
    theirs = april.progress(msk(15, 16))
    assert (theirs.elapsed, theirs.days_left) == (Decimal("0.2277"), 9)
    assert april.progress().elapsed == Decimal("0.6061")
