"""Messages to staff about leads: the deal's card and relayed lead messages, in the
recipient's language. Cards owed by a change are sent by the outbox (`bot/reminder_sweeper`)."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import (
    CardAction,
    DealAction,
    DealActionKind,
    DealCard,
    MergeStep,
    SamePhoneMerge,
)
from bot.telegram.i18n import Html, pick_locale, t, t_in, tp
from config.settings import Settings
from domain.lead import PromiseDay, promise
from domain.roles import Action, Role, can
from domain.sales_book import SalesBook
from services.leads import LeadCard, supervisors
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CAPTIONED_KINDS = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


async def relay_to_staff(
    bot: Bot,
    uow: UnitOfWork,
    settings: Settings,
    lead_message: Message,
    deal_id: int,
    manager_id: int | None,
    lead_name: str,
) -> list[tuple[int, int]]:
    """Copy a lead's message to the deal's manager (to the supervisors if it has none), under a
    header saying who wrote. Returns where the copies landed, for replies to find the deal."""
    if manager_id is not None:
        recipients = [(manager_id, await staff_locale(uow, settings, manager_id))]
    else:
        recipients = [
            (staff_id, pick_locale(language, settings.default_locale))
            for staff_id, language in await supervisors(uow)
        ]
    landed: list[tuple[int, int]] = []
    for recipient, locale in recipients:
        header = t_in(locale, "relay.from_lead", name=lead_name or "—", deal_id=deal_id)
        try:
            text = lead_message.text
            if text is not None:
                body = f"{header}\n{_escape(text)}"
                if not _fits_under(header, text, TEXT_LIMIT):  # a long text: the header apart
                    await bot.send_message(recipient, header)
                    body = _escape(text)
                sent = await bot.send_message(recipient, Html(body))
                landed.append((recipient, sent.message_id))
                continue
            caption = lead_message.caption
            if caption and not _fits_under(header, caption, CAPTION_LIMIT):
                await bot.send_message(recipient, header)
                copied = await lead_message.copy_to(recipient)  # with its own caption
            elif message_kind(lead_message) in CAPTIONED_KINDS:
                body = f"{header}\n{_escape(caption)}" if caption else header
                copied = await lead_message.copy_to(recipient, caption=body)
            else:
                await bot.send_message(recipient, header)
                copied = await lead_message.copy_to(recipient)
            landed.append((recipient, copied.message_id))
        except TelegramForbiddenError:
            log.warning(
                "staff member %s blocked the bot; a lead message was not relayed", recipient
            )
    return landed


async def staff_locale(uow: UnitOfWork, settings: Settings, staff_id: int) -> str:
    async with uow:
        member = await uow.staff.get(staff_id)
    return pick_locale(member.language_code if member else None, settings.default_locale)


def card_keyboard(
    deal_id: int, taken: bool, same_phone_as: int | None = None, *, queued: bool = False
) -> InlineKeyboardMarkup:
    """`queued`: nobody's deal yet, the card went to the supervisors, who may take it or give
    it to a manager."""
    keyboard = InlineKeyboardBuilder()
    if not taken:
        keyboard.button(
            text=tp("button.take_deal"),
            callback_data=DealAction(action=DealActionKind.TAKE, deal_id=deal_id),
        )
    if queued:
        keyboard.button(
            text=tp("button.assign_manager"),
            callback_data=DealCard(deal_id=deal_id, action=CardAction.REASSIGN),
        )
    keyboard.button(
        text=tp("button.write_to_lead"),
        callback_data=DealAction(action=DealActionKind.WRITE, deal_id=deal_id),
    )
    if taken:  # the deal's own card (stages, qualification, closing) in place of this one
        keyboard.button(text=tp("button.open_deal"), callback_data=DealCard(deal_id=deal_id))
    if same_phone_as is not None:
        keyboard.button(
            text=tp("button.merge_same_phone", deal_id=same_phone_as),
            callback_data=SamePhoneMerge(deal_id=deal_id, step=MergeStep.ASK),
        )
    keyboard.adjust(2)
    return keyboard.as_markup()


def take_keyboard(deal_id: int) -> InlineKeyboardMarkup:
    """A queued request offered to a manager: theirs with one tap."""
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("button.take_deal"),
        callback_data=DealAction(action=DealActionKind.TAKE, deal_id=deal_id),
    )
    return keyboard.as_markup()


def taken_card(card_html: str, deal_id: int, *, by_another: bool = False) -> Html:
    """A request's card once its deal is taken (by the reader, or `by_another`): the same lines
    under a title that says so (the queue's card would go on asking someone to take it)."""
    _, _, lines = card_html.partition("\n")
    title = t("card.taken_elsewhere_title" if by_another else "card.taken_title", deal_id=deal_id)
    return Html(f"{title}\n{lines}")


def taken_elsewhere_keyboard(deal_id: int, role: Role) -> InlineKeyboardMarkup | None:
    """A card whose deal someone else took: a supervisor may still open it; a manager may not."""
    if not can(role, Action.VIEW_ALL_DEALS):
        return None
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=tp("button.open_deal"), callback_data=DealCard(deal_id=deal_id))
    return keyboard.as_markup()


def render_card(
    book: SalesBook,
    card: LeadCard,
    zone: ZoneInfo,
    now: dt.datetime,
    title_key: str,
    added: str | None = None,
) -> str:
    try:
        source = book.source(card.source).name
    except KeyError:
        source = t("card.unknown_source")
    lines = [
        t(title_key, deal_id=card.deal_id),
        t("card.name", name=card.name or "—"),
        t("card.phone", phone=card.phone or "—"),
    ]
    if card.same_phone_as is not None:
        lines.append(
            t(
                "card.same_phone",
                deal_id=card.same_phone_as.deal_id,
                name=card.same_phone_as.name or "—",
            )
        )
    if card.username:
        lines.append(t("card.username", username=card.username))
    lines += [
        t("card.company", company=card.company or "—"),
        t("card.need", need=card.need or "—"),
        *([t("card.added_need", need=added)] if added else []),
        t("card.source", source=source),
        t("card.pipeline", pipeline=book.pipeline(card.pipeline_id).name),
    ]
    if card.promised_at is not None:
        lines.append(t("card.promised", when=when_text(card.promised_at, now, zone)))
    return "\n".join(lines)


def when_text(deadline: dt.datetime, now: dt.datetime, zone: ZoneInfo) -> str:
    """ "сегодня до 11:30", "завтра до 10:15", "в понедельник до 10:15", "12.01 до 10:15"."""
    promised = promise(deadline, now, zone)
    time = promised.local.strftime("%H:%M")
    if promised.day is PromiseDay.WEEKDAY:
        return t("promise.weekday", day=tp(f"weekday.{promised.iso_weekday}"), time=time)
    if promised.day is PromiseDay.DATE:
        return t("promise.date", date=promised.local.strftime("%d.%m"), time=time)
    return t(f"promise.{promised.day.value}", time=time)


def request_reply(owed: Mapping[str, Any], now: dt.datetime, zone: ZoneInfo) -> str:
    """The lead's answer to their request, from the owed row's facts (`domain.reminders.
    owe_reply`): the same words whether the bot that filed it sends it or a sweeper does."""
    promised_at = dt.datetime.fromisoformat(owed["promised_at"])
    return t(owed["key"], **owed["values"], when=Html(when_text(promised_at, now, zone)))


def card_message(
    book: SalesBook,
    zone: ZoneInfo,
    card: LeadCard,
    now: dt.datetime,
    title_key: str,
    added: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """A deal's card and its buttons, in the current locale; `added`: what the client added
    to the request with a new one."""
    same_phone = card.same_phone_as.deal_id if card.same_phone_as else None
    return (
        render_card(book, card, zone, now, title_key, added),
        card_keyboard(
            card.deal_id,
            card.taken_at is not None,
            same_phone,
            queued=card.manager_id is None,
        ),
    )


def message_kind(message: Message) -> str:
    for kind in (
        "text",
        "photo",
        "video",
        "document",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "contact",
        "location",
    ):
        if getattr(message, kind, None) is not None:
            return kind
    return "other"


def _fits_under(header: str, body: str, limit: int) -> bool:
    """The header (HTML) and the client's words fit one message or caption, counted as Telegram
    counts: UTF-16 units of the text as shown."""
    shown = html.unescape(_TAG.sub("", header)) + "\n" + body
    return len(shown.encode("utf-16-le")) // 2 <= limit


_TAG = re.compile(r"<[^>]+>")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
