"""The demo-data generator on a real database: SQLite always, PostgreSQL too when
TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import re
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.deal import DealStatus, StageTransition, TransitionKind
from domain.roles import Role
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.working_time import WorkingCalendar
from services.demo_data import (
    AMOUNT_RANGES,
    DEMO_ID_END,
    DEMO_ID_FIRST,
    DemoDataError,
    DemoSummary,
    _Timeline,
    generate_demo_data,
    main,
)
from storage.database import create_engine, create_session_factory, migrate
from storage.models import (
    ActivityRow,
    AssignmentCursor,
    ContactRow,
    DealRow,
    QualificationAnswerRow,
    StaffRow,
    StageTransitionRow,
)
from storage.unit_of_work import UnitOfWork

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=MOSCOW)
DAYS = 90
SINCE = NOW - dt.timedelta(days=DAYS)
SEED = 7
MANAGERS = 3
DEALS = 60
ACTIVITY_KINDS = {"call", "meeting", "note", "proposal"}
PHONE = re.compile(r"^\+7[0-9]{10}$")

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


@pytest.fixture
async def summary(session_factory: Factory, book: SalesBook) -> DemoSummary:
    return await generate(session_factory, book)


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


# --- determinism ---------------------------------------------------------------------------------


async def test_the_same_seed_and_now_give_the_same_data(
    session_factory: Factory, book: SalesBook, summary: DemoSummary, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'again.sqlite3'}")
    try:
        await migrate(engine)
        again = create_session_factory(engine)
        assert await generate(again, book) == summary
        assert await all_rows(again) == await all_rows(session_factory)
    finally:
        await engine.dispose()

    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        await migrate(other)
        different = await generate(create_session_factory(other), book, seed=SEED + 1)
        assert different.fingerprint != summary.fingerprint
    finally:
        await other.dispose()


async def test_existing_demo_data_is_kept_unless_replaced(
    session_factory: Factory, book: SalesBook, summary: DemoSummary
) -> None:
    with pytest.raises(DemoDataError, match="already holds demo data"):
        await generate(session_factory, book)

    replaced = await generate(session_factory, book, deals=20, seed=SEED + 1, replace=True)
    async with session_factory() as session:
        deals = await session.scalar(select(func.count()).select_from(DealRow))
        contacts = await session.scalar(select(func.count()).select_from(ContactRow))
        staff = await session.scalar(select(func.count()).select_from(StaffRow))
        history_deals = await session.scalar(
            select(func.count(func.distinct(StageTransitionRow.deal_id)))
        )
    assert deals == history_deals == 20
    assert contacts == replaced.contacts
    assert staff == MANAGERS + 1


async def test_refuses_impossible_requests(session_factory: Factory, book: SalesBook) -> None:
    with pytest.raises(DemoDataError, match="manager"):
        await generate_demo_data(
            session_factory, book, managers=0, supervisors=1, deals=5, days=9, seed=1, now=NOW
        )
    with pytest.raises(DemoDataError, match="no working time"):
        # New Year holidays in Russia: 1-8 January 2027 are days off.
        await generate_demo_data(
            session_factory,
            book,
            managers=1,
            supervisors=0,
            deals=5,
            days=3,
            seed=1,
            now=dt.datetime(2027, 1, 4, 12, 0, tzinfo=MOSCOW),
        )


# --- working time as a line --------------------------------------------------------------------


def test_the_timeline_agrees_with_the_working_calendar(book: SalesBook) -> None:
    calendar = WorkingCalendar.from_book(book.working_hours)
    until = NOW.astimezone(dt.UTC)
    timeline = _Timeline(calendar, SINCE, until)
    first, last = timeline.offset(SINCE), timeline.offset(until)
    rng = random.Random(1)
    for _ in range(200):
        a, b = sorted(rng.randrange(first, last) for _ in range(2))
        start, end = timeline.at(a), timeline.at(b)
        assert calendar.is_working_moment(start) and calendar.is_working_moment(end)
        assert timeline.offset(start) == a
        assert calendar.working_time_between(start, end) == dt.timedelta(seconds=b - a)


# --- command line --------------------------------------------------------------------------------


def test_the_command_line_fills_a_database_and_says_what_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "demo.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", url)  # the default comes from the bot's settings
    argv = [
        "--managers", "2", "--supervisors", "1", "--deals", "30", "--days", "30",
        "--seed", "5", "--now", "2026-11-23T09:00:00+03:00",
    ]  # fmt: skip

    assert main([*argv, "--sales-book", str(DEFAULT_SALES_BOOK_PATH)]) == 0
    printed = capsys.readouterr().out
    assert "2 managers" in printed and "1 supervisor;" in printed
    assert "30 deals" in printed and " won" in printed and " lost" in printed
    assert "revenue" in printed and "RUB" in printed
    assert str(database) in printed

    async def count() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(select(func.count()).select_from(DealRow)) or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(count()) == 30

    assert main(argv) == 1  # the sales book from the settings, but the demo is already there
    assert "already holds demo data" in capsys.readouterr().err
    assert main([*argv, "--replace", "--database-url", url]) == 0
    assert "30 deals" in capsys.readouterr().out


def test_the_command_line_wants_now_with_an_offset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--now", "2026-11-23T09:00:00"])
    assert exit_info.value.code == 2
    assert "UTC offset" in capsys.readouterr().err
