"""/team's screen: the staff, a page at a time, with the deals each holds and their training,
the deactivated who still hold deals, the pending invites; and the buttons of the reader's role
(hand a colleague's deals over, deactivate someone)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.screens.pages import paging_buttons
from bot.telegram.callbacks import Handover, TeamAction, TeamMember, TeamPage
from bot.telegram.i18n import join_within_limit, t, tp
from config.settings import Settings
from domain.pages import page_of
from domain.roles import Action, Role, can
from domain.staff import StaffMember
from services.staff import Actor, Team
from services.training import STEPS, TrainingStatus

TEAM_PAGE_SIZE = 10
"""Members a page: their lines and buttons fit a phone (and Telegram's 100 buttons) whatever
the team's size."""


def team_screen(
    current: Team,
    walks: Mapping[int, TrainingStatus],
    actor: Actor,
    settings: Settings,
    page: int = 0,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the team (a page past the end shows the last); the deactivated who hold
    deals and the pending invites under every page: both want someone's action."""
    members, page, pages = page_of(current.members, page, TEAM_PAGE_SIZE)
    return (
        _text(current, members, walks, settings, page, pages),
        _keyboard(current, members, actor, settings, page, pages),
    )


def _text(
    current: Team,
    members: Sequence[StaffMember],
    walks: Mapping[int, TrainingStatus],
    settings: Settings,
    page: int,
    pages: int,
) -> str:
    title = t("team.title", count=len(current.members))
    if pages > 1:
        title += t("team.page", page=page + 1, pages=pages)
    lines = [title]
    for member in members:
        line = t("team.member", name=display_name(member), role=t(f"role.{member.role}"))
        if count := current.open_deals.get(member.telegram_id, 0):
            line += t("team.open_deals", count=count)
        walk = walks.get(member.telegram_id)
        if walk is not None and walk.completed_at is not None:
            line += t("team.training_done", date=local_time(walk.completed_at, settings.timezone))
        elif walk is not None:
            line += t("team.training_steps", done=walk.steps_done, total=len(STEPS))
        elif member.role is Role.MANAGER:
            line += t("team.training_none")
        lines.append(line)
    lines += _section(
        "team.former_title",
        [
            t(
                "team.former_member",
                name=display_name(member),
                count=current.open_deals.get(member.telegram_id, 0),
            )
            for member in current.former_with_deals
        ],
    )
    lines += _section(
        "team.pending_title",
        [
            t(
                "team.pending_invite",
                label=invite.label,
                role=t(f"role.{invite.role}"),
                expires=local_time(invite.expires_at, settings.timezone),
            )
            for invite in current.pending_invites
        ],
    )
    return join_within_limit(lines, "list.more")


def _section(title_key: str, rows: list[str]) -> list[str]:
    return ["", t(title_key), *rows] if rows else []


def _keyboard(
    current: Team,
    members: Sequence[StaffMember],
    actor: Actor,
    settings: Settings,
    page: int,
    pages: int,
) -> InlineKeyboardMarkup | None:
    """Admins may take roles away; supervisors and admins may hand a manager's deals over."""
    keyboard = InlineKeyboardBuilder()
    if can(actor.role, Action.REASSIGN):
        for member in [*members, *current.former_with_deals]:
            count = current.open_deals.get(member.telegram_id, 0)
            if count:
                keyboard.add(hand_over_button(member, count))
    if can(actor.role, Action.DEACTIVATE_STAFF):
        for member in members:
            if member.telegram_id == actor.user_id or member.telegram_id in settings.admin_ids:
                continue
            keyboard.button(
                text=tp("button.deactivate", name=display_name(member)),
                callback_data=TeamMember(
                    action=TeamAction.ASK_DEACTIVATE, staff_id=member.telegram_id
                ),
            )
    keyboard.adjust(1)
    keyboard.attach(paging_buttons(page, pages, lambda to: TeamPage(page=to)))
    markup = keyboard.as_markup()
    return markup if markup.inline_keyboard else None


def hand_over_button(member: StaffMember, count: int) -> InlineKeyboardButton:
    """ "🔁 Передать сделки: Иван (2)": the picker of whom to give a colleague's open deals."""
    return InlineKeyboardButton(
        text=tp("button.hand_over", name=display_name(member), count=count),
        callback_data=Handover(from_id=member.telegram_id).pack(),
    )


def display_name(member: StaffMember) -> str:
    name = member.first_name or str(member.telegram_id)
    return f"{name} (@{member.username})" if member.username else name


def local_time(instant: dt.datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")
