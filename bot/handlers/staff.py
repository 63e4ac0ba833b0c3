"""/invite and /team: an admin brings people in with one-time links and takes roles away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextlib import suppress
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import Handover, InviteCancel, InviteRole, TeamAction, TeamMember
from bot.telegram.filters import HasRole
from bot.telegram.fsm_storage import end_conversation
from bot.telegram.i18n import join_within_limit, pick_locale, t, t_in, tp
from bot.telegram.menus import set_personal_menu
from bot.telegram.staff_directory import StaffDirectory
from config.settings import Settings
from domain.clock import Clock
from domain.roles import Action, Role, can
from domain.staff import StaffMember
from services.staff import Actor, StaffError, Team, create_invite, deactivate, team
from services.training import STEPS, TrainingStatus, team_training
from storage.unit_of_work import UnitOfWork

INVITE_LABEL_MAX = 64


class InviteForm(StatesGroup):
    label = State()


async def invite_start(message: Message, actor: Actor) -> None:
    if not can(actor.role, Action.CREATE_INVITE):
        await message.answer(t("error.forbidden"))
        return
    keyboard = InlineKeyboardBuilder()
    for role in (Role.MANAGER, Role.SUPERVISOR):
        keyboard.button(text=tp(f"button.role.{role.value}"), callback_data=InviteRole(role=role))
    keyboard.button(text=tp("button.cancel"), callback_data=InviteCancel())
    keyboard.adjust(2, 1)
    await message.answer(t("invite.ask_role"), reply_markup=keyboard.as_markup())


async def invite_role_chosen(
    query: CallbackQuery, callback_data: InviteRole, actor: Actor, state: FSMContext
) -> None:
    if not can(actor.role, Action.CREATE_INVITE):
        await query.answer(tp("error.forbidden"), show_alert=True)
        return
    await state.set_state(InviteForm.label)
    await state.update_data(role=callback_data.role.value)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t("invite.ask_label", role=t(f"role.{callback_data.role.value}"))
        )


async def invite_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    await end_conversation(state)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("cancel.done"))


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
            expires=_local(issued.expires_at, settings.timezone),
        )
    )


async def invite_label_not_text(message: Message) -> None:
    await message.answer(t("input.text_expected"))


async def show_team(
    message: Message, actor: Actor, uow: UnitOfWork, clock: Clock, settings: Settings
) -> None:
    current = await team(uow, clock, actor)
    walks = await team_training(uow, clock, [m.telegram_id for m in current.members])
    await message.answer(
        _team_text(current, settings, walks),
        reply_markup=_team_keyboard(current, actor, settings),
    )


async def ask_deactivate(
    query: CallbackQuery, callback_data: TeamMember, actor: Actor, uow: UnitOfWork, clock: Clock
) -> None:
    if not can(actor.role, Action.DEACTIVATE_STAFF):
        await query.answer(tp("error.forbidden"), show_alert=True)
        return
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
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t("team.confirm_deactivate", name=_display_name(member)),
            reply_markup=keyboard.as_markup(),
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
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t(
                "team.deactivated" if count else "team.deactivated_no_deals",
                name=_display_name(member),
                count=count,
            ),
            reply_markup=_hand_over_button(member, count, actor),
        )


async def keep_member(
    query: CallbackQuery, actor: Actor, uow: UnitOfWork, clock: Clock, settings: Settings
) -> None:
    current = await team(uow, clock, actor)
    walks = await team_training(uow, clock, [m.telegram_id for m in current.members])
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _team_text(current, settings, walks),
            reply_markup=_team_keyboard(current, actor, settings),
        )


def _team_text(current: Team, settings: Settings, walks: Mapping[int, TrainingStatus]) -> str:
    lines = [t("team.title", count=len(current.members))]
    for member in current.members:
        line = t("team.member", name=_display_name(member), role=t(f"role.{member.role}"))
        if count := current.open_deals.get(member.telegram_id, 0):
            line += t("team.open_deals", count=count)
        walk = walks.get(member.telegram_id)
        if walk is not None and walk.completed_at is not None:
            line += t("team.training_done", date=_local(walk.completed_at, settings.timezone))
        elif walk is not None:
            line += t("team.training_steps", done=walk.steps_done, total=len(STEPS))
        elif member.role is Role.MANAGER:
            line += t("team.training_none")
        lines.append(line)
    if current.former_with_deals:
        lines.append("")
        lines.append(t("team.former_title"))
        for member in current.former_with_deals:
            lines.append(
                t(
                    "team.former_member",
                    name=_display_name(member),
                    count=current.open_deals.get(member.telegram_id, 0),
                )
            )
    if current.pending_invites:
        lines.append("")
        lines.append(t("team.pending_title"))
        for invite in current.pending_invites:
            lines.append(
                t(
                    "team.pending_invite",
                    label=invite.label,
                    role=t(f"role.{invite.role}"),
                    expires=_local(invite.expires_at, settings.timezone),
                )
            )
    return join_within_limit(lines, "list.more")


def _team_keyboard(current: Team, actor: Actor, settings: Settings) -> InlineKeyboardMarkup | None:
    """Admins may take roles away; supervisors and admins may hand a manager's deals over."""
    keyboard = InlineKeyboardBuilder()
    if can(actor.role, Action.REASSIGN):
        for member in [*current.members, *current.former_with_deals]:
            count = current.open_deals.get(member.telegram_id, 0)
            if count:
                keyboard.button(
                    text=tp("button.hand_over", name=_display_name(member), count=count),
                    callback_data=Handover(from_id=member.telegram_id),
                )
    if can(actor.role, Action.DEACTIVATE_STAFF):
        for member in current.members:
            if member.telegram_id == actor.user_id or member.telegram_id in settings.admin_ids:
                continue
            keyboard.button(
                text=tp("button.deactivate", name=_display_name(member)),
                callback_data=TeamMember(
                    action=TeamAction.ASK_DEACTIVATE, staff_id=member.telegram_id
                ),
            )
    keyboard.adjust(1)
    markup = keyboard.as_markup()
    return markup if markup.inline_keyboard else None


def _hand_over_button(member: StaffMember, count: int, actor: Actor) -> InlineKeyboardMarkup | None:
    """The deals a deactivated colleague leaves, to be handed over right away."""
    if not count or not can(actor.role, Action.REASSIGN):
        return None
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("button.hand_over", name=_display_name(member), count=count),
        callback_data=Handover(from_id=member.telegram_id),
    )
    return keyboard.as_markup()


def _display_name(member: StaffMember) -> str:
    name = member.first_name or str(member.telegram_id)
    return f"{name} (@{member.username})" if member.username else name


def _local(instant: dt.datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")


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
    router.callback_query.register(
        ask_deactivate, TeamMember.filter(F.action == TeamAction.ASK_DEACTIVATE)
    )
    router.callback_query.register(
        confirm_deactivate, TeamMember.filter(F.action == TeamAction.CONFIRM_DEACTIVATE)
    )
    router.callback_query.register(keep_member, TeamMember.filter(F.action == TeamAction.KEEP))
    return router
