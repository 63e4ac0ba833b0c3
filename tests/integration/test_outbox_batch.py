"""The outbox's batch on a real database: the cards of an ad burst are read for sending in a
fixed number of queries, however many were claimed (SQLite always, PostgreSQL too when
TEST_DATABASE_URL is set)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import FixedClock
from domain.reminders import OUTBOX_KINDS, ReminderKind
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.leads import RequestForm, record_consent, submit_request
from services.reminders import SweepTally, claim_due, prepare
from services.staff import Profile
from storage.unit_of_work import UnitOfWork
from tests.integration.test_storage import MANAGER, MONDAY_10, OTHER_MANAGER, _staff

LEADS = 30


async def test_a_burst_of_cards_is_prepared_in_a_fixed_number_of_queries(
    session_factory: async_sessionmaker[AsyncSession],
    book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    clock = FixedClock(MONDAY_10)
    await _staff(session_factory, clock, book)
    for number in range(LEADS):
        lead = Profile(
            user_id=10_000 + number, first_name=f"Лид {number}", username=None, language_code="ru"
        )
        await record_consent(UnitOfWork(session_factory), clock, book, lead)
        form = RequestForm(
            name=f"Клиент {number}",
            phone=f"+7916{number:07d}",
            company=None,
            need="Нужен расчёт",
            product_id=None,
        )
        await submit_request(
            UnitOfWork(session_factory), clock, book, calendar, lead, form, "ads_vk", 5
        )
    claimed = await claim_due(UnitOfWork(session_factory), clock, "test", 200, kinds=OUTBOX_KINDS)
    cards = [row for row in claimed if row.kind is ReminderKind.CARD]
    assert len(cards) == LEADS

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = session_factory.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        deliveries = await prepare(
            UnitOfWork(session_factory),
            clock,
            "test",
            cards,
            lambda _deal: None,
            SweepTally(),
            ZoneInfo("Europe/Moscow"),
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)

    # The deals, their contacts, their managers, the supervisors (and the admins, as there
    # are no supervisors): not a query per card.
    assert len(statements) <= 5, statements
    assert len(deliveries) == LEADS
    clients = {d.deal.deal_id: d.deal.client for d in deliveries if d.deal is not None}
    assert sorted(str(client) for client in clients.values()) == sorted(
        f"Клиент {number}" for number in range(LEADS)
    )
    managers = {
        MANAGER.user_id: MANAGER.first_name,
        OTHER_MANAGER.user_id: OTHER_MANAGER.first_name,
    }
    for delivery in deliveries:
        assert delivery.deal is not None and delivery.deal.manager_id in managers
        assert delivery.recipient.chat_id == delivery.deal.manager_id
        assert delivery.deal.manager_name == managers[delivery.deal.manager_id]
        assert delivery.deal.phone is not None and delivery.deal.phone.startswith("+7916")
