"""Objection answers shown to managers and their feedback, as `domain.script_use.ScriptUse`."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.script_use import ScriptUse
from storage.models import ScriptUseRow


class ScriptUseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, ScriptUseRow] = {}

    async def add(self, use: ScriptUse) -> ScriptUse:
        """Store a new use; it comes back with its id."""
        row = ScriptUseRow(
            objection_id=use.objection_id,
            variant_id=use.variant_id,
            staff_id=use.staff_id,
            deal_id=use.deal_id,
            at=use.at,
            outcome=use.outcome,
            outcome_at=use.outcome_at,
        )
        self._session.add(row)
        await self._session.flush()
        self._loaded[row.id] = row
        return _use_from_row(row)

    async def get(self, use_id: int) -> ScriptUse | None:
        row = await self._session.get(ScriptUseRow, use_id)
        if row is None:
            return None
        self._loaded[use_id] = row
        return _use_from_row(row)

    async def save(self, use: ScriptUse) -> None:
        """Keep the feedback given on a stored use."""
        if use.id is None:
            raise ValueError("save() is for stored uses; use add() for a new one")
        row = self._loaded.get(use.id) or await self._session.get(ScriptUseRow, use.id)
        if row is None:
            raise LookupError(use.id)
        row.outcome, row.outcome_at = use.outcome, use.outcome_at

    async def shown_by_variant(self, objection_id: str) -> dict[str, int]:
        """How often each variant of an objection's answer was shown so far."""
        counts = await self._session.execute(
            select(ScriptUseRow.variant_id, func.count(ScriptUseRow.id))
            .where(ScriptUseRow.objection_id == objection_id)
            .group_by(ScriptUseRow.variant_id)
        )
        return dict(counts.tuples().all())

    async def used_on(self, deal_id: int) -> bool:
        """Whether any script was shown for this deal."""
        return bool(
            await self._session.scalar(select(exists().where(ScriptUseRow.deal_id == deal_id)))
        )


def _use_from_row(row: ScriptUseRow) -> ScriptUse:
    return ScriptUse(
        id=row.id,
        objection_id=row.objection_id,
        variant_id=row.variant_id,
        staff_id=row.staff_id,
        deal_id=row.deal_id,
        at=row.at,
        outcome=row.outcome,
        outcome_at=row.outcome_at,
    )
