"""Telegram Business: a Premium user connects the bot to their account (Settings → Telegram
Business → Chatbots), and the bot gets the account's private chats as updates.

The updates are the Bot API's own: ``business_connection`` (a ``BusinessConnection``: ``id``,
``user``, ``user_chat_id``, ``date``, ``rights``, ``is_enabled``), ``business_message`` and
``edited_business_message`` (a ``Message`` with ``business_connection_id``; ``from`` is the
client in an incoming message and the account's owner in an outgoing one, ``chat`` is the
private chat with the client, ``is_from_offline`` marks a greeting or away message Telegram
sent by itself), and ``deleted_business_messages`` (a ``BusinessMessagesDeleted``). Each is
checked against the bundled spec when queued.

A business chat is not the bot's chat with the same person: its messages live apart
(:attr:`business_chats`), with their own ids. A call the bot makes with
``business_connection_id`` is recorded in :attr:`business_calls` and, like Telegram, refused
unless the connection has ``can_reply`` (sending itself is not modelled: this bot never should).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from .errors import ApiError
from .records import JSON, BusinessConnectionRecord, Call, ChatState, StoredMessage
from .updates import UpdateQueue

_connection_numbers = itertools.count(1)


class BusinessAccounts(UpdateQueue):
    """Connections of business accounts and the updates of their chats."""

    def enable_business_mode(self) -> None:
        """@BotFather → Bot Settings → Business Mode: only then may accounts connect the bot."""
        self.bot_user["can_connect_to_business"] = True

    def connect_business(
        self, user_id: int, *, can_reply: bool = False, connection_id: str | None = None
    ) -> str:
        """The user connects the bot to their account (or changes its rights): a
        ``business_connection`` update. Returns the connection id."""
        if not self.bot_user.get("can_connect_to_business"):
            raise ValueError("the bot has no Business Mode: call enable_business_mode() first")
        user = self.users[user_id]
        if not user.is_premium:
            raise ValueError(f"{user.first_name} has no Telegram Premium: Business needs it")
        known = next((c for c in self.business_connections.values() if c.user_id == user_id), None)
        if connection_id is None:
            connection_id = known.id if known else f"bc{next(_connection_numbers):06d}Biz"
        connection = self.business_connections.get(connection_id) or BusinessConnectionRecord(
            id=connection_id, user_id=user_id, date=int(time.time())
        )
        connection.is_enabled = True
        connection.rights = {"can_reply": True} if can_reply else {}
        self.business_connections[connection_id] = connection
        self._queue_connection(connection)
        return connection_id

    def disconnect_business(self, user_id: int) -> None:
        """The user removes the bot from their account: the connection, disabled."""
        connection = self.business_connection_of(user_id)
        connection.is_enabled = False
        self._queue_connection(connection)

    def business_connection_of(self, user_id: int) -> BusinessConnectionRecord:
        for connection in self.business_connections.values():
            if connection.user_id == user_id:
                return connection
        raise ValueError(f"user {user_id} has no business connection")

    def business_chat(self, owner_id: int, other_id: int) -> ChatState:
        connection = self.business_connection_of(owner_id)
        return self.business_chats.setdefault((connection.id, other_id), ChatState(other_id))

    def business_message(
        self,
        owner_id: int,
        other_id: int,
        sender_id: int,
        kind: str,
        *,
        from_offline: bool = False,
        **fields: Any,
    ) -> StoredMessage:
        """A message in the private chat between the account ``owner_id`` and ``other_id``,
        written by ``sender_id`` (either of them): a ``business_message`` update (none while
        the connection is disabled, as Telegram sends none)."""
        connection = self.business_connection_of(owner_id)
        chat = self.business_chat(owner_id, other_id)
        text = fields.pop("text", None)
        if text is None:
            text = fields.pop("caption", None)
        self._seq += 1
        message = StoredMessage(
            chat_id=other_id,
            message_id=chat.next_message_id,
            from_bot=False,
            sender=self.users[sender_id].to_api(),
            chat=self.users[other_id].chat_api(),
            date=int(time.time()),
            kind=kind,
            text=text,
            content=fields,
            created_seq=self._seq,
            changed_seq=self._seq,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        chat.history.append(message)
        if connection.is_enabled:
            payload = self._business_api(message, connection.id)
            if from_offline:
                payload["is_from_offline"] = True
            self.enqueue_update({"business_message": payload})
        self._notify()
        return message

    def edit_business_message(
        self, owner_id: int, other_id: int, message_id: int, text: str
    ) -> StoredMessage:
        """Its sender edits a message (its text, or a media's caption)."""
        connection = self.business_connection_of(owner_id)
        message = self.business_chat(owner_id, other_id).messages[message_id]
        message.text = text
        self._touch_message(message)
        if connection.is_enabled:
            payload = self._business_api(message, connection.id)
            self.enqueue_update({"edited_business_message": payload})
        return message

    def delete_business_messages(
        self, owner_id: int, other_id: int, message_ids: list[int]
    ) -> None:
        """Messages deleted from the chat (for both sides)."""
        connection = self.business_connection_of(owner_id)
        chat = self.business_chat(owner_id, other_id)
        for message_id in message_ids:
            chat.messages.pop(message_id).deleted = True
        if connection.is_enabled:
            deleted: JSON = {
                "business_connection_id": connection.id,
                "chat": self.users[other_id].chat_api(),
                "message_ids": message_ids,
            }
            self.enqueue_update({"deleted_business_messages": deleted})

    def _business_api(self, message: StoredMessage, connection_id: str) -> JSON:
        return {**message.to_api(), "business_connection_id": connection_id}

    def _queue_connection(self, connection: BusinessConnectionRecord) -> None:
        user = self.users[connection.user_id]
        self.enqueue_update({"business_connection": connection.to_api(user)})

    def _business_call(self, call: Call) -> None:
        self.business_calls.append(call)
        connection = self.business_connections.get(str(call.params["business_connection_id"]))
        if connection is None or not connection.is_enabled:
            raise ApiError(400, "Bad Request: BUSINESS_CONNECTION_INVALID", violation=True)
        if not connection.rights.get("can_reply"):
            raise ApiError(400, "Bad Request: BOT_BUSINESS_MISSING", violation=True)
        raise ApiError(
            400,
            "Bad Request: sending on behalf of a business account is not modelled by the fake",
            violation=True,
        )
