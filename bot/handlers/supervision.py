"""A supervisor hands deals over: one deal from its card, or every open deal of a manager from
/team. The new manager gets the card (or a summary), the previous one is told, and the lead's
chat follows because the relay always writes to the deal's current manager."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.handlers.errors import StaleButton
from bot.screens.in_place import edit_screen
from bot.screens.pages import PICKER_PAGE_SIZE, page_title, paging_buttons
from bot.telegram.callbacks import (
    CardAction,
    DealCard,
    Handover,
    TeamAction,
    TeamMember,
    number_arg,
)
from bot.telegram.card_messages import OpenCards, edit_card
from bot.telegram.filters import HasRole
from bot.telegram.i18n import t, tp
from config.settings import Settings
from domain.clock import Clock
from domain.errors import AlreadyAssigned, DealClosed
from domain.pages import page_of
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.reassignment import Colleague, holder, managers, reassign_all, reassign_deal
from services.staff import Actor, StaffError
from services.workspace import view_deal
from storage.unit_of_work import UnitOfWork

PAGE_ARG = "p"
"""A card's REASSIGN `arg` starting so is a page of the picker, not a manager's id."""


async def reassign_from_card(
    query: CallbackQuery,
    callback_data: DealCard,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    open_cards: OpenCards,
) -> None:
    deal_id = callback_data.deal_id
    try:
        if not callback_data.arg or callback_data.arg.startswith(PAGE_ARG):
            view = await view_deal(uow, clock, book, calendar, actor, deal_id)
            if not view.deal.is_open:
                raise DealClosed(deal_id, view.deal.status)
            current = view.deal.manager_id
            choices = [c for c in await managers(uow, actor) if c.user_id != current]
            page = int(callback_data.arg.removeprefix(PAGE_ARG) or 0)
            await edit_screen(query, *_deal_target_picker(deal_id, choices, page))
            await query.answer()
            return
        # The handover reads the deal and refuses a closed, missing or forged one itself.
        handover = await reassign_deal(uow, clock, actor, deal_id, number_arg(callback_data.arg))
    except ValueError:  # a manager's id that is not a number: forged
        raise StaleButton(callback_data.arg) from None
    except AlreadyAssigned:
        await query.answer(tp("handover.already_theirs"), show_alert=True)
        return
    except StaffError:
        await query.answer(tp("handover.not_a_manager"), show_alert=True)
        return
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    await edit_card(query, uow, actor, view, book, settings)
    await query.answer(tp("handover.done_one", name=handover.to_manager.name))
    open_cards.changed(deal_id, by=actor.user_id)


async def hand_over_all(
    query: CallbackQuery,
    callback_data: Handover,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    open_cards: OpenCards,
) -> None:
    try:
        colleagues = {c.user_id: c for c in await managers(uow, actor)}
        source = await holder(uow, actor, callback_data.from_id)
        if source is None or source.open_deals == 0:
            await query.answer(tp("handover.nothing_to_hand_over"), show_alert=True)
            return
        if not callback_data.to_id:
            choices = [c for c in colleagues.values() if c.user_id != source.user_id]
            picker = _team_target_picker(source, choices, callback_data.page)
            await edit_screen(query, *picker)
            await query.answer()
            return
        target = colleagues.get(callback_data.to_id)
        if target is None or target.user_id == source.user_id:
            await query.answer(tp("handover.not_a_manager"), show_alert=True)
            return
        if not callback_data.confirmed:
            await edit_screen(query, *_confirm_screen(source, target))
            await query.answer()
            return
        handover = await reassign_all(uow, clock, actor, source.user_id, target.user_id)
    except StaffError:
        await query.answer(tp("handover.not_a_manager"), show_alert=True)
        return
    for deal_id in handover.deal_ids:  # their open cards: the old manager's close
        open_cards.changed(deal_id, by=actor.user_id)
    await edit_screen(
        query,
        t(
            # A former colleague is not written to: only the new manager was told.
            "handover.done_many" if source.receives_messages else "handover.done_many_former",
            count=len(handover.deal_ids),
            source=source.name,
            target=target.name,
        ),
        None,
    )
    await query.answer()


def _deal_target_picker(
    deal_id: int, choices: list[Colleague], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    def pick(colleague: Colleague) -> DealCard:
        return DealCard(deal_id=deal_id, action=CardAction.REASSIGN, arg=str(colleague.user_id))

    def to_page(to: int) -> DealCard:
        return DealCard(deal_id=deal_id, action=CardAction.REASSIGN, arg=f"{PAGE_ARG}{to}")

    title = t("handover.pick_for_deal", deal_id=deal_id)
    cancel = DealCard(deal_id=deal_id)
    return _picker(title, choices, page, pick, to_page, cancel)


def _team_target_picker(
    source: Colleague, choices: list[Colleague], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    def pick(colleague: Colleague) -> Handover:
        return Handover(from_id=source.user_id, to_id=colleague.user_id)

    def to_page(to: int) -> Handover:
        return Handover(from_id=source.user_id, page=to)

    title = t("handover.pick_for_all", count=source.open_deals, name=source.name)
    cancel = TeamMember(action=TeamAction.KEEP, staff_id=source.user_id)
    return _picker(title, choices, page, pick, to_page, cancel)


def _picker(
    title: str,
    choices: list[Colleague],
    page: int,
    pick: Callable[[Colleague], CallbackData],
    to_page: Callable[[int], CallbackData],
    cancel: CallbackData,
) -> tuple[str, InlineKeyboardMarkup]:
    """The colleagues to give deals to, a page at a time (a large team's list passed
    Telegram's 100 buttons), with how many open deals each has already."""
    shown, page, pages = page_of(choices, page, PICKER_PAGE_SIZE)
    keyboard = InlineKeyboardBuilder()
    for colleague in shown:
        keyboard.button(
            text=tp("handover.colleague", name=colleague.name, count=colleague.open_deals),
            callback_data=pick(colleague),
        )
    keyboard.adjust(1)
    keyboard.attach(paging_buttons(page, pages, to_page))
    keyboard.row(InlineKeyboardButton(text=tp("button.cancel"), callback_data=cancel.pack()))
    text = page_title(title, page, pages)
    if not choices:
        text += "\n\n" + t("handover.nobody")
    return text, keyboard.as_markup()


def _confirm_screen(source: Colleague, target: Colleague) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("handover.confirm_button"),
        callback_data=Handover(from_id=source.user_id, to_id=target.user_id, confirmed=True),
    )
    keyboard.button(
        text=tp("button.cancel"),
        callback_data=TeamMember(action=TeamAction.KEEP, staff_id=source.user_id),
    )
    keyboard.adjust(1)
    text = t("handover.confirm", count=source.open_deals, source=source.name, target=target.name)
    return text, keyboard.as_markup()


def create_router() -> Router:
    router = Router(name="supervision")
    router.callback_query.filter(HasRole(Role.SUPERVISOR, Role.ADMIN))
    router.callback_query.register(
        reassign_from_card, DealCard.filter(F.action == CardAction.REASSIGN)
    )
    router.callback_query.register(hand_over_all, Handover.filter())
    return router
