"""The edits every screen makes to a message already in the chat: a screen in place of the one
whose button was pressed, buttons taken off once pressed or once their question is answered by
typing. Each makes only an edit Telegram accepts: it refuses one that changes nothing (a second
tap of a double tap, a press delivered again).

What a message shows now is the press's copy of it, unless this process edited the message
after that copy was made: the second tap of a double tap is handled after the first (one
person's updates take turns), but carries the message as it was before the first tap's edit.
So each edit's result, Telegram's own copy with its `edit_date`, is remembered here for a
while, per bot; a copy with an older `edit_date` (or none) is out of date, and the remembered
one is what the person sees. Per process: in a cluster a chat's next update may reach another
instance, which then goes by the press's copy, as before."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from contextlib import suppress
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

REMEMBERED_EDITS = 4096
"""Edited messages remembered (least recently edited forgotten first): a double tap's second
press comes within a second or two, so a few thousand cover a busy team many times over."""

_Shown = tuple[str, dict[str, Any] | None]
_Edits = OrderedDict[tuple[int, int], tuple[int, _Shown]]
# By the bot's identity: bots compare equal by their token, and a message's id is one bot's.
_edits_by_bot: dict[int, _Edits] = {}


def _edits(bot: Bot | None) -> _Edits:
    if bot is None:
        return OrderedDict()
    edits = _edits_by_bot.get(id(bot))
    if edits is None:
        edits = _edits_by_bot[id(bot)] = OrderedDict()
        weakref.finalize(bot, _edits_by_bot.pop, id(bot), None)
    return edits


async def edit_screen(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show a screen in place of the message the button was on."""
    if not isinstance(query.message, Message):
        return
    if _on_screen(query.message) == _shown(text, markup):
        return  # Telegram refuses an edit that changes nothing
    remember_edit(await query.message.edit_text(text, reply_markup=markup))


async def drop_buttons(message: Message) -> None:
    """Take a message's buttons away once pressed, unless they are gone already (a second tap,
    or a press Telegram delivers again): an edit that changes nothing is refused."""
    if has_buttons(message):
        remember_edit(await message.edit_reply_markup(reply_markup=None))


def _on_screen(message: Message) -> _Shown:
    """What `message` shows now, its text (as HTML) and buttons: the copy that came with the
    update, or, if this process edited the message since that copy was made, the edit's."""
    edited = _edited_since(message)
    if edited is not None:
        return edited
    return _shown(message.html_text, message.reply_markup)


def has_buttons(message: Message) -> bool:
    """Whether `message` shows buttons now (as `_on_screen` tells, without reading its text)."""
    edited = _edited_since(message)
    if edited is not None:
        return edited[1] is not None
    return isinstance(message.reply_markup, InlineKeyboardMarkup)


def _edited_since(message: Message) -> _Shown | None:
    """This process's last edit of `message`, if made after the update's copy of it."""
    edited = _edits(message.bot).get((message.chat.id, message.message_id))
    if edited is not None and (message.edit_date or 0) <= edited[0]:
        return edited[1]
    return None


def shows(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Whether this process's last edit of a message left exactly this on it."""
    edited = _edits(bot).get((chat_id, message_id))
    return edited is not None and edited[1] == _shown(text, markup)


def remember_edit(result: Message | bool) -> None:
    """What an edit left on screen, from Telegram's answer to it (the edited message)."""
    if not isinstance(result, Message) or result.edit_date is None:
        return
    edits = _edits(result.bot)
    key = (result.chat.id, result.message_id)
    edits[key] = (result.edit_date, _shown(result.html_text, result.reply_markup))
    edits.move_to_end(key)
    while len(edits) > REMEMBERED_EDITS:
        edits.popitem(last=False)


def _shown(text: str, markup: Any) -> _Shown:
    # Telegram keeps a message's text without the white space around it.
    return text.strip(), _buttons(markup)


def _buttons(markup: Any) -> dict[str, Any] | None:
    """Buttons by value: a markup that came in an update carries the bot it came through, so
    `==` between two markups would never hold."""
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    return markup.model_dump(exclude_none=True)


async def retire_question(answer: Message, asked: int | None) -> None:
    """The buttons off a question once it is answered by typing (`asked`: its message in the
    chat of `answer`, None when none was remembered): "Отмена" or "Без комментария" under it
    would only be stale."""
    if asked is None or answer.bot is None:
        return
    edited = _edits(answer.bot).get((answer.chat.id, asked))
    if edited is not None and edited[1][1] is None:
        return  # taken off already
    with suppress(TelegramBadRequest):  # deleted by the person, or already without buttons
        remember_edit(
            await answer.bot.edit_message_reply_markup(
                chat_id=answer.chat.id, message_id=asked, reply_markup=None
            )
        )
