"""Callback data factories. Every field is small (ids, enums), never free text, so packed data
stays under Telegram's 64 bytes; buttons can be forged, so handlers re-check everything."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from domain.roles import Role


class InviteRole(CallbackData, prefix="inv"):
    role: Role


class InviteCancel(CallbackData, prefix="invx"):
    pass


class TeamAction(StrEnum):
    ASK_DEACTIVATE = "ask"
    CONFIRM_DEACTIVATE = "yes"
    KEEP = "no"


class TeamMember(CallbackData, prefix="team"):
    action: TeamAction
    staff_id: int


class BookPipeline(CallbackData, prefix="book"):
    pipeline_id: str
