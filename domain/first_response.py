"""The first answer a new lead is promised: when it is due. What counts as it is
`Deal.answer_client` (a take, a message through the bot, a proposal, the manager's own
Telegram), applied by `services.first_response`."""

from __future__ import annotations

import datetime as dt

from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar


def first_response_deadline(
    calendar: WorkingCalendar, book: SalesBook, received_at: dt.datetime
) -> dt.datetime:
    """When a new lead must have been answered: the book's first-response minutes of working
    time after the request arrived."""
    return calendar.add_working_time(received_at, dt.timedelta(minutes=book.first_response_minutes))
