"""Whose figures a report shows: the team's, one manager's or one pipeline's deals, and the
monthly plan they answer to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from domain.forecast import PlanMonth, manager_plans
from domain.kpi import TEAM, Scope
from domain.roles import Action, Role, can, require
from domain.sales_book import SalesBook
from services.staff import Actor
from services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Lens:
    """Whose figures a report shows: the deals it counts and the monthly plan they answer to."""

    scope: Scope
    monthly_plan: Decimal | None
    """None: no plan applies (one pipeline's figures)."""
    manager_id: int | None = None
    """The one manager whose figures these are, if any."""
    pipeline_id: str | None = None
    """The one pipeline whose figures these are, if any."""


async def lens(
    uow: UnitOfWork,
    book: SalesBook,
    actor: Actor,
    month: PlanMonth,
    *,
    manager_id: int | None = None,
    pipeline_id: str | None = None,
) -> Lens:
    """The team's figures for those who see reports, or one manager's or one pipeline's when
    they drill in; a manager's own for a manager, against their plan for `month`
    (`domain.forecast`)."""
    if manager_id is not None or pipeline_id is not None:
        require(actor.role, Action.VIEW_REPORTS)
    elif can(actor.role, Action.VIEW_REPORTS):
        return Lens(TEAM, book.plan.monthly_revenue)
    else:
        require(actor.role, Action.VIEW_OWN_DEALS)
        manager_id = actor.user_id
    if pipeline_id is not None:
        book.pipeline(pipeline_id)  # KeyError for a pipeline the book does not have
        return Lens(Scope(pipeline_id=pipeline_id), None, pipeline_id=pipeline_id)
    assert manager_id is not None
    async with uow:
        plans = (await team_plans(uow, book, month)).plans
    plan = plans.get(manager_id, book.plan.per_manager.get(str(manager_id), Decimal(0)))
    return Lens(Scope(manager_id=manager_id), plan, manager_id=manager_id)


@dataclass(frozen=True, slots=True)
class TeamPlans:
    plans: dict[int, Decimal]
    """Every active manager's plan for the month, in part for who joined during it."""
    joined: dict[int, dt.datetime]
    """When each of them joined the team."""


async def team_plans(uow: UnitOfWork, book: SalesBook, month: PlanMonth) -> TeamPlans:
    """Every active manager's plan for `month` (`domain.forecast`). The caller holds the unit
    of work open."""
    members = await uow.staff.active_with_role(Role.MANAGER)
    joined = {member.telegram_id: member.joined_at for member in members}
    shares = {manager: month.share_from(at) for manager, at in joined.items()}
    plans = manager_plans(book.plan.monthly_revenue, book.plan.per_manager, list(joined), shares)
    return TeamPlans(plans, joined)
