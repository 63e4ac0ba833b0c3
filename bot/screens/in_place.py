"""The edits every screen makes to a message already in the chat: a screen in place of the one
whose button was pressed, buttons taken off once pressed or once their question is answered by
typing. Each makes only an edit Telegram accepts: it refuses one that changes nothing (a second
tap of a double tap, a press delivered again)."""

from __future__ import annotations

from contextlib import suppress

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def edit_screen(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show a screen in place of the message the button was on."""
    if not isinstance(query.message, Message):
        return
    if query.message.html_text == text and same_markup(query.message.reply_markup, markup):
        return  # Telegram refuses an edit that changes nothing
    await query.message.edit_text(text, reply_markup=markup)


async def drop_buttons(message: Message) -> None:
    """Take a message's buttons away once pressed, unless they are gone already (a second tap,
    or a press Telegram delivers again): an edit that changes nothing is refused."""
    if message.reply_markup is not None:
        await message.edit_reply_markup(reply_markup=None)


def same_markup(shown: InlineKeyboardMarkup | None, new: InlineKeyboardMarkup | None) -> bool:
    """Whether a message already shows these buttons. By value: a markup that came in an update
    carries the bot it came through, so `==` would never hold."""
    if shown is None or new is None:
        return shown is new
    return shown.model_dump(exclude_none=True) == new.model_dump(exclude_none=True)


async def retire_question(answer: Message, asked: int | None) -> None:
    """The buttons off a question once it is answered by typing (`asked`: its message in the
    chat of `answer`, None when none was remembered): "Отмена" or "Без комментария" under it
    would only be stale."""
    if asked is None or answer.bot is None:
        return
    with suppress(TelegramBadRequest):  # deleted by the person, or already without buttons
        await answer.bot.edit_message_reply_markup(
            chat_id=answer.chat.id, message_id=asked, reply_markup=None
        )
