"""The last router: whatever nobody else handled gets a clear answer, never silence.

Each answer also takes away a reply keyboard: the only one the bot shows is the request form's,
and a message that reached this router was not an answer to the form (a command left it, or it
was left before), so "📱 Отправить мой номер" or "Пропустить" would only be stale."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.handlers.errors import roles_named
from bot.telegram.i18n import TELEGRAM_TEXT_LIMIT, t, tp
from bot.telegram.menus import STAFF_ONLY_COMMANDS, least_role_with
from domain.sales_book import SalesBook
from services.request_gate import has_consented
from services.staff import Actor
from storage.unit_of_work import UnitOfWork

NO_FORM = ReplyKeyboardRemove()


async def staff_command_not_allowed(message: Message, actor: Actor, command: CommandObject) -> None:
    named = roles_named(actor.role, least_role_with(command.command))
    if named is not None:
        text = t("error.forbidden_role", **named)
    else:
        text = t("error.forbidden" if actor.is_staff else "error.staff_only")
    await message.answer(text, reply_markup=NO_FORM)


async def unknown_command(message: Message) -> None:
    await message.answer(t("error.unknown_command"), reply_markup=NO_FORM)


async def too_long(message: Message) -> None:
    await message.answer(t("input.too_long", limit=TELEGRAM_TEXT_LIMIT), reply_markup=NO_FORM)


async def unexpected_text(message: Message, actor: Actor, uow: UnitOfWork, book: SalesBook) -> None:
    if actor.is_staff:
        key = "fallback.text_staff"
    elif await has_consented(uow, book, actor.user_id):
        key = "fallback.text_lead"
    else:  # the consent's buttons are on screen, or were: they are the way on
        key = "fallback.text_before_consent"
    await message.answer(t(key), reply_markup=NO_FORM)


async def unexpected_content(message: Message, raw_state: str | None = None) -> None:
    # A sticker or a photo while the bot waits for a typed answer (a figure, the report's
    # dates, a time zone): the question still stands, so say what it needs.
    key = "input.text_expected" if raw_state is not None else "fallback.not_text"
    await message.answer(t(key), reply_markup=NO_FORM)


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(tp("error.stale_button"), show_alert=True)


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(staff_command_not_allowed, Command(*STAFF_ONLY_COMMANDS))
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(too_long, F.text.len() > TELEGRAM_TEXT_LIMIT)
    router.message.register(unexpected_text, F.text)
    router.message.register(unexpected_content)
    router.callback_query.register(stale_button)
    return router
