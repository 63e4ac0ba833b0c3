"""The Mini App's board and deal: the same deals, rules and moves as the chat's /deals and card,
shaped for a screen that shows a whole pipeline at once."""

from __future__ import annotations

from dataclasses import dataclass

from domain.clock import Clock
from domain.contact import Contact
from domain.deal import StageTransition
from domain.roles import Action, can, require
from domain.sales_book import SalesBook
from domain.urgency import Urgency, by_urgency
from domain.working_time import WorkingCalendar
from services.staff import Actor
from services.unit_of_work import UnitOfWork
from services.workspace import DealView, view_deal


@dataclass(frozen=True, slots=True)
class BoardCard:
    urgency: Urgency
    contact: Contact | None


@dataclass(frozen=True, slots=True)
class Board:
    pipeline_id: str
    cards: list[BoardCard]
    """The pipeline's open deals the person may see, most urgent first."""


@dataclass(frozen=True, slots=True)
class DealDetails:
    view: DealView
    history: list[StageTransition]
    answers: dict[str, int]
    """Qualification answers: question id → the chosen option's index."""


async def board(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    *,
    pipeline_id: str,
    manager_id: int | None = None,
    search: str = "",
    overdue_only: bool = False,
) -> Board:
    """A manager sees their own open deals; a supervisor the team's, or one manager's (the rule
    of `services.workspace.open_deals`)."""
    book.pipeline(pipeline_id)  # an unknown pipeline is a KeyError before any read
    if not can(actor.role, Action.VIEW_ALL_DEALS):
        require(actor.role, Action.VIEW_OWN_DEALS)
        manager_id = actor.user_id
    async with uow:
        deals = await uow.deals.open_deals(manager_id=manager_id)
        deals = [d for d in deals if d.pipeline_id == pipeline_id]
        contacts = await uow.contacts.many([d.contact_id for d in deals if d.contact_id])
    ranked = by_urgency(deals, book, calendar, clock.now())
    if overdue_only:
        ranked = [u for u in ranked if u.is_overdue]
    cards = [BoardCard(u, contacts.get(u.deal.contact_id or 0)) for u in ranked]
    wanted = search.strip().casefold()
    if wanted:
        cards = [card for card in cards if _matches(card.contact, wanted)]
    return Board(pipeline_id, cards)


async def deal_details(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal_id: int,
) -> DealDetails:
    """Everything the app's deal screen shows, in one transaction, if this person may see it."""
    async with uow:
        view = await view_deal(uow, clock, book, calendar, actor, deal_id)
        history = await uow.deals.history(deal_id)
        framework = book.framework_for(view.deal.pipeline_id)
        answers = await uow.deals.qualification_answers(deal_id, framework.id)
        return DealDetails(view, history, answers)


def _matches(contact: Contact | None, wanted: str) -> bool:
    if contact is None:
        return False
    texts = [contact.name or "", contact.company or ""]
    if any(wanted in text.casefold() for text in texts):
        return True
    digits = "".join(ch for ch in wanted if ch.isdigit())
    phone = "".join(ch for ch in contact.phone or "" if ch.isdigit())
    return bool(digits) and digits in phone
