"""Personal reminders and snoozes, typed the way people say them.

A staff member who writes something with a time in it ("перезвонить завтра в 11") outside any
dialogue gets a reminder; `/reminders` lists them with buttons to move or cancel; on a deal card
"remind" asks for a time and "snooze" for a date and a reason.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.reminder_input import Refused, find_when, local_time, read_when, refusal_of, what_to_remind
from bot.screens.deal_screens import cancel_to_card
from bot.screens.in_place import edit_screen, retire_question
from bot.telegram.callbacks import CardAction, DealCard, ReminderAction, ReminderStep
from bot.telegram.card_messages import OpenCards, answer_card, edit_card, shown_in
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import asked_already, end_conversation, enter_conversation
from bot.telegram.i18n import join_within_limit, t, tp
from bot.when_parser import When
from config.settings import Settings
from domain.clock import Clock
from domain.errors import CommentRequired, PermissionDenied, SnoozeNotInFuture, SnoozeTooFar
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.deals import snooze_deal, wake_deal
from services.personal_reminders import (
    PersonalReminder,
    ReminderProblem,
    cancel_reminder,
    move_reminder,
    my_reminders,
    set_reminder,
)
from services.staff import Actor, zone_of
from services.workspace import card_after, view_deal
from storage.unit_of_work import UnitOfWork


class ReminderInput(StatesGroup):
    for_deal = State()
    moving = State()
    snooze = State()


async def list_reminders(
    message: Message, actor: Actor, uow: UnitOfWork, settings: Settings
) -> None:
    text, markup = _list_screen(await my_reminders(uow, actor), zone_of(actor, settings.timezone))
    await message.answer(text, reply_markup=markup)


async def typed_reminder(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """Free text from staff outside any dialogue: a reminder if it names a time, else the
    next router (the fallback) answers."""
    zone = zone_of(actor, settings.timezone)
    try:
        when = find_when(message.text or "", clock.now(), zone, book)
    except Refused as refused:
        await _say(message, refused)
        return
    if when is None:
        raise SkipHandler
    await _set(message, actor, uow, clock, zone, when, deal_id=None)


async def card_action(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    deal_id = callback_data.deal_id
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    if not view.deal.is_open and callback_data.action is CardAction.SNOOZE:
        await query.answer(tp("card.closed"), show_alert=True)
        return
    snoozing = callback_data.action is CardAction.SNOOZE
    asking = ReminderInput.snooze if snoozing else ReminderInput.for_deal
    if await asked_already(query, state, asking, {"deal_id": deal_id}):
        return
    await enter_conversation(state, asking, {"deal_id": deal_id})
    await query.answer()
    if isinstance(query.message, Message):
        asked = await query.message.answer(
            t("snooze.ask" if snoozing else "reminder.ask_when"),
            reply_markup=cancel_to_card(deal_id),
        )
        await state.update_data(asked=asked.message_id)


async def wake(
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
    """The snoozed deal's "back to work": the wake and the card it leaves in one transaction that
    reads the deal once."""
    view = await card_after(
        uow,
        clock,
        book,
        calendar,
        actor,
        lambda: wake_deal(uow, actor, callback_data.deal_id),
        shown_in=shown_in(query),
    )
    await edit_card(query, uow, actor, view, book, settings, remembered=True)
    await query.answer(tp("snooze.woken"))
    open_cards.changed(callback_data.deal_id, by=actor.user_id)


async def reminder_for_deal(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    zone = zone_of(actor, settings.timezone)
    when = await _typed_when(message, clock, book, zone, "reminder.not_understood")
    if when is None:
        return
    data = await state.get_data()
    if await _set(message, actor, uow, clock, zone, when, deal_id=data["deal_id"]):
        await end_conversation(state)
        await retire_question(message, data.get("asked"))


async def snooze_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    zone = zone_of(actor, settings.timezone)
    when = await _typed_when(message, clock, book, zone, "snooze.not_understood")
    if when is None:
        return
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    try:
        await snooze_deal(uow, clock, actor, deal_id, when.at, when.rest)
    except CommentRequired:
        await message.answer(t("snooze.reason_needed"))
        return
    except SnoozeNotInFuture:
        await message.answer(t("snooze.past", when=local_time(when.at, zone)))
        return
    except SnoozeTooFar:
        await message.answer(t("snooze.too_far", when=local_time(when.at, zone)))
        return
    await end_conversation(state)
    await retire_question(message, data.get("asked"))
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    await answer_card(message, uow, actor, view, book, settings)


async def reminder_button(
    query: CallbackQuery,
    callback_data: ReminderAction,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    settings: Settings,
) -> None:
    reminders = {r.id: r for r in await my_reminders(uow, actor)}
    reminder = reminders.get(callback_data.reminder_id)
    if reminder is None:
        await query.answer(tp("reminder.gone"), show_alert=True)
        return
    if callback_data.step is ReminderStep.CANCEL:
        await cancel_reminder(uow, actor, reminder.id)
        await query.answer(tp("reminder.cancelled", text=reminder.text))
        text, markup = _list_screen(
            await my_reminders(uow, actor), zone_of(actor, settings.timezone)
        )
        await edit_screen(query, text, markup)
        return
    await enter_conversation(state, ReminderInput.moving, {"reminder_id": reminder.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("reminder.ask_move", text=reminder.text))


async def move_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    zone = zone_of(actor, settings.timezone)
    when = await _typed_when(message, clock, book, zone, "reminder.not_understood")
    if when is None:
        return
    reminder_id: int = (await state.get_data())["reminder_id"]
    try:
        moved = await move_reminder(uow, clock, actor, reminder_id, when.at)
    except ReminderProblem as problem:
        if problem.reason == "not_found":  # gone: nothing left to ask the time for
            await end_conversation(state)
        await _say(message, refusal_of(problem, when.at, zone))
        return
    except PermissionDenied:
        await end_conversation(state)
        await message.answer(t("reminder.gone"))
        return
    await end_conversation(state)
    await message.answer(
        t("reminder.moved", when=local_time(moved.at, zone), text=moved.text),
        reply_markup=_reminder_buttons(moved),
    )


async def _set(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    zone: ZoneInfo,
    when: When,
    *,
    deal_id: int | None,
) -> bool:
    """Set the reminder and say so; False (after saying why) if it cannot be set."""
    text = what_to_remind("", when)
    try:
        reminder = await set_reminder(uow, clock, actor, when.at, text, deal_id)
    except ReminderProblem as problem:
        await _say(message, refusal_of(problem, when.at, zone))
        return False
    await message.answer(
        t("reminder.set", when=local_time(reminder.at, zone), text=reminder.text),
        reply_markup=_reminder_buttons(reminder),
    )
    return True


async def _typed_when(
    message: Message, clock: Clock, book: SalesBook, zone: ZoneInfo, not_understood: str
) -> When | None:
    if message.text is None:
        await message.answer(t("input.text_expected"))
        return None
    try:
        return read_when(message.text, clock.now(), zone, book, not_understood=not_understood)
    except Refused as refused:
        await _say(message, refused)
        return None


async def _say(message: Message, refused: Refused) -> None:
    await message.answer(t(refused.key, **refused.values))


def _list_screen(
    reminders: list[PersonalReminder], zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not reminders:
        return t("reminders.empty"), None
    lines = [t("reminders.title", count=len(reminders))]
    keyboard = InlineKeyboardBuilder()
    for number, reminder in enumerate(reminders, start=1):
        on_deal = t("reminders.on_deal", deal_id=reminder.deal_id) if reminder.deal_id else ""
        lines.append(
            t(
                "reminders.line",
                number=number,
                when=local_time(reminder.at, zone),
                text=reminder.text,
            )
            + on_deal
        )
        if number <= 20:  # buttons for the nearest ones: a keyboard a phone can show
            keyboard.attach(InlineKeyboardBuilder.from_markup(_reminder_buttons(reminder, number)))
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def _reminder_buttons(
    reminder: PersonalReminder, number: int | None = None
) -> InlineKeyboardMarkup:
    """Move and cancel: numbered as in a list, plain under the one reminder a message is about."""
    move = tp("reminders.move_button", number=number) if number else tp("reminders.move_one")
    cancel = tp("reminders.cancel_button", number=number) if number else tp("reminders.cancel_one")
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=move, callback_data=ReminderAction(reminder_id=reminder.id, step=ReminderStep.MOVE)
    )
    keyboard.button(
        text=cancel,
        callback_data=ReminderAction(reminder_id=reminder.id, step=ReminderStep.CANCEL),
    )
    keyboard.adjust(2)
    return keyboard.as_markup()


def create_router() -> Router:
    router = Router(name="reminders")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(list_reminders, Command("reminders"), StateFilter("*"))
    router.callback_query.register(
        card_action,
        DealCard.filter(F.action.in_({CardAction.REMIND, CardAction.SNOOZE})),
    )
    router.callback_query.register(wake, DealCard.filter(F.action == CardAction.WAKE))
    router.callback_query.register(reminder_button, ReminderAction.filter())
    router.message.register(reminder_for_deal, ReminderInput.for_deal)
    router.message.register(snooze_typed, ReminderInput.snooze)
    router.message.register(move_typed, ReminderInput.moving)
    return router


def create_typed_router() -> Router:
    """Free text with a time in it; included late, after every dialogue and the relay."""
    router = Router(name="typed reminders")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.message.register(typed_reminder, StateFilter(None), F.text, ~F.text.startswith("/"))
    return router
