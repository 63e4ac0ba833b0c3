"""Handing a deal to another manager (services.reassignment.reassign_deal), on the in-memory
unit of work."""

from __future__ import annotations

import pytest

from domain.clock import FixedClock
from domain.deal import Reassignment
from domain.errors import PermissionDenied
from domain.reminders import Audience, ReminderKind
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.access import DealNotFound
from services.leads import take_deal
from services.reassignment import reassign_deal
from services.staff import StaffError, deactivate
from services.training import start_training
from tests.services.fakes import FakeUnitOfWork
from tests.services.given import ANNA, hire, request_from, team


async def test_a_handed_over_deal_is_the_new_managers_and_both_managers_hear_of_it(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, olga = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    owed_before = len(uow.reminders.all)

    handover = await reassign_deal(uow, clock, olga, deal_id, petr.user_id)

    assert handover.deal_ids == [deal_id]
    assert handover.from_manager is not None and handover.from_manager.name == "Иван"
    assert handover.to_manager.name == "Пётр"
    stored = await uow.deals.get(deal_id)
    assert stored is not None and stored.manager_id == petr.user_id
    assert uow.deals.reassignments == [
        Reassignment(deal_id, ivan.user_id, petr.user_id, olga.user_id, clock.now())
    ]
    owed = [
        (reminder.kind, reminder.audience, reminder.staff_id, (reminder.payload or {}).get("key"))
        for reminder in uow.reminders.all[owed_before:]
    ]
    assert owed == [
        (ReminderKind.CARD, Audience.STAFF, petr.user_id, None),
        (ReminderKind.NOTE, Audience.STAFF, ivan.user_id, "handover.given_one"),
    ]


async def test_a_client_who_was_given_a_managers_name_is_told_the_new_one(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, olga = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    await take_deal(uow, clock, ivan, deal_id)  # Anna is told "Менеджер Иван взял вашу заявку"
    owed_before = len(uow.reminders.all)

    await reassign_deal(uow, clock, olga, deal_id, petr.user_id)

    to_client = [r for r in uow.reminders.all[owed_before:] if r.audience is Audience.CLIENT]
    assert [(r.kind, r.deal_id, r.payload) for r in to_client] == [
        (
            ReminderKind.NOTE,
            deal_id,
            {"key": "lead.handed_over", "values": {"deal_id": deal_id, "manager": "Пётр"}},
        )
    ]


async def test_a_deal_goes_only_to_an_active_manager(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, olga = await team(uow, clock, book)
    admin = await hire(uow, clock, 1, Role.ADMIN, "Админ")
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    await deactivate(uow, clock, admin, petr.user_id, admin_ids=set())

    for nobody_to_take_it in (petr.user_id, olga.user_id, 999):
        with pytest.raises(StaffError) as refused:
            await reassign_deal(uow, clock, olga, deal_id, nobody_to_take_it)
        assert refused.value.reason == "not_a_manager"

    stored = await uow.deals.get(deal_id)
    assert stored is not None and stored.manager_id == ivan.user_id
    assert uow.deals.reassignments == []


async def test_a_manager_may_not_hand_deals_over(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id

    with pytest.raises(PermissionDenied):
        await reassign_deal(uow, clock, ivan, deal_id, petr.user_id)

    assert uow.deals.reassignments == []


async def test_a_trainees_sandbox_deal_goes_to_nobody_else(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, olga = await team(uow, clock, book)
    walk = await start_training(
        uow, clock, book, calendar, ivan, client_name="Учебный", client_company="—", need="CRM"
    )
    assert walk.deal_id is not None

    with pytest.raises(DealNotFound):
        await reassign_deal(uow, clock, olga, walk.deal_id, petr.user_id)

    sandbox = await uow.deals.get(walk.deal_id)
    assert sandbox is not None and sandbox.manager_id == ivan.user_id
