"""The deal card as a chat message: shown (sent or edited in place) and remembered, and shown
again in every chat that has it open after the deal changed in the Mini App."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.screens.deal_screens import card_screen, edit_screen
from bot.telegram.i18n import pick_locale
from bot.telegram.sender import PacedSender
from config.settings import Settings
from domain.clock import Clock
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.card_messages import cards_to_show, forget_card, remember_card
from services.reminders import Outcome
from services.staff import Actor
from services.workspace import DealView
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def answer_card(
    message: Message,
    uow: UnitOfWork,
    actor: Actor,
    view: DealView,
    book: SalesBook,
    settings: Settings,
) -> None:
    """The card as a new message under `message`."""
    text, markup = card_screen(view, book, settings, actor.role)
    sent = await message.answer(text, reply_markup=markup)
    await _remember(uow, actor, view, sent)


async def edit_card(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    view: DealView,
    book: SalesBook,
    settings: Settings,
    *,
    remembered: bool = False,
) -> None:
    """The card in place of the message the button was on (`remembered`: the change that led
    here already stored where it is shown, in its own transaction)."""
    await edit_screen(query, *card_screen(view, book, settings, actor.role))
    if isinstance(query.message, Message) and not remembered:
        await _remember(uow, actor, view, query.message)


def shown_in(query: CallbackQuery) -> tuple[int, int] | None:
    """Where the pressed button's message is (chat id, message id): the card goes there."""
    if isinstance(query.message, Message):
        return query.message.chat.id, query.message.message_id
    return None


async def _remember(uow: UnitOfWork, actor: Actor, view: DealView, message: Message) -> None:
    assert view.deal.id is not None
    await remember_card(uow, actor, view.deal.id, message.chat.id, message.message_id)


async def refresh_cards(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
    sender: PacedSender,
    deal_id: int,
) -> None:
    """After a change made outside the chat: every open chat card of the deal shows it, in its
    viewer's language, at the pace Telegram allows. A card deleted meanwhile is forgotten; one
    already showing the deal as it is stays as it is."""
    for shown in await cards_to_show(uow, clock, book, calendar, deal_id):
        locale = pick_locale(shown.viewer.language_code, settings.default_locale)
        with i18n.context(), i18n.use_locale(locale):
            text, markup = card_screen(shown.view, book, settings, shown.viewer.role)
        card = shown.card
        edit = _CardEdit(bot, card.chat_id, card.message_id, text, markup)
        outcome = await sender.deliver(card.chat_id, edit, urgent=True)
        if edit.gone or outcome in (Outcome.BLOCKED, Outcome.GONE):
            await forget_card(uow, card)


class _CardEdit:
    """One edit of a card message. "Not modified" is success (the card already says it);
    "message to edit not found" and its kin mean the card is gone from the chat."""

    def __init__(
        self, bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._message_id = message_id
        self._text = text
        self._markup = markup
        self.gone = False

    async def __call__(self) -> None:
        try:
            await self._bot.edit_message_text(
                text=self._text,
                chat_id=self._chat_id,
                message_id=self._message_id,
                reply_markup=self._markup,
            )
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                return
            log.info("a deal card in chat %s is gone: %s", self._chat_id, error.message)
            self.gone = True
