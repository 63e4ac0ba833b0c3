"""/invite and /team: an admin brings people in with one-time links and takes roles away."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.screens.in_place import edit_screen
from bot.screens.team import display_name, hand_over_button, local_time, team_screen
from bot.telegram.callbacks import InviteCancel, InviteRole, TeamAction, TeamMember, TeamPage
from bot.telegram.filters import HasRole
from bot.telegram.fsm_storage import end_conversation
from bot.telegram.i18n import pick_locale, t, t_in, tp
from bot.telegram.menus import set_personal_menu
from bot.telegram.staff_directory import StaffDirectory
from config.settings import Settings
from domain.clock import Clock
from domain.roles import Action, Role, can, require
from services.staff import Actor, StaffError, create_invite, deactivate, team
from services.training import team_training
from storage.unit_of_work import UnitOfWork

INVITE_LABEL_MAX = 64


class InviteForm(StatesGroup):
    label = State()


async def invite_start(message: Message, actor: Actor) -> None:
    require(actor.role, Action.CREATE_INVITE)  # the errors router says whose work it is
    keyboard = InlineKeyboardBuilder()
    for role in (Role.MANAGER, Role.SUPERVISOR):
        keyboard.button(text=tp(f"button.role.{role.value}"), callback_data=InviteRole(role=role))
    keyboard.button(text=tp("button.cancel"), callback_data=InviteCancel())
    keyboard.adjust(2, 1)
    await message.answer(t("invite.ask_role"), reply_markup=keyboard.as_markup())


async def invite_role_chosen(
    query: CallbackQuery, callback_data: InviteRole, actor: Actor, state: FSMContext
) -> None:
    require(actor.role, Action.CREATE_INVITE)
    await state.set_state(InviteForm.label)
    await state.update_data(role=callback_data.role.value)
    await query.answer()
    await edit_screen(
        query, t("invite.ask_label", role=t(f"role.{callback_data.role.value}")), None
    )


async def invite_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    await end_conversation(state)
    await query.answer()
    await edit_screen(query, t("cancel.done"), None)  # a double tap's second: nothing to edit


async def invite_label_given(
    message: Message,
    actor: Actor,
    state: FSMContext,
    bot: Bot,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
) -> None:
    label = (message.text or "").strip()
    if not label:
        await message.answer(t("invite.label_needed"))
        return
    if len(label) > INVITE_LABEL_MAX:
        await message.answer(t("input.too_long", limit=INVITE_LABEL_MAX))
        return
    role = Role((await state.get_data())["role"])
    issued = await create_invite(
        uow, clock, actor, role, label, dt.timedelta(hours=settings.invite_ttl_hours)
    )
    await end_conversation(state)
    link = await create_start_link(bot, issued.token)
    await message.answer(
        t(
            "invite.created",
            label=label,
            role=t(f"role.{role.value}"),
            link=link,
            expires=local_time(issued.expires_at, settings.timezone),
        )
    )


async def invite_label_not_text(message: Message) -> None:
    await message.answer(t("input.text_expected"))


async def show_team(
    message: Message, actor: Actor, uow: UnitOfWork, clock: Clock, settings: Settings
) -> None:
    text, markup = await _team_page(uow, clock, actor, settings, 0)
    await message.answer(text, reply_markup=markup)


async def team_page(
    query: CallbackQuery,
    callback_data: TeamPage,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
) -> None:
    await edit_screen(query, *await _team_page(uow, clock, actor, settings, callback_data.page))
    await query.answer()


async def _team_page(
    uow: UnitOfWork, clock: Clock, actor: Actor, settings: Settings, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    current = await team(uow, clock, actor)
    walks = await team_training(uow, clock, [m.telegram_id for m in current.members])
    return team_screen(current, walks, actor, settings, page)


async def ask_deactivate(
    query: CallbackQuery, callback_data: TeamMember, actor: Actor, uow: UnitOfWork, clock: Clock
) -> None:
    require(actor.role, Action.DEACTIVATE_STAFF)
    current = await team(uow, clock, actor)
    member = next((m for m in current.members if m.telegram_id == callback_data.staff_id), None)
    if member is None:
        await query.answer(tp("team.not_staff"), show_alert=True)
        return
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("button.confirm_deactivate"),
        callback_data=TeamMember(action=TeamAction.CONFIRM_DEACTIVATE, staff_id=member.telegram_id),
    )
    keyboard.button(
        text=tp("button.keep"),
        callback_data=TeamMember(action=TeamAction.KEEP, staff_id=member.telegram_id),
    )
    await query.answer()
    await edit_screen(
        query, t("team.confirm_deactivate", name=display_name(member)), keyboard.as_markup()
    )


async def confirm_deactivate(
    query: CallbackQuery,
    callback_data: TeamMember,
    actor: Actor,
    bot: Bot,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    staff_directory: StaffDirectory,
) -> None:
    try:
        member = await deactivate(uow, clock, actor, callback_data.staff_id, settings.admin_ids)
        await staff_directory.forget()
    except StaffError as error:
        await query.answer(tp(f"team.{error.reason}"), show_alert=True)
        return
    await query.answer()
    locale = pick_locale(member.language_code, settings.default_locale)
    await set_personal_menu(bot, member.telegram_id, Role.LEAD, locale, settings.web_app_url)
    with suppress(TelegramForbiddenError, TelegramBadRequest):  # blocked the bot, or never wrote
        await bot.send_message(member.telegram_id, t_in(locale, "team.you_were_deactivated"))
    count = (await team(uow, clock, actor)).open_deals.get(member.telegram_id, 0)
    await edit_screen(
        query,
        t(
            "team.deactivated" if count else "team.deactivated_no_deals",
            name=display_name(member),
            count=count,
        ),
        InlineKeyboardMarkup(inline_keyboard=[[hand_over_button(member, count)]])
        if count and can(actor.role, Action.REASSIGN)
        else None,
    )


async def keep_member(
    query: CallbackQuery, actor: Actor, uow: UnitOfWork, clock: Clock, settings: Settings
) -> None:
    await edit_screen(query, *await _team_page(uow, clock, actor, settings, 0))
    await query.answer()


def create_router() -> Router:
    router = Router(name="staff")
    router.message.filter(HasRole(Role.SUPERVISOR, Role.ADMIN))
    router.callback_query.filter(HasRole(Role.SUPERVISOR, Role.ADMIN))
    router.message.register(invite_start, Command("invite"), StateFilter("*"))
    router.callback_query.register(
        invite_role_chosen, InviteRole.filter(F.role.in_({Role.MANAGER, Role.SUPERVISOR}))
    )
    router.callback_query.register(invite_cancelled, InviteCancel.filter())
    router.message.register(invite_label_given, InviteForm.label, F.text)
    router.message.register(invite_label_not_text, InviteForm.label)
    router.message.register(show_team, Command("team"), StateFilter("*"))
    router.callback_query.register(team_page, TeamPage.filter())
    router.callback_query.register(
        ask_deactivate, TeamMember.filter(F.action == TeamAction.ASK_DEACTIVATE)
    )
    router.callback_query.register(
        confirm_deactivate, TeamMember.filter(F.action == TeamAction.CONFIRM_DEACTIVATE)
    )
    router.callback_query.register(keep_member, TeamMember.filter(F.action == TeamAction.KEEP))
    return router
