"""A personal reminder as a person types it, in the chat or in the Mini App: the time read the same
way (the person's time zone, the working day's start for a day without an hour) and refused in the
same words. A refusal is a catalogue key and its values: the chat fills them in as HTML (`t`),
the app as plain text (`tp`)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.telegram.i18n import tp
from bot.when_parser import ImpossibleDate, When, parse_when
from domain.deal import MAX_COMMENT_LENGTH
from domain.sales_book import SalesBook
from services.personal_reminders import ReminderProblem


class Refused(Exception):
    """What was typed cannot make a reminder; `key` and `values` say why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def find_when(text: str, now: dt.datetime, zone: ZoneInfo, book: SalesBook) -> When | None:
    """The time named in `text`, read in `zone`, or None: free text that names none is not a
    reminder; `Refused` if it names a date no calendar has."""
    try:
        return parse_when(text, now, zone, book.working_hours.start)
    except ImpossibleDate as impossible:
        raise Refused("input.no_such_date", date=impossible.date) from None


def read_when(
    text: str,
    now: dt.datetime,
    zone: ZoneInfo,
    book: SalesBook,
    *,
    not_understood: str = "reminder.not_understood",
) -> When:
    """The time typed in answer to "when?"; `Refused` if it is too long or names no time."""
    _fits(text)
    when = find_when(text, now, zone, book)
    if when is None:
        raise Refused(not_understood)
    return when


def what_to_remind(typed: str, when: When) -> str:
    """The reminder's words: those typed for it, else those around the time, else a default."""
    _fits(typed)
    return typed.strip() or when.rest or tp("reminder.default_text")


def refusal_of(problem: ReminderProblem, at: dt.datetime, zone: ZoneInfo) -> Refused:
    """The words for a reminder the service would not set or move."""
    if problem.reason == "past":
        return Refused("reminder.past", when=local_time(at, zone))
    if problem.reason == "too_far":
        return Refused("reminder.too_far", when=local_time(at, zone))
    if problem.reason == "too_many":
        return Refused("reminder.too_many")
    return Refused("reminder.gone")


def local_time(instant: dt.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def _fits(text: str) -> None:
    if len(text) > MAX_COMMENT_LENGTH:
        raise Refused("input.too_long", limit=MAX_COMMENT_LENGTH)
