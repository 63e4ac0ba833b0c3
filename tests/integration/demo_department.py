"""A demo department generated the same way in every test: the period, the seed, the sizes,
and everything it wrote as plain rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.sales_book import SalesBook
from services.demo_data import (
    DemoSummary,
    generate_demo_data,
)
from storage.models import (
    ActivityRow,
    ContactRow,
    DealRow,
    QualificationAnswerRow,
    StaffRow,
    StageTransitionRow,
)

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=MOSCOW)
DAYS = 90
SINCE = NOW - dt.timedelta(days=DAYS)
SEED = 7
MANAGERS = 3
DEALS = 60

Factory = async_sessionmaker[AsyncSession]


async def generate(
    session_factory: Factory,
    book: SalesBook,
    *,
    deals: int = DEALS,
    seed: int = SEED,
    replace: bool = False,
) -> DemoSummary:
    return await generate_demo_data(
        session_factory,
        book,
        managers=MANAGERS,
        supervisors=1,
        deals=deals,
        days=DAYS,
        seed=seed,
        now=NOW,
        replace=replace,
    )


async def all_rows(session_factory: Factory) -> dict[str, list[tuple[object, ...]]]:
    """Everything the generator writes, as plain tuples in a stable order."""
    async with session_factory() as session:
        staff = await session.execute(
            select(
                StaffRow.telegram_id,
                StaffRow.role,
                StaffRow.first_name,
                StaffRow.joined_at,
            ).order_by(StaffRow.telegram_id)
        )
        contacts = await session.execute(
            select(
                ContactRow.id,
                ContactRow.telegram_id,
                ContactRow.name,
                ContactRow.phone,
                ContactRow.company,
                ContactRow.consent_at,
                ContactRow.consent_version,
                ContactRow.created_at,
            ).order_by(ContactRow.id)
        )
        deals = await session.execute(
            select(
                DealRow.id,
                DealRow.contact_id,
                DealRow.pipeline_id,
                DealRow.stage_id,
                DealRow.status,
                DealRow.manager_id,
                DealRow.source,
                DealRow.need,
                DealRow.amount,
                DealRow.currency,
                DealRow.lost_reason_id,
                DealRow.close_comment,
                DealRow.qualification_level,
                DealRow.qualification_points,
                DealRow.created_at,
                DealRow.stage_entered_at,
                DealRow.closed_at,
                DealRow.is_demo,
            ).order_by(DealRow.id)
        )
        transitions = await session.execute(
            select(
                StageTransitionRow.deal_id,
                StageTransitionRow.kind,
                StageTransitionRow.from_stage,
                StageTransitionRow.to_stage,
                StageTransitionRow.actor_id,
                StageTransitionRow.at,
                StageTransitionRow.comment,
                StageTransitionRow.override,
            ).order_by(StageTransitionRow.deal_id, StageTransitionRow.at, StageTransitionRow.id)
        )
        activities = await session.execute(
            select(
                ActivityRow.deal_id,
                ActivityRow.kind,
                ActivityRow.author_id,
                ActivityRow.at,
                ActivityRow.comment,
            ).order_by(ActivityRow.deal_id, ActivityRow.at, ActivityRow.id)
        )
        answers = await session.execute(
            select(
                QualificationAnswerRow.deal_id,
                QualificationAnswerRow.framework_id,
                QualificationAnswerRow.question_id,
                QualificationAnswerRow.option_index,
                QualificationAnswerRow.answered_by,
                QualificationAnswerRow.at,
            ).order_by(QualificationAnswerRow.deal_id, QualificationAnswerRow.question_id)
        )
        return {
            "staff": [tuple(row) for row in staff],
            "contacts": [tuple(row) for row in contacts],
            "deals": [tuple(row) for row in deals],
            "transitions": [tuple(row) for row in transitions],
            "activities": [tuple(row) for row in activities],
            "answers": [tuple(row) for row in answers],
        }
