"""The five KPIs for a period beside the previous one, as the book names them (definitions in
`domain/kpi.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.funnel import Funnel, build_funnel
from domain.kpi import Figure, Period, plan_for, ratio
from domain.sales_book import SalesBook
from services.lens import Lens
from services.unit_of_work import ReportingUnitOfWork


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    new_leads: int
    reached_key_stage: int
    won_deals: int
    revenue: Decimal
    cycle_days: Decimal | None
    plan: Decimal | None
    """None where no plan applies (one pipeline's figures)."""

    @property
    def key_stage_conversion(self) -> Decimal | None:
        return ratio(self.reached_key_stage, self.new_leads)

    @property
    def average_deal(self) -> Decimal | None:
        return ratio(self.revenue, self.won_deals)

    @property
    def plan_fulfilment(self) -> Decimal | None:
        return None if self.plan is None else ratio(self.revenue, self.plan)

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


async def kpis(
    uow: ReportingUnitOfWork, book: SalesBook, lens: Lens, period: Period, zone: ZoneInfo
) -> KpiReport:
    """The book's KPIs over the deals the lens counts, against its plan."""
    async with uow:
        current = await _figures(uow, book, period, zone, lens)
        previous = await _figures(uow, book, period.previous(), zone, lens)
    ordered = sorted(book.kpis, key=lambda kpi: kpi != "key_stage_conversion")
    return KpiReport(period, current, previous, ordered)


async def funnels(
    uow: ReportingUnitOfWork, book: SalesBook, lens: Lens, period: Period
) -> list[Funnel]:
    """Each pipeline's funnel (the lens's one pipeline's) for the deals created in the period."""
    order = {pipeline.id: [stage.id for stage in pipeline.stages] for pipeline in book.pipelines}
    async with uow:
        furthest = await uow.reports.furthest_stages(period.start, period.end, order, lens.scope)
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
        if lens.pipeline_id in (None, pipeline.id)
    ]


async def _figures(
    uow: ReportingUnitOfWork, book: SalesBook, period: Period, zone: ZoneInfo, lens: Lens
) -> PeriodFigures:
    reports, scope = uow.reports, lens.scope
    key_and_later = {
        pipeline.id: [
            stage.id for stage in pipeline.stages[pipeline.stage_index(pipeline.key_stage) :]
        ]
        for pipeline in book.pipelines
    }
    won_count, revenue = await reports.won(period.start, period.end, scope)
    return PeriodFigures(
        new_leads=await reports.new_leads(period.start, period.end, scope),
        reached_key_stage=await reports.reached_key_stage(
            period.start, period.end, key_and_later, scope
        ),
        won_deals=won_count,
        revenue=revenue,
        cycle_days=await reports.median_cycle_days(period.start, period.end, scope),
        plan=None if lens.monthly_plan is None else plan_for(period, lens.monthly_plan, zone),
    )
