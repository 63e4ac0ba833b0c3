"""The inbox: which updates were already handled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxRow
from storage.upserts import upsert

# Run for every webhook update that changed nothing: compiled once (storage/upserts.py).
_RECORD_IF_NEW = upsert(InboxRow, columns=["update_id", "handled_at"], conflict=["update_id"])


class UpdateAlreadyHandled(Exception):
    """The update's id is in the inbox: another delivery of it (here or on another instance)
    committed first, so this one's changes are rolled back and it answers nothing."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} was already handled")
        self.update_id = update_id


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, update_id: int) -> bool:
        found = await self.session.scalar(
            select(InboxRow.update_id).where(InboxRow.update_id == update_id)
        )
        return found is not None

    async def record(self, update_id: int, at: dt.datetime) -> None:
        """In the transaction about to commit; raises `UpdateAlreadyHandled` if another one
        recorded it first (on PostgreSQL this waits for a concurrent one to end)."""
        try:
            await self.session.execute(insert(InboxRow).values(update_id=update_id, handled_at=at))
        except IntegrityError:
            raise UpdateAlreadyHandled(update_id) from None

    async def record_if_new(self, update_id: int, at: dt.datetime) -> bool:
        """For an update whose handling changed nothing: False if it was recorded already."""
        result = await self.session.execute(
            _RECORD_IF_NEW, {"update_id": update_id, "handled_at": at}
        )
        return bool(getattr(result, "rowcount", 1))

    async def forget_before(self, cutoff: dt.datetime) -> int:
        """Telegram gives up on an update after a day: older ids will not come again."""
        result = await self.session.execute(delete(InboxRow).where(InboxRow.handled_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
