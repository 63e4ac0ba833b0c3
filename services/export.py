"""The rows behind a report, for export: the deals created in the period, the stage moves and
the activities of the period (a manager's own only, for a manager)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.kpi import Period
from services.lens import Lens
from services.unit_of_work import ReportingUnitOfWork


@dataclass(frozen=True, slots=True)
class ExportRows:
    deals: list[tuple[object, ...]]
    history: list[tuple[object, ...]]
    activities: list[tuple[object, ...]]


async def export_rows(uow: ReportingUnitOfWork, view: Lens, period: Period) -> ExportRows:
    scope = view.scope
    async with uow:
        reports = uow.reports
        return ExportRows(
            deals=await reports.deals_created(period.start, period.end, scope),
            history=await reports.stage_history(period.start, period.end, scope),
            activities=await reports.activities(period.start, period.end, scope),
        )
