"""The deal's card in the chat, kept in step with changes made elsewhere: the chat's card
message each staff member last opened is remembered, and after a change from the Mini App it is
shown again as that person would now see it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.clock import Clock
from domain.deal import ShownCard
from domain.errors import PermissionDenied
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.access import DealNotFound
from services.staff import Actor
from services.unit_of_work import UnitOfWork
from services.workspace import DealView, view_deal


@dataclass(frozen=True, slots=True)
class CardToShow:
    card: ShownCard
    viewer: Actor
    """Whose chat it is: the card is drawn with their role, reminders and language."""
    view: DealView | None
    """None: the viewer may no longer see the deal (handed to another manager, or they left the
    team); the card is forgotten, and says so once."""


async def remember_card(
    uow: UnitOfWork, actor: Actor, deal_id: int, chat_id: int, message_id: int
) -> None:
    async with uow:
        await uow.deals.remember_card(ShownCard(deal_id, actor.user_id, chat_id, message_id))
        await uow.commit()


async def cards_to_show(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    deal_id: int,
    *,
    except_staff: int | None = None,
) -> list[CardToShow]:
    """The deal's cards open in staff chats (but `except_staff`'s: the one who made the change
    sees it already), each with the deal as its viewer may see it now. The card of someone who
    may no longer see the deal (handed to another manager, left the team) is forgotten, and
    comes without a view."""
    async with uow:
        cards = await uow.deals.shown_cards(deal_id)
    cards = [card for card in cards if card.staff_id != except_staff]
    shown: list[CardToShow] = []
    for card in cards:
        async with uow:
            member = await uow.staff.get(card.staff_id)
            viewer = (
                Actor(
                    member.telegram_id,
                    member.role,
                    member.first_name,
                    member.username,
                    member.language_code,
                    member.timezone,
                )
                if member is not None and member.is_active
                else None
            )
        try:
            if viewer is None:
                raise DealNotFound(deal_id)
            view = await view_deal(uow, clock, book, calendar, viewer, deal_id)
        except DealNotFound:
            await forget_card(uow, card)
            continue
        except PermissionDenied:  # still on the team: their card stops offering the deal
            await forget_card(uow, card)
            assert viewer is not None
            shown.append(CardToShow(card, viewer, None))
            continue
        shown.append(CardToShow(card, viewer, view))
    return shown


async def forget_card(uow: UnitOfWork, card: ShownCard) -> None:
    """The message is gone (deleted in the chat) or no longer the viewer's to see."""
    async with uow:
        await uow.deals.forget_card(card)
        await uow.commit()
