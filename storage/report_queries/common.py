"""What every report query shares: which deals a figure counts (`deals_in`), a won deal, money
and day counts in SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ColumnElement, Float, and_, cast, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.deal import DealStatus
from domain.kpi import Scope
from storage.models import DealRow

REAL_DEALS: ColumnElement[bool] = DealRow.is_sandbox.is_(False)
"""Never a /training sandbox deal."""


def deals_in(scope: Scope) -> ColumnElement[bool]:
    """The deals a figure of this scope counts: the team's, or one manager's or one pipeline's."""
    condition = REAL_DEALS
    if scope.manager_id is not None:
        condition = and_(condition, DealRow.manager_id == scope.manager_id)
    if scope.pipeline_id is not None:
        condition = and_(condition, DealRow.pipeline_id == scope.pipeline_id)
    return condition


def money(value: object) -> Decimal:
    """A sum as money: SQLite adds NUMERIC as floating point, so round to cents."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def won_in(start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    return and_(
        DealRow.status == DealStatus.WON.value,
        DealRow.closed_at >= start,
        DealRow.closed_at < end,
    )


def days_between(
    session: AsyncSession,
    earlier: ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime],
    later: ColumnElement[dt.datetime | None] | InstrumentedAttribute[dt.datetime | None],
) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Float)
    return cast(func.extract("epoch", later - earlier) / 86400.0, Float)
