"""The lead's request in pure terms: sources, phones, the promised answer time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain.book_loading import parse_sales_book
from domain.lead import (
    UNKNOWN_SOURCE,
    InvalidPhone,
    PromiseDay,
    lead_source,
    normalize_phone,
    promise,
)
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.working_time import WorkingCalendar

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("ads_vk", "ads_vk"),
        ("site", "site"),
        (None, UNKNOWN_SOURCE),
        ("", UNKNOWN_SOURCE),
        ("ads_VK", UNKNOWN_SOURCE),
        ("ads_vk;drop", UNKNOWN_SOURCE),
        ("x" * 65, UNKNOWN_SOURCE),
        ("inv_abc", UNKNOWN_SOURCE),
    ],
)
def test_only_the_books_sources_are_trusted(
    book: SalesBook, payload: str | None, expected: str
) -> None:
    assert lead_source(payload, book) == expected


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+7 916 123-45-67", "+79161234567"),
        ("8 (916) 123 45 67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_stored_in_e164(typed: str, e164: str) -> None:
    assert normalize_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "12-34", "телефон", "+7 916 123", "1" * 40])
def test_impossible_phones_are_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(typed)


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


@pytest.mark.parametrize(
    ("received", "day", "answer_by"),
    [
        (local(2026, 3, 4, 11, 15), PromiseDay.TODAY, local(2026, 3, 4, 11, 30)),  # Wednesday
        (local(2026, 3, 4, 17, 50), PromiseDay.TOMORROW, local(2026, 3, 5, 9, 5)),
        (local(2026, 3, 4, 22, 40), PromiseDay.TOMORROW, local(2026, 3, 5, 9, 15)),
        (local(2026, 3, 14, 14, 0), PromiseDay.WEEKDAY, local(2026, 3, 16, 9, 15)),  # Saturday
        (local(2026, 3, 6, 18, 30), PromiseDay.WEEKDAY, local(2026, 3, 10, 9, 15)),  # 9 March off
        (local(2026, 1, 1, 12, 0), PromiseDay.DATE, local(2026, 1, 12, 9, 15)),  # New Year
    ],
)
def test_the_promised_answer_counts_working_time(
    book: SalesBook, received: dt.datetime, day: PromiseDay, answer_by: dt.datetime
) -> None:
    calendar = WorkingCalendar.from_book(book.working_hours)
    deadline = calendar.add_working_time(
        received, dt.timedelta(minutes=book.first_response_minutes)
    )
    promised = promise(deadline, received, MOSCOW)
    assert promised.local == answer_by
    assert promised.day is day
