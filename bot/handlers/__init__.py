"""Routers, joined in the order they must be tried: errors, common commands (with /cancel
first), staff features, and the fallback that answers whatever is left. A command typed in a
prompt ends the prompt before any of them is tried (`CommandLeavesPrompt`). Each module builds a
fresh router, so several dispatchers (a restart in a test) can live in one process."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    book,
    business,
    common,
    deal_list,
    deals,
    errors,
    fallback,
    lead,
    my,
    profile,
    proposals,
    qualification,
    relay,
    reminders,
    reports,
    same_phone,
    scripts,
    staff,
    supervision,
    training,
    unit_economics,
)
from bot.telegram.middlewares import CommandLeavesPrompt


def build_root_router() -> Router:
    root = Router(name="root")
    root.message.outer_middleware(CommandLeavesPrompt(lead.SIDE_COMMANDS))
    root.include_routers(
        errors.create_router(),
        common.create_router(),
        lead.create_router(),
        unit_economics.create_router(),
        supervision.create_router(),
        proposals.create_router(),
        reminders.create_router(),
        deal_list.create_router(),
        qualification.create_router(),
        deals.create_router(),
        scripts.create_router(),
        relay.create_router(),
        business.create_router(),
        same_phone.create_router(),
        staff.create_router(),
        reports.create_router(),
        book.create_router(),
        profile.create_router(),
        my.create_router(),
        training.create_router(),
        reminders.create_typed_router(),
        fallback.create_router(),
    )
    return root
