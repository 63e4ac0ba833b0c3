"""The demo-data generator on a real database: SQLite always, PostgreSQL too when
TEST_DATABASE_URL is set."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.deal import DealStatus, StageTransition, TransitionKind
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.demo_data import (
    AMOUNT_RANGES,
    DEMO_ID_END,
    DEMO_ID_FIRST,
    DemoSummary,
)
from storage.models import (
    ActivityRow,
    AssignmentCursor,
    ContactRow,
    DealRow,
    StaffRow,
)
from storage.unit_of_work import UnitOfWork
from tests.integration.demo_department import (
    DEALS,
    MANAGERS,
    NOW,
    SINCE,
    Factory,
    all_rows,
    generate,
)

ACTIVITY_KINDS = {"call", "meeting", "note", "proposal"}
PHONE = re.compile(r"^\+7[0-9]{10}$")


@pytest.fixture
async def summary(session_factory: Factory, book: SalesBook) -> DemoSummary:
    return await generate(session_factory, book)


async def histories(session_factory: Factory) -> dict[int, list[StageTransition]]:
    uow = UnitOfWork(session_factory)
    async with uow:
        ids = (await uow.session.scalars(select(DealRow.id).order_by(DealRow.id))).all()
        return {deal_id: await uow.deals.history(deal_id) for deal_id in ids}


async def demo_deals(session_factory: Factory) -> list[DealRow]:
    async with session_factory() as session:
        return list((await session.scalars(select(DealRow).order_by(DealRow.id))).all())


# --- counts and summary ------------------------------------------------------------------------


async def test_counts_match_the_request_and_the_summary(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    rows = await all_rows(session_factory)
    roles = Counter(role for _, role, _, _ in rows["staff"])
    assert roles == {Role.MANAGER.value: MANAGERS, Role.SUPERVISOR.value: 1}
    assert summary.managers == MANAGERS and summary.supervisors == 1
    assert summary.deals == len(rows["deals"]) == DEALS
    assert all(row[-1] is True for row in rows["deals"])  # every deal is marked as demo

    statuses = Counter(str(row[4]) for row in rows["deals"])
    assert statuses[DealStatus.OPEN] == summary.open
    assert statuses[DealStatus.WON] == summary.won
    assert statuses[DealStatus.LOST] == summary.lost
    assert summary.open + summary.won + summary.lost == DEALS
    assert summary.won > 0 and summary.lost > 0

    assert len(rows["contacts"]) == summary.contacts <= DEALS
    assert len(rows["transitions"]) == summary.transitions
    assert len(rows["activities"]) == summary.activities > 0
    assert len(rows["answers"]) == summary.qualification_answers > 0
    amounts = [row[8] for row in rows["deals"] if row[4] == DealStatus.WON]
    won_amounts = [amount for amount in amounts if isinstance(amount, Decimal)]
    assert len(won_amounts) == summary.won
    assert summary.revenue == sum(won_amounts, Decimal(0))
    assert summary.currency == book.currency


# --- history -----------------------------------------------------------------------------------


async def test_every_history_starts_created_runs_forward_in_time_and_ends_at_the_deal(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    deals = {deal.id: deal for deal in await demo_deals(session_factory)}
    for deal_id, history in (await histories(session_factory)).items():
        deal = deals[deal_id]
        pipeline = book.pipeline(deal.pipeline_id)
        first = history[0]
        assert first.kind is TransitionKind.CREATED
        assert first.from_stage is None and first.to_stage == pipeline.stages[0].id
        assert first.at == deal.created_at
        times = [transition.at for transition in history]
        assert times == sorted(times) and len(set(times)) == len(times)
        for previous, transition in itertools.pairwise(history):
            assert transition.from_stage == previous.to_stage
            assert transition.actor_id == deal.manager_id
            if transition.kind is TransitionKind.FORWARD:
                assert pipeline.stage_index(transition.to_stage) == (
                    pipeline.stage_index(previous.to_stage) + 1
                )
                assert not transition.override
            elif transition.kind is TransitionKind.BACK:
                assert pipeline.stage_index(transition.to_stage) < pipeline.stage_index(
                    previous.to_stage
                )
                assert transition.comment
            else:
                assert transition.kind in (TransitionKind.WON, TransitionKind.LOST)
                assert transition is history[-1]
        last = history[-1]
        assert last.to_stage == deal.stage_id
        if deal.status == DealStatus.OPEN:
            assert last.kind in (
                TransitionKind.CREATED,
                TransitionKind.FORWARD,
                TransitionKind.BACK,
            )
            assert deal.stage_entered_at == last.at
        else:
            assert last.kind == TransitionKind(deal.status)
            assert deal.closed_at == last.at


async def test_nothing_happens_before_the_period_or_after_now(
    session_factory: Factory, summary: DemoSummary
) -> None:
    rows = await all_rows(session_factory)
    columns = {
        "staff": [3],
        "contacts": [5, 7],
        "deals": [14, 15, 16],
        "transitions": [5],
        "activities": [3],
        "answers": [5],
    }
    moments = [
        row[column]
        for table, indexes in columns.items()
        for row in rows[table]
        for column in indexes
        if row[column] is not None
    ]
    assert all(isinstance(moment, dt.datetime) for moment in moments)
    assert moments
    assert all(SINCE <= moment <= NOW for moment in moments)  # type: ignore[operator]
    assert summary.since == SINCE and summary.until == NOW


async def test_deals_are_created_at_working_moments(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    calendar = WorkingCalendar.from_book(book.working_hours)
    for deal in await demo_deals(session_factory):
        assert calendar.is_working_moment(deal.created_at)


# --- outcomes ----------------------------------------------------------------------------------


async def test_won_deals_have_amounts_and_lost_deals_a_reason_from_the_book(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    reasons = {reason.id for reason in book.lost_reasons}
    for deal in await demo_deals(session_factory):
        pipeline = book.pipeline(deal.pipeline_id)
        if deal.status == DealStatus.WON:
            assert deal.amount is not None and deal.amount > 0
            low, high = AMOUNT_RANGES[pipeline.product]
            assert low <= deal.amount <= high
            assert deal.currency == book.currency
            assert deal.closed_at is not None
            assert deal.stage_id == pipeline.stages[-1].id  # won once paid
            assert deal.lost_reason_id is None
        elif deal.status == DealStatus.LOST:
            assert deal.lost_reason_id in reasons
            assert deal.closed_at is not None
            assert deal.amount is None
        else:
            assert deal.status == DealStatus.OPEN
            assert deal.closed_at is None and deal.lost_reason_id is None
            # Past the key stage the client has named a budget: the expected amount.
            key = pipeline.stage_index(pipeline.key_stage)
            if pipeline.stage_index(deal.stage_id) >= key:
                low, high = AMOUNT_RANGES[pipeline.product]
                assert deal.amount is not None and low <= deal.amount <= high
            else:
                assert deal.amount is None


async def test_deals_are_shared_round_robin_among_the_generated_managers(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    per_pipeline: dict[str, Counter[int]] = defaultdict(Counter)
    for deal in await demo_deals(session_factory):
        assert deal.manager_id in summary.manager_ids
        per_pipeline[deal.pipeline_id][deal.manager_id] += 1
    assert set(per_pipeline) <= {pipeline.id for pipeline in book.pipelines}
    for counts in per_pipeline.values():
        loads = [counts[manager_id] for manager_id in summary.manager_ids]
        assert max(loads) - min(loads) <= 1

    uow = UnitOfWork(session_factory)
    async with uow:
        for pipeline in book.pipelines:
            assert await uow.staff.managers_serving(pipeline.id) == list(summary.manager_ids)
        cursors = (await uow.session.scalars(select(AssignmentCursor))).all()
        # The bot's own round robin carries on where the demo stopped.
        assert {cursor.pipeline_id for cursor in cursors} == set(per_pipeline)
        assert all(cursor.last_manager_id in summary.manager_ids for cursor in cursors)


async def test_people_are_fake_consenting_and_well_formed(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    async with session_factory() as session:
        staff = (await session.scalars(select(StaffRow))).all()
        contacts = (await session.scalars(select(ContactRow))).all()
    assert all(DEMO_ID_FIRST <= member.telegram_id < DEMO_ID_END for member in staff)
    assert all(member.first_name and member.is_active for member in staff)
    assert len({member.first_name for member in staff}) == len(staff)
    phones = [contact.phone for contact in contacts]
    assert len(set(phones)) == len(phones)
    for contact in contacts:
        assert contact.telegram_id is not None
        assert DEMO_ID_FIRST <= contact.telegram_id < DEMO_ID_END
        assert contact.phone is not None and PHONE.match(contact.phone)
        assert contact.name
        assert contact.consent_at is not None
        assert contact.consent_version == book.consent.version
        assert contact.erased_at is None


async def test_activities_are_mostly_calls_by_the_deals_manager(
    session_factory: Factory, summary: DemoSummary
) -> None:
    managers = {deal.id: deal.manager_id for deal in await demo_deals(session_factory)}
    async with session_factory() as session:
        activities = (await session.scalars(select(ActivityRow))).all()
    kinds = Counter(activity.kind for activity in activities)
    assert set(kinds) <= ACTIVITY_KINDS
    assert kinds["call"] > len(activities) / 2
    assert all(activity.author_id == managers[activity.deal_id] for activity in activities)
    assert all(activity.comment for activity in activities)


async def test_a_larger_department_shows_every_kind_of_event(
    session_factory: Factory, book: SalesBook
) -> None:
    summary = await generate(session_factory, book, deals=400, seed=3)
    rows = await all_rows(session_factory)
    kinds = Counter(str(row[1]) for row in rows["transitions"])
    assert {kind.value for kind in TransitionKind} - {"reopen"} <= set(kinds)
    assert summary.open > 0 and summary.overdue > 0
    assert {str(row[1]) for row in rows["activities"]} == ACTIVITY_KINDS
    reasons = Counter(str(row[10]) for row in rows["deals"] if row[10] is not None)
    top, runner_up = reasons.most_common(2)
    assert top[1] > reasons.most_common()[-1][1]  # some reasons dominate
    assert runner_up[1] > 0
    assert summary.top_lost_reason == book.lost_reason(top[0]).name
    levels = {row[12] for row in rows["deals"]}
    assert {"sql", "mql", "disqualified"} <= levels
