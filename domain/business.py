"""The manager's own Telegram (Telegram Business): a Premium account connects the bot to its
private chats, and the chats with clients are logged on their deals. Pure rules: which message
answers the client, and what a chat with no deal yet becomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError

BUSINESS_SOURCE = "telegram_business"
"""The lead source of a deal that opened from a chat in a manager's own account."""


class Direction(StrEnum):
    IN = "in"
    """The client wrote."""
    OUT = "out"
    """The manager wrote, from their own account."""


class Change(StrEnum):
    """What happened to a message in the chat: each is a row of its own, so an edit or a
    deletion never loses what was there before."""

    SENT = "sent"
    EDITED = "edited"
    DELETED = "deleted"


@dataclass(slots=True)
class BusinessConnection:
    """The bot connected to a staff member's account (Settings → Telegram Business →
    Chatbots). Only an active staff member's connection is ever stored."""

    id: str
    staff_id: int
    user_chat_id: int
    """The staff member's private chat with the bot: where they are told about it."""
    can_reply: bool
    """The account allows the bot to answer in its chats. Stored for a later opt-in feature;
    the bot never writes there by itself."""
    is_enabled: bool
    connected_at: dt.datetime
    updated_at: dt.datetime


@dataclass(slots=True)
class BusinessChat:
    """A client's private chat with a connected manager: the deal it is logged on, or the
    manager's decision still owed (no deal yet)."""

    staff_id: int
    client_id: int
    connection_id: str
    client_name: str | None
    client_username: str | None
    first_in_at: dt.datetime
    """The client's first message: the first-response clock of a deal made from the chat
    starts here, not when the manager pressed the button."""
    id: int | None = None
    deal_id: int | None = None
    first_reply_at: dt.datetime | None = None
    """The manager's first own reply (a greeting or away message sent by Telegram does not
    count), remembered for a deal made later."""
    offered_at: dt.datetime | None = None
    """When the manager was asked "make a deal?": asked once per chat."""
    declined_at: dt.datetime | None = None
    """The manager said it is not a client: the chat is not logged any more."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One event of a logged chat, as the deal's history keeps it."""

    direction: Direction
    kind: str
    """text, photo, document, voice… (the media type)."""
    text: str | None
    """The text, or the media's caption (None once the client had their data erased)."""
    at: dt.datetime
    change: Change = Change.SENT
    message_id: int = 0
    deal_id: int | None = None


def answers_client(direction: Direction, *, automatic: bool, via_bot: bool) -> bool:
    """Whether a message of the chat is the manager's answer to the client: it stops the
    first-response clock and counts as the manager's activity. A greeting or away message
    Telegram sends by itself (`is_from_offline`) and a message a bot sent on the account's
    behalf are not a person answering."""
    return direction is Direction.OUT and not automatic and not via_bot


def start_of_day(now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Midnight of `now`'s local day: the manager's chat counts as one activity per deal a day,
    however many messages it took."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(eq=False)
class ChatAlreadyDecided(DomainError):
    """A "make a deal?" button of a chat that is not the presser's, or was decided already."""

    chat_id: int
