"""The manager's side of the chat relay: take a new deal, write to the lead, reply to a
relayed message. The lead sees every answer coming from the bot."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.screens.deal_screens import cancel_to_card
from bot.screens.in_place import edit_screen, retire_question
from bot.screens.notify import card_keyboard, message_kind, taken_card, taken_elsewhere_keyboard
from bot.telegram.callbacks import DealAction, DealActionKind
from bot.telegram.card_messages import OpenCards
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import asked_already, end_conversation, enter_conversation
from bot.telegram.i18n import t, tp
from domain.clock import Clock
from domain.errors import PermissionDenied
from domain.roles import Action
from services.first_response import answer_client
from services.leads import (
    deal_of_relayed_message,
    take_deal,
    writable_deal,
)
from services.staff import Actor
from storage.unit_of_work import UnitOfWork


class WritingToLead(StatesGroup):
    message = State()


async def take(
    query: CallbackQuery,
    callback_data: DealAction,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    open_cards: OpenCards,
) -> None:
    try:
        deal = await take_deal(uow, clock, actor, callback_data.deal_id)
    except PermissionDenied as refused:
        if refused.action is Action.UPDATE_ANY_DEAL and isinstance(query.message, Message):
            # Someone else has it now (another supervisor took it from the queue, a handover):
            # the card stops offering the take; the refusal's alert follows (bot/handlers/errors).
            await edit_screen(
                query,
                taken_card(query.message.html_text, callback_data.deal_id, by_another=True),
                taken_elsewhere_keyboard(callback_data.deal_id, actor.role),
            )
        raise
    await query.answer(tp("deal.taken"))
    open_cards.changed(callback_data.deal_id, by=actor.user_id)
    if isinstance(query.message, Message) and deal.id is not None:
        await edit_screen(  # a second tap changes nothing, and edit_screen sends nothing then
            query,
            taken_card(query.message.html_text, deal.id),
            card_keyboard(deal.id, True, deal.same_phone_as),
        )


async def start_writing(
    query: CallbackQuery,
    callback_data: DealAction,
    actor: Actor,
    uow: UnitOfWork,
    state: FSMContext,
) -> None:
    await writable_deal(uow, actor, callback_data.deal_id)
    if await asked_already(query, state, WritingToLead.message, {"deal_id": callback_data.deal_id}):
        return
    await enter_conversation(state, WritingToLead.message, {"deal_id": callback_data.deal_id})
    await query.answer()
    if isinstance(query.message, Message):
        asked = await query.message.answer(
            t("relay.write_prompt", deal_id=callback_data.deal_id),
            reply_markup=cancel_to_card(callback_data.deal_id),
        )
        await state.update_data(asked=asked.message_id)


async def written(
    message: Message, state: FSMContext, actor: Actor, uow: UnitOfWork, clock: Clock
) -> None:
    data = await state.get_data()
    await end_conversation(state)
    await _send_to_lead(message, data["deal_id"], actor, uow, clock)
    await retire_question(message, data.get("asked"))


async def reply_to_relayed(message: Message, actor: Actor, uow: UnitOfWork, clock: Clock) -> None:
    assert message.reply_to_message is not None
    found = await deal_of_relayed_message(
        uow, actor, message.chat.id, message.reply_to_message.message_id
    )
    if found is None:
        await message.answer(t("relay.not_a_lead_message"))
        return
    await _send_to_lead(message, found[0], actor, uow, clock)


async def _send_to_lead(
    message: Message, deal_id: int, actor: Actor, uow: UnitOfWork, clock: Clock
) -> None:
    lead_chat = await writable_deal(uow, actor, deal_id)
    try:
        await message.copy_to(lead_chat)
    except TelegramForbiddenError:
        await message.answer(t("relay.lead_blocked", deal_id=deal_id))
        return
    text = message.text if message.text is not None else message.caption
    await answer_client(uow, clock, actor, deal_id, message_kind(message), text)
    await message.answer(t("relay.sent", deal_id=deal_id))


def create_router() -> Router:
    router = Router(name="relay")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.callback_query.register(take, DealAction.filter(F.action == DealActionKind.TAKE))
    router.callback_query.register(
        start_writing, DealAction.filter(F.action == DealActionKind.WRITE)
    )
    router.message.register(written, WritingToLead.message)
    router.message.register(
        reply_to_relayed, StateFilter(None), F.reply_to_message, ~F.text.startswith("/")
    )
    return router
