"""The manager's workspace: the list of open deals by urgency, the deal card, activities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from domain.activity import Activity
from domain.business import ChatMessage
from domain.clock import Clock
from domain.contact import Contact
from domain.deal import MAX_COMMENT_LENGTH, Deal, ShownCard
from domain.errors import CommentTooLong
from domain.pages import page_of
from domain.reminders import Reminder, held_by_snooze
from domain.roles import Action, can, require
from domain.sales_book import SalesBook
from domain.urgency import Urgency, by_urgency
from domain.working_time import WorkingCalendar
from services.access import load_deal
from services.staff import Actor
from services.training import TrainingStatus, deal_opened, training_status
from services.unit_of_work import UnitOfWork

PAGE_SIZE = 8
CARD_ACTIVITIES = 5
CARD_CHAT_MESSAGES = 4
CARD_UPCOMING = 10
"""Reminders read for the card's next one: enough to reach past the few deadline reminders a
snooze holds back (each stage plans two or three) to the one that goes out at its time."""


class ActivityKind(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"
    PROPOSAL = "proposal"


@dataclass(frozen=True, slots=True)
class DealLine:
    urgency: Urgency
    client: str


@dataclass(frozen=True, slots=True)
class DealPage:
    lines: list[DealLine]
    page: int
    pages: int
    total: int
    queued: int = 0
    """Requests nobody manages, for a manager who may take one (a supervisor's list has them)."""
    manager_name: str | None = None
    """The manager a supervisor narrowed the list to, by name."""


@dataclass(frozen=True, slots=True)
class DealView:
    deal: Deal
    contact: Contact | None
    urgency: Urgency | None
    """None for a closed deal: it has no deadline."""
    activities: list[Activity]
    next_reminder: Reminder | None = None
    """The deal's next reminder to go out at its time (a deadline one, or a personal one)."""
    training: TrainingStatus | None = None
    """The trainee's walk, on their own sandbox deal."""
    chat: list[ChatMessage] = field(default_factory=list)
    """The last messages of the manager's own Telegram chat with the client, the newest
    first."""
    manager_name: str | None = None
    """Who manages the deal, for a viewer who sees everyone's deals ("" for nobody: queued)."""


async def open_deals(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    *,
    page: int = 0,
    stage_id: str | None = None,
    overdue_only: bool = False,
    manager_id: int | None = None,
) -> DealPage:
    """Open deals, most urgent first, a page at a time. A manager sees their own; a supervisor
    sees everyone's, or one manager's."""
    sees_all = can(actor.role, Action.VIEW_ALL_DEALS)
    if not sees_all:
        require(actor.role, Action.VIEW_OWN_DEALS)
        manager_id = actor.user_id
    now = clock.now()
    async with uow:
        queued = 0
        if not sees_all and can(actor.role, Action.CLAIM_LEAD):
            queued = await uow.deals.count_queued()
        deals = await uow.deals.open_deals(manager_id=manager_id, stage_id=stage_id)
        ranked = by_urgency(deals, book, calendar, now)
        if overdue_only:
            ranked = [u for u in ranked if u.is_overdue]
        shown, page, pages = page_of(ranked, page, PAGE_SIZE)
        names = await uow.contacts.names([u.deal.contact_id for u in shown if u.deal.contact_id])
        manager = await uow.staff.get(manager_id) if sees_all and manager_id else None
    lines = [DealLine(u, names.get(u.deal.contact_id or 0) or "—") for u in shown]
    return DealPage(
        lines=lines,
        page=page,
        pages=pages,
        total=len(ranked),
        queued=queued,
        manager_name=manager.first_name if manager else None,
    )


async def queued_requests(uow: UnitOfWork, actor: Actor, limit: int) -> list[int]:
    """The oldest requests nobody manages, for someone who may take one."""
    require(actor.role, Action.CLAIM_LEAD)
    async with uow:
        queued = await uow.deals.open_deals(queued=True, limit=limit)
    return [deal.id for deal in queued if deal.id is not None]


async def view_deal(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal_id: int,
) -> DealView:
    """The deal's card, if this person may see it."""
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=False)
        return await card_view(uow, clock, book, calendar, actor, deal)


async def card_after(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    change: Callable[[], Awaitable[Deal]],
    *,
    shown_in: tuple[int, int] | None = None,
) -> DealView:
    """A change to a deal and the card it leaves, in one transaction: the change reads the deal
    (once), the card's facts are read after it, and it all commits together, with the chat
    message (`shown_in`: chat id, message id) that is about to show the card, when known."""
    async with uow:
        deal = await change()
        view = await card_view(uow, clock, book, calendar, actor, deal)
        if shown_in is not None and deal.id is not None:
            await uow.deals.remember_card(ShownCard(deal.id, actor.user_id, *shown_in))
        await uow.commit()
        return view


async def deal_for(uow: UnitOfWork, actor: Actor, deal_id: int) -> Deal:
    """The deal alone (for a screen that shows no more of it), if this person may see it."""
    async with uow:
        return await load_deal(uow, actor, deal_id, write=False)


async def checklist(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int, *, first_open: bool
) -> tuple[Deal, int]:
    """The deal and the current stage's exit criteria already ticked, as a bit mask: when the
    checklist first opens, those that activities logged since the deal entered the stage have
    ticked by themselves (the stage's `ticked_by` in the book)."""
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=False)
        stage = book.pipeline(deal.pipeline_id).stage(deal.stage_id)
        if not first_open or not stage.ticked_by:
            return deal, 0
        kinds = await uow.activities.kinds_since(deal_id, deal.stage_entered_at)
    mask = 0
    for kind, criterion in stage.ticked_by.items():
        if kind in kinds:
            mask |= 1 << stage.exit_criteria.index(criterion)
    return deal, mask


async def card_view(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal: Deal,
) -> DealView:
    """What the card shows besides the deal (already read, by the caller's transaction), read in
    that same transaction."""
    assert deal.id is not None
    contact = await uow.contacts.get(deal.contact_id) if deal.contact_id else None
    activities = await uow.activities.latest(deal.id, limit=CARD_ACTIVITIES)
    chat = await uow.deals.chat_history(deal.id, limit=CARD_CHAT_MESSAGES)
    # A closed deal has its own: the steps after a win, a personal "call back in spring".
    upcoming = await uow.reminders.upcoming_for_deal(
        deal.id, clock.now(), actor.user_id, CARD_UPCOMING
    )
    urgency = by_urgency([deal], book, calendar, clock.now())[0] if deal.is_open else None
    manager_name = None
    if can(actor.role, Action.VIEW_ALL_DEALS):
        manager = await uow.staff.get(deal.manager_id) if deal.manager_id is not None else None
        manager_name = manager.first_name if manager is not None else ""
    training = None
    if deal.is_sandbox:
        await deal_opened(uow, clock, actor.user_id, deal.id)
        training = await training_status(uow, clock, actor.user_id)
    return DealView(
        deal=deal,
        contact=contact,
        urgency=urgency,
        activities=activities,
        # A snoozed deal's deadline reminders wait for the snooze's end (the card's snooze line
        # says when): the next one is what comes at its own time.
        next_reminder=next(
            (r for r in upcoming if not held_by_snooze(r.kind, deal, r.due_at)), None
        ),
        training=training,
        chat=chat,
        manager_name=manager_name,
    )


async def log_activity(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    deal_id: int,
    kind: ActivityKind,
    comment: str | None = None,
) -> Deal:
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
        raise CommentTooLong(MAX_COMMENT_LENGTH, len(comment))
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=True)
        uow.activities.add(Activity(deal_id, kind.value, actor.user_id, clock.now(), comment))
        await uow.commit()
        return deal
