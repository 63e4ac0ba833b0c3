"""The deal card as a chat message: shown (sent or edited in place) and remembered, and shown
again in every other chat that has it open after the deal changed, in the Mini App or in a
chat."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.screens.deal_screens import card_screen
from bot.screens.in_place import edit_screen, remember_edit, shows
from bot.telegram.i18n import pick_locale, t
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
    text, markup = card_screen(view, book, settings, actor)
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
    await edit_screen(query, *card_screen(view, book, settings, actor))
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


REMEMBERED_EDITS = 1_000
"""Cards whose last edit is remembered (the oldest forgotten first): a day's open cards."""


class OpenCards:
    """The deal's cards open in staff chats, shown again after a change: by the Mini App, or
    by a colleague in their own chat (a supervisor watching a deal sees the manager move it).
    In the background: each edit waits its turn at Telegram's pace (a second a chat), and the
    person who made the change does not wait for them."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        book: SalesBook,
        calendar: WorkingCalendar,
        settings: Settings,
        i18n: I18n,
        bot: Bot,
        sender: PacedSender,
    ) -> None:
        self._session_factory = session_factory
        self._clock, self._book, self._calendar = clock, book, calendar
        self._settings, self._i18n = settings, i18n
        self._bot, self._sender = bot, sender
        self._running: set[asyncio.Task[None]] = set()
        self._sent: OrderedDict[tuple[int, int], str] = OrderedDict()
        """What each card was last edited to from here: two changes close together (a client's
        two messages) may both find the deal as the second left it, and Telegram refuses an
        edit that changes nothing."""

    def changed(self, deal_id: int, *, by: int | None = None) -> None:
        """The deal changed: its cards in other chats than `by`'s are shown again."""
        task = asyncio.create_task(self._refresh(deal_id, by))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def finish(self, within: float) -> None:
        """At a stop, before the sender closes: the edits under way go out."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=within)

    async def _refresh(self, deal_id: int, by: int | None) -> None:
        try:
            await self.refresh(deal_id, except_staff=by)
        except Exception:
            log.exception("the chat cards of deal %s were not updated", deal_id)

    async def refresh(self, deal_id: int, *, except_staff: int | None = None) -> None:
        """Every open chat card of the deal (but `except_staff`'s) shows it as it now is, in
        its viewer's language, at the pace Telegram allows. A card deleted meanwhile is
        forgotten; one already showing the deal as it is stays as it is; the card of someone
        the deal was taken from says so, without its buttons."""
        uow = UnitOfWork(self._session_factory)
        shown_cards = await cards_to_show(
            uow, self._clock, self._book, self._calendar, deal_id, except_staff=except_staff
        )
        for shown in shown_cards:
            viewer = shown.viewer
            locale = pick_locale(viewer.language_code, self._settings.default_locale)
            markup: InlineKeyboardMarkup | None = None
            with self._i18n.context(), self._i18n.use_locale(locale):
                if shown.view is None:
                    text = t("card.withdrawn", deal_id=deal_id)
                else:
                    text, markup = card_screen(shown.view, self._book, self._settings, viewer)
            card = shown.card
            shown_as = text + (markup.model_dump_json() if markup else "")
            where = (card.chat_id, card.message_id)
            if self._sent.get(where) == shown_as:
                continue
            self._remember_sent(where, shown_as)  # before the wait: a refresh beside this one
            edit = _CardEdit(self._bot, card.chat_id, card.message_id, text, markup)
            outcome = await self._sender.deliver(card.chat_id, edit, urgent=True)
            if edit.gone or outcome in (Outcome.BLOCKED, Outcome.GONE):
                self._sent.pop(where, None)
                await forget_card(uow, card)

    def _remember_sent(self, where: tuple[int, int], shown_as: str) -> None:
        self._sent[where] = shown_as
        self._sent.move_to_end(where)
        while len(self._sent) > REMEMBERED_EDITS:
            self._sent.popitem(last=False)


class _CardEdit:
    """One edit of a card message. "Not modified" is success (the card already says it);
    "message to edit not found" and its kin mean the card is gone from the chat."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._message_id = message_id
        self._text = text
        self._markup = markup
        self.gone = False

    async def __call__(self) -> None:
        if shows(self._bot, self._chat_id, self._message_id, self._text, self._markup):
            return  # edited into this already (the press that changed the deal was on it)
        try:
            remember_edit(
                await self._bot.edit_message_text(
                    text=self._text,
                    chat_id=self._chat_id,
                    message_id=self._message_id,
                    reply_markup=self._markup,
                )
            )
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                return
            log.info("a deal card in chat %s is gone: %s", self._chat_id, error.message)
            self.gone = True
