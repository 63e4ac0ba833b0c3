"""What the manager sees of their own Telegram chats: the connection's notices, the "new
client: make a deal?" card, and the chat's last messages on the deal card."""

from __future__ import annotations

import datetime as dt

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import BusinessChatAction, BusinessChatAnswer, DealCard
from bot.telegram.i18n import t, tp
from domain.business import Change, ChatMessage, Direction
from domain.sales_book import SalesBook
from services.business import Connected, NewClient

CARD_TEXT_LENGTH = 120
"""How much of a message the card quotes: a few lines of the chat, not the chat."""


def connection_text(outcome: Connected, book: SalesBook) -> str | None:
    """What the staff member is told in their chat with the bot (None: nothing changed)."""
    if outcome is Connected.REFUSED:
        return t("business.refused")
    if outcome is Connected.OFF:
        return t("business.disconnected")
    if outcome is not Connected.ON:
        return None
    lines = [
        t("business.connected"),
        t("business.auto_create" if book.business.auto_create else "business.ask_first"),
        t("business.how_to_stop"),
    ]
    if book.business.notice:
        lines.append(t("business.notice", notice=book.business.notice))
    return "\n\n".join(lines)


def new_client_screen(client: NewClient) -> tuple[str, InlineKeyboardMarkup]:
    who = client.name or "—"
    if client.username:
        who = f"{who} (@{client.username})"
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("business.make_deal"),
        callback_data=BusinessChatAction(
            chat_id=client.chat_id, answer=BusinessChatAnswer.MAKE_DEAL
        ),
    )
    keyboard.button(
        text=tp("business.not_a_client"),
        callback_data=BusinessChatAction(
            chat_id=client.chat_id, answer=BusinessChatAnswer.NOT_A_CLIENT
        ),
    )
    keyboard.adjust(1)
    return t("business.new_client", client=who), keyboard.as_markup()


def open_deal_markup(deal_id: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=tp("business.open_deal"), callback_data=DealCard(deal_id=deal_id))
    return keyboard.as_markup()


def chat_lines(messages: list[ChatMessage], zone: dt.tzinfo) -> list[str]:
    """The deal card's last messages of the manager's own Telegram chat, oldest first."""
    if not messages:
        return []
    lines = [t("business.card_chat")]
    for message in reversed(messages):
        at = message.at.astimezone(zone).strftime("%d.%m %H:%M")
        who = tp(
            "business.from_client" if message.direction is Direction.IN else "business.from_manager"
        )
        lines.append(
            t(f"business.line.{message.change.value}", at=at, who=who, text=_quoted(message))
        )
    return lines


def _quoted(message: ChatMessage) -> str:
    if message.change is Change.DELETED:
        return ""
    text = message.text
    if text is None:
        return (
            tp("business.text_erased")
            if message.kind == "text"
            else tp(f"business.kind.{_kind(message.kind)}")
        )
    if len(text) > CARD_TEXT_LENGTH:
        text = text[: CARD_TEXT_LENGTH - 1] + "…"
    if message.kind != "text":
        return f"[{tp(f'business.kind.{_kind(message.kind)}')}] {text}"
    return text


KINDS = frozenset(
    {
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
    }
)


def _kind(kind: str) -> str:
    return kind if kind in KINDS else "other"
