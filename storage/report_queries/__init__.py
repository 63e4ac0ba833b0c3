"""Report figures as aggregate queries (SQLAlchemy Core): the database counts and sums, Python
never loops over loaded deals. Each query is bounded by the period through an index on the time
column it filters (`created_at`, `closed_at`), so a period costs what it holds, not what the
whole history holds. The definitions are in `domain/kpi.py`; services reach these through
`storage.repositories.reports.ReportRepository` (`uow.reports`).

One module per kind of figure: `figures` (the KPIs, the funnel, lost reasons, the scripts' A/B
report), `people` (per manager and per person), `health` (the open deals now), `sources` (unit
economics per lead source), `exports` (a report's rows)."""

from storage.report_queries.exports import activities, deals_created, stage_history
from storage.report_queries.figures import (
    furthest_stages,
    lost_reasons,
    median_cycle_days,
    new_leads,
    reached_key_stage,
    script_variants,
    won,
)
from storage.report_queries.health import first_response, idle_deals, overdue_by_manager, snoozed
from storage.report_queries.people import (
    activities_by_author,
    open_pipeline,
    won_by_manager,
    won_by_manager_and_pipeline,
)
from storage.report_queries.sources import leads_by_source, spend_by_source, won_by_source

__all__ = [
    "activities",
    "activities_by_author",
    "deals_created",
    "first_response",
    "furthest_stages",
    "idle_deals",
    "leads_by_source",
    "lost_reasons",
    "median_cycle_days",
    "new_leads",
    "open_pipeline",
    "overdue_by_manager",
    "reached_key_stage",
    "script_variants",
    "snoozed",
    "spend_by_source",
    "stage_history",
    "won",
    "won_by_manager",
    "won_by_manager_and_pipeline",
    "won_by_source",
]
