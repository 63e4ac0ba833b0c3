"""The five KPIs for a period beside the previous one, as the book names them (definitions in
`domain/kpi.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.funnel import Funnel, build_funnel
from domain.kpi import Figure, Period, plan_for, ratio
from domain.roles import Action, can, require
from domain.sales_book import SalesBook
from services.staff import Actor
from storage import report_queries as q
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    new_leads: int
    reached_key_stage: int
    won_deals: int
    revenue: Decimal
    cycle_days: Decimal | None
    plan: Decimal

    @property
    def key_stage_conversion(self) -> Decimal | None:
        return ratio(self.reached_key_stage, self.new_leads)

    @property
    def average_deal(self) -> Decimal | None:
        return ratio(self.revenue, self.won_deals)

    @property
    def plan_fulfilment(self) -> Decimal | None:
        return ratio(self.revenue, self.plan)

    def kpi(self, kpi_id: str) -> Decimal | None:
        values: dict[str, Decimal | None] = {
            "new_leads": Decimal(self.new_leads),
            "key_stage_conversion": self.key_stage_conversion,
            "average_deal": self.average_deal,
            "sales_cycle": self.cycle_days,
            "plan_fulfilment": self.plan_fulfilment,
        }
        return values[kpi_id]


@dataclass(frozen=True, slots=True)
class KpiReport:
    period: Period
    current: PeriodFigures
    previous: PeriodFigures
    kpi_ids: list[str]
    """The book's KPIs, in its order; the key stage conversion first if the book lists it."""

    def figure(self, kpi_id: str) -> Figure:
        return Figure(self.current.kpi(kpi_id), self.previous.kpi(kpi_id))


def scope_of(actor: Actor) -> q.Scope:
    """Whose deals a person's figures count: the team's for those who see reports, a manager's
    own otherwise."""
    if can(actor.role, Action.VIEW_REPORTS):
        return q.TEAM
    require(actor.role, Action.VIEW_OWN_DEALS)
    return q.manager_scope(actor.user_id)


async def kpis(
    uow: UnitOfWork, book: SalesBook, actor: Actor, period: Period, zone: ZoneInfo
) -> KpiReport:
    """The book's KPIs; a manager's count their own deals, against their own plan where the
    book's `plan.per_manager` sets one (the team's plan otherwise)."""
    scope = scope_of(actor)
    monthly = book.plan.monthly_revenue
    if scope is not q.TEAM:
        monthly = book.plan.per_manager.get(str(actor.user_id), monthly)
    async with uow:
        current = await _figures(uow, book, period, zone, scope, monthly)
        previous = await _figures(uow, book, period.previous(), zone, scope, monthly)
    ordered = sorted(book.kpis, key=lambda kpi: kpi != "key_stage_conversion")
    return KpiReport(period, current, previous, ordered)


async def funnels(uow: UnitOfWork, book: SalesBook, actor: Actor, period: Period) -> list[Funnel]:
    """Each pipeline's funnel for the deals created in the period."""
    scope = scope_of(actor)
    order = {pipeline.id: [stage.id for stage in pipeline.stages] for pipeline in book.pipelines}
    async with uow:
        furthest = await q.furthest_stages(uow.session, period.start, period.end, order, scope)
    return [
        build_funnel(
            pipeline,
            {
                index: n
                for (pipeline_id, index), n in furthest.items()
                if pipeline_id == pipeline.id
            },
        )
        for pipeline in book.pipelines
    ]


async def _figures(
    uow: UnitOfWork,
    book: SalesBook,
    period: Period,
    zone: ZoneInfo,
    scope: q.Scope,
    monthly_plan: Decimal,
) -> PeriodFigures:
    session = uow.session
    key_and_later = {
        pipeline.id: [
            stage.id for stage in pipeline.stages[pipeline.stage_index(pipeline.key_stage) :]
        ]
        for pipeline in book.pipelines
    }
    won_count, revenue = await q.won(session, period.start, period.end, scope)
    return PeriodFigures(
        new_leads=await q.new_leads(session, period.start, period.end, scope),
        reached_key_stage=await q.reached_key_stage(
            session, period.start, period.end, key_and_later, scope
        ),
        won_deals=won_count,
        revenue=revenue,
        cycle_days=await q.median_cycle_days(session, period.start, period.end, scope),
        plan=plan_for(period, monthly_plan, zone),
    )
