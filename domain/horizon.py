"""How far ahead a person may set a time: a reminder, a snooze.

A year and a day covers "the same date next year" in a leap year too. A time beyond it is a slip
of the keyboard ("через 100 лет", "25.05.2926") rather than a plan, and it would sit in the
reminders' table for ever; near year 9999 the calendar itself runs out for the time zones'
arithmetic."""

from __future__ import annotations

import datetime as dt

FURTHEST_AHEAD = dt.timedelta(days=366)


def beyond_horizon(at: dt.datetime, now: dt.datetime) -> bool:
    return at - now > FURTHEST_AHEAD
