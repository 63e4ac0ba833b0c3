"""The manager's own Telegram (Telegram Business): the connection, the account's chats logged
on the clients' deals, and the manager's "make a deal?" answer. Silence in those chats: nothing
here answers a business update in the chat it came from (no `message.answer`, no reply); what
the bot has to say goes to the staff member's chat with the bot."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BusinessConnection, BusinessMessagesDeleted, CallbackQuery, Message

from bot.screens.business import connection_text
from bot.screens.in_place import edit_screen
from bot.screens.notify import message_kind
from bot.telegram.callbacks import BusinessChatAction, BusinessChatAnswer
from bot.telegram.card_messages import OpenCards, edit_card
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import tp
from config.settings import Settings
from domain.business import Change
from domain.clock import Clock
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.business import (
    ChatEvent,
    ConnectionFacts,
    connect,
    log_chat_change,
    log_chat_message,
    make_deal,
    not_a_client,
)
from services.staff import Actor
from services.workspace import view_deal
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def connection_changed(
    connection: BusinessConnection,
    bot: Bot,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
) -> None:
    rights = connection.rights
    facts = ConnectionFacts(
        id=connection.id,
        user_id=connection.user.id,
        user_chat_id=connection.user_chat_id,
        is_enabled=connection.is_enabled,
        can_reply=bool(rights and rights.can_reply),
        rights=rights.model_dump(exclude_none=True) if rights else None,
    )
    outcome = await connect(uow, clock, facts, is_staff=actor.role in STAFF_ROLES)
    text = connection_text(outcome, book)
    if text is None:
        return
    try:
        await bot.send_message(connection.user_chat_id, text)
    except (TelegramForbiddenError, TelegramBadRequest) as error:
        # Connected from Telegram's settings without ever opening the bot: nowhere to say it.
        log.info("could not tell %s about their business connection: %s", connection.user.id, error)


async def chat_message(
    message: Message,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    open_cards: OpenCards,
) -> None:
    assert message.business_connection_id is not None
    if message.from_user is not None and message.from_user.is_bot:
        return  # a bot in the account's chats is nobody's client
    logged = await log_chat_message(uow, clock, book, calendar, _event(message))
    if logged is not None and logged.deal_id is not None:
        # The deal's cards open in staff chats show the line, and a first answer's clock stop.
        open_cards.changed(logged.deal_id)


async def chat_message_edited(
    message: Message, uow: UnitOfWork, clock: Clock, open_cards: OpenCards
) -> None:
    assert message.business_connection_id is not None
    changed = await log_chat_change(
        uow,
        clock,
        message.business_connection_id,
        message.chat.id,
        [message.message_id],
        Change.EDITED,
        kind=message_kind(message),
        text=message.text if message.text is not None else message.caption,
    )
    for deal_id in changed:
        open_cards.changed(deal_id)


async def chat_messages_deleted(
    deleted: BusinessMessagesDeleted, uow: UnitOfWork, clock: Clock, open_cards: OpenCards
) -> None:
    changed = await log_chat_change(
        uow,
        clock,
        deleted.business_connection_id,
        deleted.chat.id,
        deleted.message_ids,
        Change.DELETED,
    )
    for deal_id in changed:
        open_cards.changed(deal_id)


async def answer_new_client(
    query: CallbackQuery,
    callback_data: BusinessChatAction,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    if callback_data.answer is BusinessChatAnswer.NOT_A_CLIENT:
        await not_a_client(uow, clock, actor, callback_data.chat_id)
        await query.answer(tp("business.declined"))
        await edit_screen(query, tp("business.declined_text"), None)
        return
    deal_id = await make_deal(uow, clock, book, calendar, actor, callback_data.chat_id)
    await query.answer(tp("business.deal_made", deal_id=deal_id))
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    await edit_card(query, uow, actor, view, book, settings)


def _event(message: Message) -> ChatEvent:
    chat = message.chat
    name = " ".join(part for part in (chat.first_name, chat.last_name) if part) or None
    return ChatEvent(
        connection_id=message.business_connection_id or "",
        client_id=chat.id,
        client_name=name,
        client_username=chat.username,
        sender_id=message.from_user.id if message.from_user else None,
        message_id=message.message_id,
        kind=message_kind(message),
        text=message.text if message.text is not None else message.caption,
        automatic=bool(message.is_from_offline),
        via_bot=message.sender_business_bot is not None,
    )


def create_router() -> Router:
    router = Router(name="business")
    router.business_connection.register(connection_changed)
    router.business_message.register(chat_message, F.chat.type == "private")
    router.edited_business_message.register(chat_message_edited, F.chat.type == "private")
    router.deleted_business_messages.register(chat_messages_deleted)
    router.callback_query.register(
        answer_new_client, HasRole(*STAFF_ROLES), BusinessChatAction.filter()
    )
    return router
