"""Filing a request (services.leads.submit_request) on the in-memory unit of work."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from domain.clock import FixedClock
from domain.deal import DealStatus, TransitionKind
from domain.reminders import Audience, ReminderKind, ReminderStatus
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.deals import lose_deal
from services.first_response import answer_client
from services.leads import ConsentMissing, DailyLimitReached
from services.proposals import proposal_sent
from tests.services.fakes import FakeUnitOfWork
from tests.services.given import ANNA, BORIS, VERA, form, request_from, team


async def test_a_first_request_opens_a_deal_that_goes_to_a_manager_with_its_card(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)

    submission = await request_from(uow, clock, book, calendar, ANNA)

    assert submission.is_new_deal
    assert submission.manager_id == ivan.user_id
    assert submission.card is not None
    assert (submission.card.name, submission.card.phone) == ("Анна", form(ANNA).phone)
    deal = await uow.deals.get(submission.deal_id)
    assert deal is not None and deal.status is DealStatus.OPEN
    assert deal.pipeline_id == book.pipelines[0].id
    assert deal.stage_id == book.pipelines[0].stages[0].id
    assert (deal.lead_chat_id, deal.source, deal.need) == (ANNA.user_id, "ads_vk", form(ANNA).need)
    assert deal.first_response_due_at == submission.promised_at > clock.now()
    history = await uow.deals.history(submission.deal_id)
    assert [move.kind for move in history] == [TransitionKind.CREATED]
    contact = await uow.contacts.by_telegram_id(ANNA.user_id)
    assert contact is not None and contact.id == deal.contact_id
    assert (contact.name, contact.company) == ("Анна", "ООО Ромашка")
    assert contact.consent_version == book.consent.version
    owed = {(reminder.kind, reminder.audience) for reminder in uow.reminders.all}
    assert (ReminderKind.CARD, Audience.MANAGER) in owed
    assert (ReminderKind.FIRST_RESPONSE, Audience.SUPERVISORS) in owed
    assert (ReminderKind.OVERDUE, Audience.MANAGER) in owed
    assert uow.commits == 3 + 2  # the team, then the consent and the request


async def test_requests_go_round_the_pipelines_managers_in_turn(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, _ = await team(uow, clock, book)

    turns = [
        (await request_from(uow, clock, book, calendar, lead)).manager_id
        for lead in (ANNA, BORIS, VERA)
    ]

    assert turns == [ivan.user_id, petr.user_id, ivan.user_id]


async def test_a_request_while_a_deal_is_open_joins_that_deal(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    await team(uow, clock, book)
    first = await request_from(uow, clock, book, calendar, ANNA)

    again = await request_from(uow, clock, book, calendar, ANNA, form(ANNA, need="И ещё склад"))

    assert (again.deal_id, again.is_new_deal) == (first.deal_id, False)
    assert again.card is None
    assert list(uow.deals.by_id) == [first.deal_id]
    [logged] = uow.deals.messages
    assert (logged.deal_id, logged.kind, logged.text) == (first.deal_id, "request", "И ещё склад")


async def test_a_request_without_consent_stores_nothing(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    await team(uow, clock, book)

    with pytest.raises(ConsentMissing):
        await request_from(uow, clock, book, calendar, ANNA, consent=False)

    assert uow.deals.by_id == {}
    assert uow.contacts.by_id == {}
    assert uow.reminders.all == []


async def test_past_the_daily_limit_no_new_deal_opens_and_the_request_changes_nothing(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    first = await request_from(uow, clock, book, calendar, ANNA, daily_limit=1)
    await lose_deal(uow, clock, book, ivan, first.deal_id, book.lost_reasons[0].id)
    commits, planned = uow.commits, len(uow.reminders.all)
    from_another_company = dataclasses.replace(form(ANNA), company="ООО Лютик")

    with pytest.raises(DailyLimitReached):
        await request_from(uow, clock, book, calendar, ANNA, from_another_company, daily_limit=1)

    assert list(uow.deals.by_id) == [first.deal_id]
    contact = await uow.contacts.by_telegram_id(ANNA.user_id)
    assert contact is not None and contact.company == "ООО Ромашка"
    assert len(uow.reminders.all) == planned
    assert uow.commits == commits + 1  # the consent, given again; the request rolled back


async def test_a_proposal_sent_to_the_client_is_the_first_response_and_only_the_first_counts(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    submission = await request_from(uow, clock, book, calendar, ANNA)
    first_response = [r for r in uow.reminders.all if r.kind is ReminderKind.FIRST_RESPONSE]
    assert [r.status for r in first_response] == [ReminderStatus.PENDING]

    clock.advance(dt.timedelta(minutes=4))
    sent_at = clock.now()
    await proposal_sent(uow, clock, ivan, submission.deal_id, "КП на 10 мест", "Наше КП")
    clock.advance(dt.timedelta(minutes=1))
    await answer_client(uow, clock, ivan, submission.deal_id, "text", "Получили?")

    deal = await uow.deals.get(submission.deal_id)
    assert deal is not None and deal.taken_at == sent_at
    first_response = [r for r in uow.reminders.all if r.kind is ReminderKind.FIRST_RESPONSE]
    assert [r.status for r in first_response] == [ReminderStatus.DROPPED]
    logged = [(m.direction, m.text) for m in uow.deals.messages]
    assert logged == [("out", "Наше КП"), ("out", "Получили?")]
