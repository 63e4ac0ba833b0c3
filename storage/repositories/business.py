"""The managers' own Telegram accounts (Telegram Business): connections, chats with clients,
and the chats' messages, as `domain.business` objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.business import (
    BusinessChat,
    BusinessConnection,
    Change,
    ChatMessage,
    Direction,
)
from storage.models import BusinessChatRow, BusinessConnectionRow, BusinessMessageRow


class BusinessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._chats: dict[int, BusinessChatRow] = {}

    async def connection(self, connection_id: str) -> BusinessConnection | None:
        row = await self._session.get(BusinessConnectionRow, connection_id)
        return _connection(row) if row else None

    async def save_connection(
        self, connection: BusinessConnection, rights: dict[str, Any] | None
    ) -> None:
        row = await self._session.get(BusinessConnectionRow, connection.id)
        if row is None:
            row = BusinessConnectionRow(id=connection.id, connected_at=connection.connected_at)
            self._session.add(row)
        row.staff_id = connection.staff_id
        row.user_chat_id = connection.user_chat_id
        row.can_reply = connection.can_reply
        row.rights = rights
        row.is_enabled = connection.is_enabled
        row.updated_at = connection.updated_at

    async def chat(self, staff_id: int, client_id: int) -> BusinessChat | None:
        row = await self._session.scalar(
            select(BusinessChatRow).where(
                BusinessChatRow.staff_id == staff_id, BusinessChatRow.client_id == client_id
            )
        )
        return self._held(row) if row else None

    async def chat_by_id(self, chat_id: int) -> BusinessChat | None:
        row = await self._session.get(BusinessChatRow, chat_id)
        return self._held(row) if row else None

    async def add_chat(self, chat: BusinessChat) -> BusinessChat:
        row = BusinessChatRow(first_in_at=chat.first_in_at)
        _copy_chat(chat, row)
        self._session.add(row)
        await self._session.flush()
        chat.id = row.id
        self._chats[row.id] = row
        return chat

    async def save_chat(self, chat: BusinessChat) -> None:
        assert chat.id is not None
        row = self._chats.get(chat.id) or await self._session.get(BusinessChatRow, chat.id)
        if row is None:
            raise LookupError(chat.id)
        _copy_chat(chat, row)

    def log(self, chat_id: int, message: ChatMessage) -> None:
        self._session.add(
            BusinessMessageRow(
                chat_id=chat_id,
                deal_id=message.deal_id,
                message_id=message.message_id,
                direction=message.direction.value,
                change=message.change.value,
                kind=message.kind,
                text=message.text,
                at=message.at,
            )
        )

    async def logged(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """The message as first logged (its direction and deal), if it was."""
        row = await self._session.scalar(
            select(BusinessMessageRow)
            .where(
                BusinessMessageRow.chat_id == chat_id,
                BusinessMessageRow.message_id == message_id,
            )
            .order_by(BusinessMessageRow.id)
            .limit(1)
        )
        return _message(row) if row else None

    async def attach_to_deal(self, chat_id: int, deal_id: int) -> None:
        """The messages logged while the chat had no deal go onto the deal made from it."""
        await self._session.execute(
            update(BusinessMessageRow)
            .where(BusinessMessageRow.chat_id == chat_id, BusinessMessageRow.deal_id.is_(None))
            .values(deal_id=deal_id)
        )

    async def drop_unattached(self, chat_id: int) -> None:
        """Not a client: what was kept while the manager decided is deleted."""
        await self._session.execute(
            delete(BusinessMessageRow).where(
                BusinessMessageRow.chat_id == chat_id, BusinessMessageRow.deal_id.is_(None)
            )
        )

    async def erase_client(self, client_id: int) -> None:
        """/forget_me: the client's name and every text of their chats with managers go; the
        events stay (the deal's figures and the first response stay true)."""
        chats = select(BusinessChatRow.id).where(BusinessChatRow.client_id == client_id)
        await self._session.execute(
            update(BusinessMessageRow)
            .where(BusinessMessageRow.chat_id.in_(chats))
            .values(text=None)
        )
        await self._session.execute(
            update(BusinessChatRow)
            .where(BusinessChatRow.client_id == client_id)
            .values(client_name=None, client_username=None)
        )

    def _held(self, row: BusinessChatRow) -> BusinessChat:
        self._chats[row.id] = row
        return BusinessChat(
            id=row.id,
            staff_id=row.staff_id,
            client_id=row.client_id,
            connection_id=row.connection_id,
            client_name=row.client_name,
            client_username=row.client_username,
            deal_id=row.deal_id,
            first_in_at=row.first_in_at,
            first_reply_at=row.first_reply_at,
            offered_at=row.offered_at,
            declined_at=row.declined_at,
        )


def _copy_chat(chat: BusinessChat, row: BusinessChatRow) -> None:
    row.staff_id = chat.staff_id
    row.client_id = chat.client_id
    row.connection_id = chat.connection_id
    row.client_name = chat.client_name
    row.client_username = chat.client_username
    row.deal_id = chat.deal_id
    row.first_in_at = chat.first_in_at
    row.first_reply_at = chat.first_reply_at
    row.offered_at = chat.offered_at
    row.declined_at = chat.declined_at


def _connection(row: BusinessConnectionRow) -> BusinessConnection:
    return BusinessConnection(
        id=row.id,
        staff_id=row.staff_id,
        user_chat_id=row.user_chat_id,
        can_reply=row.can_reply,
        is_enabled=row.is_enabled,
        connected_at=row.connected_at,
        updated_at=row.updated_at,
    )


def _message(row: BusinessMessageRow) -> ChatMessage:
    return ChatMessage(
        direction=Direction(row.direction),
        kind=row.kind,
        text=row.text,
        at=row.at,
        change=Change(row.change),
        message_id=row.message_id,
        deal_id=row.deal_id,
    )
