"""Leads' contact cards."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Contact


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, contact: Contact) -> None:
        self._session.add(contact)

    async def get(self, contact_id: int) -> Contact | None:
        return await self._session.get(Contact, contact_id)

    async def by_telegram_id(self, telegram_id: int) -> Contact | None:
        contact: Contact | None = await self._session.scalar(
            select(Contact).where(Contact.telegram_id == telegram_id)
        )
        return contact

    async def by_phone(self, phone: str) -> Contact | None:
        contact: Contact | None = await self._session.scalar(
            select(Contact).where(Contact.phone == phone)
        )
        return contact

    async def by_telegram_id_and_phone(
        self, telegram_id: int, phone: str
    ) -> tuple[Contact | None, Contact | None]:
        """Who writes from this account, and who is known by this phone, in one query: another
        client with this phone first (the oldest), else the account's own contact if it has it."""
        found = (
            await self._session.scalars(
                select(Contact)
                .where((Contact.telegram_id == telegram_id) | (Contact.phone == phone))
                .order_by(Contact.id)
            )
        ).all()
        by_account = next((c for c in found if c.telegram_id == telegram_id), None)
        other = next(
            (
                c
                for c in found
                if c.phone == phone and c is not by_account and c.merged_into_id is None
            ),
            None,
        )
        if other is None and by_account is not None and by_account.phone == phone:
            return by_account, by_account
        return by_account, other

    async def names(self, contact_ids: Sequence[int]) -> dict[int, str | None]:
        if not contact_ids:
            return {}
        rows = await self._session.execute(
            select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
        )
        return {contact_id: name for contact_id, name in rows.tuples()}

    async def flush(self) -> None:
        await self._session.flush()
