"""The report figures (`storage.report_queries`) within the unit of work's transaction: what the
services ask for a KPI, a forecast, a digest, an export or a per-source table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.kpi import TEAM, Scope
from storage import report_queries as q


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- the KPIs, the funnel, lost reasons (report_queries.figures) ---------------------------

    async def new_leads(self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM) -> int:
        return await q.new_leads(self._session, start, end, scope)

    async def reached_key_stage(
        self,
        start: dt.datetime,
        end: dt.datetime,
        key_and_later: Mapping[str, Sequence[str]],
        scope: Scope = TEAM,
    ) -> int:
        return await q.reached_key_stage(self._session, start, end, key_and_later, scope)

    async def won(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> tuple[int, Decimal]:
        return await q.won(self._session, start, end, scope)

    async def median_cycle_days(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> Decimal | None:
        return await q.median_cycle_days(self._session, start, end, scope)

    async def furthest_stages(
        self,
        start: dt.datetime,
        end: dt.datetime,
        stage_order: Mapping[str, Sequence[str]],
        scope: Scope = TEAM,
    ) -> dict[tuple[str, int], int]:
        return await q.furthest_stages(self._session, start, end, stage_order, scope)

    async def lost_reasons(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> list[tuple[str, int]]:
        return await q.lost_reasons(self._session, start, end, scope)

    async def script_variants(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, str, int, int, int, int, int]]:
        return await q.script_variants(self._session, start, end)

    # --- per manager and per person (report_queries.people) ------------------------------------

    async def won_by_manager(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> dict[int | None, tuple[int, Decimal]]:
        return await q.won_by_manager(self._session, start, end, scope)

    async def won_by_manager_and_pipeline(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> dict[tuple[int | None, str], tuple[int, Decimal]]:
        return await q.won_by_manager_and_pipeline(self._session, start, end, scope)

    async def open_pipeline(
        self, probabilities: Mapping[str, Mapping[str, float]], scope: Scope = TEAM
    ) -> dict[int | None, tuple[int, int, Decimal, Decimal]]:
        return await q.open_pipeline(self._session, probabilities, scope)

    async def activities_by_author(
        self, authors: Sequence[int], start: dt.datetime, end: dt.datetime
    ) -> dict[int, dict[str, int]]:
        return await q.activities_by_author(self._session, authors, start, end)

    # --- the open deals now (report_queries.health) --------------------------------------------

    async def snoozed(self, now: dt.datetime, scope: Scope = TEAM) -> int:
        return await q.snoozed(self._session, now, scope)

    async def overdue_by_manager(
        self, now: dt.datetime, worst: int = 3, scope: Scope = TEAM
    ) -> list[tuple[int | None, int, list[int]]]:
        return await q.overdue_by_manager(self._session, now, worst, scope)

    async def first_response(
        self, start: dt.datetime, end: dt.datetime, now: dt.datetime, scope: Scope = TEAM
    ) -> tuple[int, int]:
        return await q.first_response(self._session, start, end, now, scope)

    async def idle_deals(self, now: dt.datetime, quiet: dt.timedelta, scope: Scope = TEAM) -> int:
        return await q.idle_deals(self._session, now, quiet, scope)

    # --- per lead source (report_queries.sources) ----------------------------------------------

    async def leads_by_source(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> dict[str, int]:
        return await q.leads_by_source(self._session, start, end, scope)

    async def won_by_source(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> dict[str, tuple[int, Decimal]]:
        return await q.won_by_source(self._session, start, end, scope)

    async def spend_by_source(self, month_shares: Mapping[dt.date, Decimal]) -> dict[str, Decimal]:
        return await q.spend_by_source(self._session, month_shares)

    # --- a report's rows (report_queries.exports) ----------------------------------------------

    async def deals_created(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> list[tuple[object, ...]]:
        return await q.deals_created(self._session, start, end, scope)

    async def stage_history(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> list[tuple[object, ...]]:
        return await q.stage_history(self._session, start, end, scope)

    async def activities(
        self, start: dt.datetime, end: dt.datetime, scope: Scope = TEAM
    ) -> list[tuple[object, ...]]:
        return await q.activities(self._session, start, end, scope)
