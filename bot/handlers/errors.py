"""Errors that escape a handler: a role check in a service, or a bug. The person always gets an
answer; only a bug is logged with its traceback."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.i18n import t, tp
from domain.errors import PermissionDenied

log = logging.getLogger(__name__)


async def permission_denied(event: ErrorEvent) -> None:
    await _tell(event, "error.forbidden")


async def unexpected(event: ErrorEvent) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await _tell(event, "error.internal")


async def _tell(event: ErrorEvent, key: str) -> None:
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(tp(key), show_alert=True)
    elif update.message is not None:
        await update.message.answer(t(key))


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(permission_denied, ExceptionTypeFilter(PermissionDenied))
    router.errors.register(unexpected)
    return router
