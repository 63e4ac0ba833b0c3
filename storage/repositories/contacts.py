"""Leads' contact cards, as `domain.contact.Contact`.

On the contacts table itself (SQLAlchemy Core), not through the ORM: every lead's consent and
request read and write a contact, and the ORM's identity map, change tracking and flush cost
several times the statements they run (bench/RESULTS.md). Nothing relates to a contact through
the ORM, so nothing else in a session can hold a stale copy of one. `save` writes every field
at once, in the statement's turn: the order of the statements is the order of the calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.contact import Contact
from storage.models import ContactRow

_CONTACTS = cast(Table, ContactRow.__table__)
_c = _CONTACTS.c
_FIELDS = [column.name for column in _CONTACTS.columns if column.name != "id"]

# Built once: building a statement costs more than SQLite takes to run it.
_BY_ID = select(_CONTACTS).where(_c.id == bindparam("contact_id"))
_BY_TELEGRAM_ID = select(_CONTACTS).where(_c.telegram_id == bindparam("telegram_id"))
_BY_PHONE = select(_CONTACTS).where(_c.phone == bindparam("phone")).order_by(_c.id).limit(1)
_BY_TELEGRAM_ID_OR_PHONE = (
    select(_CONTACTS)
    .where((_c.telegram_id == bindparam("telegram_id")) | (_c.phone == bindparam("phone")))
    .order_by(_c.id)
)
_INSERT = insert(_CONTACTS).returning(_c.id)
# The SET clause is the parameters' fields: every field but the id, bound by column name.
_UPDATE = update(_CONTACTS).where(_c.id == bindparam("contact_id"))
_DELETE = delete(_CONTACTS).where(_c.id == bindparam("contact_id"))


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, contact: Contact) -> Contact:
        """Store a new contact; it comes back with its id."""
        result = await self._session.execute(_INSERT, _values(contact))
        contact.id = result.scalar_one()
        return contact

    async def save(self, contact: Contact) -> None:
        if contact.id is None:
            raise ValueError("save() is for stored contacts; use add() for a new one")
        result = await self._session.execute(
            _UPDATE, {"contact_id": contact.id, **_values(contact)}
        )
        if not getattr(result, "rowcount", 1):
            raise LookupError(contact.id)

    async def remove(self, contact: Contact) -> None:
        """Delete a contact now (its Telegram account is about to move to another card)."""
        if contact.id is not None:
            await self._session.execute(_DELETE, {"contact_id": contact.id})

    async def get(self, contact_id: int) -> Contact | None:
        return _first(await self._session.execute(_BY_ID, {"contact_id": contact_id}))

    async def by_telegram_id(self, telegram_id: int) -> Contact | None:
        return _first(await self._session.execute(_BY_TELEGRAM_ID, {"telegram_id": telegram_id}))

    async def by_phone(self, phone: str) -> Contact | None:
        return _first(await self._session.execute(_BY_PHONE, {"phone": phone}))

    async def by_telegram_id_and_phone(
        self, telegram_id: int, phone: str
    ) -> tuple[Contact | None, Contact | None]:
        """Who writes from this account, and who is known by this phone, in one query: another
        client with this phone first (the oldest), else the account's own contact if it has it."""
        result = await self._session.execute(
            _BY_TELEGRAM_ID_OR_PHONE, {"telegram_id": telegram_id, "phone": phone}
        )
        found = [_contact_from_row(row) for row in result]
        own = next((c for c in found if c.telegram_id == telegram_id), None)
        other = next(
            (c for c in found if c.phone == phone and c is not own and c.merged_into_id is None),
            None,
        )
        if other is None and own is not None and own.phone == phone:
            return own, own
        return own, other

    async def same_client(self, contact: Contact) -> list[Contact]:
        """The contact and every card merged with it (`merged_into_id`, set by a manager's
        confirmed merge): one client, possibly writing from several Telegram accounts."""
        root, seen = contact, {contact.id}
        while root.merged_into_id is not None and root.merged_into_id not in seen:
            found = await self.get(root.merged_into_id)
            if found is None:
                break
            root = found
            seen.add(root.id)
        rows = await self._session.execute(
            select(_CONTACTS)
            .where((_c.id == root.id) | (_c.merged_into_id == root.id))
            .order_by(_c.id)
        )
        together = [_contact_from_row(row) for row in rows]
        return together if any(c.id == contact.id for c in together) else [contact, *together]

    async def names(self, contact_ids: Sequence[int]) -> dict[int, str | None]:
        if not contact_ids:
            return {}
        rows = await self._session.execute(select(_c.id, _c.name).where(_c.id.in_(contact_ids)))
        return {contact_id: name for contact_id, name in rows.tuples()}

    async def many(self, contact_ids: Sequence[int]) -> dict[int, Contact]:
        """Several contacts in one query."""
        if not contact_ids:
            return {}
        rows = await self._session.execute(select(_CONTACTS).where(_c.id.in_(contact_ids)))
        return {row.id: _contact_from_row(row) for row in rows}


def _values(contact: Contact) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in _FIELDS}


def _first(result: Any) -> Contact | None:
    row = result.first()
    return _contact_from_row(row) if row is not None else None


def _contact_from_row(row: Any) -> Contact:
    return Contact(id=row.id, **{name: getattr(row, name) for name in _FIELDS})
