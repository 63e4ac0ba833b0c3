"""Leads' contact cards, as `domain.contact.Contact`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.contact import Contact
from storage.models import ContactRow

# Built once (every lead's first message and request read them): building a statement costs
# more than SQLite takes to run it. Compiled once either way, by SQLAlchemy's cache.
_BY_TELEGRAM_ID = select(ContactRow).where(ContactRow.telegram_id == bindparam("telegram_id"))
_BY_TELEGRAM_ID_OR_PHONE = (
    select(ContactRow)
    .where(
        (ContactRow.telegram_id == bindparam("telegram_id"))
        | (ContactRow.phone == bindparam("phone"))
    )
    .order_by(ContactRow.id)
)


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, ContactRow] = {}

    async def add(self, contact: Contact) -> Contact:
        """Store a new contact; it comes back with its id."""
        row = ContactRow()
        _copy_contact_to_row(contact, row)
        self._session.add(row)
        await self._session.flush()
        contact.id = row.id
        self._loaded[row.id] = row
        return contact

    async def save(self, contact: Contact) -> None:
        if contact.id is None:
            raise ValueError("save() is for stored contacts; use add() for a new one")
        row = self._loaded.get(contact.id) or await self._session.get(ContactRow, contact.id)
        if row is None:
            raise LookupError(contact.id)
        _copy_contact_to_row(contact, row)

    async def remove(self, contact: Contact) -> None:
        """Delete a contact now (its Telegram account is about to move to another card)."""
        if contact.id is None:
            return
        row = self._loaded.pop(contact.id, None) or await self._session.get(ContactRow, contact.id)
        if row is not None:
            await self._session.delete(row)
            await self._session.flush()

    async def get(self, contact_id: int) -> Contact | None:
        row = await self._session.get(ContactRow, contact_id)
        return self._held(row) if row else None

    async def by_telegram_id(self, telegram_id: int) -> Contact | None:
        row = await self._session.scalar(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})
        return self._held(row) if row else None

    async def by_phone(self, phone: str) -> Contact | None:
        row = await self._session.scalar(select(ContactRow).where(ContactRow.phone == phone))
        return self._held(row) if row else None

    async def by_telegram_id_and_phone(
        self, telegram_id: int, phone: str
    ) -> tuple[Contact | None, Contact | None]:
        """Who writes from this account, and who is known by this phone, in one query: another
        client with this phone first (the oldest), else the account's own contact if it has it."""
        found = (
            await self._session.scalars(
                _BY_TELEGRAM_ID_OR_PHONE, {"telegram_id": telegram_id, "phone": phone}
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
        own = self._held(by_account) if by_account else None
        if other is None and own is not None and own.phone == phone:
            return own, own
        return own, (self._held(other) if other else None)

    async def names(self, contact_ids: Sequence[int]) -> dict[int, str | None]:
        if not contact_ids:
            return {}
        rows = await self._session.execute(
            select(ContactRow.id, ContactRow.name).where(ContactRow.id.in_(contact_ids))
        )
        return {contact_id: name for contact_id, name in rows.tuples()}

    async def many(self, contact_ids: Sequence[int]) -> dict[int, Contact]:
        """Several contacts in one query, for reading only (not held for `save`)."""
        if not contact_ids:
            return {}
        rows = await self._session.scalars(select(ContactRow).where(ContactRow.id.in_(contact_ids)))
        return {row.id: _contact_from_row(row) for row in rows}

    def _held(self, row: ContactRow) -> Contact:
        # Held for `save`, as DealRepository does: a contact read, changed and saved is read once.
        self._loaded[row.id] = row
        return _contact_from_row(row)


def _copy_contact_to_row(contact: Contact, row: ContactRow) -> None:
    row.telegram_id = contact.telegram_id
    row.name = contact.name
    row.phone = contact.phone
    row.company = contact.company
    row.username = contact.username
    row.language_code = contact.language_code
    row.consent_at = contact.consent_at
    row.consent_version = contact.consent_version
    row.created_at = contact.created_at
    row.erased_at = contact.erased_at
    row.merged_into_id = contact.merged_into_id


def _contact_from_row(row: ContactRow) -> Contact:
    return Contact(
        id=row.id,
        telegram_id=row.telegram_id,
        name=row.name,
        phone=row.phone,
        company=row.company,
        username=row.username,
        language_code=row.language_code,
        consent_at=row.consent_at,
        consent_version=row.consent_version,
        created_at=row.created_at,
        erased_at=row.erased_at,
        merged_into_id=row.merged_into_id,
    )
