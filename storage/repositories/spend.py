"""Marketing spend rows: one per lead source and month, replaced when entered again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.unit_economics import SpendEntry
from storage.database import upsert_insert
from storage.models import MarketingSpendRow


class SpendRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, entries: Sequence[SpendEntry], actor_id: int, now: dt.datetime) -> None:
        """Store each entry, replacing what was entered before for its source and month, in
        one statement. The caller commits."""
        if not entries:
            return
        dialect = self._session.get_bind().dialect.name
        insert = upsert_insert(dialect)
        statement = insert(MarketingSpendRow)
        statement = statement.on_conflict_do_update(
            index_elements=["source_id", "month"],
            set_={
                "amount": statement.excluded.amount,
                "entered_by": statement.excluded.entered_by,
                "entered_at": statement.excluded.entered_at,
            },
        )
        await self._session.execute(
            statement,
            [
                {
                    "source_id": entry.source_id,
                    "month": entry.month,
                    "amount": entry.amount,
                    "entered_by": actor_id,
                    "entered_at": now,
                }
                for entry in entries
            ],
        )

    async def months_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The months from `first` to `last` (both included) that have any spend entered."""
        rows = await self._session.scalars(
            select(MarketingSpendRow.month)
            .where(MarketingSpendRow.month >= first, MarketingSpendRow.month <= last)
            .distinct()
            .order_by(MarketingSpendRow.month)
        )
        return list(rows)

    async def for_months(self, months: Collection[dt.date]) -> dict[tuple[str, dt.date], Decimal]:
        """What was entered for these months, by (source, month)."""
        rows = await self._session.execute(
            select(
                MarketingSpendRow.source_id, MarketingSpendRow.month, MarketingSpendRow.amount
            ).where(MarketingSpendRow.month.in_(sorted(months)))
        )
        return {(source, month): Decimal(amount) for source, month, amount in rows}
