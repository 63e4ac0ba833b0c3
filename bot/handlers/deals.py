"""/deals and the deal card: the manager's "what do I do now", from a phone.

The card edits itself in place. Every button re-checks in the service that the deal is the
person's to see or change: callback data comes from the client and can be forged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.handlers.errors import StaleButton
from bot.handlers.scripts import stage_scripts
from bot.screens.deal_screens import back_screen, checklist_screen, lost_screen
from bot.screens.in_place import edit_screen, retire_question
from bot.telegram.callbacks import CardAction, DealCard
from bot.telegram.card_messages import OpenCards, answer_card, edit_card, shown_in
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import asked_already, end_conversation, enter_conversation
from bot.telegram.i18n import money_exact, t, tp
from bot.telegram.repeated_presses import ONE_PER_TAP
from config.settings import Settings
from domain.amounts import parse_amount
from domain.clock import Clock
from domain.deal import MAX_COMMENT_LENGTH, Deal
from domain.errors import (
    CommentRequired,
    InvalidAmount,
)
from domain.roles import Action, require
from domain.sales_book import SalesBook
from domain.scripts import ScriptLibrary
from domain.working_time import WorkingCalendar
from services.deals import (
    advance_deal,
    expect_amount,
    lose_deal,
    move_deal_back,
    reopen_deal,
    win_deal,
)
from services.staff import Actor
from services.workspace import (
    ActivityKind,
    DealView,
    card_after,
    checklist,
    deal_for,
    log_activity,
    view_deal,
)
from storage.unit_of_work import UnitOfWork


class CardInput(StatesGroup):
    back_comment = State()
    activity_comment = State()
    won_amount = State()
    expected_amount = State()
    lost_comment = State()
    override_comment = State()
    reopen_comment = State()
    qualification_comment = State()
    """A question is on screen; typed text becomes the comment of the answer about to be
    tapped."""


# --- the card ---------------------------------------------------------------------------------


async def deal_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    """`/deal 123`: any deal by its number, closed ones included (which is how a supervisor
    reaches a deal to reopen it)."""
    number = (command.args or "").strip().lstrip("№#")
    if not number.isdecimal():
        await message.answer(t("deal.ask_number"))
        return
    if len(number) > 12:  # more deals than any team will have, and than SQL holds
        await message.answer(t("deal.not_found", deal_id=number))
        return
    view = await view_deal(uow, clock, book, calendar, actor, int(number))
    await answer_card(message, uow, actor, view, book, settings)


# --- the card's buttons: one handler per action; refusals are answered by bot/handlers/errors


async def open_card(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    await end_conversation(state)
    view = await view_deal(uow, clock, book, calendar, actor, callback_data.deal_id)
    await edit_card(query, uow, actor, view, book, settings)
    await query.answer()


async def show_checklist(
    query: CallbackQuery, callback_data: DealCard, actor: Actor, uow: UnitOfWork, book: SalesBook
) -> None:
    """ "Next stage": the exit criteria to tick (first opened: what the deal's history has
    ticked by itself); each tick redraws it."""
    first_open = callback_data.action is CardAction.ADVANCE
    deal, done = await checklist(uow, book, actor, callback_data.deal_id, first_open=first_open)
    await edit_screen(query, *checklist_screen(deal, book, callback_data.ticked | done, actor.role))
    await query.answer()


async def confirm_advance(
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
    ticked = _bits(callback_data.ticked)
    view = await card_after(
        uow,
        clock,
        book,
        calendar,
        actor,
        lambda: advance_deal(uow, clock, book, calendar, actor, callback_data.deal_id, ticked),
        shown_in=shown_in(query),
    )
    await edit_card(query, uow, actor, view, book, settings, remembered=True)
    await query.answer(tp("card.moved"))
    open_cards.changed(callback_data.deal_id, by=actor.user_id)


async def show_back_stages(
    query: CallbackQuery, callback_data: DealCard, actor: Actor, uow: UnitOfWork, book: SalesBook
) -> None:
    deal = await deal_for(uow, actor, callback_data.deal_id)
    await edit_screen(query, *back_screen(deal, book))
    await query.answer()


async def show_lost_reasons(
    query: CallbackQuery, callback_data: DealCard, actor: Actor, uow: UnitOfWork, book: SalesBook
) -> None:
    deal = await deal_for(uow, actor, callback_data.deal_id)
    await edit_screen(query, *lost_screen(deal, book))
    await query.answer()


async def open_stage_scripts(
    query: CallbackQuery,
    callback_data: DealCard,
    actor: Actor,
    uow: UnitOfWork,
    book: SalesBook,
    scripts: ScriptLibrary,
) -> None:
    await stage_scripts(query, callback_data.deal_id, actor, uow, book, scripts)


async def ask_for_input(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    book: SalesBook,
) -> None:
    """A button that needs something typed (a comment, an amount): check the deal is this
    person's to see, then ask (`PROMPTS` says what and in which state)."""
    prompt = PROMPTS[callback_data.action]
    deal = await deal_for(uow, actor, callback_data.deal_id)
    if prompt.needs is not None:
        require(actor.role, prompt.needs)
    arg = _prompt_arg(callback_data, book)
    question = t(prompt.question, currency=book.currency, kind=_activity_name(arg))
    offer = None
    if callback_data.action is CardAction.WON and deal.amount is not None:
        # The amount expected so far, one tap away: the usual answer on the phone.
        arg = f"{deal.amount:f}"
        offer = tp("card.won_expected", amount=money_exact(deal.amount), currency=book.currency)
    await _ask(query, state, prompt, callback_data.deal_id, question, arg=arg, offer=offer)


@dataclass(frozen=True, slots=True)
class Prompt:
    state: State
    question: str
    skip: bool = False
    """A "no comment" button: the comment is optional."""
    needs: Action | None = None
    """A supervisor's button: the role it takes (a forged one is refused)."""
    after_picker: bool = False
    """Asked after a choice on a screen of its own (a lost reason, the stage to go back to, the
    criteria to override): the question takes that screen's place, which would otherwise stay
    in the chat with its buttons."""


PROMPTS: dict[CardAction, Prompt] = {
    CardAction.OVERRIDE: Prompt(
        CardInput.override_comment,
        "card.ask_override_comment",
        needs=Action.OVERRIDE_EXIT_CRITERIA,
        after_picker=True,
    ),
    CardAction.REOPEN: Prompt(
        CardInput.reopen_comment, "card.ask_reopen_comment", needs=Action.REOPEN_DEAL
    ),
    CardAction.BACK_TO: Prompt(CardInput.back_comment, "card.ask_back_comment", after_picker=True),
    CardAction.ACTIVITY: Prompt(CardInput.activity_comment, "card.ask_activity_comment", skip=True),
    CardAction.WON: Prompt(CardInput.won_amount, "card.ask_amount"),
    CardAction.AMOUNT: Prompt(CardInput.expected_amount, "card.ask_expected_amount"),
    CardAction.LOST_REASON: Prompt(
        CardInput.lost_comment, "card.ask_lost_comment", skip=True, after_picker=True
    ),
}


def _prompt_arg(callback_data: DealCard, book: SalesBook) -> str:
    """What the prompt carries to its answer, checked against the book: a stage to move back
    to, an activity kind, a lost reason, the ticked criteria of an override."""
    action, arg = callback_data.action, callback_data.arg
    try:
        if action is CardAction.ACTIVITY:
            return ActivityKind(arg).value
        if action is CardAction.LOST_REASON:
            return book.lost_reason(arg).id
    except (KeyError, ValueError):
        raise StaleButton(arg) from None
    if action is CardAction.OVERRIDE:
        return str(callback_data.ticked)
    return arg if action is CardAction.BACK_TO else ""


def _activity_name(arg: str) -> str:
    return t(f"activity.{arg}") if arg in set(ActivityKind) else ""


async def typed_text(message: Message) -> str | None:
    """What the person typed, stripped ("" for blank); None, after saying why, for something
    that is not text or is too long to keep."""
    if message.text is None:
        await message.answer(t("input.text_expected"))
        return None
    text = message.text.strip()
    if len(text) > MAX_COMMENT_LENGTH:
        await message.answer(t("input.too_long", limit=MAX_COMMENT_LENGTH))
        return None
    return text


async def card_input(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    open_cards: OpenCards,
) -> None:
    """What the card asked for, typed: done, and the card shown again. A bad amount or a
    missing comment asks again; any other refusal ends the prompt (bot/handlers/errors)."""
    text = await typed_text(message)
    if text is None:
        return
    asked: int | None = (await state.get_data()).get("asked")
    try:
        view = await _apply_input(state, actor, uow, clock, book, calendar, text or None)
    except InvalidAmount:
        await message.answer(t("card.bad_amount", currency=book.currency))
        return
    except CommentRequired:
        await message.answer(t("card.comment_required"))
        return
    await end_conversation(state)
    await answer_card(message, uow, actor, view, book, settings)
    if view.deal.id is not None:
        open_cards.changed(view.deal.id, by=actor.user_id)
    await retire_question(message, asked)


BUTTON_ANSWERS: dict[str, tuple[str | None, ...]] = {
    "skip": (CardInput.activity_comment.state, CardInput.lost_comment.state),
    "offer": (CardInput.won_amount.state,),
}
"""Answers given by a button under the question, by the button's `arg`, and the questions they
answer: "no comment" (an activity, a loss), the amount offered (a win at the expected one)."""


async def answer_by_button(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    open_cards: OpenCards,
) -> None:
    """ "No comment": done without one; the offered amount: done with it, as if typed."""
    data = await state.get_data()
    if (
        data.get("deal_id") != callback_data.deal_id
        or await state.get_state() not in BUTTON_ANSWERS[callback_data.arg]
    ):
        raise StaleButton(callback_data.pack())
    answer = data.get("arg") if callback_data.arg == "offer" else None
    view = await _apply_input(
        state, actor, uow, clock, book, calendar, answer, card_in=shown_in(query)
    )
    await end_conversation(state)
    await edit_card(query, uow, actor, view, book, settings, remembered=True)
    await query.answer(tp("card.saved"))
    open_cards.changed(callback_data.deal_id, by=actor.user_id)


async def _apply_input(
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    text: str | None,
    *,
    card_in: tuple[int, int] | None = None,
) -> DealView:
    """Carry out what the card asked the person to type (None: no comment), and read the card
    it leaves, in one transaction (with where it will show, `card_in`, when known)."""
    current = await state.get_state()
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    arg: str = data.get("arg", "")

    def change() -> Awaitable[Deal]:
        if current == CardInput.back_comment.state:
            return move_deal_back(uow, clock, book, calendar, actor, deal_id, arg, text)
        if current == CardInput.activity_comment.state:
            return log_activity(uow, clock, actor, deal_id, ActivityKind(arg), text)
        if current == CardInput.won_amount.state:
            return win_deal(uow, clock, book, actor, deal_id, parse_amount(text or ""))
        if current == CardInput.expected_amount.state:
            return expect_amount(uow, book, actor, deal_id, parse_amount(text or ""))
        if current == CardInput.lost_comment.state:
            return lose_deal(uow, clock, book, actor, deal_id, arg, text)
        if current == CardInput.override_comment.state:
            ticked = _bits(int(arg))
            return advance_deal(
                uow, clock, book, calendar, actor, deal_id, ticked, override=True, comment=text
            )
        return reopen_deal(uow, clock, book, calendar, actor, deal_id, text)

    return await card_after(uow, clock, book, calendar, actor, change, shown_in=card_in)


async def _ask(
    query: CallbackQuery,
    state: FSMContext,
    prompt: Prompt,
    deal_id: int,
    question: str,
    arg: str,
    offer: str | None = None,
) -> None:
    """The question, remembered with the message it is on: once answered by typing, that
    message loses its buttons ("Без комментария", "Отмена" would only be stale). `offer`: the
    label of a button that answers with `arg`."""
    if await asked_already(query, state, prompt.state, {"deal_id": deal_id, "arg": arg}):
        return
    shown = query.message if isinstance(query.message, Message) else None
    in_place = prompt.after_picker and shown is not None
    asked = shown.message_id if in_place and shown is not None else None
    await enter_conversation(state, prompt.state, {"deal_id": deal_id, "arg": arg, "asked": asked})
    await query.answer()
    keyboard = InlineKeyboardBuilder()
    if offer is not None:
        keyboard.button(text=offer, callback_data=_answer_data(deal_id, "offer"))
    if prompt.skip:
        keyboard.button(text=tp("card.skip_comment"), callback_data=_answer_data(deal_id, "skip"))
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal_id))
    keyboard.adjust(1)
    if in_place:
        await edit_screen(query, question, keyboard.as_markup())
    elif shown is not None:
        sent = await shown.answer(question, reply_markup=keyboard.as_markup())
        await state.update_data(asked=sent.message_id)


def _answer_data(deal_id: int, answer: str) -> str:
    return DealCard(deal_id=deal_id, action=CardAction.VIEW, arg=answer).pack()


def _bits(mask: int) -> list[int]:
    return [index for index in range(mask.bit_length()) if mask & (1 << index)]


def _stage_ids(book: SalesBook) -> set[str]:
    return {stage.id for pipeline in book.pipelines for stage in pipeline.stages}


async def refuse_button(query: CallbackQuery) -> None:
    await query.answer(tp("error.forbidden"), show_alert=True)


CallbackHandler = Callable[..., Awaitable[None]]

CARD_BUTTONS: dict[CardAction, CallbackHandler] = {
    CardAction.VIEW: open_card,
    CardAction.ADVANCE: show_checklist,
    CardAction.TICK: show_checklist,
    CardAction.CONFIRM_ADVANCE: confirm_advance,
    CardAction.BACK: show_back_stages,
    CardAction.LOST: show_lost_reasons,
    CardAction.SCRIPTS: open_stage_scripts,
}
"""The card's own buttons (those asking for typed input are `PROMPTS`; the supervisor's
"reassign" lives in bot/handlers/supervision.py)."""


def create_router() -> Router:
    router = Router(name="deals")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.callback_query.register(
        answer_by_button,
        DealCard.filter((F.action == CardAction.VIEW) & F.arg.in_(BUTTON_ANSWERS)),
    )
    for action, handler in CARD_BUTTONS.items():
        flags = ONE_PER_TAP if action is CardAction.SCRIPTS else None  # sends, changes nothing
        router.callback_query.register(handler, DealCard.filter(F.action == action), flags=flags)
    for action in PROMPTS:
        router.callback_query.register(ask_for_input, DealCard.filter(F.action == action))
    # Any other card button here is a supervisor's pressed by someone who is not one.
    router.callback_query.register(refuse_button, DealCard.filter())
    router.message.register(deal_command, Command("deal"), StateFilter("*"))
    router.message.register(card_input, StateFilter(*CardInput.__all_states__))
    return router
