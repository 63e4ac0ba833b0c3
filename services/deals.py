"""Use cases that change a deal: open, advance, move back, win, lose. Each loads the deal, asks
the domain, stores the deal and its stage-history entry in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from decimal import Decimal

from domain.clock import Clock
from domain.deal import Deal, StageTransition, open_deal, with_deal_id
from domain.errors import DomainError
from domain.reminders import (
    PlannedReminder,
    obsolete_after_move,
    plan_follow_up,
    plan_stage,
)
from domain.roles import Action, require
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.access import load_deal
from services.staff import Actor
from services.unit_of_work import UnitOfWork


async def create_deal(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    pipeline_id: str,
    *,
    contact_id: int | None = None,
    manager_id: int | None = None,
    source: str | None = None,
    need: str | None = None,
) -> Deal:
    pipeline = book.pipeline(pipeline_id)
    async with uow:
        deal, created = open_deal(
            pipeline,
            clock.now(),
            manager_id=manager_id,
            contact_id=contact_id,
            source=source,
            need=need,
        )
        deal.refresh_deadline(calendar, pipeline)
        await uow.deals.add(deal)
        assert deal.id is not None
        uow.deals.record(with_deal_id(created, deal.id))
        await uow.reminders.plan(stage_reminders(book, calendar)(deal), clock.now())
        await uow.commit()
        return deal


async def advance_deal(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal_id: int,
    ticked: Collection[int],
    *,
    override: bool = False,
    comment: str | None = None,
) -> Deal:
    if override:
        require(actor.role, Action.OVERRIDE_EXIT_CRITERIA)
    return await _change(
        uow,
        clock,
        actor,
        deal_id,
        lambda deal: deal.advance(
            book.pipeline(deal.pipeline_id),
            ticked,
            actor.user_id,
            clock.now(),
            override=override,
            comment=comment,
        ),
        stage_reminders(book, calendar),
        stage_deadline(book, calendar),
    )


async def move_deal_back(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal_id: int,
    to_stage_id: str,
    comment: str | None,
) -> Deal:
    return await _change(
        uow,
        clock,
        actor,
        deal_id,
        lambda deal: deal.move_back(
            book.pipeline(deal.pipeline_id), to_stage_id, actor.user_id, clock.now(), comment
        ),
        stage_reminders(book, calendar),
        stage_deadline(book, calendar),
    )


async def win_deal(
    uow: UnitOfWork, clock: Clock, book: SalesBook, actor: Actor, deal_id: int, amount: Decimal
) -> Deal:
    return await _change(
        uow,
        clock,
        actor,
        deal_id,
        lambda deal: deal.win(amount, actor.user_id, clock.now(), currency=book.currency),
        lambda deal: plan_follow_up(deal, book.follow_up),
    )


async def lose_deal(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    actor: Actor,
    deal_id: int,
    reason_id: str,
    comment: str | None = None,
) -> Deal:
    return await _change(
        uow,
        clock,
        actor,
        deal_id,
        lambda deal: deal.lose(book, reason_id, actor.user_id, clock.now(), comment),
    )


async def reopen_deal(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal_id: int,
    comment: str | None,
) -> Deal:
    """A supervisor opens a won or lost deal again (a client came back, a payment bounced)."""
    require(actor.role, Action.REOPEN_DEAL)
    return await _change(
        uow,
        clock,
        actor,
        deal_id,
        lambda deal: deal.reopen(actor.user_id, clock.now(), comment),
        stage_reminders(book, calendar),
        stage_deadline(book, calendar),
    )


async def snooze_deal(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    deal_id: int,
    until: dt.datetime,
    reason: str | None,
) -> Deal:
    """Pause a deal's clock until a date, with a reason; its reminders wait until then."""
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=True)
        deal.snooze(until, reason, clock.now())
        await uow.deals.save(deal)
        await uow.commit()
        return deal


async def expect_amount(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int, amount: Decimal
) -> Deal:
    """Set the amount an open deal is expected to bring."""
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=True)
        deal.expect(amount, currency=book.currency)
        await uow.deals.save(deal)
        await uow.commit()
        return deal


async def wake_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> Deal:
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=True)
        deal.wake()
        await uow.deals.save(deal)
        await uow.commit()
        return deal


async def backfill_deadlines(
    uow: UnitOfWork, book: SalesBook, calendar: WorkingCalendar, batch: int = 500
) -> int:
    """Give open deals stored before deadlines were kept their current stage's deadline (once,
    at start; afterwards every stage change keeps it). Returns how many were filled in."""
    filled, last_id = 0, 0
    while True:
        async with uow:
            deals = await uow.deals.open_without_deadline(last_id, batch)
            for deal in deals:
                assert deal.id is not None
                last_id = deal.id
                try:
                    deal.refresh_deadline(calendar, book.pipeline(deal.pipeline_id))
                except (KeyError, ValueError, DomainError):
                    continue  # its pipeline or stage left the book: no deadline to count
                await uow.deals.save(deal)
                filled += 1
            await uow.commit()
        if len(deals) < batch:
            return filled


def stage_deadline(book: SalesBook, calendar: WorkingCalendar) -> Callable[[Deal], None]:
    """Keeps the deal's stored deadline in step with the stage it is in."""
    return lambda deal: deal.refresh_deadline(calendar, book.pipeline(deal.pipeline_id))


def stage_reminders(
    book: SalesBook, calendar: WorkingCalendar
) -> Callable[[Deal], list[PlannedReminder]]:
    """What a deal entering a stage must be reminded of, for this book and calendar."""
    return lambda deal: plan_stage(deal, book.pipeline(deal.pipeline_id), calendar, book.reminders)


async def _change(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    deal_id: int,
    move: Callable[[Deal], StageTransition],
    plan: Callable[[Deal], list[PlannedReminder]] | None = None,
    deadline: Callable[[Deal], None] | None = None,
) -> Deal:
    """Apply one domain move to a deal this person may change, keep it in the history and plan
    the reminders the move calls for, all in one transaction (a move is never without them)."""
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=True)
        transition = move(deal)
        if deadline is not None:
            deadline(deal)
        elif not deal.is_open:
            deal.deadline_at = None
        await uow.deals.save(deal)
        uow.deals.record(transition)
        assert deal.id is not None
        await uow.reminders.drop_pending(deal.id, obsolete_after_move(deal))
        if plan is not None:
            await uow.reminders.plan(plan(deal), clock.now())
        await uow.commit()
        return deal
