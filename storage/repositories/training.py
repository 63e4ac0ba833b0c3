"""Each staff member's /training walk, as `domain.training.Training`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from domain.training import Training
from storage.models import TrainingRow


class TrainingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, TrainingRow] = {}

    async def get(self, staff_id: int) -> Training | None:
        # The identity map answers a second read without a query while `_loaded` holds the row.
        row = await self._session.get(TrainingRow, staff_id)
        if row is None:
            return None
        self._loaded[staff_id] = row
        return Training(row.staff_id, row.deal_id, row.started_at, row.opened_at, row.completed_at)

    async def start(self, staff_id: int, deal_id: int, at: dt.datetime) -> None:
        """A fresh walk on this sandbox deal (an earlier one is forgotten)."""
        self._loaded[staff_id] = await self._session.merge(
            TrainingRow(
                staff_id=staff_id, deal_id=deal_id, started_at=at, opened_at=None, completed_at=None
            )
        )

    async def save(self, training: Training) -> None:
        """Keep how far the walk got (opened, completed)."""
        row = self._loaded.get(training.staff_id) or await self._session.get(
            TrainingRow, training.staff_id
        )
        if row is None:
            raise LookupError(training.staff_id)
        row.deal_id = training.deal_id
        row.started_at = training.started_at
        row.opened_at = training.opened_at
        row.completed_at = training.completed_at
