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


class Consent(CallbackData, prefix="consent"):
    accept: bool
    source: int
    """Index of the lead source in the sales book, -1 for unknown: nothing about the person is
    stored before they consent, so the source travels in the button."""


class ForgetStep(StrEnum):
    ASK = "ask"
    CONFIRM = "yes"
    KEEP = "no"


class ForgetMe(CallbackData, prefix="forget"):
    step: ForgetStep


class DealActionKind(StrEnum):
    TAKE = "take"
    WRITE = "write"


class DealAction(CallbackData, prefix="deal"):
    action: DealActionKind
    deal_id: int
