"""Activities logged on deals, as `domain.activity.Activity`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.activity import Activity
from storage.models import ActivityRow


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, activity: Activity) -> None:
        self._session.add(
            ActivityRow(
                deal_id=activity.deal_id,
                kind=activity.kind,
                author_id=activity.author_id,
                at=activity.at,
                comment=activity.comment,
            )
        )

    async def kinds_since(self, deal_id: int, since: dt.datetime) -> set[str]:
        """The kinds of activity logged on a deal at or after `since`."""
        rows = await self._session.scalars(
            select(ActivityRow.kind)
            .where(ActivityRow.deal_id == deal_id, ActivityRow.at >= since)
            .distinct()
        )
        return set(rows)

    async def latest(self, deal_id: int, *, limit: int) -> list[Activity]:
        """A deal's latest activities, the newest first."""
        query = (
            select(ActivityRow)
            .where(ActivityRow.deal_id == deal_id)
            .order_by(ActivityRow.at.desc(), ActivityRow.id.desc())
            .limit(limit)
        )
        return [
            Activity(row.deal_id, row.kind, row.author_id, row.at, row.comment)
            for row in await self._session.scalars(query)
        ]
