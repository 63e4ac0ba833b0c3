"""The sales book's `working_hours:` section: the company's working calendar.

Working hours, weekdays, public holidays and transferred days, validated here; counting time
in working hours is `domain.working_time`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from domain.book_fields import BookModel, BookProblems, ClockTime, Loc


@functools.cache
def _holiday_countries() -> frozenset[str]:
    import holidays  # imported with the first book read, not with every module that names a type

    return frozenset(holidays.list_supported_countries())


class WorkingHours(BookModel):
    timezone: str
    start: ClockTime
    end: ClockTime
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1)
    """ISO weekdays that are working days: 1 is Monday, 7 is Sunday."""
    holidays_country: str | None = "RU"
    """Public holidays of this country (the `holidays` package) are days off."""
    extra_days_off: list[dt.date] = Field(default_factory=list)
    extra_working_days: list[dt.date] = Field(default_factory=list)
    """Transferred working days (e.g. a Saturday that is worked), which override days off."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            if not zoneinfo.available_timezones():
                raise ValueError(
                    f"cannot check time zone {value!r}: this system has no time zone "
                    "database (install the tzdata package)"
                ) from None
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Moscow, "
                "Europe/Kaliningrad or Asia/Yekaterinburg"
            ) from None
        return value

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None or value in _holiday_countries():
            return value
        hint = (
            f" (country codes are in capitals: {value.upper()!r})"
            if value.upper() in _holiday_countries()
            else ""
        )
        raise ValueError(
            f"unknown country {value!r} for public holidays{hint}; use a country code such as "
            "RU, BY or KZ, or null for no public holidays"
        )

    @model_validator(mode="after")
    def _check_calendar(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        if self.start >= self.end:
            problems.append(
                (
                    ("end",),
                    f"must be later than start ({self.start:%H:%M}); got {self.end:%H:%M} "
                    "(a working day cannot cross midnight)",
                )
            )
        seen: set[int] = set()
        for index, day in enumerate(self.weekdays):
            if day in seen:
                problems.append((("weekdays", index), f"day {day} is listed twice"))
            seen.add(day)
        days_off = set(self.extra_days_off)
        for index, date in enumerate(self.extra_working_days):
            if date in days_off:
                problems.append(
                    (
                        ("extra_working_days", index),
                        f"{date.isoformat()} is also in extra_days_off; a day cannot be both",
                    )
                )
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)
