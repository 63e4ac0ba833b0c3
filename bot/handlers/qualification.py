"""Qualification from the deal card: the pipeline's framework (BANT or MEDDIC from the book),
one question a screen; a comment typed while a question is on screen is kept with the answer
about to be tapped."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.handlers.deals import CardInput, typed_text
from bot.handlers.errors import StaleButton
from bot.screens.deal_screens import lost_screen, question_screen
from bot.screens.in_place import edit_screen, retire_question
from bot.telegram.callbacks import CardAction, DealCard
from bot.telegram.card_messages import OpenCards, edit_card, shown_in
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import end_conversation, enter_conversation
from bot.telegram.i18n import t, tp
from config.settings import Settings
from domain.clock import Clock
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.qualification import (
    Answer,
    QualificationScreen,
    current_step,
    qualification_screen,
)
from services.staff import Actor
from services.workspace import DealView
from storage.unit_of_work import UnitOfWork


async def qualify(
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
    deal_id = callback_data.deal_id
    given = None
    if callback_data.arg:
        question_id, _, option = callback_data.arg.rpartition(".")
        if not option.isdecimal():
            raise StaleButton(callback_data.arg)
        comment = await _typed_comment(state, deal_id, question_id)
        given = Answer(question_id, int(option), comment)
    try:
        screen = await qualification_screen(
            uow, clock, book, calendar, actor, deal_id, given, shown_in=shown_in(query)
        )
    except (KeyError, ValueError):  # a question or option the framework does not have
        if given is None:
            raise
        raise StaleButton(callback_data.arg) from None
    step, view = screen.step, screen.card
    if view is None:
        assert step.question is not None
        asked = query.message.message_id if query.message else None
        await _await_comment(state, deal_id, step.question.id, asked)
        await edit_screen(query, *question_screen(deal_id, step))
        await query.answer()
        return
    await end_conversation(state)
    open_cards.changed(deal_id, by=actor.user_id)
    await _show_result(query, uow, actor, book, settings, screen, view)


async def _show_result(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    book: SalesBook,
    settings: Settings,
    screen: QualificationScreen,
    view: DealView,
) -> None:
    """The finished qualification: its score, and the card (or, disqualified, the loss)."""
    step = screen.step
    level = step.result.level
    if screen.offers_closing:
        text, markup = lost_screen(view.deal, book, suggested=step.lost_reason)
        await edit_screen(query, t("qualification.disqualified") + "\n\n" + text, markup)
    else:
        await edit_card(query, uow, actor, view, book, settings, remembered=True)
    await query.answer(
        tp(
            "qualification.result",
            level=tp(f"qualification.level.{level.value}") if level else "",
            points=step.result.points,
            max_points=step.result.max_points,
        ),
        show_alert=True,
    )


async def _await_comment(
    state: FSMContext, deal_id: int, question_id: str, asked: int | None
) -> None:
    await enter_conversation(
        state,
        CardInput.qualification_comment,
        {"deal_id": deal_id, "arg": question_id, "asked": asked},
    )


async def _typed_comment(state: FSMContext, deal_id: int, question_id: str) -> str | None:
    """The comment typed while this question was on screen (None if none, or if the screen is
    an old one for another question)."""
    if await state.get_state() != CardInput.qualification_comment.state:
        return None
    data = await state.get_data()
    if data.get("deal_id") != deal_id or data.get("arg") != question_id:
        return None
    comment = data.get("comment")
    return comment if isinstance(comment, str) else None


async def qualification_comment(
    message: Message, state: FSMContext, actor: Actor, uow: UnitOfWork, book: SalesBook
) -> None:
    """Text typed while a question is on screen: keep it for the answer and show the question
    again, below the text, with the comment on it; the buttons above go (one question, one
    set of buttons)."""
    text = await typed_text(message)
    if text is None:
        return
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    step = await current_step(uow, book, actor, deal_id)
    if step.question is None or step.question.id != data.get("arg"):
        await end_conversation(state)
        await message.answer(t("error.stale_button"))
        return
    await state.update_data(comment=text or None)
    screen, markup = question_screen(deal_id, step, comment=text or None)
    shown = await message.answer(screen, reply_markup=markup)
    await state.update_data(asked=shown.message_id)
    await retire_question(message, data.get("asked"))


def create_router() -> Router:
    router = Router(name="qualification")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.callback_query.register(qualify, DealCard.filter(F.action == CardAction.QUALIFY))
    router.message.register(qualification_comment, CardInput.qualification_comment)
    return router
