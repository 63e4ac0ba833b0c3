"""Errors that escape a handler, answered in one place: a domain refusal becomes the alert (on a
button) or the message (on typed text) the person understands, and a prompt it interrupted
ends; only a bug is logged with its traceback. Handlers let these errors through instead of
translating them one by one."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.filters import ExceptionMessageFilter, ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import ErrorEvent

from bot.telegram.answered_queries import already_answered
from bot.telegram.fsm_storage import end_conversation
from bot.telegram.i18n import t, tp
from domain.errors import DealClosed, DomainError, ExitCriteriaNotMet, PermissionDenied
from domain.roles import Action, Role, least_role
from services.access import DealNotFound
from services.client_merge import NothingToMerge
from services.leads import DealUnavailable

log = logging.getLogger(__name__)

DEAL_ACTIONS = frozenset(
    {
        Action.VIEW_OWN_DEALS,
        Action.VIEW_ALL_DEALS,
        Action.UPDATE_OWN_DEALS,
        Action.UPDATE_ANY_DEAL,
        Action.CLAIM_LEAD,
    }
)
"""Refusals about a particular deal: "it is someone else's", not "you lack the role"."""


class StaleButton(Exception):
    """A button whose data matches nothing (any more): forged, or from an old screen."""


def roles_named(yours: Role | None, needed: Role | None) -> dict[str, str] | None:
    """What a refusal by role names ("…для роли «руководитель» и выше, а ваша роль —
    «менеджер»"): staff are told whose work it is, not only "no". None for anyone else, or
    for what no role may do."""
    if yours is None or not yours.is_staff or needed is None:
        return None
    return {"role": tp(f"role.{needed.value}"), "yours": tp(f"role.{yours.value}")}


async def permission_denied(event: ErrorEvent, state: FSMContext | None = None) -> None:
    error = event.exception
    assert isinstance(error, PermissionDenied)  # the only exception it is registered for
    if error.action in DEAL_ACTIONS:
        await _tell(event, state, alert="deal.not_yours", message="deal.unavailable_plain")
        return
    named = roles_named(error.role, least_role(error.action))
    if named is None:
        await _tell(event, state, alert="error.forbidden", message="error.forbidden")
        return
    await _tell(
        event, state, alert="error.forbidden_role_alert", message="error.forbidden_role", **named
    )


async def deal_not_found(event: ErrorEvent, state: FSMContext | None = None) -> None:
    deal_id = getattr(event.exception, "deal_id", "")
    await _tell(event, state, alert="error.stale_button", message="deal.not_found", deal_id=deal_id)


async def deal_unavailable(event: ErrorEvent, state: FSMContext | None = None) -> None:
    await _tell(event, state, alert="deal.unavailable", message="deal.unavailable_plain")


async def deal_closed(event: ErrorEvent, state: FSMContext | None = None) -> None:
    await _tell(event, state, alert="card.closed", message="deal.unavailable_plain")


async def criteria_missing(event: ErrorEvent, state: FSMContext | None = None) -> None:
    missing = getattr(event.exception, "missing", ())
    await _tell(
        event,
        state,
        alert="card.criteria_missing",
        message="error.stale_button",
        count=len(missing),
    )


async def nothing_to_merge(event: ErrorEvent, state: FSMContext | None = None) -> None:
    await _tell(event, state, alert="merge.nothing", message="merge.nothing")


async def stale(event: ErrorEvent, state: FSMContext | None = None) -> None:
    """A stale or forged button, or any other refusal of the domain's rules."""
    await _tell(event, state, alert="error.stale_button", message="error.stale_button")


async def token_refused(event: ErrorEvent) -> None:
    """Telegram no longer takes the token: nothing can be answered, and the bot is stopping
    (bot/telegram/revoked_token.py says why, once)."""
    log.warning("update %s not answered: Telegram refused the bot token", event.update.update_id)


async def unchanged_screen(event: ErrorEvent) -> None:
    """A press that would show what is on screen already (a double tap on a button whose first
    tap changed the message): Telegram refuses the edit, and there is nothing to tell."""
    query = event.update.callback_query
    if query is not None and not already_answered(query.id):
        await query.answer()


async def unexpected(event: ErrorEvent) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await _tell(event, None, alert="error.internal", message="error.internal")


async def _tell(
    event: ErrorEvent, state: FSMContext | None, *, alert: str, message: str, **values: Any
) -> None:
    update = event.update
    if update.callback_query is not None:
        query = update.callback_query
        if not already_answered(query.id):
            await query.answer(tp(alert, **values), show_alert=True)
        elif query.bot is not None:
            # The handler stopped the button's spinner before it failed, and Telegram takes
            # one answer per press: the words go to the chat instead (a private one).
            await query.bot.send_message(query.from_user.id, t(message, **values))
    elif update.message is not None:
        if state is not None:
            await end_conversation(state)  # the prompt this answer interrupted is over
        await update.message.answer(t(message, **values))


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(permission_denied, ExceptionTypeFilter(PermissionDenied))
    router.errors.register(deal_not_found, ExceptionTypeFilter(DealNotFound))
    router.errors.register(deal_unavailable, ExceptionTypeFilter(DealUnavailable))
    router.errors.register(deal_closed, ExceptionTypeFilter(DealClosed))
    router.errors.register(criteria_missing, ExceptionTypeFilter(ExitCriteriaNotMet))
    router.errors.register(nothing_to_merge, ExceptionTypeFilter(NothingToMerge))
    router.errors.register(stale, ExceptionTypeFilter(StaleButton, DomainError))
    router.errors.register(token_refused, ExceptionTypeFilter(TelegramUnauthorizedError))
    router.errors.register(
        unchanged_screen,
        ExceptionTypeFilter(TelegramBadRequest),
        ExceptionMessageFilter(r".*message is not modified"),  # matched from the start
    )
    router.errors.register(unexpected)
    return router
