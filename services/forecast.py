"""The forecast now: the open pipeline weighted by stage probability, and this month's revenue
against the plan with the pace the rest of the month needs; for the team and per manager
(definitions in `domain/forecast.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.forecast import OpenPipeline, PlanMonth, PlanPace, month_of
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.lens import Lens, team_plans
from services.unit_of_work import ReportingUnitOfWork


@dataclass(frozen=True, slots=True)
class ManagerForecast:
    manager_id: int
    name: str
    pipeline: OpenPipeline
    pace: PlanPace


@dataclass(frozen=True, slots=True)
class Forecast:
    pipeline: OpenPipeline
    pace: PlanPace | None
    """None where no plan applies (one pipeline's figures)."""
    managers: list[ManagerForecast]
    """The team's managers, the furthest behind their plan's pace first; only the person
    themself in a manager's own forecast."""
    queue: OpenPipeline
    """Open deals waiting for a manager."""
    month_start: dt.datetime
    """The start of the month the pace is about (local midnight of the 1st, as UTC)."""


async def forecast(
    uow: ReportingUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
    lens: Lens,
) -> Forecast:
    """The forecast over the deals the lens counts; per manager for the team's lens (each
    against their plan) and a manager's own, none for one pipeline's."""
    now = clock.now()
    month_start, _ = month_of(now, zone)
    probabilities = {
        pipeline.id: {stage.id: stage.probability for stage in pipeline.stages}
        for pipeline in book.pipelines
    }
    async with uow:
        open_deals = await uow.reports.open_pipeline(probabilities, lens.scope)
        # Up to this moment included: a deal won a second ago counts.
        won = await uow.reports.won_by_manager(
            month_start, now + dt.timedelta(seconds=1), lens.scope
        )
        month = PlanMonth(now, calendar, zone)
        team = await team_plans(uow, book, month)
        plans = team.plans
        began = None
        if lens.manager_id is None:
            # When the team began in the bot: its first member's joining (the admin's start).
            began = min((member.joined_at for member in await uow.staff.members()), default=None)
        if lens.pipeline_id is not None:
            people: set[int] = set()
        elif lens.manager_id is not None:
            people = {lens.manager_id}
        else:
            people = set(plans) | {m for m in (*open_deals, *won) if m is not None}
        names = await uow.staff.names(sorted(people))
    by_manager = {manager: OpenPipeline(*values) for manager, values in open_deals.items()}
    # The team's month from its 1st, or from when the team began in the bot if that was later
    # (installed on the 7th, it has no sales of the days before to be behind with); one
    # manager's, from when they joined.
    own = lens.manager_id
    progress = month.progress(team.joined.get(own) if own is not None else began)
    managers = [
        ManagerForecast(
            manager_id=manager,
            name=names.get(manager) or str(manager),
            pipeline=by_manager.get(manager, OpenPipeline()),
            # Who joined this month is paced from the moment they joined.
            pace=month.progress(team.joined.get(manager)).pace(
                (lens.monthly_plan if manager == lens.manager_id else plans.get(manager))
                or Decimal(0),
                won.get(manager, (0, Decimal(0)))[1],
            ),
        )
        for manager in people
    ]
    managers.sort(key=lambda row: (row.pace.ahead, row.name))
    revenue = sum((revenue for _, revenue in won.values()), Decimal(0))
    return Forecast(
        pipeline=sum(by_manager.values(), OpenPipeline()),
        pace=None if lens.monthly_plan is None else progress.pace(lens.monthly_plan, revenue),
        managers=managers,
        queue=by_manager.get(None, OpenPipeline()),
        month_start=month_start.astimezone(dt.UTC),
    )
