"""/start (with its deep-link payloads), /help and /cancel, for every role."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import TrainingStart
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import pick_locale, t, tp
from bot.telegram.menus import set_personal_menu
from bot.telegram.staff_directory import StaffDirectory
from config.settings import Settings
from domain.clock import Clock
from domain.errors import InviteInvalid
from domain.invites import is_invite_payload
from domain.roles import Role
from domain.sales_book import SalesBook
from services.staff import Actor, Profile, StaffError, join_by_invite
from storage.unit_of_work import UnitOfWork

GREETING_BY_ROLE = {
    Role.MANAGER: "start.manager",
    Role.SUPERVISOR: "start.supervisor",
    Role.ADMIN: "start.admin",
}
HELP_BY_ROLE = {
    Role.MANAGER: "help.manager",
    Role.SUPERVISOR: "help.supervisor",
    Role.ADMIN: "help.admin",
}


async def cancel(message: Message, left_prompt: str | None) -> None:
    """Like every command, /cancel has left the prompt before it got here (`CommandLeavesPrompt`);
    it only says whether there was one."""
    key = "cancel.done" if left_prompt is not None else "cancel.nothing"
    await message.answer(t(key), reply_markup=ReplyKeyboardRemove())


async def start_with_invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    clock: Clock,
    profile: Profile,
    book: SalesBook,
    settings: Settings,
    staff_directory: StaffDirectory,
) -> None:
    try:
        role = await join_by_invite(
            uow, clock, profile, command.args or "", [p.id for p in book.pipelines]
        )
        await staff_directory.forget()
    except InviteInvalid as error:
        await message.answer(t(f"invite.invalid.{error.reason}"))
        return
    except StaffError:
        await message.answer(t("invite.already_staff"))
        return
    locale = pick_locale(profile.language_code, settings.default_locale)
    await set_personal_menu(bot, message.chat.id, role, locale, settings.web_app_url)
    offer = None
    if role is Role.MANAGER:  # a new manager learns the screens on a sandbox deal first
        keyboard = InlineKeyboardBuilder()
        keyboard.button(text=tp("training.offer_button"), callback_data=TrainingStart())
        offer = keyboard.as_markup()
    await message.answer(
        t("invite.joined", role=t(f"role.{role.value}"), company=book.company)
        + "\n\n"
        + t(HELP_BY_ROLE[role])
        + ("\n\n" + t("training.offer") if offer else ""),
        reply_markup=offer,
    )


async def start(
    message: Message, bot: Bot, actor: Actor, book: SalesBook, settings: Settings
) -> None:
    if actor.is_staff:
        locale = pick_locale(actor.language_code, settings.default_locale)
        await set_personal_menu(bot, message.chat.id, actor.role, locale, settings.web_app_url)
    await message.answer(
        t(GREETING_BY_ROLE[actor.role], name=actor.first_name, company=book.company),
        reply_markup=ReplyKeyboardRemove(),
    )


async def help_(message: Message, actor: Actor) -> None:
    await message.answer(t(HELP_BY_ROLE[actor.role]))


def create_router() -> Router:
    router = Router(name="common")
    router.message.register(cancel, Command("cancel"), StateFilter("*"))
    router.message.register(
        start_with_invite, CommandStart(deep_link=True, magic=F.args.func(is_invite_payload))
    )
    router.message.register(start, CommandStart(), HasRole(*STAFF_ROLES))
    router.message.register(help_, Command("help"), StateFilter("*"), HasRole(*STAFF_ROLES))
    return router
