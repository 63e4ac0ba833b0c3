"""The manager's own Telegram (Telegram Business): the connection, each client's chat logged on
their deal, and a client with no deal yet offered to the manager. The bot writes nothing in the
manager's chats: whatever it has to say goes to the manager's chat with the bot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.activity import Activity
from domain.business import (
    BUSINESS_SOURCE,
    BusinessChat,
    BusinessConnection,
    Change,
    ChatAlreadyDecided,
    ChatMessage,
    Direction,
    answers_client,
    start_of_day,
)
from domain.clock import Clock
from domain.contact import Contact
from domain.deal import Deal, open_deal, with_deal_id
from domain.first_response import first_response_deadline
from domain.reminders import (
    PlannedReminder,
    owe_note,
    plan_first_response,
    plan_stage,
)
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.first_response import client_answered
from services.leads import client_accounts, erase_lead
from services.staff import Actor
from services.unit_of_work import BusinessUnitOfWork

CHAT_ACTIVITY = "chat"
"""The activity a manager's own reply in the chat counts as (once per deal a day)."""


class Connected(StrEnum):
    """What a `business_connection` update changed, for what the staff member is told."""

    ON = "on"
    OFF = "off"
    REFUSED = "refused"
    """Not active staff: nothing of theirs is stored."""
    SAME = "same"


@dataclass(frozen=True, slots=True)
class ConnectionFacts:
    id: str
    user_id: int
    user_chat_id: int
    is_enabled: bool
    can_reply: bool
    rights: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """A message of a connected account's private chat, as Telegram delivered it."""

    connection_id: str
    client_id: int
    """The chat's id: the other person of the private chat."""
    client_name: str | None
    client_username: str | None
    sender_id: int | None
    message_id: int
    kind: str
    text: str | None
    automatic: bool = False
    """Sent by Telegram itself: a greeting or away message (`is_from_offline`)."""
    via_bot: bool = False
    """Sent by a bot on the account's behalf (`sender_business_bot`)."""


@dataclass(frozen=True, slots=True)
class Logged:
    deal_id: int | None
    direction: Direction


@dataclass(frozen=True, slots=True)
class NewClient:
    """A chat waiting for the manager's "make a deal?"."""

    chat_id: int
    name: str | None
    username: str | None


async def connect(
    uow: BusinessUnitOfWork, clock: Clock, facts: ConnectionFacts, *, is_staff: bool
) -> Connected:
    """Store a connection of an active staff member's account (or its end); refuse anyone
    else's without storing it."""
    now = clock.now()
    async with uow:
        known = await uow.business.connection(facts.id)
        if known is not None and known.staff_id != facts.user_id:
            return Connected.SAME  # a forged or confused id: another person's connection
        if not is_staff:
            if known is not None and known.is_enabled:  # staff no more: logging stops
                known.is_enabled, known.updated_at = False, now
                await uow.business.save_connection(known, facts.rights)
                await uow.commit()
            return Connected.REFUSED if facts.is_enabled else Connected.SAME
        was_on = known is not None and known.is_enabled
        if known is None and not facts.is_enabled:
            return Connected.SAME
        connection = BusinessConnection(
            id=facts.id,
            staff_id=facts.user_id,
            user_chat_id=facts.user_chat_id,
            can_reply=facts.can_reply,
            is_enabled=facts.is_enabled,
            connected_at=known.connected_at if known is not None else now,
            updated_at=now,
        )
        await uow.business.save_connection(connection, facts.rights)
        await uow.commit()
    if facts.is_enabled == was_on:
        return Connected.SAME
    return Connected.ON if facts.is_enabled else Connected.OFF


async def log_chat_message(
    uow: BusinessUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    event: ChatEvent,
) -> Logged | None:
    """Keep a message of a connected manager's chat on the client's deal. A client with no open
    deal of this manager gets one by itself (the book's `business.auto_create`), or the manager
    is asked once; until then the chat is kept aside. None: not logged (no live connection, a
    chat the manager declined, or the manager writing first to someone who never wrote)."""
    now = clock.now()
    async with uow:
        connection = await _live_connection(uow, event.connection_id)
        if connection is None:
            return None
        staff_id = connection.staff_id
        direction = Direction.OUT if event.sender_id == staff_id else Direction.IN
        chat = await _chat_of(uow, connection, event, direction, now)
        if chat is None:
            return None
        assert chat.id is not None
        answered = answers_client(direction, automatic=event.automatic, via_bot=event.via_bot)
        deal = await _deal_of(uow, chat, direction)
        if deal is None and direction is Direction.IN and book.business.auto_create:
            deal = await _open_chat_deal(uow, clock, book, calendar, chat)
            await uow.reminders.plan([_deal_opened_note(now, chat, deal)], now)
        if answered and chat.first_reply_at is None:
            chat.first_reply_at = now
        if deal is not None:
            assert deal.id is not None
            if chat.deal_id != deal.id:  # what was kept while undecided goes onto it too
                await uow.business.attach_to_deal(chat.id, deal.id)
            chat.deal_id = deal.id
            if answered:
                await _manager_answered(uow, now, calendar, deal, staff_id)
        elif direction is Direction.IN and chat.offered_at is None:
            chat.offered_at = now
            await uow.reminders.plan([_new_client_note(now, chat)], now)
        uow.business.log(
            chat.id,
            ChatMessage(
                direction=direction,
                kind=event.kind,
                text=event.text,
                at=now,
                message_id=event.message_id,
                deal_id=deal.id if deal is not None else None,
            ),
        )
        await uow.business.save_chat(chat)
        await uow.commit()
        return Logged(deal.id if deal is not None else None, direction)


async def log_chat_change(
    uow: BusinessUnitOfWork,
    clock: Clock,
    connection_id: str,
    client_id: int,
    message_ids: Sequence[int],
    change: Change,
    *,
    kind: str | None = None,
    text: str | None = None,
) -> set[int]:
    """An edit or a deletion of logged messages, kept as a row of its own beside the original
    (which stays). Returns the deals whose history it changed."""
    now = clock.now()
    async with uow:
        connection = await _live_connection(uow, connection_id)
        if connection is None:
            return set()
        chat = await uow.business.chat(connection.staff_id, client_id)
        if chat is None or chat.id is None or chat.declined_at is not None:
            return set()
        deals: set[int] = set()
        for message_id in message_ids:
            original = await uow.business.logged(chat.id, message_id)
            if original is None:
                continue
            if original.deal_id is not None:
                deals.add(original.deal_id)
            uow.business.log(
                chat.id,
                ChatMessage(
                    direction=original.direction,
                    kind=kind or original.kind,
                    text=text if change is Change.EDITED else None,
                    at=now,
                    change=change,
                    message_id=message_id,
                    deal_id=original.deal_id,
                ),
            )
        await uow.commit()
        return deals


async def new_client(uow: BusinessUnitOfWork, chat_id: int) -> NewClient | None:
    """The chat a "make a deal?" card is about, while it is still undecided."""
    async with uow:
        chat = await uow.business.chat_by_id(chat_id)
    if chat is None or chat.deal_id is not None or chat.declined_at is not None:
        return None
    return NewClient(chat_id, chat.client_name, chat.client_username)


async def make_deal(
    uow: BusinessUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    chat_id: int,
) -> int:
    """The manager's "make a deal": the chat's client gets a deal (theirs already open, or a new
    one in the first stage), and what the chat kept so far goes onto it."""
    async with uow:
        chat = await uow.business.chat_by_id(chat_id)
        if chat is None or chat.staff_id != actor.user_id or chat.declined_at is not None:
            raise ChatAlreadyDecided(chat_id)
        assert chat.id is not None
        deal = await _deal_of(uow, chat, Direction.IN)
        if deal is None:
            deal = await _open_chat_deal(uow, clock, book, calendar, chat)
        assert deal.id is not None
        chat.deal_id = deal.id
        await uow.business.attach_to_deal(chat.id, deal.id)
        await uow.business.save_chat(chat)
        await uow.commit()
        return deal.id


async def not_a_client(uow: BusinessUnitOfWork, clock: Clock, actor: Actor, chat_id: int) -> None:
    """The manager's "not a client": the chat is not logged any more, and what it kept while the
    manager decided is deleted."""
    async with uow:
        chat = await uow.business.chat_by_id(chat_id)
        if chat is None or chat.staff_id != actor.user_id or chat.deal_id is not None:
            raise ChatAlreadyDecided(chat_id)
        assert chat.id is not None
        chat.declined_at = clock.now()
        chat.client_name = chat.client_username = None
        await uow.business.drop_unattached(chat.id)
        await uow.business.save_chat(chat)
        await uow.commit()


async def forget_client(
    uow: BusinessUnitOfWork, clock: Clock, user_id: int
) -> list[tuple[int, int | None]]:
    """/forget_me: the lead's erasure, and their chats with managers' own accounts too (the
    ones never made a deal included)."""
    async with uow:
        for account in await client_accounts(uow, user_id):
            await uow.business.erase_client(account)
        erased = await erase_lead(uow, clock, user_id)
        await uow.commit()
        return erased


async def _chat_of(
    uow: BusinessUnitOfWork,
    connection: BusinessConnection,
    event: ChatEvent,
    direction: Direction,
    now: dt.datetime,
) -> BusinessChat | None:
    """The chat the message belongs to, made by the client's first message (the manager
    writing first to someone makes none, nor does a colleague: not every chat of a person's
    account is a client's). None: not logged (no chat, or one the manager declined)."""
    chat = await uow.business.chat(connection.staff_id, event.client_id)
    if chat is None:
        if direction is Direction.OUT:
            return None
        colleague = await uow.staff.get(event.client_id)
        if colleague is not None and colleague.is_active:
            return None  # a chat between colleagues is not a client's
        chat = await uow.business.add_chat(
            BusinessChat(
                staff_id=connection.staff_id,
                client_id=event.client_id,
                connection_id=connection.id,
                client_name=event.client_name,
                client_username=event.client_username,
                first_in_at=now,
            )
        )
    if chat.declined_at is not None:
        return None
    if direction is Direction.IN:
        chat.client_name, chat.client_username = event.client_name, event.client_username
    return chat


async def _live_connection(
    uow: BusinessUnitOfWork, connection_id: str
) -> BusinessConnection | None:
    """The connection, while it is enabled and its staff member is still active."""
    connection = await uow.business.connection(connection_id)
    if connection is None or not connection.is_enabled:
        return None
    member = await uow.staff.get(connection.staff_id)
    if member is None or not member.is_active:
        return None
    return connection


async def _deal_of(
    uow: BusinessUnitOfWork, chat: BusinessChat, direction: Direction
) -> Deal | None:
    """The deal the chat is logged on: the one it was, while open (the manager's words after a
    close stay on it too); else the client's open deal of this manager, or one nobody manages
    yet (it becomes this manager's). A client's new message after a close asks again."""
    if chat.deal_id is not None:
        deal = await uow.deals.get(chat.deal_id)
        if deal is not None and (deal.is_open or direction is Direction.OUT):
            return deal
        chat.deal_id, chat.offered_at = None, None
    contact = await uow.contacts.by_telegram_id(chat.client_id)
    if contact is None or contact.id is None:
        return None
    for deal in reversed(await uow.deals.for_contact(contact.merged_into_id or contact.id)):
        if not deal.is_open or deal.is_sandbox:
            continue
        if deal.manager_id is None:
            deal.manager_id = chat.staff_id
            await uow.deals.save(deal)
        if deal.manager_id == chat.staff_id:
            return deal
    return None


async def _open_chat_deal(
    uow: BusinessUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    chat: BusinessChat,
) -> Deal:
    """A deal for the chat's client, this manager's, in the first pipeline's first stage. Its
    first-response clock started at the client's first message; a reply already given
    counts."""
    now = clock.now()
    contact = await _client_contact(uow, chat, now)
    pipeline = book.pipelines[0]
    deal, created = open_deal(pipeline, now, contact_id=contact.id, source=BUSINESS_SOURCE)
    deal.manager_id = chat.staff_id
    deal.first_response_due_at = first_response_deadline(calendar, book, chat.first_in_at)
    if chat.first_reply_at is not None:
        deal.taken_at = chat.first_reply_at
    deal.refresh_deadline(calendar, pipeline)
    await uow.deals.add(deal)
    assert deal.id is not None and chat.id is not None
    uow.deals.record(with_deal_id(created, deal.id))
    owed = [*plan_stage(deal, pipeline, calendar, book.reminders), *plan_first_response(deal)]
    await uow.reminders.plan(owed, now)
    await uow.business.attach_to_deal(chat.id, deal.id)
    return deal


async def _client_contact(uow: BusinessUnitOfWork, chat: BusinessChat, now: dt.datetime) -> Contact:
    """The client's contact by their Telegram id. A new one records no consent: the client gave
    none through the bot; the book's `business.notice` is what they are told instead."""
    contact = await uow.contacts.by_telegram_id(chat.client_id)
    if contact is not None and contact.merged_into_id is not None:
        contact = await uow.contacts.get(contact.merged_into_id) or contact
    if contact is None:
        contact = await uow.contacts.add(
            Contact(telegram_id=chat.client_id, created_at=now, name=chat.client_name)
        )
    if contact.name is None:  # erased, or never named: the chat's name is all there is
        contact.name = chat.client_name
    contact.username = contact.username or chat.client_username
    await uow.contacts.save(contact)
    return contact


async def _manager_answered(
    uow: BusinessUnitOfWork, now: dt.datetime, calendar: WorkingCalendar, deal: Deal, staff_id: int
) -> None:
    """The manager's own reply: the first one stops the first-response clock, and the day's
    first counts as an activity on the deal."""
    assert deal.id is not None
    await client_answered(uow, deal, now)
    kinds = await uow.activities.kinds_since(deal.id, start_of_day(now, calendar.tz))
    if CHAT_ACTIVITY not in kinds:
        uow.activities.add(Activity(deal.id, CHAT_ACTIVITY, staff_id, now))


def _new_client_note(now: dt.datetime, chat: BusinessChat) -> PlannedReminder:
    assert chat.id is not None
    note = owe_note(now, "business.new_client", {}, to_staff=chat.staff_id)
    # Rendered when sent, from the chat as it is then: no name waits in the outbox, and a
    # chat decided meanwhile is not offered.
    return replace(note, payload={**(note.payload or {}), "business_chat": chat.id})


def _deal_opened_note(now: dt.datetime, chat: BusinessChat, deal: Deal) -> PlannedReminder:
    assert deal.id is not None
    note = owe_note(now, "business.deal_opened", {"deal_id": deal.id}, to_staff=chat.staff_id)
    return replace(note, payload={**(note.payload or {}), "open_deal": deal.id})
