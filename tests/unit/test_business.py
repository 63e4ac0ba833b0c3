"""The manager's own Telegram: the pure rules, and the sales book's `business` section."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from domain.book_loading import parse_sales_book
from domain.business import Direction, answers_client, start_of_day
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from tests.unit.book_factory import book_data, make_book
from tests.unit.sales_book_text import edit, parse_error


def test_only_the_managers_own_reply_answers_the_client() -> None:
    assert answers_client(Direction.OUT, automatic=False, via_bot=False)
    assert not answers_client(Direction.IN, automatic=False, via_bot=False)
    assert not answers_client(Direction.OUT, automatic=True, via_bot=False)  # greeting, away
    assert not answers_client(Direction.OUT, automatic=False, via_bot=True)


def test_a_days_chat_counts_from_local_midnight() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    late = dt.datetime(2026, 3, 2, 22, 30, tzinfo=dt.UTC)  # 01:30 on the 3rd in Moscow
    assert start_of_day(late, moscow) == dt.datetime(2026, 3, 3, tzinfo=moscow)


def test_the_section_is_optional_and_asks_the_manager_first() -> None:
    data = book_data()
    data.pop("business", None)
    book = make_book(data)
    assert not book.business.auto_create and book.business.notice is None


def test_the_default_book_asks_first_and_tells_clients_how_to_be_forgotten() -> None:
    book: SalesBook = parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))
    assert not book.business.auto_create
    assert book.business.notice is not None and "/forget_me" in book.business.notice


def test_a_mistake_in_the_section_is_named() -> None:
    error = parse_error(edit("  auto_create: false", "  auto_create: sometimes"))
    assert "business" in str(error) and "auto_create" in str(error)
