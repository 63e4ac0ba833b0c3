"""Deadlines nobody misses: the reminder engine driven by an injected clock, through the real bot
and the fake Bot API. Every expected time below is worked out by hand from the default book:
working hours 09:00-18:00 Moscow, Monday to Friday, Russian public holidays (Monday 09.03.2026
is the day off for 8 March); "Обращение" has a 4-hour SLA, "Квалификация" 16 hours; reminders
come at 75 % of the SLA; a new lead must be taken within 15 working minutes."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Application
from config.settings import Settings
from domain.clock import FixedClock
from domain.reminders import REMINDER_KINDS, ReminderKind
from storage.database import create_engine, create_session_factory
from storage.models import ReminderRow, StaffRow
from tests.e2e.conftest import running_bot
from tests.e2e.scenario import deals, join_team, leave_request
from tests.e2e.test_run_bot import PROJECT
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")


def msk(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


async def statuses(app: Application) -> list[tuple[str, str, str]]:
    """The reminders' rows (not the outbox's cards and notices, kept in the same table)."""
    async with app.session_factory() as session:
        rows = await session.scalars(select(ReminderRow).order_by(ReminderRow.id))
        return [
            (row.kind, row.audience, row.status)
            for row in rows
            if ReminderKind(row.kind) in REMINDER_KINDS
        ]


async def test_a_deal_across_a_weekend_and_a_holiday_is_reminded_once_at_each_deadline(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    clock.set(msk(6, 3, 16))  # Friday 16:00
    await leave_request(tg.user("Анна"), phone="+7 916 555-01-02")
    await ivan.wait_message(contains="Новая заявка №1")
    ivan.mark_seen()
    maria.mark_seen()

    # First response: 15 working minutes, 16:15 on Friday.
    clock.set(msk(6, 3, 16, 14))
    assert (await app.sweeper.tick()).sent == 0
    clock.set(msk(6, 3, 16, 15))
    assert (await app.sweeper.tick()).sent == 1
    escalation = await maria.wait_message(contains="Заявку №1 не взяли в работу вовремя")
    assert "обещали ответ до 06.03 16:15" in escalation.text
    assert "👤 Передать" in escalation.button_texts
    assert (await app.sweeper.tick()).sent == 0
    await ivan.press("✅ Взять в работу")

    # "Обращение": 2 hours on Friday, then Saturday, Sunday and the holiday Monday pass, and
    # Tuesday 10.03 from 09:00: 75 % (3 h) at 10:00, the deadline (4 h) at 11:00.
    clock.set(msk(10, 3, 9, 59))
    assert (await app.sweeper.tick()).sent == 0
    clock.set(msk(10, 3, 10))
    assert (await app.sweeper.tick()).sent == 1
    due_soon = await ivan.wait_message(contains="Скоро срок по сделке №1")
    assert "Этап «Обращение» — до 10.03 11:00" in due_soon.text
    assert "+79165550102" in due_soon.text.replace(" ", "")
    assert (await app.sweeper.tick()).sent == 0

    # Moved on at 10:30: the old stage's deadline no longer fires.
    clock.set(msk(10, 3, 10, 30))
    await ivan.press("📂 Открыть сделку")
    await ivan.press("➡️ Следующий этап")
    for criterion in app.book.pipeline("implementation_mid").stages[0].exit_criteria:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    await ivan.wait_message(contains="Квалификация (2/8)")
    ivan.mark_seen()
    clock.set(msk(10, 3, 11))
    assert (await app.sweeper.tick()).sent == 0  # dropped when the deal moved
    await ivan.expect_no_message()

    # "Квалификация", 16 h from Tuesday 10:30: 7.5 h on Tuesday, then Wednesday from 09:00:
    # 75 % (12 h) at 13:30, the deadline at 17:30.
    clock.set(msk(11, 3, 13, 30))
    assert (await app.sweeper.tick()).sent == 1
    soon = await ivan.wait_message(contains="Скоро срок по сделке №1")
    assert "Этап «Квалификация» — до 11.03 17:30" in soon.text
    clock.set(msk(11, 3, 17, 30))
    assert (await app.sweeper.tick()).sent == 2
    overdue = await ivan.wait_message(contains="Просрочена сделка №1")
    assert "срок был 11.03 17:30" in overdue.text
    told = await maria.wait_message(contains="Просрочена сделка №1")
    assert "Менеджер: Иван" in told.text
    clock.set(msk(11, 3, 18))
    assert (await app.sweeper.tick()).sent == 0
    await ivan.send("/deals")
    listing = await ivan.wait_message(contains="Открытые сделки")
    assert "просрочено" in listing.text

    assert await statuses(app) == [
        ("due_soon", "manager", "sent"),
        ("overdue", "manager", "dropped"),
        ("overdue", "supervisors", "dropped"),
        ("first_resp", "supervisors", "sent"),
        ("due_soon", "manager", "sent"),
        ("overdue", "manager", "sent"),
        ("overdue", "supervisors", "sent"),
    ]


async def test_a_lead_taken_in_time_is_never_escalated(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))
    await ivan.press("✅ Взять в работу")
    maria.mark_seen()
    clock.advance(dt.timedelta(minutes=20))
    assert (await app.sweeper.tick()).sent == 0
    await maria.expect_no_message()
    assert ("first_resp", "supervisors", "dropped") in await statuses(app)
    [deal] = await deals(app)
    assert deal.taken_at is not None


async def test_reminders_due_while_the_bot_was_down_come_once_on_start_marked_late(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    async with running_bot(tg, settings, clock) as app:
        ivan = await join_team(tg, admin, "Менеджер", "Иван")
        maria = await join_team(tg, admin, "Руководитель", "Мария")
        await leave_request(tg.user("Анна"))  # Monday 10:00
        await ivan.press("✅ Взять в работу")
        await tg.settle()
    ivan.mark_seen()
    maria.mark_seen()

    # Down from 10:00 to 14:30: "due soon" (13:00) and "overdue" (14:00) both passed.
    clock.set(msk(2, 3, 14, 30))
    with_scheduler = settings.model_copy(update={"reminder_tick_seconds": 3600})
    async with running_bot(tg, with_scheduler, clock) as app:
        # The scheduler's first run, at start, sends what is due: one message per deal.
        late = await ivan.wait_message(contains="Просрочена сделка №1")
        assert "С опозданием" in late.text and "(02.03 14:00)" in late.text
        told = await maria.wait_message(contains="Просрочена сделка №1")
        assert "С опозданием" in told.text
        # The morning digest (09:00) was missed too: it comes once, whichever tick sends it.
        await app.sweeper.plan_digests()
        await app.sweeper.tick()
        await maria.wait_message(kind="photo")
        await tg.settle()
        await ivan.expect_no_message()
        assert (await app.sweeper.tick()).sent == 0
        async with app.session_factory() as session:
            rows = list(await session.scalars(select(ReminderRow).order_by(ReminderRow.id)))
    assert len([r for r in rows if r.kind == "digest" and r.status == "sent"]) == 1
    # Ivan's end-of-day nudge is planned for 17:00, not due yet.
    assert [(r.kind, r.status) for r in rows if r.kind == "nudge"] == [("nudge", "pending")]
    rows = [
        r for r in rows if r.kind not in ("digest", "nudge", "backup") and r.kind in REMINDER_KINDS
    ]
    # "Due soon" is no longer true past the deadline: the overdue reminder says it instead.
    assert [(r.kind, r.audience, r.status, r.late) for r in rows] == [
        ("due_soon", "manager", "dropped", False),
        ("overdue", "manager", "sent", True),
        ("overdue", "supervisors", "sent", True),
        ("first_resp", "supervisors", "dropped", False),
    ]


async def test_a_sweeper_killed_between_claim_and_send_loses_and_doubles_nothing(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    async with running_bot(tg, settings, clock):
        ivan = await join_team(tg, admin, "Менеджер", "Иван")
        await leave_request(tg.user("Анна"))  # Monday 10:00, "due soon" at 13:00
        await ivan.press("✅ Взять в работу")
        await tg.settle()
    due = msk(2, 3, 13)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.sweeper_crash",
        settings.database_url,
        tg.base_url,
        due.isoformat(),
        cwd=PROJECT,
    )
    assert await asyncio.wait_for(process.wait(), timeout=60) == -signal.SIGKILL
    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session:
        [claimed] = list(
            await session.scalars(select(ReminderRow).where(ReminderRow.status == "claimed"))
        )
    await engine.dispose()
    assert claimed.kind == "due_soon"
    async with running_bot(tg, settings, clock) as app:
        # On SQLite only one process runs, so the dead one's claim is given back at the start,
        # without waiting out its lease (several instances on PostgreSQL do wait it out).
        clock.set(due + dt.timedelta(minutes=1))
        assert (await app.sweeper.tick()).sent == 1
        assert (await app.sweeper.tick()).sent == 0
        await ivan.wait_message(contains="Скоро срок по сделке №1")
    reminders = [
        call
        for call in tg.calls_to("sendMessage", chat_id=ivan.id)
        if "Скоро срок" in str(call.params)
    ]
    assert len(reminders) == 1


async def test_a_manager_who_blocked_the_bot_stops_getting_reminders_and_the_head_is_told(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))  # Monday 10:00
    await ivan.press("✅ Взять в работу")
    await tg.settle()
    await ivan.block_bot()
    clock.set(msk(2, 3, 13))
    tally = await app.sweeper.tick()
    assert (tally.sent, tally.blocked) == (0, [ivan.id])
    await maria.wait_message(contains="Иван заблокировал(а) бота")
    async with app.session_factory() as session:
        manager = await session.get(StaffRow, ivan.id)
        assert manager is not None and manager.is_reachable is False
    # At the deadline the manager is skipped; the supervisors still hear of the overdue deal.
    clock.set(msk(2, 3, 14))
    assert (await app.sweeper.tick()).sent == 2
    overdue = await maria.wait_message(contains="Просрочена сделка №1")
    assert "Менеджер: Иван" in overdue.text
    assert (
        len(tg.calls_to("sendMessage", chat_id=ivan.id))
        == len([c for c in tg.calls_to("sendMessage", chat_id=ivan.id) if c.status != 403]) + 1
    )  # one attempt, the 403, and nothing after it


async def test_a_won_deal_gets_the_books_follow_up_steps(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await ivan.press("✅ Взять в работу")
    await ivan.send("/deal 1")
    await ivan.press("✅ Выиграна")
    await ivan.send("500000")
    won = await ivan.wait_message(contains="✅ Выиграна")
    anna.mark_seen()
    ivan.mark_seen()
    thanks, check_in = app.book.follow_up
    # The card says what comes after the sale: first the client's thanks, sent by the bot.
    thanks_at = (clock.now() + dt.timedelta(days=thanks.after_days)).astimezone(MOSCOW)
    assert f"📨 {thanks_at:%d.%m %H:%M} клиенту уйдёт сообщение: {thanks.text}" in won.text, (
        won.text
    )

    clock.advance(dt.timedelta(days=thanks.after_days) - dt.timedelta(minutes=1))
    assert (await app.sweeper.tick()).sent == 0
    clock.advance(dt.timedelta(minutes=1))
    assert (await app.sweeper.tick()).sent == 1
    message = await anna.wait_message(contains="Спасибо, что выбрали Ясную CRM")
    assert message.text == thanks.text
    await ivan.send("/deal 1")  # then the manager's own step
    card = await ivan.wait_message(contains="Сделка №1")
    check_in_at = thanks_at + dt.timedelta(days=check_in.after_days - thanks.after_days)
    assert f"🔔 Следующее напоминание: {check_in_at:%d.%m %H:%M} — {check_in.text}" in card.text
    clock.advance(dt.timedelta(days=check_in.after_days - thanks.after_days))
    assert (await app.sweeper.tick()).sent == 1
    task = await ivan.wait_message(contains="Задача по сделке №1")
    assert check_in.text in task.text
    assert "📂 Открыть сделку" in task.button_texts
