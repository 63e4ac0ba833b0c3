"""Long lists of buttons a page at a time: Telegram refuses a message with more than 100
buttons, and a phone shows a screenful."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.i18n import t

PICKER_PAGE_SIZE = 20
"""Choices a page in a picker (of a manager, a colleague); which ones: `domain.pages.page_of`."""


def paging_buttons(
    page: int, pages: int, to_page: Callable[[int], CallbackData]
) -> InlineKeyboardBuilder:
    """ "◀️" and "▶️" where there is a page to go to, as one row to attach."""
    paging = InlineKeyboardBuilder()
    if page > 0:
        paging.button(text="◀️", callback_data=to_page(page - 1))
    if page + 1 < pages:
        paging.button(text="▶️", callback_data=to_page(page + 1))
    return paging


def page_title(title: str, page: int, pages: int) -> str:
    """A picker's question, and under it which page this is when there are several."""
    return f"{title}\n{t('list.page', page=page + 1, pages=pages)}" if pages > 1 else title
