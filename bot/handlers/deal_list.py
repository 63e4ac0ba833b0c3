"""/deals: the manager's "what do I do now", most urgent first, eight a page, with filters by
stage, overdue and (for supervisors) manager."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    WebAppInfo,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.handlers.errors import StaleButton
from bot.screens.deal_screens import deals_screen
from bot.screens.in_place import edit_screen
from bot.screens.notify import render_card, take_keyboard
from bot.screens.pages import PICKER_PAGE_SIZE, page_title, paging_buttons
from bot.telegram.callbacks import DealsPage
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import t, tp
from config.settings import Settings
from domain.clock import Clock
from domain.pages import page_of
from domain.roles import Action, Role, can
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.leads import lead_card
from services.staff import Actor, zone_of
from services.workspace import open_deals, queued_requests
from storage.unit_of_work import UnitOfWork

QUEUE_SHOWN = 5
"""Queued requests sent at a press: the oldest first, a handful a phone can take in."""


async def deals_command(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    text, markup = await _deals_screen(uow, clock, book, calendar, settings, actor, DealsPage())
    await message.answer(text, reply_markup=markup)


async def deals_page(
    query: CallbackQuery,
    callback_data: DealsPage,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    if callback_data.stage and callback_data.stage not in _stage_ids(book):
        raise StaleButton(callback_data.stage)
    if callback_data.pick == "q":
        await _send_queue(query, actor, uow, book, zone_of(actor, settings.timezone), clock.now())
        return
    if callback_data.pick == "s":
        text, markup = _stage_picker(book, callback_data)
    elif callback_data.pick == "m" and can(actor.role, Action.VIEW_ALL_DEALS):
        text, markup = await _manager_picker(uow, callback_data)
    else:
        text, markup = await _deals_screen(
            uow, clock, book, calendar, settings, actor, callback_data
        )
    await edit_screen(query, text, markup)
    await query.answer()


async def _send_queue(
    query: CallbackQuery,
    actor: Actor,
    uow: UnitOfWork,
    book: SalesBook,
    zone: ZoneInfo,
    now: dt.datetime,
) -> None:
    """The oldest requests nobody manages, each as its card with "take it", below the list."""
    deal_ids = await queued_requests(uow, actor, QUEUE_SHOWN)
    if not deal_ids or not isinstance(query.message, Message):
        await query.answer(tp("deals.queue_empty"), show_alert=True)
        return
    await query.answer()
    for deal_id in deal_ids:
        card = await lead_card(uow, deal_id)
        text = render_card(book, card, zone, now, "card.queue_offer_title")
        await query.message.answer(text, reply_markup=take_keyboard(deal_id))


def _stage_picker(book: SalesBook, view: DealsPage) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("deals.every_stage"),
        callback_data=view.model_copy(update={"stage": "", "pick": ""}),
    )
    # One button per stage id, named as each pipeline names it ("Встреча / демонстрация ·
    # Демонстрация"): the filter takes that stage in every pipeline.
    names: dict[str, list[str]] = {}
    for pipeline in book.pipelines:
        for stage in pipeline.stages:
            named = names.setdefault(stage.id, [])
            if stage.name not in named:
                named.append(stage.name)
    for stage_id, stage_names in names.items():
        keyboard.button(
            text=" · ".join(stage_names)[:64],
            callback_data=view.model_copy(update={"stage": stage_id, "pick": "", "page": 0}),
        )
    keyboard.adjust(2)
    return t("deals.pick_stage"), keyboard.as_markup()


async def _manager_picker(uow: UnitOfWork, view: DealsPage) -> tuple[str, InlineKeyboardMarkup]:
    """While it is shown, the view's `page` is the picker's page."""
    async with uow:
        every = await uow.staff.active_with_role(Role.MANAGER)
    managers, page, pages = page_of(every, view.page, PICKER_PAGE_SIZE)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("deals.every_manager"),
        callback_data=view.model_copy(update={"manager": 0, "pick": "", "page": 0}),
    )
    for member in managers:
        keyboard.button(
            text=member.first_name or str(member.telegram_id),
            callback_data=view.model_copy(
                update={"manager": member.telegram_id, "pick": "", "page": 0}
            ),
        )
    keyboard.adjust(2)
    keyboard.attach(paging_buttons(page, pages, lambda to: view.model_copy(update={"page": to})))
    return page_title(t("deals.pick_manager"), page, pages), keyboard.as_markup()


async def _deals_screen(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    actor: Actor,
    view: DealsPage,
) -> tuple[str, InlineKeyboardMarkup]:
    page = await open_deals(
        uow,
        clock,
        book,
        calendar,
        actor,
        page=view.page,
        stage_id=view.stage or None,
        overdue_only=view.overdue,
        manager_id=view.manager or None,
    )
    managers_filter = can(actor.role, Action.VIEW_ALL_DEALS)
    zone = zone_of(actor, settings.timezone)
    text, markup = deals_screen(page, book, zone, view, managers_filter)
    if settings.web_app_url:
        # The whole pipeline at once, in the Mini App (/deals is a private chat: web_app works).
        board = InlineKeyboardButton(
            text=tp("app.board_button"), web_app=WebAppInfo(url=settings.web_app_url)
        )
        markup.inline_keyboard.append([board])
    return text, markup


def _stage_ids(book: SalesBook) -> set[str]:
    return {stage.id for pipeline in book.pipelines for stage in pipeline.stages}


def create_router() -> Router:
    router = Router(name="deal_list")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(deals_command, Command("deals"), StateFilter("*"))
    router.callback_query.register(deals_page, DealsPage.filter())
    return router
