"""Moving a deal (services.deals): forward, won, lost, on the in-memory unit of work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.clock import FixedClock
from domain.deal import DealStatus, TransitionKind
from domain.errors import ExitCriteriaNotMet, PermissionDenied, UnknownLostReason
from domain.reminders import Audience, ReminderKind, ReminderStatus
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.deals import advance_deal, lose_deal, reopen_deal, win_deal
from tests.services.fakes import FakeUnitOfWork
from tests.services.given import ANNA, request_from, team


async def test_a_deal_with_its_criteria_met_moves_on_and_its_reminders_with_it(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    first, second = book.pipelines[0].stages[:2]
    clock.advance(dt.timedelta(hours=1))

    moved = await advance_deal(
        uow, clock, book, calendar, ivan, deal_id, range(len(first.exit_criteria))
    )

    assert moved.stage_id == second.id
    stored = await uow.deals.get(deal_id)
    assert stored is not None and (stored.stage_id, stored.stage_entered_at) == (
        second.id,
        clock.now(),
    )
    assert stored.deadline_at is not None and stored.deadline_at > clock.now()
    history = await uow.deals.history(deal_id)
    assert [(move.kind, move.from_stage, move.to_stage) for move in history] == [
        (TransitionKind.CREATED, None, first.id),
        (TransitionKind.FORWARD, first.id, second.id),
    ]
    assert history[-1].actor_id == ivan.user_id
    by_stage = {
        (reminder.stage_id, reminder.status)
        for reminder in uow.reminders.all
        if reminder.kind is ReminderKind.OVERDUE and reminder.audience is Audience.MANAGER
    }
    assert by_stage == {(first.id, ReminderStatus.DROPPED), (second.id, ReminderStatus.PENDING)}


async def test_a_deal_with_a_criterion_unmet_stays_where_it_is(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    first = book.pipelines[0].stages[0]
    before = (await uow.deals.get(deal_id), uow.reminders.all, uow.commits)

    with pytest.raises(ExitCriteriaNotMet):
        await advance_deal(uow, clock, book, calendar, ivan, deal_id, ticked=[0])

    assert len(first.exit_criteria) > 1
    assert (await uow.deals.get(deal_id), uow.reminders.all, uow.commits) == before
    assert len(await uow.deals.history(deal_id)) == 1


async def test_a_colleague_may_not_move_someone_elses_deal(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    _, petr, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    every = range(len(book.pipelines[0].stages[0].exit_criteria))

    with pytest.raises(PermissionDenied):
        await advance_deal(uow, clock, book, calendar, petr, deal_id, every)

    stored = await uow.deals.get(deal_id)
    assert stored is not None and stored.stage_id == book.pipelines[0].stages[0].id


async def test_a_won_deal_keeps_its_amount_and_plans_the_books_follow_ups(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id

    won = await win_deal(uow, clock, book, ivan, deal_id, Decimal("150000.50"))

    assert won.status is DealStatus.WON
    stored = await uow.deals.get(deal_id)
    assert stored is not None
    assert (stored.status, stored.amount, stored.currency) == (
        DealStatus.WON,
        Decimal("150000.50"),
        book.currency,
    )
    assert (stored.closed_at, stored.deadline_at) == (clock.now(), None)
    assert [move.kind for move in await uow.deals.history(deal_id)][-1] is TransitionKind.WON
    follow_ups = [r for r in uow.reminders.all if r.kind is ReminderKind.FOLLOW_UP]
    assert [r.due_at for r in follow_ups] == [
        clock.now() + dt.timedelta(days=step.after_days) for step in book.follow_up
    ]
    still_pending = {r.kind for r in uow.reminders.all if r.status is ReminderStatus.PENDING} - {
        ReminderKind.FOLLOW_UP,
        ReminderKind.CARD,
        ReminderKind.NOTE,  # the lead's "request accepted", which no bot took here
    }
    assert still_pending == set()  # the stage's and the first response's reminders are dropped


async def test_a_reopened_won_deal_drops_its_steps_after_the_sale(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, head = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    await win_deal(uow, clock, book, ivan, deal_id, Decimal("150000"))

    await reopen_deal(uow, clock, book, calendar, head, deal_id, "оплата не прошла")

    follow_ups = [r for r in uow.reminders.all if r.kind is ReminderKind.FOLLOW_UP]
    assert len(follow_ups) == len(book.follow_up)
    assert {r.status for r in follow_ups} == {ReminderStatus.DROPPED}  # the card shows none


async def test_a_lost_deal_keeps_the_books_reason_and_an_unknown_one_changes_nothing(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id

    with pytest.raises(UnknownLostReason):
        await lose_deal(uow, clock, book, ivan, deal_id, "bad_weather")
    open_deal = await uow.deals.get(deal_id)
    assert open_deal is not None and open_deal.is_open

    reason = book.lost_reasons[0].id
    await lose_deal(uow, clock, book, ivan, deal_id, reason, "Дорого")

    stored = await uow.deals.get(deal_id)
    assert stored is not None
    assert (stored.status, stored.lost_reason_id, stored.close_comment) == (
        DealStatus.LOST,
        reason,
        "Дорого",
    )
    assert (await uow.deals.history(deal_id))[-1].kind is TransitionKind.LOST
