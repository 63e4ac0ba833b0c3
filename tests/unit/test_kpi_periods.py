from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain.kpi import days_period, named_period

MOSCOW = ZoneInfo("Europe/Moscow")
WEDNESDAY = dt.datetime(2026, 3, 11, 15, 30, tzinfo=MOSCOW)


def local(period_instant: dt.datetime) -> str:
    return period_instant.astimezone(MOSCOW).strftime("%d.%m %H:%M")


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("today", "11.03 00:00", "11.03 15:30"),
        ("yesterday", "10.03 00:00", "11.03 00:00"),
        ("this_week", "09.03 00:00", "11.03 15:30"),
        ("last_week", "02.03 00:00", "09.03 00:00"),
        ("this_month", "01.03 00:00", "11.03 15:30"),
        ("last_month", "01.02 00:00", "01.03 00:00"),
    ],
)
def test_named_periods_in_local_days(name: str, start: str, end: str) -> None:
    period = named_period(name, WEDNESDAY.astimezone(dt.UTC), MOSCOW)
    assert (local(period.start), local(period.end)) == (start, end)


def test_a_typed_range_includes_both_days_in_either_order() -> None:
    period = days_period(dt.date(2026, 3, 5), dt.date(2026, 3, 1), MOSCOW)
    assert (local(period.start), local(period.end)) == ("01.03 00:00", "06.03 00:00")
