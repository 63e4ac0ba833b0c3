"""Scripts at hand: the deal stage's script and objections from the card, and objection search
by the client's words (`/scripts дорого`, or any text typed after `/scripts`)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.handlers.errors import StaleButton
from bot.screens.in_place import drop_buttons
from bot.telegram.callbacks import ScriptFeedback, ScriptOpen
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import end_conversation
from bot.telegram.i18n import join_within_limit, t, tp
from bot.telegram.repeated_presses import ONE_PER_TAP
from domain.clock import Clock
from domain.sales_book import SalesBook
from domain.scripts import Feedback, Objection, ScriptLibrary
from services.access import load_deal
from services.script_usage import ScriptUseUnknown, give_feedback, show_objection
from services.staff import Actor
from storage.unit_of_work import UnitOfWork

QUERY_MAX_LENGTH = 200


BROWSE_LIMIT = 40
"""Objections offered when a search finds none: the whole library, up to what a phone shows."""


class ScriptSearch(StatesGroup):
    query = State()


async def scripts_command(
    message: Message, command: CommandObject, state: FSMContext, scripts: ScriptLibrary
) -> None:
    if command.args:
        await _answer_search(message, scripts, command.args)
        return
    await state.set_state(ScriptSearch.query)
    await message.answer(t("scripts.ask_query"))


async def search_typed(message: Message, state: FSMContext, scripts: ScriptLibrary) -> None:
    if message.text is None:
        await message.answer(t("input.text_expected"))
        return
    if len(message.text) > QUERY_MAX_LENGTH:
        await message.answer(t("input.too_long", limit=QUERY_MAX_LENGTH))
        return
    await end_conversation(state)
    await _answer_search(message, scripts, message.text)


async def _answer_search(message: Message, scripts: ScriptLibrary, query: str) -> None:
    found = scripts.search(query)
    if not found and scripts.objections:
        # The library's own words, to pick from on the phone: no guessing which ones it knows.
        browse = scripts.objections[:BROWSE_LIMIT]
        await message.answer(
            t("scripts.nothing_found_browse"), reply_markup=_objection_buttons(browse, deal_id=0)
        )
        return
    if not found:
        await message.answer(t("scripts.nothing_found"))
        return
    await message.answer(t("scripts.found"), reply_markup=_objection_buttons(found, deal_id=0))


async def stage_scripts(
    query: CallbackQuery,
    deal_id: int,
    actor: Actor,
    uow: UnitOfWork,
    book: SalesBook,
    scripts: ScriptLibrary,
) -> None:
    """The deal card's "scripts": the stage's goal and talking points and its objections."""
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=False)
    stage = book.pipeline(deal.pipeline_id).stage(deal.stage_id)
    found = scripts.for_stage(deal.stage_id, deal.pipeline_id)
    lines = [t("scripts.stage_title", stage=stage.name)]
    if found.script is not None:
        lines.append(t("scripts.goal", goal=found.script.goal))
        lines += [t("scripts.point", text=point) for point in found.script.talking_points]
        if found.script.questions:
            lines.append(t("scripts.questions"))
            lines += [t("scripts.point", text=question) for question in found.script.questions]
    if found.objections:
        lines.append(t("scripts.objections"))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            join_within_limit(lines, "list.more"),
            reply_markup=_objection_buttons(found.objections, deal_id),
        )


async def open_objection(
    query: CallbackQuery,
    callback_data: ScriptOpen,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    scripts: ScriptLibrary,
) -> None:
    try:
        shown = await show_objection(
            uow, clock, scripts, actor, callback_data.objection_id, callback_data.deal_id or None
        )
    except KeyError:  # an objection the library no longer has
        raise StaleButton(callback_data.objection_id) from None
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("scripts.helped"), callback_data=ScriptFeedback(use_id=shown.use_id, helped=True)
    )
    keyboard.button(
        text=tp("scripts.not_helped"),
        callback_data=ScriptFeedback(use_id=shown.use_id, helped=False),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            t(
                "scripts.objection",
                title=shown.objection.title,
                style=shown.variant.style.label,
                text=shown.variant.text,
            ),
            reply_markup=keyboard.as_markup(),
        )


async def feedback(
    query: CallbackQuery,
    callback_data: ScriptFeedback,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    verdict = Feedback.HELPED if callback_data.helped else Feedback.NOT_HELPED
    try:
        await give_feedback(uow, clock, actor, callback_data.use_id, verdict)
    except ScriptUseUnknown:
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    if isinstance(query.message, Message):
        await drop_buttons(query.message)
    await query.answer(tp("scripts.thanks"))


def _objection_buttons(objections: Sequence[Objection], deal_id: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for objection in objections:
        keyboard.button(
            text=objection.title,
            callback_data=ScriptOpen(objection_id=objection.id, deal_id=deal_id),
        )
    keyboard.adjust(2)
    return keyboard.as_markup()


def create_router() -> Router:
    router = Router(name="scripts")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(scripts_command, Command("scripts"), StateFilter("*"))
    router.message.register(search_typed, ScriptSearch.query)
    router.callback_query.register(open_objection, ScriptOpen.filter(), flags=ONE_PER_TAP)
    router.callback_query.register(feedback, ScriptFeedback.filter())
    return router
