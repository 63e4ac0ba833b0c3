"""A lead's request: where it came from, the phone it gives, and when we promise to answer."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.invites import is_invite_payload
from domain.sales_book import SalesBook

UNKNOWN_SOURCE = "unknown"
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What Telegram lets a `t.me/<bot>?start=` payload be."""

NAME_MAX_LENGTH = 128
COMPANY_MAX_LENGTH = 128
NEED_MAX_LENGTH = 1000


def lead_source(payload: str | None, book: SalesBook) -> str:
    """The source id a start payload names, or "unknown": a payload that is not one of the
    book's sources (mistyped, tampered, an invite) is recorded as unknown and used for nothing
    else."""
    if not payload or not START_PAYLOAD.match(payload) or is_invite_payload(payload):
        return UNKNOWN_SOURCE
    for source in book.sources:
        if source.id == payload:
            return source.id
    return UNKNOWN_SOURCE


class InvalidPhone(ValueError):
    pass


def normalize_phone(text: str, default_region: str = "RU") -> str:
    """The phone in E.164 (`+79161234567`); a local `8 916 123-45-67` is read in the default
    region. Raises InvalidPhone for anything that is not a possible, valid number."""
    import phonenumbers  # its metadata loads with the first phone read, not at start-up

    candidate = text.strip()
    if not candidate or len(candidate) > 32:
        raise InvalidPhone(text)
    try:
        number = phonenumbers.parse(candidate, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(text) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PromiseDay(StrEnum):
    TODAY = "today"
    TOMORROW = "tomorrow"
    WEEKDAY = "weekday"
    """Within the coming week: "on Monday"."""
    DATE = "date"
    """Further away (long holidays): a calendar date."""


@dataclass(frozen=True, slots=True)
class Promise:
    """When the lead will hear from us, as they should read it in their time zone."""

    day: PromiseDay
    local: dt.datetime

    @property
    def iso_weekday(self) -> int:
        return self.local.isoweekday()


def promise(deadline: dt.datetime, now: dt.datetime, zone: ZoneInfo) -> Promise:
    local_deadline = deadline.astimezone(zone)
    days_ahead = (local_deadline.date() - now.astimezone(zone).date()).days
    if days_ahead <= 0:
        day = PromiseDay.TODAY
    elif days_ahead == 1:
        day = PromiseDay.TOMORROW
    elif days_ahead < 7:
        day = PromiseDay.WEEKDAY
    else:
        day = PromiseDay.DATE
    return Promise(day=day, local=local_deadline)
