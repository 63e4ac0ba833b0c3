"""What a manager should do now: open deals ordered by how urgent their stage deadline is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from domain.deal import Deal
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar


@dataclass(frozen=True, slots=True)
class Urgency:
    deal: Deal
    deadline: dt.datetime
    """The earlier of the stage SLA and, until the deal is taken, the first-response SLA."""
    now: dt.datetime

    @property
    def is_overdue(self) -> bool:
        return self.now >= self.deadline

    @property
    def is_first_response(self) -> bool:
        """The deadline that counts is the lead's first answer (the deal is not taken yet and
        that comes before the stage's own), not the stage's SLA."""
        due = self.deal.first_response_due_at
        return self.deal.taken_at is None and due is not None and self.deadline == due

    @property
    def left(self) -> dt.timedelta:
        """Time left (negative: overdue by that much), in wall-clock time."""
        return self.deadline - self.now


def deadline_of(deal: Deal, book: SalesBook, calendar: WorkingCalendar) -> dt.datetime:
    """The deadline that counts now; a snooze moves it to the snooze's end if that is later
    (a snoozed deal is not overdue, and when the snooze ends its clock resumes from there)."""
    deadline = deal.deadline(calendar, book.pipeline(deal.pipeline_id))
    if deal.taken_at is None and deal.first_response_due_at is not None:
        deadline = min(deadline, deal.first_response_due_at)
    if deal.snoozed_until is not None:
        deadline = max(deadline, deal.snoozed_until)
    return deadline


def by_urgency(
    deals: Iterable[Deal], book: SalesBook, calendar: WorkingCalendar, now: dt.datetime
) -> list[Urgency]:
    """Overdue first (the longest overdue on top), then the nearest deadline; ties by id."""
    ranked = [Urgency(deal, deadline_of(deal, book, calendar), now) for deal in deals]
    return sorted(ranked, key=lambda u: (u.deadline, u.deal.id or 0))
