from __future__ import annotations

import pytest

from domain.book_loading import parse_sales_book
from domain.clock import FixedClock
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.working_time import WorkingCalendar
from tests.services.fakes import FakeUnitOfWork
from tests.services.given import MONDAY_10


@pytest.fixture(scope="session")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def calendar(book: SalesBook) -> WorkingCalendar:
    return WorkingCalendar.from_book(book.working_hours)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_10)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()
