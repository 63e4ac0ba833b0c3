"""Middlewares: a unit of work per update, the person's role on every update, a command that
leaves whatever prompt it was typed in, and a guard against over-long input."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.fsm_storage import end_conversation
from bot.telegram.staff_directory import StaffDirectory
from domain.clock import Clock
from domain.roles import Role
from services.staff import Actor, Profile, identify
from storage.repositories.inbox import UpdateAlreadyHandled
from storage.unit_of_work import UnitOfWork, already_handled, record_handled

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger(__name__)


class UnitOfWorkMiddleware(BaseMiddleware):
    """One unit of work per update, handed to handlers as `uow`. When the update's changes
    committed messages owed to someone (the outbox), `messages_owed` sends them once the
    handler is done, so the person who acted gets their answer first.

    With `inbox` (webhook mode, where Telegram delivers an update again until it gets a 2xx)
    each update has its effect once: one already in the inbox is skipped; otherwise the unit
    of work's first commit records its id in the same transaction, and a concurrent delivery
    that committed first makes this one roll back (`UpdateAlreadyHandled`). An update that
    commits nothing is recorded after its handler, on its own. `on_repeat` is told of an
    update skipped so: its first delivery may have been cut short after its commit (a killed
    instance), with an answer still owed."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        messages_owed: Callable[[], None],
        *,
        inbox: bool = False,
        on_repeat: Callable[[Update, dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._messages_owed = messages_owed
        self._inbox = inbox
        self._on_repeat = on_repeat

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update_id = event.update_id if self._inbox and isinstance(event, Update) else None
        uow = data["uow"] = UnitOfWork(self._session_factory, update_id=update_id)
        if update_id is not None and await already_handled(uow, update_id):
            log.info("update %d was already handled: skipped", update_id)
            if self._on_repeat is not None and isinstance(event, Update):
                try:
                    await self._on_repeat(event, data)
                except Exception:
                    # Answered 2xx all the same: a failing repeat must not have Telegram
                    # deliver the update again and again.
                    log.exception("answering update %d again failed", update_id)
            return None
        try:
            result = await handler(event, data)
        except UpdateAlreadyHandled:
            log.info("update %d was handled by another delivery: rolled back", update_id)
            return None
        finally:
            if uow.owes_messages:
                self._messages_owed()
        if update_id is not None and not uow.update_recorded:
            await record_handled(uow, update_id)
        return result


class UpdatesInHand(BaseMiddleware):
    """Counts the updates being handled, so a shutdown can let them finish (and their answers
    go out) before the HTTP session closes under them."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def finished(self, within: float) -> bool:
        """Wait until no update is in hand; False if some still were after `within` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=within)
        except TimeoutError:
            return False
        return True


class ActorMiddleware(BaseMiddleware):
    """Looks up who is writing and with which role, on every update, as `actor`."""

    def __init__(
        self, clock: Clock, admin_ids: Collection[int], staff_directory: StaffDirectory
    ) -> None:
        self._clock = clock
        self._admin_ids = admin_ids
        self._staff_directory = staff_directory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        profile = Profile(
            user_id=user.id,
            first_name=user.first_name,
            username=user.username,
            language_code=user.language_code,
        )
        if user.id in self._admin_ids or await self._staff_directory.may_be_staff(user.id):
            actor = await identify(data["uow"], self._clock, profile, self._admin_ids)
        else:
            actor = Actor(user.id, Role.LEAD, user.first_name, user.username, user.language_code)
        data["actor"] = actor
        data["profile"] = profile
        return await handler(event, data)


class CommandLeavesPrompt(BaseMiddleware):
    """A command is never an answer: typed while the bot waits for an amount, a comment, a date
    or a form field, it ends that conversation (state and data, the /spend upload window
    included) before any router sees it, and then goes where it goes outside any prompt.

    Why once, here, before routing: the routers are tried in one order for every message, and a
    prompt's handler (a proposal figure, a card comment) comes before the routers of other
    features' commands (/my, /report); aiogram lets no handler pass a message on once it has
    taken it. A "not a command" filter on every prompt handler would be the same rule written
    eighteen times and missed on the next prompt; here the prompt handlers stay thin and a new
    prompt is covered the day it is added. What a command is follows aiogram's `Command`
    filter: text, or a caption, starting with "/".

    `left_prompt` (the ended state, or None) goes to the handlers: `/cancel` says by it whether
    there was anything to cancel.

    `side_commands` are the exceptions, by state: commands that answer beside a conversation
    and leave it as it is (a lead's /help in the middle of the request form, whose reply
    keyboard stays on screen for the next answer)."""

    def __init__(self, side_commands: Mapping[str | None, frozenset[str]] | None = None) -> None:
        self.side_commands = dict(side_commands or {})

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        text = (event.text or event.caption or "") if isinstance(event, Message) else ""
        if text.startswith("/"):
            state: FSMContext | None = data.get("state")
            left_prompt = await state.get_state() if state else None
            command = text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(text) > 1 else ""
            if left_prompt and command in self.side_commands.get(left_prompt, frozenset()):
                data["left_prompt"] = None
                return await handler(event, data)
            if state is not None and (left_prompt is not None or await state.get_data()):
                await end_conversation(state)
            data["left_prompt"] = left_prompt
            data["raw_state"] = None  # what the state filters of the routers below read
        return await handler(event, data)


def private_chats_only(update: Update) -> bool:
    """Group chats are not a channel of this bot (yet): their updates are ignored."""
    chat = None
    if update.message:
        chat = update.message.chat
    elif update.callback_query and update.callback_query.message:
        chat = update.callback_query.message.chat
    return chat is None or chat.type == "private"
