"""The command menu (`setMyCommands`) each role sees: strangers and leads get the default scope,
each staff member gets a menu of their own in their chat."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Bot
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from bot.telegram.i18n import t_in
from config.settings import SUPPORTED_LOCALES
from domain.roles import Role

COMMANDS_BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.LEAD: ("start", "help", "cancel", "forget_me"),
    Role.MANAGER: (
        "start",
        "deals",
        "reminders",
        "scripts",
        "report",
        "my",
        "book",
        "training",
        "timezone",
        "help",
        "cancel",
    ),
    Role.SUPERVISOR: (
        "start",
        "deals",
        "reminders",
        "digest",
        "ab",
        "scripts",
        "team",
        "report",
        "my",
        "spend",
        "book",
        "timezone",
        "help",
        "cancel",
    ),
    Role.ADMIN: (
        "start",
        "deals",
        "reminders",
        "digest",
        "ab",
        "scripts",
        "invite",
        "team",
        "report",
        "my",
        "spend",
        "book",
        "timezone",
        "help",
        "cancel",
    ),
}
UNLISTED_STAFF_COMMANDS = frozenset({"deal"})
"""Staff commands the menus leave out: `/deal 123` needs a number (the help names it)."""

STAFF_ONLY_COMMANDS = (
    frozenset().union(*COMMANDS_BY_ROLE.values()) - set(COMMANDS_BY_ROLE[Role.LEAD])
) | UNLISTED_STAFF_COMMANDS


def least_role_with(command: str) -> Role | None:
    """The lowest role whose menu lists `command` (None: no menu does)."""
    if command in UNLISTED_STAFF_COMMANDS:
        return Role.MANAGER
    listed = [role for role, commands in COMMANDS_BY_ROLE.items() if command in commands]
    return min(listed, key=lambda role: role.rank, default=None)


def commands_for(role: Role, locale: str) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=t_in(locale, f"command.{name}"))
        for name in COMMANDS_BY_ROLE[role]
    ]


async def set_default_menus(bot: Bot, default_locale: str) -> None:
    await bot.set_my_commands(commands_for(Role.LEAD, default_locale), BotCommandScopeDefault())
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(
            commands_for(Role.LEAD, locale), BotCommandScopeDefault(), language_code=locale
        )


async def set_personal_menu(
    bot: Bot, chat_id: int, role: Role, locale: str, board_url: str | None = None
) -> None:
    """The person's command menu; with the Mini App's URL (WEB_APP_URL), staff also get the
    board on the chat's menu button, and someone who left the team gets the default back."""
    await bot.set_my_commands(commands_for(role, locale), BotCommandScopeChat(chat_id=chat_id))
    if board_url is None:
        return
    button: MenuButtonWebApp | MenuButtonDefault = (
        MenuButtonWebApp(text=t_in(locale, "app.title"), web_app=WebAppInfo(url=board_url))
        if role.is_staff
        else MenuButtonDefault()
    )
    await bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)


async def set_staff_menus(
    bot: Bot, staff: Iterable[tuple[int, Role, str]], board_url: str | None = None
) -> None:
    for chat_id, role, locale in staff:
        await set_personal_menu(bot, chat_id, role, locale, board_url)
